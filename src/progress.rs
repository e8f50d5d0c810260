//! Progress of long commands on standard error: a bar when stderr is a
//! terminal, else a plain line at every tenth of the way (CI logs, pipes).

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

pub struct Progress {
    label: String,
    total: u64,
    bar: Option<ProgressBar>,
    /// Plain mode: the last tenth printed.
    tenth: u64,
}

impl Progress {
    pub fn new(label: &str, total: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total.max(1));
            let style = ProgressStyle::with_template("{prefix} [{bar:30}] {percent:>3}% {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(label.to_string());
            bar
        });
        Progress {
            label: label.to_string(),
            total: total.max(1),
            bar,
            tenth: 0,
        }
    }

    /// Moves to `pos` of `total`, with a short note of what is done.
    pub fn set(&mut self, pos: u64, note: &str) {
        let pos = pos.min(self.total);
        match &self.bar {
            Some(bar) => {
                bar.set_position(pos);
                bar.set_message(note.to_string());
            }
            None => {
                let tenth = pos * 10 / self.total;
                if tenth > self.tenth {
                    self.tenth = tenth;
                    eprintln!("{}: {}% {note}", self.label, tenth * 10);
                }
            }
        }
    }

    /// Runs `f` (which prints) with the bar hidden, so lines never mix with it.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }

    pub fn finish(&mut self, note: &str) {
        match self.bar.take() {
            Some(bar) => bar.finish_and_clear(),
            None if self.tenth < 10 => eprintln!("{}: done {note}", self.label),
            None => {}
        }
    }
}

/// A spinner for work whose size is not known in advance (a terminal), or
/// one plain line saying what is being done (otherwise).
pub fn spinner(what: &str) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        eprintln!("{what}…");
        return None;
    }
    let bar = ProgressBar::new_spinner();
    bar.set_message(what.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    Some(bar)
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
