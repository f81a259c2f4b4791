//! Graceful shutdown without async: worker threads keep calling while the main thread shuts
//! the client down; calls in flight finish within the grace period, later ones are refused.
//!
//! docs/PATTERNS.md row 18. A real program calls `shutdown` from its Ctrl-C handler (for
//! example the `ctrlc` crate's); this demo does it after 150 ms. Run it with
//! `cargo run -p blossom-blocking --example blocking_04_graceful_shutdown`.

use std::time::Duration;

use blossom_blocking::{Client, ErrorKind, TextRequest};
use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Each answer takes 100 ms.
    let config = EmulatorConfig::default().faults("latency=100ms".parse()?);
    let emulator = Emulator::spawn(config)?;
    let client = Client::builder()
        .base_url(emulator.base_url())
        .api_key(DEMO_SECRET_KEY)
        .build()?;
    // Four threads, ten pages each, one call after another.
    let workers: Vec<_> = (0..4)
        .map(|worker| {
            let client = client.clone();
            std::thread::spawn(move || {
                let (mut done, mut refused) = (0, 0);
                for page in 0..10 {
                    match client.text(TextRequest::new(format!("worker {worker} page {page}"))) {
                        Ok(_) => done += 1,
                        Err(e) if e.kind() == ErrorKind::Shutdown => refused += 1,
                        Err(e) => eprintln!("  failed: {e}"),
                    }
                }
                (done, refused)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(150));
    let report = client.shutdown(Duration::from_secs(2));
    println!(
        "shutdown took {:.2} s: {} calls finished in the grace period, {} cancelled",
        report.took.as_secs_f64(),
        report.completed,
        report.cancelled
    );
    let (mut done, mut refused) = (0, 0);
    for worker in workers {
        let (d, r) = worker.join().map_err(|_| "a worker panicked")?;
        done += d;
        refused += r;
    }
    println!("{done} pages done, {refused} refused by the shutdown");
    if report.completed == 0 || report.cancelled != 0 || refused == 0 || done + refused != 40 {
        return Err("the shutdown was not graceful".into());
    }
    emulator.stop();
    Ok(())
}
