//! The flags of `blossom batch`.

use std::path::PathBuf;
use std::time::Duration;

use super::units::{Rate, parse_duration, parse_rate};

/// Details shown by `blossom batch --help`.
const AFTER_HELP: &str = r#"INPUT: one JSON object per line (blank lines are ignored):
  {"id": "q1", "kind": "text", "prompt": "Write a haiku"}
  {"kind": "chat", "messages": [{"role": "user", "content": "Hi"}], "model": "openai", "params": {"temperature": 0.2}}
  {"id": "img7", "kind": "image", "prompt": "a red apple", "priority": "high", "params": {"width": 512, "height": 512, "seed": 7}}
  {"id": "hello", "kind": "speech", "prompt": "Hello", "params": {"voice": "nova", "format": "wav"}}
  kind: text | chat | image | speech. chat takes "prompt" (one user message) or "messages".
  id: a string or an integer, unique in the file; default: the line number (give explicit
      ids if the file may change between --resume runs).
  priority: critical | high | normal (default) | low. Among calls waiting at the same time
      (for a --rate slot, or after the server asked to slow down), higher classes go first.
      Lines are read in order with --concurrency of them in flight, so a priority reorders
      calls in flight, never lines not yet read: put urgent lines first or in their own job.
  params (unknown names are errors):
    text:   seed, system, temperature, top_p, presence_penalty, frequency_penalty, json, private, model
    chat:   system, temperature, top_p, max_tokens, seed, json, stop, presence_penalty,
            frequency_penalty, reasoning_effort, user, model
    image:  width, height, seed, quality, enhance, transparent, negative_prompt, nologo,
            private, nofeed, guidance_scale, model
    speech: voice, format (mp3, wav, flac, opus, aac, pcm), speed, model

OUTPUT: one JSON line per input line, written (and flushed) as each one finishes:
  {"id", "ok": true, "kind", "text"?, "file"?, "model", "usage"?, "attempts", "cached", "latency_ms"}
  {"id", "ok": false, "line", "error": {"kind", "status"?, "code"?, "message", "request_id"?}, "attempts"}
  Images and audio are saved in --media-dir as <id>.<ext> (atomically); "file" is the path.
  Bad lines (invalid JSON, unknown kind, missing prompt, duplicate id, invalid params) get
  an error line with "kind": "invalid_input", a code and the line number; the run goes on.
  "cached" is true when no new generation was needed (client cache, an identical call in
  flight, or the server's cache).
  An existing non-empty OUTPUT is never replaced silently: pass --resume or --overwrite.

INTERRUPTING: Ctrl-C or SIGTERM stops taking lines, lets calls in flight finish for up to
  --grace, writes their lines and the summary, and exits 130. Calls still unfinished then
  (or at a second Ctrl-C) are cancelled and get no line, so that a later --resume runs them:
  with --resume, lines whose id has an "ok": true line are skipped, failed ones run again,
  and OUTPUT is compacted at the end to one line per id (its latest success, else its
  latest failure), atomically.

EXIT CODES: 0 every line succeeded, 1 some lines failed, 2 usage or configuration error,
  130 interrupted.

EXAMPLE:
  blossom --emulator batch prompts.jsonl -o results.jsonl --media-dir media --concurrency 16
  blossom emulator --faults "503=0.1,429=0.05,reset=0.05" --seed 7 --port 8080   # rehearse against a flaky server
"#;

/// Flags of `blossom batch`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub(crate) struct BatchArgs {
    /// The input: one JSON object per line (`-` for standard input). Read as a stream.
    #[arg(value_name = "INPUT")]
    pub(crate) input: PathBuf,

    /// Where result lines go (`-` for standard output; progress and summary stay on stderr).
    #[arg(long, short, value_name = "OUTPUT")]
    pub(crate) output: PathBuf,

    /// Calls in flight at once (memory is bounded by this, not by the input's size).
    #[arg(long, short = 'c', default_value_t = 8, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub(crate) concurrency: u32,

    /// Pace the calls: R/s or R/min (e.g. 5/s, 30/min). Default: no client-side pacing for
    /// secret keys, the service's pace for publishable keys.
    #[arg(long, value_name = "R/s|R/min", value_parser = parse_rate)]
    pub(crate) rate: Option<Rate>,

    /// Retries per line after its first attempt (errors that a retry can fix: 5xx, 429,
    /// timeouts, resets).
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub(crate) retries: u32,

    /// Directory for images and audio, saved as ID.EXT (created if missing).
    #[arg(long, value_name = "DIR")]
    pub(crate) media_dir: Option<PathBuf>,

    /// Continue a job: skip ids with an "ok": true line in OUTPUT, run the rest, append, then
    /// compact OUTPUT to one line per id.
    #[arg(long, conflicts_with = "overwrite")]
    pub(crate) resume: bool,

    /// Replace an existing OUTPUT (without this, a non-empty OUTPUT is refused).
    #[arg(long)]
    pub(crate) overwrite: bool,

    /// Stop taking new lines after the first failed call (bad input lines do not count),
    /// finish the calls in flight, exit 1.
    #[arg(long)]
    pub(crate) fail_fast: bool,

    /// After Ctrl-C or SIGTERM, how long calls in flight may take to finish.
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) grace: Duration,

    /// No progress and no summary on stderr.
    #[arg(long, short)]
    pub(crate) quiet: bool,

    /// How often a progress line is printed when stderr is not a terminal.
    #[arg(long, default_value = "2s", value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) progress_every: Duration,
}
