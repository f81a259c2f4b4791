//! The fault-free answers: every distinct request of the workload, asked once of an
//! emulator without faults (same seed and settings otherwise) through a plain blocking
//! client. The emulator's answers are pure functions of the request, so these are what
//! every successful call of the soak must have received, byte for byte.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, OnceLock};

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};

use crate::plan::{self, Answer, Kind, Planned};

pub(crate) type References = HashMap<(Kind, u32), Answer>;

/// The fault-free answers of the workload, fetched once per process: every adapter's run
/// asks the same questions (see `plan::plan`).
pub(crate) fn shared(config: EmulatorConfig, calls: &[Planned]) -> &'static References {
    static ANSWERS: OnceLock<References> = OnceLock::new();
    let answers = ANSWERS.get_or_init(|| fetch(config, calls));
    assert!(
        calls
            .iter()
            .all(|c| answers.contains_key(&(c.kind, c.variant))),
        "the workload changed between runs"
    );
    answers
}

/// Fetches the fault-free answer of each distinct (kind, variant) in `calls`.
fn fetch(config: EmulatorConfig, calls: &[Planned]) -> References {
    let wanted: Vec<(Kind, u32)> = calls
        .iter()
        .map(|c| (c.kind, c.variant))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let emulator = Emulator::spawn(config).unwrap();
    let client = blossom_blocking::Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .build()
        .unwrap();
    let found = Mutex::new(HashMap::with_capacity(wanted.len()));
    let workers = 8;
    std::thread::scope(|scope| {
        for part in wanted.chunks(wanted.len().div_ceil(workers).max(1)) {
            let (client, found) = (&client, &found);
            scope.spawn(move || {
                for &(kind, variant) in part {
                    let answer = answer(client, kind, variant)
                        .unwrap_or_else(|e| panic!("fault-free {kind:?} {variant}: {e}"));
                    found.lock().unwrap().insert((kind, variant), answer);
                }
            });
        }
    });
    let stats = emulator.stats();
    assert_eq!(
        stats.faults.values().sum::<u64>(),
        0,
        "the reference emulator injected no fault"
    );
    emulator.stop();
    found.into_inner().unwrap()
}

fn answer(
    client: &blossom_blocking::Client,
    kind: Kind,
    variant: u32,
) -> Result<Answer, blossom_core::Error> {
    Ok(match kind {
        Kind::Text => Answer::Text(client.text(plan::text(variant))?.text),
        Kind::Chat => Answer::Text(client.chat(plan::chat(variant))?.text().to_owned()),
        Kind::Stream => {
            let mut text = String::new();
            for chunk in client.chat_stream(plan::stream(variant))? {
                text.push_str(chunk?.text());
            }
            Answer::Text(text)
        }
        Kind::Image => Answer::Bytes(client.image(plan::image(variant))?.bytes),
        Kind::Speech => Answer::Bytes(client.speech(plan::speech(variant))?.bytes),
    })
}
