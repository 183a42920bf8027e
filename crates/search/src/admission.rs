//! How many searches run at once: as many as there are cores, the rest wait their turn.
//!
//! A broad search at a million records spends most of its time reading its matches' facet
//! values and counts, megabytes a search, out of the processor caches. Eight searches sharing
//! two cores evict each other's data at every switch and each ran ten times slower than alone;
//! two running while six wait in line each run at their own speed, so the line moves faster
//! than the crowd did. Searches are admitted in the order they arrived, so none waits behind
//! ones that came after it.

use std::sync::{Condvar, Mutex};

pub(crate) struct Admission {
    /// `(tickets handed out, searches finished)`: ticket `t` may run once `t < finished + limit`.
    line: Mutex<(u64, u64)>,
    turn: Condvar,
    limit: u64,
}

/// A search's place among those running; leaving makes room for the next in line.
pub(crate) struct Admitted<'a> {
    admission: &'a Admission,
}

impl Admission {
    pub(crate) fn new(limit: usize) -> Admission {
        Admission { line: Mutex::new((0, 0)), turn: Condvar::new(), limit: limit.max(1) as u64 }
    }

    /// One running search per core this process may use.
    pub(crate) fn per_core() -> Admission {
        Admission::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// Waits until fewer than `limit` of the searches that arrived before this one still run.
    pub(crate) fn enter(&self) -> Admitted<'_> {
        let mut line = self.line.lock().unwrap_or_else(|e| e.into_inner());
        let ticket = line.0;
        line.0 += 1;
        while ticket >= line.1 + self.limit {
            line = self.turn.wait(line).unwrap_or_else(|e| e.into_inner());
        }
        Admitted { admission: self }
    }
}

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        let mut line = self.admission.line.lock().unwrap_or_else(|e| e.into_inner());
        line.1 += 1;
        drop(line);
        self.admission.turn.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// Never more than `limit` inside at once, everyone gets in, and with room for one the
    /// searches run in the order they arrived.
    #[test]
    fn admits_at_most_the_limit_in_arrival_order() {
        for limit in [1usize, 2, 3] {
            let admission = Arc::new(Admission::new(limit));
            let inside = Arc::new(AtomicUsize::new(0));
            let most = Arc::new(AtomicUsize::new(0));
            let order = Arc::new(Mutex::new(Vec::new()));
            // The first holds its place while the others line up behind it, one by one.
            let first = admission.enter();
            let mut threads = Vec::new();
            for i in 0..12 {
                let (queued, inside, most, order) = (admission.clone(), inside.clone(), most.clone(), order.clone());
                threads.push(std::thread::spawn(move || {
                    let _admitted = queued.enter();
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    order.lock().unwrap().push(i);
                    std::thread::sleep(std::time::Duration::from_millis(2));
                    inside.fetch_sub(1, Ordering::SeqCst);
                }));
                // Each takes its ticket before the next thread starts.
                while admission.line.lock().unwrap().0 < i as u64 + 2 {
                    std::thread::yield_now();
                }
            }
            drop(first);
            for t in threads {
                t.join().unwrap();
            }
            assert!(most.load(Ordering::SeqCst) <= limit, "limit {limit}");
            assert_eq!(order.lock().unwrap().len(), 12);
            if limit == 1 {
                assert_eq!(*order.lock().unwrap(), (0..12).collect::<Vec<_>>());
            }
        }
    }
}
