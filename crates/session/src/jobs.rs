//! Cooperative cancellation by generation: starting a job cancels every older one.
//!
//! The page runs one analysis at a time, but a person can click a new crop or open another
//! file while one is under way. Model work cannot be interrupted mid-kernel, so each step
//! checks its [`Job`] between pieces of work and stops with [`Cancelled`] once a newer job
//! has started; the newer job then owns whatever the page shows.

use std::cell::Cell;
use std::rc::Rc;

/// Hands out jobs; each new one cancels those before it. Cheap to clone (shared counter).
#[derive(Debug, Clone, Default)]
pub struct Jobs {
    latest: Rc<Cell<u64>>,
}

/// One unit of work, current until a newer job starts.
#[derive(Debug, Clone)]
pub struct Job {
    number: u64,
    latest: Rc<Cell<u64>>,
}

/// A newer job replaced this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled;

impl Jobs {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a job, cancelling every job started before it.
    pub fn start(&self) -> Job {
        let number = self.latest.get() + 1;
        self.latest.set(number);
        Job {
            number,
            latest: self.latest.clone(),
        }
    }
}

impl Job {
    /// Whether no newer job has started.
    pub fn is_current(&self) -> bool {
        self.latest.get() == self.number
    }

    /// `Err(Cancelled)` once a newer job has started: call between pieces of work.
    pub fn check(&self) -> Result<(), Cancelled> {
        if self.is_current() {
            Ok(())
        } else {
            Err(Cancelled)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_job_cancels_the_older_ones_only() {
        let jobs = Jobs::new();
        let first = jobs.start();
        assert_eq!(first.check(), Ok(()));
        let second = jobs.start();
        assert_eq!(first.check(), Err(Cancelled));
        assert_eq!(second.check(), Ok(()));
        let third = jobs.clone().start();
        assert!(!first.is_current() && !second.is_current() && third.is_current());
    }

    #[test]
    fn clones_of_a_job_share_its_fate() {
        let jobs = Jobs::new();
        let job = jobs.start();
        let copy = job.clone();
        jobs.start();
        assert_eq!(copy.check(), Err(Cancelled));
    }
}
