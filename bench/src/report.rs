//! Medians over repetitions, the table per scenario, and the JSON file of a whole run.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::measure::Sample;
use crate::paths::PathName;
use crate::scenarios::{Kind, Scenario};

/// The samples of one scenario, by path, in the order paths were first run.
#[derive(Debug, Default)]
pub(crate) struct ScenarioResults {
    pub(crate) by_path: Vec<(PathName, Vec<Sample>)>,
}

impl ScenarioResults {
    /// Adds one sample.
    pub(crate) fn push(&mut self, path: PathName, sample: Sample) {
        match self.by_path.iter_mut().find(|(p, _)| *p == path) {
            Some((_, samples)) => samples.push(sample),
            None => self.by_path.push((path, vec![sample])),
        }
    }

    /// The median figures of `path`.
    fn median(&self, path: PathName) -> Option<Medians> {
        let (_, samples) = self.by_path.iter().find(|(p, _)| *p == path)?;
        Medians::of(samples)
    }
}

/// The median of each figure over the repetitions of one path.
#[derive(Debug, Clone, Copy)]
struct Medians {
    reps: usize,
    calls: usize,
    ok: usize,
    concurrency: usize,
    wall_s: f64,
    rps: f64,
    p50_us: f64,
    p99_us: f64,
    cpu_per_call_us: f64,
    cpu_per_chunk_us: Option<f64>,
    max_rss_kib: f64,
    rss_per_call_kib: f64,
}

impl Medians {
    fn of(samples: &[Sample]) -> Option<Self> {
        let first = samples.first()?;
        let per_chunk: Vec<f64> = samples.iter().filter_map(|s| s.cpu_per_chunk_us).collect();
        Some(Self {
            reps: samples.len(),
            calls: first.calls,
            ok: samples.iter().map(|s| s.ok).min().unwrap_or(0),
            concurrency: first.concurrency,
            wall_s: median(samples.iter().map(|s| s.wall_s)),
            rps: median(samples.iter().map(|s| s.rps)),
            p50_us: median(samples.iter().map(|s| s.p50_us)),
            p99_us: median(samples.iter().map(|s| s.p99_us)),
            cpu_per_call_us: median(samples.iter().map(|s| s.cpu_per_call_us)),
            cpu_per_chunk_us: (!per_chunk.is_empty()).then(|| median(per_chunk.into_iter())),
            max_rss_kib: median(samples.iter().map(|s| s.max_rss_kib as f64)),
            rss_per_call_kib: median(samples.iter().map(|s| {
                s.max_rss_kib.saturating_sub(s.baseline_rss_kib) as f64
                    / s.concurrency.max(1) as f64
            })),
        })
    }

    fn to_json(self) -> Value {
        json!({
            "reps": self.reps,
            "calls": self.calls,
            "ok_min": self.ok,
            "concurrency": self.concurrency,
            "wall_s": self.wall_s,
            "rps": self.rps,
            "p50_us": self.p50_us,
            "p99_us": self.p99_us,
            "cpu_per_call_us": self.cpu_per_call_us,
            "cpu_per_chunk_us": self.cpu_per_chunk_us,
            "max_rss_kib": self.max_rss_kib,
            "rss_per_call_in_flight_kib": self.rss_per_call_kib,
        })
    }
}

/// The median of `values` (the mean of the middle two for an even count; 0 for none).
fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]) / 2.0
    }
}

/// `value / base`, formatted as a ratio, or a dash.
fn ratio(value: f64, base: Option<Medians>) -> String {
    match base {
        Some(base) if base.cpu_per_call_us > 0.0 => {
            format!("{:.2}x", value / base.cpu_per_call_us)
        }
        _ => "-".to_owned(),
    }
}

/// The table of one scenario, as Markdown (readable in a terminal, pasteable into
/// BENCHMARKS.md).
pub(crate) fn table(scenario: &Scenario, results: &ScenarioResults) -> String {
    let stream = scenario.kind == Kind::Stream;
    let mut out = String::new();
    let first = results.by_path.iter().find_map(|(p, _)| results.median(*p));
    let (calls, reps) = first.map_or((0, 0), |m| (m.calls, m.reps));
    let _ = writeln!(
        out,
        "\n### {}: {} calls at concurrency {}{}, median of {} runs\n",
        scenario.name,
        calls,
        scenario.concurrency,
        if scenario.delay_ms > 0 {
            format!(", {} ms each", scenario.delay_ms)
        } else {
            String::new()
        },
        reps,
    );
    let mut header = vec![
        "path",
        "ok",
        "wall s",
        "calls/s",
        "p50 µs",
        "p99 µs",
        "CPU/call µs",
    ];
    if stream {
        header.push("CPU/chunk µs");
    }
    header.push("peak RSS MiB");
    if scenario.slow {
        header.push("RSS/call in flight KiB");
    }
    header.extend(["CPU vs own transport", "CPU vs raw-hyper-util"]);
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(
        out,
        "|{}",
        header
            .iter()
            .enumerate()
            .map(|(i, _)| if i == 0 { "---|" } else { "---:|" })
            .collect::<String>()
    );
    let hyper = results.median(PathName::RawHyperUtil);
    for (path, _) in &results.by_path {
        let Some(m) = results.median(*path) else {
            continue;
        };
        let own = path.raw_transport().and_then(|raw| results.median(raw));
        let mut row = vec![
            path.name().to_owned(),
            format!("{}/{}", m.ok, m.calls),
            format!("{:.3}", m.wall_s),
            format!("{:.0}", m.rps),
            format!("{:.0}", m.p50_us),
            format!("{:.0}", m.p99_us),
            format!("{:.1}", m.cpu_per_call_us),
        ];
        if stream {
            row.push(
                m.cpu_per_chunk_us
                    .map_or("-".to_owned(), |c| format!("{c:.2}")),
            );
        }
        row.push(format!("{:.1}", m.max_rss_kib / 1024.0));
        if scenario.slow {
            row.push(format!("{:.1}", m.rss_per_call_kib));
        }
        row.push(ratio(m.cpu_per_call_us, own));
        row.push(if *path == PathName::RawHyperUtil {
            "-".to_owned()
        } else {
            ratio(m.cpu_per_call_us, hyper)
        });
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    if scenario.kind == Kind::CacheHit {
        let _ = writeln!(
            out,
            "\nRaw paths skipped: they have no cache (the SDK answers from memory)."
        );
    }
    out
}

/// The JSON of a whole run: medians and raw samples per scenario and path, beside `header`
/// (machine, options, settings).
pub(crate) fn to_json(header: Value, all: &[(Scenario, ScenarioResults)]) -> Value {
    let mut scenarios = BTreeMap::new();
    for (scenario, results) in all {
        let mut paths = serde_json::Map::new();
        for (path, samples) in &results.by_path {
            paths.insert(
                path.name().to_owned(),
                json!({
                    "median": results.median(*path).map(Medians::to_json),
                    "samples": samples,
                }),
            );
        }
        scenarios.insert(
            scenario.name,
            json!({
                "concurrency": scenario.concurrency,
                "delay_ms": scenario.delay_ms,
                "paths": paths,
            }),
        );
    }
    json!({"run": header, "scenarios": scenarios})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median([3.0, 1.0, 2.0].into_iter()), 2.0);
        assert_eq!(median([4.0, 1.0, 2.0, 3.0].into_iter()), 2.5);
        assert_eq!(median(std::iter::empty()), 0.0);
    }
}
