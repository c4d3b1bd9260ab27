//! Learning-rate schedules for Adam.
//!
//! The paper trained LIDC with Adam at 1e-4 stepped down over time; short CPU runs do better
//! with a larger rate annealed to a small one, so cosine is offered too. An optional linear
//! warm-up protects the first steps, when Adam's second-moment estimate is still noisy.

use clap::ValueEnum;

/// Shape of the learning-rate curve over the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleKind {
    /// The same rate throughout.
    Constant,
    /// Multiply by `--lr-decay` every `--lr-decay-every` steps.
    Step,
    /// Half a cosine from `--lr` down to `--lr-min` over the run.
    Cosine,
}

/// A learning-rate schedule: a pure function of the step, so a resumed run continues exactly.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Schedule {
    pub kind: ScheduleKind,
    pub base: f64,
    pub min: f64,
    pub decay: f64,
    pub decay_every: usize,
    pub warmup: usize,
    pub total: usize,
}

impl Schedule {
    /// The learning rate of step `step` (counted from 0).
    pub fn at(&self, step: usize) -> f64 {
        let lr = match self.kind {
            ScheduleKind::Constant => self.base,
            ScheduleKind::Step => {
                let k = step / self.decay_every.max(1);
                self.base * self.decay.powi(k.min(i32::MAX as usize) as i32)
            }
            ScheduleKind::Cosine => {
                let t = (step as f64 / self.total.max(1) as f64).min(1.0);
                self.min + (self.base - self.min) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
            }
        };
        if step < self.warmup {
            lr * (step + 1) as f64 / self.warmup as f64
        } else {
            lr
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(kind: ScheduleKind) -> Schedule {
        Schedule {
            kind,
            base: 1e-3,
            min: 1e-5,
            decay: 0.5,
            decay_every: 10,
            warmup: 0,
            total: 100,
        }
    }

    #[test]
    fn shapes() {
        assert_eq!(schedule(ScheduleKind::Constant).at(99), 1e-3);
        let s = schedule(ScheduleKind::Step);
        assert_eq!((s.at(9), s.at(10), s.at(25)), (1e-3, 5e-4, 2.5e-4));
        let c = schedule(ScheduleKind::Cosine);
        assert!((c.at(0) - 1e-3).abs() < 1e-12);
        assert!((c.at(50) - (1e-3 + 1e-5) / 2.0).abs() < 1e-12);
        assert!((c.at(100) - 1e-5).abs() < 1e-12);
        let w = Schedule {
            warmup: 4,
            ..schedule(ScheduleKind::Constant)
        };
        assert_eq!((w.at(0), w.at(3), w.at(4)), (2.5e-4, 1e-3, 1e-3));
    }
}
