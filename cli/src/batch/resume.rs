//! `--resume`: which ids an earlier run finished, and compacting the output afterwards so that
//! each id keeps one line. Both read the output as a stream and hold, per line, a 128-bit id
//! key (and for compaction its line index) in a sorted list, never the lines themselves.

use std::fs::File;
use std::io::{self, BufRead as _, BufReader, BufWriter, Write as _};
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::ids::{DoneIds, Id, IdKey};

/// The part of an output line that matters here.
#[derive(Deserialize)]
struct Probe {
    id: Value,
    ok: bool,
}

fn probe(line: &[u8]) -> Option<(IdKey, bool)> {
    let probe: Probe = serde_json::from_slice(line).ok()?;
    let id = Id::from_json(&probe.id).ok()?;
    Some((id.key(), probe.ok))
}

/// Calls `each` with the index and bytes of every line of `path`.
fn for_each_line(
    path: &Path,
    mut each: impl FnMut(u64, &[u8]) -> io::Result<()>,
) -> io::Result<()> {
    let mut reader = BufReader::with_capacity(1 << 16, File::open(path)?);
    let mut line = Vec::new();
    let mut index = 0;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        each(index, &line)?;
        index += 1;
    }
}

/// The ids with an `"ok": true` line in the output at `path` (none when it does not exist).
///
/// Fails when the file exists but cannot be read.
pub(crate) fn done_ids(path: &Path) -> io::Result<DoneIds> {
    let mut done = Vec::new();
    if !path.exists() {
        return Ok(DoneIds::default());
    }
    for_each_line(path, |_, line| {
        if let Some((key, true)) = probe(line) {
            done.push(key);
        }
        Ok(())
    })?;
    Ok(DoneIds::new(done))
}

/// What compaction did.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Compaction {
    /// Lines kept.
    pub(crate) kept: u64,
    /// Lines dropped (older lines of an id, and unreadable lines).
    pub(crate) dropped: u64,
}

/// Rewrites the output at `path` so that each id keeps one line: its latest `"ok": true`
/// line, or else its latest line. Lines that are not result lines (a line cut short by a
/// crash) are dropped. The new file is written beside the old one and renamed over it, so
/// a reader sees the old file or the new one, never a mix. Nothing is rewritten when
/// nothing would be dropped.
///
/// Fails on any IO error; the old file is then left as it was.
pub(crate) fn compact(path: &Path) -> io::Result<Compaction> {
    // Every result line as (id key, line index, ok), sorted by key and then index: each id's
    // lines end up side by side, oldest first.
    let mut entries: Vec<(IdKey, u64, bool)> = Vec::new();
    let mut lines = 0u64;
    for_each_line(path, |index, line| {
        lines += 1;
        if let Some((key, ok)) = probe(line) {
            entries.push((key, index, ok));
        }
        Ok(())
    })?;
    entries.sort_unstable();
    let mut keep = vec![0u64; usize::try_from(lines.div_ceil(64)).unwrap_or(0)];
    let mut kept = 0u64;
    for group in entries.chunk_by(|a, b| a.0 == b.0) {
        // The latest success, or else the latest line.
        let chosen = group.iter().rev().find(|e| e.2).or(group.last());
        if let Some(&(_, index, _)) = chosen
            && let Some(word) = keep.get_mut(usize::try_from(index / 64).unwrap_or(usize::MAX))
        {
            *word |= 1 << (index % 64);
            kept += 1;
        }
    }
    drop(entries);
    let report = Compaction {
        kept,
        dropped: lines - kept,
    };
    if report.dropped == 0 {
        return Ok(report);
    }
    let kept_line = |index: u64| {
        keep.get(usize::try_from(index / 64).unwrap_or(usize::MAX))
            .is_some_and(|word| word & (1 << (index % 64)) != 0)
    };
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(path.file_name().unwrap_or_default());
    temp_name.push(format!(".compact.{}.tmp", std::process::id()));
    let temp = path.with_file_name(temp_name);
    let result = (|| {
        let mut out = BufWriter::with_capacity(1 << 16, File::create(&temp)?);
        for_each_line(path, |index, line| {
            if kept_line(index) {
                out.write_all(line)?;
                if !line.ends_with(b"\n") {
                    out.write_all(b"\n")?;
                }
            }
            Ok(())
        })?;
        let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ignored = std::fs::remove_file(&temp);
    }
    result.map(|()| report)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn compaction_keeps_the_latest_success_of_each_id() {
        let dir = std::env::temp_dir().join(format!("blossom-resume-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.jsonl");
        std::fs::write(
            &path,
            concat!(
                "{\"id\":\"a\",\"ok\":false,\"attempts\":1}\n",
                "{\"id\":\"b\",\"ok\":true,\"n\":1}\n",
                "{\"id\":\"a\",\"ok\":true,\"n\":2}\n",
                "{\"id\":\"a\",\"ok\":false,\"n\":3}\n",
                "{\"id\":\"c\",\"ok\":false,\"n\":4}\n",
                "{\"id\":\"c\",\"ok\":false,\"n\":5}\n",
                "{\"id\":\"d\",\"ok\":tr\n",
            ),
        )
        .unwrap();
        let done = done_ids(&path).unwrap();
        assert_eq!(done.len(), 2);
        let report = compact(&path).unwrap();
        assert_eq!((report.kept, report.dropped), (3, 4));
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            concat!(
                "{\"id\":\"b\",\"ok\":true,\"n\":1}\n",
                "{\"id\":\"a\",\"ok\":true,\"n\":2}\n",
                "{\"id\":\"c\",\"ok\":false,\"n\":5}\n",
            )
        );
        // Nothing left to drop: the file is not rewritten.
        let report = compact(&path).unwrap();
        assert_eq!((report.kept, report.dropped), (3, 0));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
