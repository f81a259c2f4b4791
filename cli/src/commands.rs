//! One function per command; each returns when its output is written.

use std::io::{self, Write as _};
use std::path::Path;

use blossom_tokio::{
    AudioFormat, CallOptions, ChatAccumulator, ChatCompletion, ChatRequest, Client, ErrorKind,
    ImageQuality, ImageRequest, Media, ModelKind, Safe, SaveMedia as _, SpeechRequest,
    StreamExt as _, TextRequest,
};

use crate::args::{
    ChatArgs, ImageArgs, ModelsArgs, ModelsKind, Quality, SafeLevel, SpeakArgs, SpeechFormat,
    TextArgs,
};
use crate::failure::Failure;

pub(crate) async fn text(
    client: &Client,
    options: CallOptions,
    args: TextArgs,
) -> Result<(), Failure> {
    let mut request = TextRequest::new(args.prompt.join(" "));
    request.model = args.model;
    request.seed = args.seed;
    request.system = args.system;
    request.json = args.json;
    let reply = client.text(request).options(options).await?;
    if reply.text.trim().is_empty() {
        eprintln!("blossom: the answer has no text");
        return Ok(());
    }
    let mut out = io::stdout().lock();
    writeln!(out, "{}", reply.text.trim_end())?;
    Ok(())
}

pub(crate) async fn chat(
    client: &Client,
    options: CallOptions,
    args: ChatArgs,
) -> Result<(), Failure> {
    let mut request = ChatRequest::new(args.model);
    if let Some(system) = args.system {
        request = request.system(system);
    }
    request = request.user(args.message.join(" "));
    request.seed = args.seed;
    request.temperature = args.temperature;
    request.max_tokens = args.max_tokens;
    if args.json {
        request = request.json();
    }
    if !args.stream {
        let reply = client.chat(request).options(options).await?;
        if !reply.text().is_empty() {
            writeln!(io::stdout().lock(), "{}", reply.text().trim_end())?;
        }
        explain_ending(&reply);
        return Ok(());
    }
    let mut stream = client.chat_stream(request).options(options).await?;
    let mut out = io::stdout();
    let mut ended_with_newline = true;
    let mut all = ChatAccumulator::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        let text = chunk.text();
        if !text.is_empty() {
            let mut lock = out.lock();
            lock.write_all(text.as_bytes())?;
            lock.flush()?;
            ended_with_newline = text.ends_with('\n');
        }
        all.push(&chunk);
    }
    if !ended_with_newline {
        writeln!(out)?;
    }
    explain_ending(&all.finish());
    Ok(())
}

/// Says on stderr what an answer without text, or one cut short, is: printing nothing (or an
/// empty line) would look like success with nothing to say.
fn explain_ending(reply: &ChatCompletion) {
    let calls = reply.tool_calls();
    if !calls.is_empty() {
        let names: Vec<&str> = calls.iter().map(|c| c.function.name.as_str()).collect();
        eprintln!(
            "blossom: the model called {} tool(s) instead of answering: {}",
            calls.len(),
            names.join(", ")
        );
    } else if reply.text().is_empty() {
        eprintln!(
            "blossom: the answer has no text (finish reason: {})",
            reply.finish_reason().unwrap_or("none given")
        );
    }
    match reply.finish_reason() {
        Some("length") => {
            eprintln!("blossom: the answer was cut off at the token limit (finish reason: length)")
        }
        Some("content_filter") => {
            eprintln!("blossom: the answer was cut off by a content filter");
        }
        _ => {}
    }
}

pub(crate) async fn image(
    client: &Client,
    options: CallOptions,
    args: ImageArgs,
) -> Result<(), Failure> {
    let mut request = ImageRequest::new(args.prompt.join(" "));
    request.model = args.model;
    request.width = args.width;
    request.height = args.height;
    request.seed = args.seed;
    request.enhance = args.enhance.then_some(true);
    request.transparent = args.transparent.then_some(true);
    request.quality = args.quality.map(|q| match q {
        Quality::Low => ImageQuality::Low,
        Quality::Medium => ImageQuality::Medium,
        Quality::High => ImageQuality::High,
        Quality::Hd => ImageQuality::Hd,
    });
    request.reference_images = args.references;
    request.safe = args.safe.map(|level| match level {
        SafeLevel::Off => Safe::off(),
        SafeLevel::Standard => Safe::standard(),
        SafeLevel::Nsfw => Safe::nsfw(),
        SafeLevel::All => Safe::all(),
    });
    request.private = args.private.then_some(true);
    request.nofeed = args.nofeed.then_some(true);
    request.bypass_server_cache = args.no_cache;
    request.negative_prompt = args.negative_prompt;
    request.nologo = args.nologo.then_some(true);
    request.guidance_scale = args.guidance_scale;
    let image = client.image(request).options(options).await?;
    if let Some(warning) = extension_mismatch(&image, &args.output) {
        eprintln!("blossom: {warning}");
    }
    save(&image, &args.output, args.call.quiet)
}

/// What to say when the file name's extension names another image type than the bytes
/// are: the bytes are saved as they came (the file name is the user's), with a note.
fn extension_mismatch(media: &Media, output: &Path) -> Option<String> {
    let format = media.format?;
    let given = output.extension()?.to_str()?.to_ascii_lowercase();
    let known = ["jpg", "jpeg", "png", "webp", "gif", "svg"];
    let actual = format.extension();
    let same = given == actual || (given == "jpeg" && actual == "jpg");
    if same || !known.contains(&given.as_str()) {
        return None;
    }
    Some(format!(
        "the server sent {} bytes but {} says .{given}; saved as is (a .{actual} name would match)",
        actual.to_ascii_uppercase(),
        output.display()
    ))
}

pub(crate) async fn speak(
    client: &Client,
    options: CallOptions,
    args: SpeakArgs,
) -> Result<(), Failure> {
    let format = speech_format(args.format, &args.output).map_err(Failure::Usage)?;
    let mut request = SpeechRequest::new(args.text.join(" "));
    request.voice = args.voice;
    request.model = args.model;
    request.format = format;
    let audio = client.speech(request).options(options).await?;
    save(&audio, &args.output, args.call.quiet)
}

/// The speech format: `--format` when given, else the one the output file's extension names
/// (`None`: the service's default). A `--format` the extension contradicts is an error: the
/// file would hold one format under another's name.
fn speech_format(
    explicit: Option<SpeechFormat>,
    output: &Path,
) -> Result<Option<AudioFormat>, String> {
    let explicit = explicit.map(|f| match f {
        SpeechFormat::Mp3 => AudioFormat::Mp3,
        SpeechFormat::Wav => AudioFormat::Wav,
        SpeechFormat::Flac => AudioFormat::Flac,
        SpeechFormat::Opus => AudioFormat::Opus,
        SpeechFormat::Aac => AudioFormat::Aac,
        SpeechFormat::Pcm => AudioFormat::Pcm,
    });
    let by_extension = output.extension().and_then(|e| e.to_str()).and_then(|e| {
        match e.to_ascii_lowercase().as_str() {
            "mp3" => Some(AudioFormat::Mp3),
            "wav" => Some(AudioFormat::Wav),
            "flac" => Some(AudioFormat::Flac),
            "opus" | "ogg" => Some(AudioFormat::Opus),
            "aac" => Some(AudioFormat::Aac),
            "pcm" | "raw" => Some(AudioFormat::Pcm),
            _ => None,
        }
    });
    match (explicit, by_extension) {
        (Some(explicit), Some(named)) if explicit != named => Err(format!(
            "--format {} contradicts the output file {}: drop --format or change the extension",
            explicit.as_str(),
            output.display()
        )),
        (Some(explicit), _) => Ok(Some(explicit)),
        (None, named) => Ok(named),
    }
}

pub(crate) async fn models(
    client: &Client,
    options: CallOptions,
    args: ModelsArgs,
) -> Result<(), Failure> {
    let kind = match args.kind {
        ModelsKind::Text => ModelKind::Text,
        ModelsKind::Image => ModelKind::Image,
        ModelsKind::Audio => ModelKind::Audio,
        ModelsKind::Openai => ModelKind::OpenAi,
    };
    let list = match client.model_list(kind).options(options).await {
        Ok(list) => list,
        Err(error)
            if error.kind() == ErrorKind::Api
                && error.status().map(|s| s.as_u16()) == Some(404) =>
        {
            return Err(Failure::Call(format!(
                "the server has no model list at {} ({error}); another --kind may be served",
                kind.path()
            )));
        }
        Err(error) => return Err(error.into()),
    };
    let mut out = io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &list.models).map_err(io::Error::from)?;
        writeln!(out)?;
        return Ok(());
    }
    let width = list.names().map(str::len).max().unwrap_or(0);
    for model in &list.models {
        let mut line = format!("{:width$}", model.name);
        if !model.aliases.is_empty() {
            line.push_str(&format!("  (aliases: {})", model.aliases.join(", ")));
        }
        if let Some(description) = &model.description {
            line.push_str("  ");
            line.push_str(description);
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// Writes media to a file (atomically) or to standard output, and says what it wrote on stderr
/// (unless `quiet`).
fn save(media: &Media, output: &Path, quiet: bool) -> Result<(), Failure> {
    if output == Path::new("-") {
        let mut out = io::stdout().lock();
        out.write_all(&media.bytes)?;
        out.flush()?;
        return Ok(());
    }
    media.save(output).map_err(|e| {
        Failure::Io(io::Error::new(
            e.kind(),
            format!("{}: {e}", output.display()),
        ))
    })?;
    if quiet {
        return Ok(());
    }
    let mut err = io::stderr().lock();
    writeln!(
        err,
        "saved {} bytes of {} to {}",
        media.len(),
        if media.content_type.is_empty() {
            "media"
        } else {
            &media.content_type
        },
        output.display()
    )?;
    Ok(())
}
