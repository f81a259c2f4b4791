//! The command line, as clap structures.

use std::path::PathBuf;

use blossom_emulator::{EmulatorArgs, FaultSpec};
use clap::{Parser, Subcommand, ValueEnum};

use crate::batch::BatchArgs;

/// The help heading of the options every subcommand takes.
const GLOBAL: &str = "Global options";

/// Pollinations.AI from the shell: text, chat, images, speech and model lists.
///
/// Every command works offline against the built-in emulator with `--emulator`.
#[derive(Debug, Parser)]
#[command(name = "blossom", version, about, propagate_version = true)]
pub(crate) struct Cli {
    /// The service's base URL.
    #[arg(
        long,
        global = true,
        env = "POLLINATIONS_BASE_URL",
        value_name = "URL",
        help_heading = GLOBAL
    )]
    pub(crate) base_url: Option<String>,

    /// The API key (sk_… or pk_…). Never printed.
    #[arg(
        long,
        global = true,
        env = "POLLINATIONS_API_KEY",
        hide_env_values = true,
        value_name = "KEY",
        help_heading = GLOBAL
    )]
    pub(crate) api_key: Option<String>,

    /// Start the built-in emulator in-process and talk to it: no network, no key needed.
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub(crate) emulator: bool,

    /// Inject faults into the built-in emulator (implies --emulator), e.g.
    /// "503=0.1,429=0.05,reset=0.05,latency=5..50ms"; the tokens of `blossom emulator --faults`.
    #[arg(long, global = true, value_name = "SPEC", help_heading = GLOBAL)]
    pub(crate) emulator_faults: Option<FaultSpec>,

    /// Give up on a call after this long, across retries: 30s, 500ms, 2m (a bare number is
    /// seconds).
    #[arg(long, global = true, value_name = "DURATION", help_heading = GLOBAL)]
    pub(crate) timeout: Option<String>,

    /// Show what the SDK does on stderr: -v for each call's attempts, retries and waits,
    /// -vv for every stream chunk and the HTTP layer. `RUST_LOG` (e.g.
    /// `RUST_LOG=blossom_core=debug`), when set, decides instead.
    #[arg(long, short, global = true, action = clap::ArgAction::Count, help_heading = GLOBAL)]
    pub(crate) verbose: u8,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Generate text for a prompt.
    Text(TextArgs),
    /// Chat with a model; the words given form one user message.
    Chat(ChatArgs),
    /// Generate an image and save it.
    Image(ImageArgs),
    /// Speak text and save the audio.
    Speak(SpeakArgs),
    /// List the available models.
    Models(ModelsArgs),
    /// Run a JSONL file of prompts: bounded concurrency, one result line per input line,
    /// retries, Ctrl-C and --resume.
    Batch(BatchArgs),
    /// Serve the emulator on a port until Ctrl-C.
    Emulator(EmulatorArgs),
    /// Print a shell completion script, e.g. `blossom completions bash > ~/.local/share/bash-completion/completions/blossom`.
    Completions(CompletionsArgs),
}

impl Command {
    /// The options of a one-off command (`None` for the others).
    pub(crate) fn call_args(&self) -> Option<CallArgs> {
        match self {
            Self::Text(args) => Some(args.call),
            Self::Chat(args) => Some(args.call),
            Self::Image(args) => Some(args.call),
            Self::Speak(args) => Some(args.call),
            Self::Models(args) => Some(args.call),
            Self::Batch(_) | Self::Emulator(_) | Self::Completions(_) => None,
        }
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub(crate) shell: clap_complete::Shell,
}

/// Options of every one-off command (text, chat, image, speak, models).
#[derive(Debug, Clone, Copy, clap::Args)]
pub(crate) struct CallArgs {
    /// Retries after the first attempt, for errors a retry can fix (5xx, 429, timeouts,
    /// resets). Default: the SDK's (2).
    #[arg(long, value_name = "N")]
    pub(crate) retries: Option<u32>,
    /// No notices on stderr (what was saved); warnings and errors still print.
    #[arg(long, short)]
    pub(crate) quiet: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct TextArgs {
    /// The prompt.
    #[arg(required = true, num_args = 1..)]
    pub(crate) prompt: Vec<String>,
    /// The model.
    #[arg(long, short)]
    pub(crate) model: Option<String>,
    /// The seed (same seed, same answer).
    #[arg(long)]
    pub(crate) seed: Option<i64>,
    /// A system prompt.
    #[arg(long)]
    pub(crate) system: Option<String>,
    /// Ask for a JSON answer.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) call: CallArgs,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ChatArgs {
    /// The message.
    #[arg(required = true, num_args = 1..)]
    pub(crate) message: Vec<String>,
    /// Print tokens as they arrive.
    #[arg(long, short)]
    pub(crate) stream: bool,
    /// The model.
    #[arg(long, short, default_value = "openai")]
    pub(crate) model: String,
    /// A system prompt.
    #[arg(long)]
    pub(crate) system: Option<String>,
    /// The seed.
    #[arg(long)]
    pub(crate) seed: Option<i64>,
    /// Sampling temperature (0..=2).
    #[arg(long)]
    pub(crate) temperature: Option<f64>,
    /// Longest answer in tokens.
    #[arg(long)]
    pub(crate) max_tokens: Option<u32>,
    /// Ask for a JSON object as the answer.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) call: CallArgs,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ImageArgs {
    /// What to draw.
    #[arg(required = true, num_args = 1..)]
    pub(crate) prompt: Vec<String>,
    /// Where to save it (`-` for standard output).
    #[arg(long, short)]
    pub(crate) output: PathBuf,
    /// Width in pixels.
    #[arg(long)]
    pub(crate) width: Option<u32>,
    /// Height in pixels.
    #[arg(long)]
    pub(crate) height: Option<u32>,
    /// The seed.
    #[arg(long)]
    pub(crate) seed: Option<i64>,
    /// The model.
    #[arg(long, short)]
    pub(crate) model: Option<String>,
    /// Let the server enhance the prompt.
    #[arg(long)]
    pub(crate) enhance: bool,
    /// Transparent background.
    #[arg(long)]
    pub(crate) transparent: bool,
    /// Quality.
    #[arg(long, value_enum)]
    pub(crate) quality: Option<Quality>,
    /// A reference image URL (image-to-image); repeat for several.
    #[arg(long = "reference", value_name = "URL")]
    pub(crate) references: Vec<String>,
    /// Safety filters.
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub(crate) safe: Option<SafeLevel>,
    /// Keep the image out of the public feed.
    #[arg(long)]
    pub(crate) private: bool,
    /// Do not publish the image to the feed.
    #[arg(long)]
    pub(crate) nofeed: bool,
    /// Ask the server to regenerate instead of answering from its cache.
    #[arg(long)]
    pub(crate) no_cache: bool,
    /// What to avoid (older gateways; the current one ignores it).
    #[arg(long, value_name = "TEXT")]
    pub(crate) negative_prompt: Option<String>,
    /// Hide the logo (older gateways).
    #[arg(long)]
    pub(crate) nologo: bool,
    /// Prompt adherence (older gateways).
    #[arg(long, value_name = "SCALE")]
    pub(crate) guidance_scale: Option<f64>,
    #[command(flatten)]
    pub(crate) call: CallArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum SafeLevel {
    Off,
    Standard,
    Nsfw,
    All,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Quality {
    Low,
    Medium,
    High,
    Hd,
}

#[derive(Debug, clap::Args)]
pub(crate) struct SpeakArgs {
    /// What to say.
    #[arg(required = true, num_args = 1..)]
    pub(crate) text: Vec<String>,
    /// Where to save it (`-` for standard output).
    #[arg(long, short)]
    pub(crate) output: PathBuf,
    /// The voice (alloy, echo, fable, onyx, nova, shimmer, …).
    #[arg(long)]
    pub(crate) voice: Option<String>,
    /// The audio format. Default: the output file's extension (.mp3, .wav, .flac, .opus,
    /// .aac, .pcm), else the service's (mp3).
    #[arg(long, value_enum)]
    pub(crate) format: Option<SpeechFormat>,
    /// The model.
    #[arg(long, short)]
    pub(crate) model: Option<String>,
    #[command(flatten)]
    pub(crate) call: CallArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum SpeechFormat {
    Mp3,
    Wav,
    Flac,
    Opus,
    Aac,
    Pcm,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ModelsArgs {
    /// Which list.
    #[arg(long, value_enum, default_value = "text")]
    pub(crate) kind: ModelsKind,
    /// Print the full list as JSON.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) call: CallArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ModelsKind {
    Text,
    Image,
    Audio,
    Openai,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    /// clap's own checks of every subcommand (unique names and short flags, …), which
    /// otherwise fail only when that subcommand is run.
    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
