//! Progress bars on the terminal (hidden when stderr is not one).

use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use zkpor_exchange::pipeline::{Phase, Progress};

/// One bar per phase of a proving run.
pub struct Bars {
    multi: MultiProgress,
    current: Mutex<Option<ProgressBar>>,
}

impl Bars {
    pub fn new() -> Self {
        Bars { multi: MultiProgress::new(), current: Mutex::new(None) }
    }

    /// Leaves the finished bars on screen and moves below them.
    pub fn finish(self) {
        if !self.multi.is_hidden() {
            eprintln!();
        }
    }

    fn with_bar(&self, f: impl FnOnce(&ProgressBar)) {
        if let Some(bar) = self.current.lock().expect("progress lock").as_ref() {
            f(bar);
        }
    }
}

impl Progress for Bars {
    fn begin(&self, phase: Phase, steps: u64) {
        let style = ProgressStyle::with_template("{prefix:>11} [{bar:30}] {pos}/{len} {elapsed:>4} {msg}")
            .expect("progress template")
            .progress_chars("=> ");
        let bar = self.multi.add(ProgressBar::new(steps)).with_style(style).with_prefix(phase.to_string());
        bar.enable_steady_tick(Duration::from_millis(250));
        *self.current.lock().expect("progress lock") = Some(bar);
    }

    fn start_step(&self, message: &str) {
        let message = message.to_string();
        self.with_bar(|bar| bar.set_message(message));
    }

    fn finish_step(&self) {
        self.with_bar(|bar| bar.inc(1));
    }

    fn end(&self) {
        if let Some(bar) = self.current.lock().expect("progress lock").take() {
            bar.finish_with_message("done");
        }
    }
}

/// A spinner for work of unknown length.
pub fn spinner(message: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner().with_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}
