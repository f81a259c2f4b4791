//! A generational slab: O(1) insert, lookup and removal, and ids that go stale safely.
//!
//! A removed slot is reused by the next insert with a new generation, so an old [`CallId`]
//! never reaches the call that took its place.

use super::CallId;

#[derive(Debug)]
struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

/// Calls by id.
#[derive(Debug)]
pub(crate) struct Slots<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    len: usize,
}

impl<T> Default for Slots<T> {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Slots<T> {
    pub(crate) fn insert(&mut self, value: T) -> CallId {
        self.len += 1;
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.generation = slot.generation.wrapping_add(1);
            slot.value = Some(value);
            return CallId {
                index,
                generation: slot.generation,
            };
        }
        let index = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
        self.slots.push(Slot {
            generation: 0,
            value: Some(value),
        });
        CallId {
            index,
            generation: 0,
        }
    }

    pub(crate) fn get(&self, id: CallId) -> Option<&T> {
        let slot = self.slots.get(id.index as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        slot.value.as_ref()
    }

    pub(crate) fn get_mut(&mut self, id: CallId) -> Option<&mut T> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        slot.value.as_mut()
    }

    /// Every live value with its id.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (CallId, &T)> {
        self.slots.iter().enumerate().filter_map(|(index, slot)| {
            let value = slot.value.as_ref()?;
            Some((
                CallId {
                    index: u32::try_from(index).unwrap_or(u32::MAX),
                    generation: slot.generation,
                },
                value,
            ))
        })
    }

    /// Removes a value, dropping it where it lies (a value is large: it is not moved out),
    /// after `take` has taken what it wants from it.
    pub(crate) fn remove_with<R>(
        &mut self,
        id: CallId,
        take: impl FnOnce(&mut T) -> R,
    ) -> Option<R> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        let taken = take(slot.value.as_mut()?);
        slot.value = None;
        self.free.push(id.index);
        self.len -= 1;
        Some(taken)
    }

    /// Removes a value (dropped where it lies); whether there was one.
    pub(crate) fn remove(&mut self, id: CallId) -> bool {
        self.remove_with(id, |_| ()).is_some()
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The ids of every value held.
    pub(crate) fn ids(&self) -> Vec<CallId> {
        self.iter().map(|(id, _)| id).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_ids_miss() {
        let mut slots = Slots::default();
        let a = slots.insert("a");
        assert_eq!(slots.remove_with(a, |a| *a), Some("a"));
        let b = slots.insert("b");
        assert_eq!(a.index, b.index);
        assert!(slots.get_mut(a).is_none());
        assert!(!slots.remove(a));
        assert_eq!(slots.get_mut(b), Some(&mut "b"));
        assert_eq!(slots.len(), 1);
    }
}
