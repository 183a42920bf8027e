//! Waking this process's readers of the change feed (the search follower) when a write that
//! added to the feed commits, so a change is picked up at once rather than at the next poll.
//! Writes by other processes (a `shelfmark import` beside a server) are not signalled: a
//! reader still polls, and the signal only shortens the wait.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// A count of commits that wrote to the change feed, and a condition to wait on it.
#[derive(Debug, Default)]
pub struct ChangeSignal {
    commits: Mutex<u64>,
    grew: Condvar,
}

impl ChangeSignal {
    /// Counts a commit and wakes every waiter.
    pub fn notify(&self) {
        *self.count() += 1;
        self.grew.notify_all();
    }

    /// How many commits have been signalled: read it before reading the feed, and wait with it
    /// afterwards, so a commit in between is never slept through.
    pub fn commits(&self) -> u64 {
        *self.count()
    }

    /// Sleeps until a commit after `seen` is signalled or `timeout` passes. Returns whether one
    /// was.
    pub fn wait(&self, seen: u64, timeout: Duration) -> bool {
        let guard = self.count();
        let (guard, _) =
            self.grew.wait_timeout_while(guard, timeout, |n| *n == seen).unwrap_or_else(|e| e.into_inner());
        *guard != seen
    }

    fn count(&self) -> MutexGuard<'_, u64> {
        // The count stays meaningful even if a holder panicked.
        self.commits.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Instant;

    #[test]
    fn a_commit_after_the_count_was_read_ends_the_wait() {
        let signal = Arc::new(ChangeSignal::default());
        let seen = signal.commits();
        let writer = {
            let signal = signal.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                signal.notify();
            })
        };
        let started = Instant::now();
        assert!(signal.wait(seen, Duration::from_secs(30)));
        assert!(started.elapsed() < Duration::from_secs(30));
        assert_eq!(signal.commits(), seen + 1);
        writer.join().expect("writer thread");
    }

    #[test]
    fn a_commit_before_the_wait_is_not_slept_through() {
        let signal = ChangeSignal::default();
        let seen = signal.commits();
        signal.notify();
        // Returns at once: the count moved past `seen` before the wait began.
        assert!(signal.wait(seen, Duration::from_secs(30)));
    }

    #[test]
    fn without_a_commit_the_wait_times_out() {
        let signal = ChangeSignal::default();
        assert!(!signal.wait(signal.commits(), Duration::from_millis(10)));
    }
}
