//! Counters for `/metrics`, in the Prometheus text format.

use crate::channels::Outcome;
use crate::engine::send::Verdict;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::Duration;

#[derive(Default)]
pub struct Metrics {
    events: AtomicU64,
    quarantined: AtomicU64,
    enrolled: AtomicU64,
    ignored: AtomicU64,
    decisions: Mutex<BTreeMap<&'static str, u64>>,
    deliveries: Mutex<BTreeMap<(String, &'static str), u64>>,
    dead_letters: AtomicU64,
    receipts: AtomicU64,
    ticks: AtomicU64,
    tick_micros: AtomicU64,
    errors: AtomicU64,
}

impl Metrics {
    pub fn tick(&self, took: Duration) {
        self.ticks.fetch_add(1, Relaxed);
        self.tick_micros
            .fetch_add(took.as_micros().min(u128::from(u64::MAX)) as u64, Relaxed);
    }

    pub fn error(&self) {
        self.errors.fetch_add(1, Relaxed);
    }

    pub fn events(&self, taken: u64, quarantined: u64, enrolled: u64) {
        self.events.fetch_add(taken, Relaxed);
        self.quarantined.fetch_add(quarantined, Relaxed);
        self.enrolled.fetch_add(enrolled, Relaxed);
    }

    pub fn enrolled(&self, n: u64) {
        self.enrolled.fetch_add(n, Relaxed);
    }

    /// Triggers a re-entry rule kept out.
    pub fn ignored(&self, n: u64) {
        self.ignored.fetch_add(n, Relaxed);
    }

    pub fn decided(&self, verdicts: &[Verdict]) {
        let Ok(mut d) = self.decisions.lock() else { return };
        for v in verdicts {
            let name = match v {
                Verdict::Exit => "exited",
                Verdict::Defer(_) => "deferred",
                Verdict::Suppress(_) => "suppressed",
                Verdict::Hold => "held",
                Verdict::Send(_) => "recorded",
            };
            *d.entry(name).or_default() += 1;
        }
    }

    pub fn delivery(&self, channel: &str, outcome: &Outcome) {
        let result = match outcome {
            Outcome::Sent => "sent",
            Outcome::Delivered => "delivered",
            Outcome::Retry(_) => "retry",
            Outcome::Refused(_) => "refused",
        };
        if let Ok(mut d) = self.deliveries.lock() {
            *d.entry((channel.to_string(), result)).or_default() += 1;
        }
    }

    pub fn dead_letter(&self) {
        self.dead_letters.fetch_add(1, Relaxed);
    }

    pub fn receipt(&self) {
        self.receipts.fetch_add(1, Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, value: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}");
        };
        counter(
            "camp_events_total",
            "Events taken from the events tables.",
            self.events.load(Relaxed),
        );
        counter(
            "camp_events_quarantined_total",
            "Events quarantined with a reason.",
            self.quarantined.load(Relaxed),
        );
        counter("camp_enrollments_total", "Enrollments created.", self.enrolled.load(Relaxed));
        counter(
            "camp_triggers_ignored_total",
            "Triggers that started no journey because of the campaign's re-entry rule.",
            self.ignored.load(Relaxed),
        );
        counter(
            "camp_dead_letters_total",
            "Deliveries given up on.",
            self.dead_letters.load(Relaxed),
        );
        counter(
            "camp_receipts_total",
            "Provider receipts applied to a send.",
            self.receipts.load(Relaxed),
        );
        counter("camp_ticks_total", "Engine ticks run.", self.ticks.load(Relaxed));
        counter(
            "camp_tick_errors_total",
            "Ticks that failed and were retried.",
            self.errors.load(Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP camp_tick_seconds_total Time spent in ticks.\n# TYPE camp_tick_seconds_total counter\ncamp_tick_seconds_total {:.6}",
            self.tick_micros.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(
            out,
            "# HELP camp_sends_total Send decisions, by verdict.\n# TYPE camp_sends_total counter"
        );
        if let Ok(d) = self.decisions.lock() {
            for (verdict, n) in d.iter() {
                let _ = writeln!(out, "camp_sends_total{{verdict=\"{verdict}\"}} {n}");
            }
        }
        let _ = writeln!(
            out,
            "# HELP camp_deliveries_total Delivery attempts, by channel and result.\n# TYPE camp_deliveries_total counter"
        );
        if let Ok(d) = self.deliveries.lock() {
            for ((channel, result), n) in d.iter() {
                let channel = channel.replace(['"', '\\', '\n'], "_");
                let _ = writeln!(out, "camp_deliveries_total{{channel=\"{channel}\",result=\"{result}\"}} {n}");
            }
        }
        out
    }
}
