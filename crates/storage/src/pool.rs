//! A small blocking connection pool: idle connections in a `Mutex<Vec<_>>`, at most `max` open,
//! callers wait on a condition variable when all are busy. Connections are opened lazily.

use crate::{Result, StorageError};
use std::ops::{Deref, DerefMut};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

type Connect<C> = Box<dyn Fn() -> Result<C> + Send + Sync>;

pub(crate) struct Pool<C> {
    connect: Connect<C>,
    state: Mutex<State<C>>,
    freed: Condvar,
    max: usize,
    wait: Duration,
}

struct State<C> {
    idle: Vec<C>,
    open: usize,
}

impl<C> Pool<C> {
    pub(crate) fn new(max: usize, wait: Duration, connect: Connect<C>) -> Pool<C> {
        Pool {
            connect,
            state: Mutex::new(State { idle: Vec::new(), open: 0 }),
            freed: Condvar::new(),
            max: max.max(1),
            wait,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<C>> {
        // A panic elsewhere while holding this lock leaves the Vec intact: keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Puts an already open connection in the pool (the first one, opened to migrate).
    pub(crate) fn seed(&self, conn: C) {
        let mut state = self.lock();
        state.open += 1;
        state.idle.push(conn);
    }

    pub(crate) fn get(&self) -> Result<Pooled<'_, C>> {
        let deadline = Instant::now() + self.wait;
        let mut state = self.lock();
        loop {
            if let Some(conn) = state.idle.pop() {
                return Ok(Pooled { pool: self, conn: Some(conn), broken: false });
            }
            if state.open < self.max {
                state.open += 1;
                drop(state);
                return match (self.connect)() {
                    Ok(conn) => Ok(Pooled { pool: self, conn: Some(conn), broken: false }),
                    Err(e) => {
                        self.lock().open -= 1;
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(StorageError::Other(format!(
                    "all {} database connections stayed busy for {} s",
                    self.max,
                    self.wait.as_secs()
                )));
            }
            state = self.freed.wait_timeout(state, left).unwrap_or_else(|e| e.into_inner()).0;
        }
    }
}

/// A connection on loan; it goes back to the pool when dropped, unless marked broken.
pub(crate) struct Pooled<'a, C> {
    pool: &'a Pool<C>,
    conn: Option<C>,
    broken: bool,
}

impl<C> Pooled<'_, C> {
    /// Closes the connection instead of returning it (it lost its server, or is mid-transaction).
    pub(crate) fn mark_broken(&mut self) {
        self.broken = true;
    }
}

impl<C> Deref for Pooled<'_, C> {
    type Target = C;
    fn deref(&self) -> &C {
        self.conn.as_ref().expect("connection present until drop")
    }
}

impl<C> DerefMut for Pooled<'_, C> {
    fn deref_mut(&mut self) -> &mut C {
        self.conn.as_mut().expect("connection present until drop")
    }
}

impl<C> Drop for Pooled<'_, C> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            let mut state = self.pool.lock();
            if self.broken || std::thread::panicking() {
                state.open -= 1;
                drop(state);
                drop(conn);
            } else {
                state.idle.push(conn);
            }
        }
        self.pool.freed.notify_one();
    }
}
