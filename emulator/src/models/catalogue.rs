//! The model catalogue: every text, image and speech model with its aliases,
//! modalities, flags, context length and prices (decimal strings, like the service).
//!
//! Names and shapes mirror the service; descriptions, prices and context lengths are
//! realistic but illustrative.

use super::Model;

/// The voices of the speech and audio-output models.
pub(crate) const VOICES: &[&str] = &[
    "alloy", "echo", "fable", "onyx", "nova", "shimmer", "coral", "verse", "ballad", "ash", "sage",
    "amuch", "dan",
];

/// Default models when a request names none.
pub(crate) const DEFAULT_TEXT_MODEL: &str = "openai";
/// See [`DEFAULT_TEXT_MODEL`].
pub(crate) const DEFAULT_IMAGE_MODEL: &str = "zimage";
/// See [`DEFAULT_TEXT_MODEL`].
pub(crate) const DEFAULT_AUDIO_MODEL: &str = "openai-audio";

const TEXT_IN: &[&str] = &["text"];
const TEXT_IMAGE_IN: &[&str] = &["text", "image"];
const MULTI_IN: &[&str] = &["text", "image", "audio"];
const TEXT_OUT: &[&str] = &["text"];
const TEXT_AUDIO_OUT: &[&str] = &["text", "audio"];
const IMAGE_OUT: &[&str] = &["image"];
const AUDIO_OUT: &[&str] = &["audio"];

const fn text(
    name: &'static str,
    description: &'static str,
    aliases: &'static [&'static str],
    input: &'static [&'static str],
    (tools, reasoning): (bool, bool),
    context_length: u64,
    pricing: &'static [(&'static str, &'static str)],
) -> Model {
    Model {
        name,
        description,
        aliases,
        input,
        output: TEXT_OUT,
        tools,
        reasoning,
        context_length: Some(context_length),
        pricing,
        paid_only: false,
        voices: &[],
    }
}

const fn image(
    name: &'static str,
    description: &'static str,
    aliases: &'static [&'static str],
    input: &'static [&'static str],
    price: &'static [(&'static str, &'static str)],
    paid_only: bool,
) -> Model {
    Model {
        name,
        description,
        aliases,
        input,
        output: IMAGE_OUT,
        tools: false,
        reasoning: false,
        context_length: None,
        pricing: price,
        paid_only,
        voices: &[],
    }
}

const CHEAP: &[(&str, &str)] = &[
    ("promptTextTokens", "0.00000005"),
    ("completionTextTokens", "0.0000004"),
];
const MID: &[(&str, &str)] = &[
    ("promptTextTokens", "0.00000015"),
    ("completionTextTokens", "0.0000006"),
];
const LARGE: &[(&str, &str)] = &[
    ("promptTextTokens", "0.00000125"),
    ("promptCachedTokens", "0.000000125"),
    ("completionTextTokens", "0.00001"),
];

/// Text (chat) models. `openai` is the default.
pub(crate) const TEXT_MODELS: &[Model] = &[
    text(
        "openai",
        "OpenAI GPT-5 Mini - balanced default",
        &["gpt-5-mini"],
        TEXT_IMAGE_IN,
        (true, false),
        400_000,
        MID,
    ),
    text(
        "openai-fast",
        "OpenAI GPT-5 Nano - fastest",
        &["gpt-5-nano"],
        TEXT_IMAGE_IN,
        (true, false),
        400_000,
        CHEAP,
    ),
    text(
        "openai-large",
        "OpenAI GPT-5.1 - most capable, with reasoning",
        &["gpt-5.1", "openai-reasoning"],
        TEXT_IMAGE_IN,
        (true, true),
        400_000,
        LARGE,
    ),
    Model {
        name: "openai-audio",
        description: "OpenAI GPT-4o Mini Audio - speaks and listens",
        aliases: &["gpt-4o-mini-audio-preview"],
        input: MULTI_IN,
        output: TEXT_AUDIO_OUT,
        tools: true,
        reasoning: false,
        context_length: Some(128_000),
        pricing: &[
            ("promptTextTokens", "0.00000015"),
            ("promptAudioTokens", "0.00001"),
            ("completionTextTokens", "0.0000006"),
            ("completionAudioTokens", "0.00002"),
        ],
        paid_only: false,
        voices: VOICES,
    },
    text(
        "mistral",
        "Mistral Small 3.2 24B",
        &["mistral-small"],
        TEXT_IMAGE_IN,
        (true, false),
        128_000,
        CHEAP,
    ),
    text(
        "gemini",
        "Google Gemini 2.5 Flash Lite",
        &["gemini-2.5-flash-lite"],
        MULTI_IN,
        (true, true),
        1_048_576,
        CHEAP,
    ),
    text(
        "gemini-search",
        "Google Gemini 2.5 Flash Lite with Google Search",
        &["searchgpt", "geminisearch"],
        TEXT_IMAGE_IN,
        (true, false),
        1_048_576,
        MID,
    ),
    text(
        "deepseek",
        "DeepSeek V3.2 - with reasoning",
        &["deepseek-v3", "deepseek-reasoning"],
        TEXT_IN,
        (true, true),
        128_000,
        MID,
    ),
    text(
        "claude",
        "Anthropic Claude Haiku 4.5",
        &["claude-haiku-4.5", "claude-fast"],
        TEXT_IMAGE_IN,
        (true, true),
        200_000,
        LARGE,
    ),
    text(
        "grok",
        "xAI Grok 4 Fast",
        &["grok-fast", "grok-4-fast"],
        TEXT_IMAGE_IN,
        (true, true),
        2_000_000,
        MID,
    ),
    text(
        "qwen-coder",
        "Qwen 2.5 Coder 32B",
        &["qwen2.5-coder-32b"],
        TEXT_IN,
        (true, false),
        32_768,
        CHEAP,
    ),
];

/// Image models. `zimage` is the default.
pub(crate) const IMAGE_MODELS: &[Model] = &[
    image(
        "flux",
        "Flux Schnell - fast and free",
        &["flux-schnell"],
        TEXT_IN,
        &[("completionImageTokens", "0.00012")],
        false,
    ),
    image(
        "zimage",
        "Z-Image Turbo - the default",
        &["z-image", "z-image-turbo"],
        TEXT_IN,
        &[("completionImageTokens", "0.0002")],
        false,
    ),
    image(
        "turbo",
        "SDXL Turbo - single step",
        &["sdxl-turbo"],
        TEXT_IN,
        &[("completionImageTokens", "0.0003")],
        false,
    ),
    image(
        "kontext",
        "FLUX.1 Kontext - in-context editing",
        &["flux-kontext"],
        TEXT_IMAGE_IN,
        &[("completionImageTokens", "0.04")],
        true,
    ),
    image(
        "gptimage",
        "OpenAI GPT Image 1 Mini",
        &["gpt-image", "gpt-image-1-mini"],
        TEXT_IMAGE_IN,
        &[
            ("promptTextTokens", "0.000002"),
            ("completionImageTokens", "0.000008"),
        ],
        true,
    ),
    image(
        "seedream",
        "ByteDance Seedream 4.0",
        &["seedream-4"],
        TEXT_IMAGE_IN,
        &[("completionImageTokens", "0.03")],
        true,
    ),
    image(
        "nanobanana",
        "Google Gemini 2.5 Flash Image",
        &["gemini-2.5-flash-image", "nano-banana"],
        TEXT_IMAGE_IN,
        &[
            ("promptTextTokens", "0.0000003"),
            ("completionImageTokens", "0.00003"),
        ],
        true,
    ),
];

/// Speech models.
pub(crate) const AUDIO_MODELS: &[Model] = &[Model {
    name: "openai-audio",
    description: "OpenAI GPT-4o Mini TTS - text to speech",
    aliases: &[
        "tts-1",
        "tts-1-hd",
        "gpt-4o-mini-tts",
        "gpt-4o-mini-audio-preview",
    ],
    input: TEXT_IN,
    output: AUDIO_OUT,
    tools: false,
    reasoning: false,
    context_length: None,
    pricing: &[
        ("promptTextTokens", "0.0000006"),
        ("completionAudioTokens", "0.000012"),
    ],
    paid_only: false,
    voices: VOICES,
}];
