//! The command line, as clap structures.

use std::path::PathBuf;

use blossom_emulator::{EmulatorArgs, FaultSpec};
use clap::{Parser, Subcommand, ValueEnum};

use crate::batch::BatchArgs;

/// Pollinations.AI from the shell: text, chat, images, speech and model lists.
///
/// Every command works offline against the built-in emulator with `--emulator`.
#[derive(Debug, Parser)]
#[command(name = "blossom", version, about, propagate_version = true)]
pub(crate) struct Cli {
    /// The service's base URL.
    #[arg(long, global = true, env = "POLLINATIONS_BASE_URL", value_name = "URL")]
    pub(crate) base_url: Option<String>,

    /// The API key (sk_… or pk_…). Never printed.
    #[arg(
        long,
        global = true,
        env = "POLLINATIONS_API_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub(crate) api_key: Option<String>,

    /// Start the built-in emulator in-process and talk to it: no network, no key needed.
    #[arg(long, global = true)]
    pub(crate) emulator: bool,

    /// Inject faults into the built-in emulator (implies --emulator), e.g.
    /// "503=0.1,429=0.05,reset=0.05,latency=5..50ms"; the tokens of `blossom emulator --faults`.
    #[arg(long, global = true, value_name = "SPEC")]
    pub(crate) emulator_faults: Option<FaultSpec>,

    /// Give up on a call after this long, across retries: 30s, 500ms, 2m (a bare number is
    /// seconds).
    #[arg(long, global = true, value_name = "DURATION")]
    pub(crate) timeout: Option<String>,

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
    #[arg(long, short)]
    pub(crate) voice: Option<String>,
    /// The audio format.
    #[arg(long, value_enum)]
    pub(crate) format: Option<SpeechFormat>,
    /// The model.
    #[arg(long, short)]
    pub(crate) model: Option<String>,
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
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ModelsKind {
    Text,
    Image,
    Audio,
    Openai,
}
