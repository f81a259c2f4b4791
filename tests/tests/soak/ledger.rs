//! How each call ended, recorded once per call id, and the calls still running (so a hang
//! can be reported by name instead of freezing the test run). A success is compared with
//! its fault-free answer as it is recorded and only the verdict is kept, so the run's
//! memory is the client's and the emulator's, not a pile of answers.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use blossom_core::Error;

use crate::plan::{Answer, Planned};
use crate::reference::References;

/// How a call ended, as its caller saw it.
#[derive(Debug)]
pub(crate) enum Ending {
    Ok(Answer),
    Failed(Error),
    /// The caller dropped the call (its future, or its stream midway).
    Cancelled,
    /// Something no call may do: end twice (a stream yielding after its error), or not end
    /// long after its deadline.
    Broken(String),
}

/// One call's end, as the caller reports it.
#[derive(Debug)]
pub(crate) struct Record {
    pub call: Planned,
    pub ending: Ending,
    /// From the caller's first poll (async) or call (blocking) to its end.
    pub elapsed: Duration,
}

/// What is kept of an ending: a success as its size and whether it was the fault-free
/// answer.
#[derive(Debug)]
pub(crate) enum Outcome {
    Ok {
        len: usize,
    },
    /// A success that differs from the fault-free answer: how.
    Mismatch(String),
    Failed(Error),
    Cancelled,
    Broken(String),
}

/// One call's end, as kept.
#[derive(Debug)]
pub(crate) struct Ended {
    pub call: Planned,
    pub outcome: Outcome,
    pub elapsed: Duration,
}

/// The endings of one run, one slot per call id.
pub(crate) struct Ledger {
    references: &'static References,
    slots: Mutex<Vec<Option<Ended>>>,
    twice: Mutex<Vec<usize>>,
    running: Mutex<BTreeMap<usize, Instant>>,
}

impl Ledger {
    pub(crate) fn new(calls: usize, references: &'static References) -> Self {
        Self {
            references,
            slots: Mutex::new((0..calls).map(|_| None).collect()),
            twice: Mutex::new(Vec::new()),
            running: Mutex::new(BTreeMap::new()),
        }
    }

    pub(crate) fn start(&self, id: usize) {
        self.running.lock().unwrap().insert(id, Instant::now());
    }

    /// Records a call's end; a second end for the same id is kept aside as a failure.
    pub(crate) fn end(&self, record: Record) {
        let Record {
            call,
            ending,
            elapsed,
        } = record;
        self.running.lock().unwrap().remove(&call.id);
        let outcome = match ending {
            Ending::Ok(answer) => {
                let expected = &self.references[&(call.kind, call.variant)];
                if answer == *expected {
                    Outcome::Ok { len: answer.len() }
                } else {
                    Outcome::Mismatch(difference(&answer, expected))
                }
            }
            Ending::Failed(error) => Outcome::Failed(error),
            Ending::Cancelled => Outcome::Cancelled,
            Ending::Broken(what) => Outcome::Broken(what),
        };
        let mut slots = self.slots.lock().unwrap();
        if slots[call.id].is_some() {
            self.twice.lock().unwrap().push(call.id);
        } else {
            slots[call.id] = Some(Ended {
                call,
                outcome,
                elapsed,
            });
        }
    }

    /// The records, in call order; panics naming the calls that ended twice or never.
    pub(crate) fn into_records(self) -> Vec<Ended> {
        let twice = self.twice.into_inner().unwrap();
        assert!(twice.is_empty(), "calls ended twice: {twice:?}");
        let slots = self.slots.into_inner().unwrap();
        let missing: Vec<usize> = slots
            .iter()
            .enumerate()
            .filter(|(_, slot)| slot.is_none())
            .map(|(id, _)| id)
            .collect();
        assert!(missing.is_empty(), "calls that never ended: {missing:?}");
        slots.into_iter().flatten().collect()
    }

    /// The longest-running call still running, and for how long.
    fn oldest(&self) -> Option<(usize, Duration)> {
        let running = self.running.lock().unwrap();
        running
            .iter()
            .map(|(id, started)| (*id, started.elapsed()))
            .max_by_key(|(_, age)| *age)
    }
}

/// Where two answers first differ, with some text around it.
fn difference(got: &Answer, expected: &Answer) -> String {
    let (a, b) = (got.as_bytes(), expected.as_bytes());
    let at = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let around = |bytes: &[u8]| {
        let end = (at + 40).min(bytes.len());
        String::from_utf8_lossy(&bytes[at.saturating_sub(20).min(end)..end]).into_owned()
    };
    format!(
        "{} bytes, fault-free {} bytes, first difference at byte {at}: {:?} vs {:?}",
        a.len(),
        b.len(),
        around(a),
        around(b)
    )
}

/// Watches a run from another thread: if a call runs `limit` past its start, the SDK hung
/// (no call may outlive its deadline by that much). The blocking client cannot be
/// interrupted, so the watchdog ends the process with the call's description rather than
/// let the test run freeze.
pub(crate) fn watchdog<T>(
    ledger: &Ledger,
    plan: &[Planned],
    limit: Duration,
    run: impl FnOnce() -> T,
) -> T {
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Ordering::Acquire) {
                std::thread::sleep(Duration::from_millis(200));
                if let Some((id, age)) = ledger.oldest()
                    && age > limit
                {
                    eprintln!(
                        "soak: HUNG: call {id} {:?} has run for {age:?} (limit {limit:?})",
                        plan[id]
                    );
                    std::process::exit(3);
                }
            }
        });
        let result = run();
        done.store(true, Ordering::Release);
        result
    })
}
