//! The training progress display: an indicatif bar on a terminal, plain log lines otherwise
//! (a background run's log file should still show how it goes).

use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::step::StepLoss;

/// Progress of a run from step `start` to `total`.
pub struct Progress {
    bar: ProgressBar,
    start_step: usize,
    started: Instant,
    log_every: usize,
    /// Exponential moving averages of total, CE and KL (the per-step values are noisy).
    ema: Option<[f32; 3]>,
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

    /// Records step `step` (0-based) with its loss and learning rate.
    pub fn update(&mut self, step: usize, loss: &StepLoss, lr: f64) {
        let now = [loss.total, loss.ce, loss.kl];
        let ema = match self.ema {
            Some(e) => std::array::from_fn(|i| 0.95 * e[i] + 0.05 * now[i]),
            None => now,
        };
        self.ema = Some(ema);
        let rate = self.steps_per_second(step);
        let msg = format!(
            "loss {:.1} CE {:.1} KL {:.2} β {:.2} lr {:.1e} {:.2} steps/s",
            ema[0], ema[1], ema[2], loss.beta, lr, rate
        );
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
