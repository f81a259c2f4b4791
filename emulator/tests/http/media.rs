//! Images and speech: real, decodable media of the requested size and format.

use blossom_emulator::EmulatorConfig;
use serde_json::json;

use crate::{auth, start};

/// Width and height from a baseline JPEG's SOF0 segment, after checking SOI and EOI.
fn jpeg_size(bytes: &[u8]) -> (u16, u16) {
    assert_eq!(&bytes[..2], &[0xff, 0xd8], "SOI");
    assert_eq!(&bytes[bytes.len() - 2..], &[0xff, 0xd9], "EOI");
    let mut i = 2;
    while i + 9 < bytes.len() {
        assert_eq!(bytes[i], 0xff, "segment marker at {i}");
        let marker = bytes[i + 1];
        let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        if marker == 0xc0 {
            let height = u16::from_be_bytes([bytes[i + 5], bytes[i + 6]]);
            let width = u16::from_be_bytes([bytes[i + 7], bytes[i + 8]]);
            return (width, height);
        }
        i += 2 + len;
    }
    panic!("no SOF0 segment");
}

fn png_info(bytes: &[u8]) -> (u32, u32, png::ColorType) {
    let mut reader = png::Decoder::new(bytes).read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).unwrap();
    (info.width, info.height, info.color_type)
}

#[tokio::test]
async fn images_have_exactly_the_requested_size() {
    let (_emulator, client) = start(EmulatorConfig::default()).await;
    for (w, h) in [(320, 200), (1, 1), (17, 923), (1024, 1024)] {
        let r = client
            .get(
                &format!("/image/a%20red%20apple?width={w}&height={h}"),
                &auth(),
            )
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("image/jpeg"));
        assert_eq!(jpeg_size(&r.body), (w, h));
    }
    let r = client.get("/image/A%20red%20apple!", &auth()).await;
    assert_eq!(jpeg_size(&r.body), (1024, 1024), "default size");
    assert_eq!(
        r.header("content-disposition"),
        Some("inline; filename=\"a-red-apple.jpg\"")
    );
    assert_eq!(r.header("x-model-used"), Some("zimage"));

    let r = client
        .get(
            "/image/glass?width=64&height=40&transparent=true&model=gptimage",
            &auth(),
        )
        .await;
    assert_eq!(r.header("content-type"), Some("image/png"));
    assert_eq!(png_info(&r.body), (64, 40, png::ColorType::Rgba));
    assert_eq!(
        r.header("content-disposition"),
        Some("inline; filename=\"glass.png\"")
    );

    // The legacy path answers the same image.
    let a = client
        .get("/image/cat?width=32&height=32&model=flux", &auth())
        .await;
    let b = client
        .get("/prompt/cat?width=32&height=32&model=flux", &auth())
        .await;
    assert_eq!(a.body, b.body);
    // Seeds and models change the picture.
    let c = client
        .get("/image/cat?width=32&height=32&model=flux&seed=1", &auth())
        .await;
    let d = client
        .get("/image/cat?width=32&height=32&model=turbo", &auth())
        .await;
    assert_ne!(a.body, c.body);
    assert_ne!(a.body, d.body);
}

#[tokio::test]
async fn image_parameters_are_validated() {
    let (_emulator, client) = start(EmulatorConfig::default()).await;
    let fields = |r: crate::Response| r.json()["error"]["details"]["fieldErrors"].clone();
    let r = client
        .get(
            "/image/x?width=0&height=4097&seed=-2&quality=ultra&enhance=yes",
            &auth(),
        )
        .await;
    assert_eq!(r.status, 400);
    let f = fields(r);
    for field in ["width", "height", "seed", "quality", "enhance"] {
        assert!(f[field][0].is_string(), "{field}: {f}");
    }
    let r = client.get("/image/x?width=12.5", &auth()).await;
    assert!(fields(r)["width"].is_array());
    let r = client
        .get("/image/x?image=ftp%3A%2F%2Fhost%2Fa.png", &auth())
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["code"], "invalid_image_url");
    let r = client.get("/image/x?width=8&height=8&image=https%3A%2F%2Fa.example%2F1.png%7Chttp%3A%2F%2Fb.example%2F2.jpg", &auth()).await;
    assert_eq!(r.status, 200);
    let r = client.get("/image/x?model=midjourney", &auth()).await;
    assert_eq!(
        r.json()["error"]["message"],
        "Invalid model or alias: \"midjourney\""
    );
    assert_eq!(client.get("/image/x?safe=maybe", &auth()).await.status, 400);
    for ok in [
        "safe=false",
        "safe=true",
        "safe=privacy,secrets",
        "quality=hd",
        "seed=-1",
        "guidance_scale=7.5&nologo=true&private=true&nofeed=true&enhance=true",
    ] {
        let r = client
            .get(&format!("/image/x?width=8&height=8&{ok}"), &auth())
            .await;
        assert_eq!(r.status, 200, "{ok}: {}", String::from_utf8_lossy(&r.body));
    }
}

#[tokio::test]
async fn python_sdk_image_url_is_answered() {
    let (_emulator, client) = start(EmulatorConfig::default()).await;
    let path = "/image/a%20cozy%20cabin?model=flux&width=512&height=384&seed=42&enhance=false\
                &negative_prompt=worst+quality%2C+blurry&nologo=false&safe=false&quality=medium&transparent=false";
    let headers = [
        ("Accept", "application/json"),
        ("Content-Type", "application/json"),
        ("User-Agent", "blossom-ai/0.8.0"),
        ("Authorization", crate::BEARER),
    ];
    let r = client.get(path, &headers).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(jpeg_size(&r.body), (512, 384));
    assert_eq!(r.header("x-model-used"), Some("flux"));
}

fn check_wav(bytes: &[u8]) -> usize {
    assert_eq!(&bytes[0..4], b"RIFF");
    assert_eq!(
        u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize,
        bytes.len() - 8
    );
    assert_eq!(&bytes[8..16], b"WAVEfmt ");
    assert_eq!(u16::from_le_bytes([bytes[20], bytes[21]]), 1, "PCM");
    assert_eq!(u16::from_le_bytes([bytes[22], bytes[23]]), 1, "mono");
    assert_eq!(
        u32::from_le_bytes(bytes[24..28].try_into().unwrap()),
        24_000
    );
    assert_eq!(u16::from_le_bytes([bytes[34], bytes[35]]), 16, "bits");
    assert_eq!(&bytes[36..40], b"data");
    let data = u32::from_le_bytes(bytes[40..44].try_into().unwrap()) as usize;
    assert_eq!(data, bytes.len() - 44);
    data
}

/// Number of MP3 frames, checking every header.
fn check_mp3(bytes: &[u8]) -> usize {
    assert_eq!(
        &bytes[..2],
        &[0xff, 0xfb],
        "MPEG-1 Layer III sync, no ID3 tag"
    );
    let mut frames = 0;
    let mut i = 0;
    while i < bytes.len() {
        let h = &bytes[i..i + 4];
        assert_eq!(h[0], 0xff);
        assert_eq!(h[1] & 0xfe, 0xfa, "sync, MPEG-1, Layer III");
        let bitrate = [
            0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
        ][usize::from(h[2] >> 4)];
        let rate = [44_100, 48_000, 32_000][usize::from((h[2] >> 2) & 3)];
        let length = 144 * bitrate * 1000 / rate + usize::from((h[2] >> 1) & 1);
        i += length;
        frames += 1;
    }
    assert_eq!(i, bytes.len(), "frames tile the body exactly");
    frames
}

#[tokio::test]
async fn speech_formats_are_real_audio() {
    let (_emulator, client) = start(EmulatorConfig::default()).await;
    let r = client.get("/audio/Hello%20world", &auth()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("audio/mpeg"));
    let short = check_mp3(&r.body);
    let long = check_mp3(
        &client
            .get(
                "/audio/Hello%20world%2C%20this%20is%20a%20much%20longer%20sentence",
                &auth(),
            )
            .await
            .body,
    );
    assert!(long > short, "duration grows with the text");

    let r = client
        .get("/audio/Hello%20world?format=wav&voice=nova", &auth())
        .await;
    assert_eq!(r.header("content-type"), Some("audio/wav"));
    let wav_data = check_wav(&r.body);

    let speech = |format: &str| json!({"model": "tts-1", "input": "Hello world", "voice": "nova", "response_format": format});
    let r = client
        .post_json("/v1/audio/speech", &auth(), &speech("wav"))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(check_wav(&r.body), wav_data, "GET and POST agree on length");
    let r = client
        .post_json("/v1/audio/speech", &auth(), &speech("pcm"))
        .await;
    assert_eq!(r.header("content-type"), Some("audio/pcm"));
    assert_eq!(r.body.len(), wav_data);
    let r = client
        .post_json("/v1/audio/speech", &auth(), &speech("flac"))
        .await;
    assert_eq!(r.header("content-type"), Some("audio/flac"));
    assert_eq!(&r.body[..4], b"fLaC");
    let r = client
        .post_json("/v1/audio/speech", &auth(), &json!({"input": "Hi"}))
        .await;
    assert_eq!(r.header("content-type"), Some("audio/mpeg"));
    check_mp3(&r.body);

    for (body, field) in [
        (json!({"input": "Hi", "voice": "robot"}), "voice"),
        (
            json!({"input": "Hi", "response_format": "opus"}),
            "response_format",
        ),
        (json!({"input": ""}), "input"),
        (json!({"voice": "nova"}), "input"),
        (json!({"input": "Hi", "speed": 9}), "speed"),
    ] {
        let r = client.post_json("/v1/audio/speech", &auth(), &body).await;
        assert_eq!(r.status, 400, "{body}");
        assert!(
            r.json()["error"]["details"]["fieldErrors"][field].is_array(),
            "{body}"
        );
    }
    assert_eq!(
        client.get("/audio/Hi?voice=robot", &auth()).await.status,
        400
    );
    let r = client
        .post_json(
            "/v1/audio/speech",
            &auth(),
            &json!({"input": "Hi", "model": "eleven"}),
        )
        .await;
    assert_eq!(
        r.json()["error"]["message"],
        "Invalid model or alias: \"eleven\""
    );

    // A speaking text model answers GET /text with MP3.
    let r = client
        .get("/text/Say%20hi?model=openai-audio&voice=ash", &auth())
        .await;
    assert_eq!(r.header("content-type"), Some("audio/mpeg"));
    check_mp3(&r.body);
}
