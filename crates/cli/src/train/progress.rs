//! The training progress display: an indicatif bar on a terminal, plain log lines otherwise
//! (a background run's log file should still show how it goes).

use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Progress of a run from step `start` to `total`.
pub struct Progress {
    bar: ProgressBar,
    start_step: usize,
    started: Instant,
    log_every: usize,
    /// Exponential moving averages of the shown values (the per-step values are noisy).
    ema: Option<Vec<f32>>,
}

impl Progress {
    pub fn new(start: usize, total: usize, log_every: usize) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{elapsed_precise} [{wide_bar}] {pos}/{len} ETA {eta_precise} {msg}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        bar.set_position(start as u64);
        bar.reset_eta();
        Self {
            bar,
            start_step: start,
            started: Instant::now(),
            log_every: log_every.max(1),
            ema: None,
        }
    }

    /// Steps per second since this process started training.
    pub fn steps_per_second(&self, step: usize) -> f64 {
        (step + 1 - self.start_step) as f64 / self.started.elapsed().as_secs_f64().max(1e-9)
    }

    /// Records step `step` (0-based): `averaged` are (name, value, decimals) shown as moving
    /// averages, `exact` is shown as it is, then the learning rate and speed.
    pub fn update(&mut self, step: usize, averaged: &[(&str, f32, usize)], exact: &str, lr: f64) {
        let ema: Vec<f32> = match &self.ema {
            Some(e) => e
                .iter()
                .zip(averaged)
                .map(|(e, v)| 0.95 * e + 0.05 * v.1)
                .collect(),
            None => averaged.iter().map(|v| v.1).collect(),
        };
        let rate = self.steps_per_second(step);
        let mut msg = String::new();
        for ((name, _, decimals), value) in averaged.iter().zip(&ema) {
            msg += &format!("{name} {value:.decimals$} ");
        }
        if !exact.is_empty() {
            msg += exact;
            msg += " ";
        }
        msg += &format!("lr {lr:.1e} {rate:.2} steps/s");
        self.ema = Some(ema);
        self.bar.set_position(step as u64 + 1);
        if self.bar.is_hidden() {
            if (step + 1).is_multiple_of(self.log_every) {
                let left = self
                    .bar
                    .length()
                    .unwrap_or(0)
                    .saturating_sub(step as u64 + 1);
                eprintln!(
                    "step {}/{} {msg} ETA {:.0} s",
                    step + 1,
                    self.bar.length().unwrap_or(0),
                    left as f64 / rate
                );
            }
        } else {
            self.bar.set_message(msg);
        }
    }

    pub fn finish(&self) {
        self.bar.finish();
    }
}
