//! The output: a file (new, replaced, or appended to by `--resume`) or standard output. Each
//! line is flushed as soon as it is written, so a kill loses nothing already reported.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read as _, Seek as _, SeekFrom, Write};
use std::path::Path;

use super::record::Record;

/// How to open the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A new file; an existing non-empty one is refused.
    Create,
    /// Replace whatever is there (`--overwrite`).
    Overwrite,
    /// Append to the lines of an earlier run (`--resume`).
    Append,
}

enum Sink {
    Stdout(io::Stdout),
    File(File),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Stdout(out) => out.write(buf),
            Self::File(file) => file.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Stdout(out) => out.flush(),
            Self::File(file) => file.flush(),
        }
    }
}

/// Where result lines go.
pub(crate) struct Output {
    writer: BufWriter<Sink>,
}

impl Output {
    /// Opens `path` (`-` for standard output) in `mode`.
    ///
    /// Fails, with a message for people, when the file exists and `mode` is `Create`, when
    /// `--resume` is asked of standard output, or when the file cannot be opened.
    pub(crate) fn open(path: &Path, mode: Mode) -> Result<Self, String> {
        if path == Path::new("-") {
            if mode == Mode::Append {
                return Err("--resume needs an output file (-o FILE), not standard output".into());
            }
            return Ok(Self::new(Sink::Stdout(io::stdout())));
        }
        let shown = path.display();
        let file = match mode {
            Mode::Create => {
                if let Ok(meta) = std::fs::metadata(path)
                    && meta.is_file()
                    && meta.len() > 0
                {
                    return Err(format!(
                        "{shown} already exists; use --resume to continue that job, or --overwrite to start again"
                    ));
                }
                File::create(path)
            }
            Mode::Overwrite => File::create(path),
            Mode::Append => open_for_append(path),
        }
        .map_err(|e| format!("cannot open {shown}: {e}"))?;
        Ok(Self::new(Sink::File(file)))
    }

    fn new(sink: Sink) -> Self {
        Self {
            writer: BufWriter::with_capacity(1 << 16, sink),
        }
    }

    /// Writes one record's line and flushes it.
    ///
    /// Fails on any IO error (disk full, closed pipe).
    pub(crate) fn write(&mut self, record: &Record) -> io::Result<()> {
        self.writer.write_all(&record.to_line())?;
        self.writer.flush()
    }

    /// Flushes and, for a file, syncs it to disk.
    ///
    /// Fails on any IO error.
    pub(crate) fn finish(mut self) -> io::Result<()> {
        self.writer.flush()?;
        match self.writer.get_mut() {
            Sink::File(file) => file.sync_all(),
            Sink::Stdout(_) => Ok(()),
        }
    }
}

/// Opens for appending; a last line cut short (a crash mid-write) is ended with a newline
/// so that new lines never join it (compaction drops it later).
fn open_for_append(path: &Path) -> io::Result<File> {
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)?;
    let len = file.metadata()?.len();
    if len > 0 {
        file.seek(SeekFrom::Start(len - 1))?;
        let mut last = [0u8];
        file.read_exact(&mut last)?;
        if last[0] != b'\n' {
            file.write_all(b"\n")?;
        }
    }
    Ok(file)
}
