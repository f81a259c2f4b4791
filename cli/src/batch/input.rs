//! Reading the input lazily. A thread reads lines (from a file or standard input) into a
//! small bounded channel, so memory holds a handful of lines whatever the input's size, and
//! a slow consumer slows the reader rather than filling memory.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::Stream;
use tokio::sync::mpsc;

use super::signal::Stop;

/// The longest input line accepted; longer ones are reported and skipped.
pub(crate) const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// One non-blank input line.
#[derive(Debug)]
pub(crate) struct RawLine {
    /// Its number in the input, from 1 (blank lines count).
    pub(crate) number: u64,
    /// Its text without the line end, or what is wrong with it.
    pub(crate) text: Result<String, String>,
}

/// Where lines come from.
#[derive(Debug)]
pub(crate) enum Source {
    /// Standard input (`-`).
    Stdin,
    /// A file, opened.
    File(File),
}

impl Source {
    /// Opens `path` (`-` for standard input).
    ///
    /// Fails when the file cannot be opened or is a directory.
    pub(crate) fn open(path: &Path) -> io::Result<Self> {
        if path == Path::new("-") {
            return Ok(Self::Stdin);
        }
        let file = File::open(path)?;
        if file.metadata()?.is_dir() {
            return Err(io::Error::other("is a directory"));
        }
        Ok(Self::File(file))
    }
}

/// Starts the reader thread; lines arrive on the receiver, at most `capacity` ahead of the
/// consumer. A read error is sent once, then the thread ends; it also ends when the
/// receiver is dropped.
pub(crate) fn spawn(source: Source, capacity: usize) -> mpsc::Receiver<io::Result<RawLine>> {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    std::thread::spawn(move || {
        let reader: Box<dyn BufRead> = match source {
            Source::Stdin => Box::new(BufReader::with_capacity(1 << 16, io::stdin())),
            Source::File(file) => Box::new(BufReader::with_capacity(1 << 16, file)),
        };
        if let Err(error) = read_lines(reader, &tx) {
            let _closed = tx.blocking_send(Err(error));
        }
    });
    rx
}

fn read_lines(
    mut reader: Box<dyn BufRead>,
    tx: &mpsc::Sender<io::Result<RawLine>>,
) -> io::Result<()> {
    let limit = u64::try_from(MAX_LINE_BYTES).unwrap_or(u64::MAX);
    let mut number = 0u64;
    loop {
        let mut buf = Vec::new();
        if (&mut reader).take(limit + 1).read_until(b'\n', &mut buf)? == 0 {
            return Ok(());
        }
        number += 1;
        let text = if buf.last() != Some(&b'\n') && buf.len() > MAX_LINE_BYTES {
            skip_line(&mut reader)?;
            Err(format!(
                "the line is longer than {} MiB",
                MAX_LINE_BYTES >> 20
            ))
        } else {
            while matches!(buf.last(), Some(b'\n' | b'\r')) {
                buf.pop();
            }
            if number == 1 && buf.starts_with(b"\xEF\xBB\xBF") {
                buf.drain(..3);
            }
            String::from_utf8(buf).map_err(|_| "the line is not valid UTF-8".to_owned())
        };
        if text.as_ref().is_ok_and(|t| t.trim().is_empty()) {
            continue;
        }
        if tx.blocking_send(Ok(RawLine { number, text })).is_err() {
            return Ok(());
        }
    }
}

/// Discards the rest of the current line.
fn skip_line(reader: &mut dyn BufRead) -> io::Result<()> {
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok(());
        }
        match available.iter().position(|&b| b == b'\n') {
            Some(end) => {
                reader.consume(end + 1);
                return Ok(());
            }
            None => {
                let all = available.len();
                reader.consume(all);
            }
        }
    }
}

/// The lines as a stream that ends at the end of the input or as soon as `stop` says to
/// stop taking lines.
pub(crate) fn lines(
    rx: mpsc::Receiver<io::Result<RawLine>>,
    stop: Stop,
) -> impl Stream<Item = io::Result<RawLine>> {
    futures_util::stream::unfold((rx, stop), |(mut rx, stop)| async move {
        if stop.is_stopping() {
            return None;
        }
        let next = tokio::select! {
            biased;
            () = stop.stopping() => None,
            line = rx.recv() => line,
        };
        next.map(|line| (line, (rx, stop)))
    })
}

/// Counts the non-blank lines of the file at `path` on a thread of its own and stores the
/// count in `total` when done (for the progress bar's length and ETA). Errors leave the
/// total unknown.
pub(crate) fn count_lines(path: &Path, total: Arc<AtomicU64>) {
    let Ok(file) = File::open(path) else {
        return;
    };
    std::thread::spawn(move || {
        let mut reader = BufReader::with_capacity(1 << 16, file);
        let mut count = 0u64;
        let mut blank = true;
        loop {
            let Ok(chunk) = reader.fill_buf() else {
                return;
            };
            if chunk.is_empty() {
                break;
            }
            for &byte in chunk {
                if byte == b'\n' {
                    count += u64::from(!blank);
                    blank = true;
                } else if !byte.is_ascii_whitespace() {
                    blank = false;
                }
            }
            let all = chunk.len();
            reader.consume(all);
        }
        count += u64::from(!blank);
        total.store(count, Ordering::Relaxed);
    });
}
