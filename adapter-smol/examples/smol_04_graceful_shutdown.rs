//! Graceful shutdown with smol: stop taking new calls, let the ones in flight finish within
//! a grace period, and report what happened.
//!
//! docs/PATTERNS.md row 18. A real program passes a future that resolves on Ctrl-C (for
//! example from the `ctrlc` or `async-signal` crates) as `stop`; this demo stops itself after
//! 150 ms. Run it with `cargo run -p blossom-smol --example smol_04_graceful_shutdown`.

use std::time::Duration;

use blossom_emulator::{DEMO_SECRET_KEY, Emulator, EmulatorConfig};
use blossom_smol::{Client, ErrorKind, StreamExt as _, TextRequest};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Each answer takes 100 ms: the whole batch would take 1 s.
    let config = EmulatorConfig::default().faults("latency=100ms".parse()?);
    let emulator = Emulator::spawn(config)?;
    smol::block_on(async {
        let client = Client::builder()
            .base_url(emulator.base_url())
            .api_key(DEMO_SECRET_KEY)
            .build()?;
        let work = {
            let client = client.clone();
            async move {
                let requests = (0..40).map(|i| TextRequest::new(format!("page {i}")));
                let mut results = client.batch(requests).concurrency(4).run();
                let (mut done, mut refused) = (0, 0);
                while let Some((_, result)) = results.next().await {
                    match result {
                        Ok(_) => done += 1,
                        Err(e) if e.kind() == ErrorKind::Shutdown => refused += 1,
                        Err(e) => eprintln!("  failed: {e}"),
                    }
                }
                (done, refused)
            }
        };
        let stop = async_io::Timer::after(Duration::from_millis(150));
        let (finished, report) = client.run_until(work, stop, Duration::from_secs(2)).await;
        println!(
            "shutdown took {:.2} s: {} calls finished in the grace period, {} cancelled",
            report.took.as_secs_f64(),
            report.completed,
            report.cancelled
        );
        let Some((done, refused)) = finished else {
            return Err("the work did not finish within the grace period".into());
        };
        println!("{done} pages done, {refused} refused by the shutdown");
        if report.completed == 0 || report.cancelled != 0 || refused == 0 || done + refused != 40 {
            return Err("the shutdown was not graceful".into());
        }
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    emulator.stop();
    Ok(())
}
