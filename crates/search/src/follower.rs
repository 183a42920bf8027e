//! Keeping the index in step with the database, and rebuilding it.
//!
//! The database writes a row to its change feed in the same transaction as every record and
//! item write ([`storage::Database::changes`]). The [`Follower`] reads the feed after the
//! index's checkpoint in chunks, re-indexes each record that changed or whose items changed
//! (from the database's current state, read for a whole chunk at once, so applying a change
//! twice is harmless), deletes records that are gone, and commits the documents together with
//! the new checkpoint every few thousand changes or quarter second. Nothing is "written and
//! hoped for": a crash between the database commit and the index commit only means the
//! follower reads those changes again.
//!
//! An import writes faster than the index takes records in, so while one runs the feed holds a
//! backlog of its (bulk) changes. Before each chunk of the feed the follower first applies the
//! changes that are not bulk and that it has not applied yet ([`storage::Database::prompt_changes`]),
//! and behind a backlog commits them alone: a staff edit or a check-in waits for the batch being
//! committed (while a backlog lasts, as many changes as commit in about 0.3 s at the last batch's
//! pace, a thousand at most) and no more, however long the backlog. Taking a change out of order
//! is safe because a record is re-indexed from its current state; the backlog passes the changes
//! already taken when it reaches them.
//!
//! A running follower sleeps until a write through the same database handle signals a change
//! ([`storage::ChangeSignal`]), or its polling interval ends.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use storage::{Change, ChangeEntity, Database, RecordFilter};
use tantivy::{IndexWriter, Term};

use crate::document::catalog_document;
use crate::index::{lock, Generation, SearchIndex};
use crate::SearchError;

/// How far the index is behind the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Lag {
    /// The last change id in the database's change feed.
    pub database: i64,
    /// The last change id the index holds.
    pub applied: i64,
    /// Changes written but not yet searchable.
    pub pending: u64,
    /// Of those, the changes not written by an import: what a staff edit waits behind (an
    /// import's own changes may wait behind each other).
    pub pending_outside_imports: u64,
}

/// Changes read from the feed and applied at a time: one bulk read of their records and one of
/// their items.
const CHUNK: u32 = 500;

/// Changes committed together at most: large enough that an import's burst is indexed in few
/// commits, small enough that one commit stays well under a second.
const BATCH: usize = 2000;

/// Changes committed together at most while an import's backlog is being applied: a change taken
/// ahead of the backlog waits for the batch being applied to commit first.
const BACKLOG_BATCH: usize = 1000;

/// The fewest changes a batch behind an import's backlog is cut down to.
const BACKLOG_BATCH_MIN: usize = 50;

/// How long a batch behind an import's backlog should take, applied and committed. A commit
/// waits until every document queued is indexed, and on a busy machine tantivy's indexing
/// thread gets a fraction of a core: a thousand changes then took 1.3 s to commit. So each
/// backlog batch is sized from the last one's pace, to take about this long.
const BACKLOG_COMMIT_TIME: Duration = Duration::from_millis(300);

/// The size of the next batch behind a backlog, after one of `applied` changes took `took`
/// (applied and committed): as many as that pace commits in [`BACKLOG_COMMIT_TIME`].
fn next_backlog_batch(applied: usize, took: Duration) -> usize {
    if took.is_zero() {
        return BACKLOG_BATCH;
    }
    let pace = applied as f64 / took.as_secs_f64();
    ((pace * BACKLOG_COMMIT_TIME.as_secs_f64()) as usize).clamp(BACKLOG_BATCH_MIN, BACKLOG_BATCH)
}

/// A batch commits once it has been applying this long, even if more changes wait: while an
/// import keeps the feed busy, what the follower has read becomes searchable every quarter
/// second rather than after a whole batch.
const BATCH_TIME: Duration = Duration::from_millis(250);

/// Applies the change feed to the index.
#[derive(Clone)]
pub struct Follower {
    index: Arc<SearchIndex>,
    db: Arc<dyn Database>,
    batch: usize,
    batch_time: Duration,
    /// The size of the next batch behind an import's backlog ([`next_backlog_batch`]), shared
    /// by the clones of this follower.
    backlog_batch: Arc<std::sync::atomic::AtomicUsize>,
}

impl Follower {
    pub fn new(index: Arc<SearchIndex>, db: Arc<dyn Database>) -> Follower {
        Follower {
            index,
            db,
            batch: BATCH,
            batch_time: BATCH_TIME,
            backlog_batch: Arc::new(std::sync::atomic::AtomicUsize::new(BACKLOG_BATCH)),
        }
    }

    /// Commits after `changes` changes (a chunk more when changes are taken ahead of an
    /// import's backlog) or once a batch has been applying for `time`, instead of the defaults
    /// (2000 changes, a quarter second). A batch always applies at least one chunk of the feed,
    /// so a zero `time` commits every chunk.
    pub fn with_batch_limits(mut self, changes: usize, time: Duration) -> Follower {
        self.batch = changes.max(1);
        self.batch_time = time;
        self
    }

    /// How many changes the next batch behind an import's backlog holds at most: a thousand at
    /// first, then sized from the last such batch's pace so that it commits in about 0.3 s.
    pub fn backlog_batch(&self) -> usize {
        self.backlog_batch.load(Ordering::Relaxed)
    }

    /// Sets the size of the next batch behind an import's backlog, as [`next_backlog_batch`]
    /// would after a batch at some pace (for tests: the pace of a test machine is not theirs).
    #[doc(hidden)]
    pub fn set_backlog_batch(&self, changes: usize) {
        self.backlog_batch.store(changes.clamp(BACKLOG_BATCH_MIN, BACKLOG_BATCH), Ordering::Relaxed);
    }

    /// Applies one batch of changes after the checkpoint and commits it. Returns how many
    /// changes it applied, each counted once even when taken ahead of the backlog (0: the index
    /// is up to date). A batch is read in chunks of [`CHUNK`] changes, each after the changes
    /// that are not bulk and not yet applied, and ends at the count or time limit
    /// ([`Follower::with_batch_limits`]), whichever comes first; the commit's checkpoint is the
    /// last change of the last chunk applied, so everything at or below it is in the index.
    pub fn poll_once(&self) -> Result<usize, SearchError> {
        let (batch, time) = (self.batch, self.batch_time);
        self.index.refresh()?;
        let _apply = lock(&self.index.apply);
        let started = Instant::now();
        let generation = self.index.current();
        let mut after = generation.checkpoint();
        let (checkpoint, mut ahead) = (after, generation.ahead());
        let start_ahead = ahead;
        let mut applied = 0;
        let backlog_batch = self.backlog_batch();
        // Of this batch, the changes of an import's backlog.
        let mut bulk = 0;
        {
            let mut guard = generation.writer(&self.index.settings)?;
            let writer = guard.as_mut().ok_or(SearchError::Closed)?;
            let limit = CHUNK.min(u32::try_from(batch).unwrap_or(CHUNK));
            loop {
                let mut changes = self.db.changes(after, limit)?;
                let backlog = changes.iter().any(|c| c.bulk);
                if backlog {
                    // A chunk does not overshoot a backlog batch: the rest is read again next time.
                    changes.truncate(backlog_batch.saturating_sub(applied).max(1));
                }
                let prompt = self.db.prompt_changes(ahead, limit)?;
                self.apply(writer, &prompt)?;
                applied += prompt.len();
                ahead = prompt.last().map_or(ahead, |c| c.id);
                // Behind an import, changes taken ahead are committed alone: the commit waits
                // until every document queued is indexed, so no chunk of the backlog goes with them.
                if backlog && !prompt.is_empty() {
                    break;
                }
                let Some(last) = changes.last().map(|c| c.id) else {
                    break;
                };
                let read = changes.len();
                // Those taken ahead were applied (and counted) then.
                changes.retain(|c| c.bulk || c.id > ahead);
                self.apply(writer, &changes)?;
                after = last;
                ahead = ahead.max(after);
                applied += changes.len();
                bulk += changes.iter().filter(|c| c.bulk).count();
                // Behind an import a batch is smaller, so that a change taken ahead waits for less.
                // Passing changes already taken ahead costs nothing: a batch goes on until it
                // applies something or reaches the end of the feed.
                let batch = if backlog { batch.min(backlog_batch) } else { batch };
                if read < limit as usize || (applied > 0 && (applied >= batch || started.elapsed() >= time)) {
                    break;
                }
            }
        }
        if after > checkpoint || ahead > start_ahead {
            generation.commit(after, &self.index.settings)?;
            generation.set_ahead(ahead);
        }
        if bulk > 0 {
            self.backlog_batch.store(next_backlog_batch(bulk, started.elapsed()), Ordering::Relaxed);
        }
        Ok(applied)
    }

    /// Re-indexes every record the changes touch, from the database's current state: the
    /// records and their items in two bulk reads. Reading after the changes were read means
    /// the state is at least as new as the last change; anything newer has a later change of
    /// its own and is applied again in a later chunk.
    fn apply(&self, writer: &mut IndexWriter, changes: &[Change]) -> Result<(), SearchError> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut records = BTreeSet::new();
        let mut items = Vec::new();
        for change in changes {
            match change.entity {
                ChangeEntity::Record => {
                    records.insert(change.entity_id);
                }
                ChangeEntity::Item => items.push(change.entity_id),
            }
        }
        if !items.is_empty() {
            items.sort_unstable();
            items.dedup();
            let found = self.db.items_by_ids(&items)?;
            for item in &found {
                records.insert(item.bib_id);
            }
            // A deleted item: its record is the one the index filed it under.
            for id in items.into_iter().filter(|id| found.binary_search_by_key(id, |i| i.id).is_err()) {
                if let Some(record) = self.index.record_for_item(id)? {
                    records.insert(record);
                }
            }
        }
        let ids: Vec<i64> = records.into_iter().collect();
        let stored = self.db.records_by_ids(&ids)?;
        let mut items = self.db.items_of_records(&ids)?.into_iter().peekable();
        let mut stored = stored.into_iter().peekable();
        for id in ids {
            writer.delete_term(Term::from_field_u64(self.index.fields.id, id as u64));
            // Both reads come in record id order, as `ids` does: walk them side by side.
            let mut its = Vec::new();
            while let Some(item) = items.next_if(|i| i.bib_id <= id) {
                if item.bib_id == id {
                    its.push(item);
                }
            }
            if let Some(record) = stored.next_if(|r| r.id == id) {
                writer.add_document(catalog_document(&record, &its).to_tantivy(&self.index.fields))?;
            }
        }
        Ok(())
    }

    /// Applies changes until none are left.
    pub fn catch_up(&self) -> Result<usize, SearchError> {
        let mut total = 0;
        loop {
            let n = self.poll_once()?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    /// How far the index is behind: reads the change feed after the checkpoint (cheap when the
    /// follower keeps up).
    pub fn lag(&self) -> Result<Lag, SearchError> {
        let generation = self.index.current();
        let applied = generation.checkpoint();
        let (database, pending) = self.db.changes_after(applied)?;
        let pending_outside_imports = self.db.prompt_changes_after(generation.ahead())?;
        Ok(Lag { database, applied, pending, pending_outside_imports })
    }

    /// Follows the change feed on a thread of its own. It wakes when a write through the same
    /// database handle commits a change ([`storage::ChangeSignal`]), and checks every `interval`
    /// for changes other processes wrote (those become searchable within about `interval`
    /// plus one commit). Errors (a database that is briefly unreachable) are kept for
    /// `/health` and retried at the next tick.
    pub fn spawn(self, interval: Duration) -> Result<FollowerHandle, SearchError> {
        let stop = Arc::new(AtomicBool::new(false));
        let last_error = Arc::new(Mutex::new(None));
        let signal = self.db.change_signal();
        let thread = {
            let stop = stop.clone();
            let last_error = last_error.clone();
            let signal = signal.clone();
            std::thread::Builder::new()
                .name("search-follower".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let started = Instant::now();
                        // Read before the feed is: a commit after this wakes the wait below.
                        let seen = signal.commits();
                        match self.poll_once() {
                            Ok(n) => {
                                *lock(&last_error) = None;
                                if n > 0 {
                                    // More may be waiting: go on without sleeping.
                                    continue;
                                }
                            }
                            Err(e) => *lock(&last_error) = Some(e.to_string()),
                        }
                        let elapsed = started.elapsed();
                        if elapsed < interval && !stop.load(Ordering::Relaxed) {
                            signal.wait(seen, interval - elapsed);
                        }
                    }
                })
                .map_err(SearchError::Thread)?
        };
        Ok(FollowerHandle { stop, last_error, signal, thread: Some(thread) })
    }
}

/// The running follower. Dropping it stops the thread.
pub struct FollowerHandle {
    stop: Arc<AtomicBool>,
    last_error: Arc<Mutex<Option<String>>>,
    signal: Arc<storage::ChangeSignal>,
    thread: Option<JoinHandle<()>>,
}

impl FollowerHandle {
    /// The error of the last attempt, if it failed.
    pub fn last_error(&self) -> Option<String> {
        lock(&self.last_error).clone()
    }

    /// Stops the thread after the batch it is applying.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            // Ends the wait at once; other waiters on the signal only look at the feed once more.
            self.signal.notify();
            let _ = thread.join();
        }
    }
}

impl Drop for FollowerHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Where a rebuild is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RebuildProgress {
    pub done: u64,
    pub total: u64,
}

/// What a rebuild did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebuildReport {
    pub records: u64,
    /// The change the new index starts following from.
    pub checkpoint: i64,
    pub generation: String,
}

impl SearchIndex {
    /// Builds a new index from the database beside the one in service, then swaps it in. The
    /// old index keeps answering searches (and a running follower keeps feeding it) until the
    /// swap. `progress` is called every few hundred records.
    ///
    /// The new index starts from the last change id read *before* the records are: changes that
    /// land during the rebuild are applied again by the follower afterwards, which is harmless.
    pub fn rebuild(
        &self,
        db: &dyn Database,
        progress: &mut dyn FnMut(RebuildProgress),
    ) -> Result<RebuildReport, SearchError> {
        let (checkpoint, _) = db.changes_after(0)?;
        let total = db.count_records()?;
        let generation: Generation = self.new_generation()?;
        let mut done = 0u64;
        progress(RebuildProgress { done, total });
        {
            let mut guard = generation.writer(&self.settings)?;
            let writer = guard.as_mut().ok_or(SearchError::Closed)?;
            let mut failure: Option<SearchError> = None;
            db.export(&RecordFilter::default(), &mut |record, items| {
                let doc = catalog_document(&record, &items).to_tantivy(&self.fields);
                if let Err(e) = writer.add_document(doc) {
                    let message = e.to_string();
                    failure = Some(e.into());
                    return Err(message);
                }
                done += 1;
                if done.is_multiple_of(500) {
                    progress(RebuildProgress { done, total: total.max(done) });
                }
                Ok(())
            })
            .map_err(|e| failure.take().unwrap_or(SearchError::Storage(e)))?;
        }
        generation.commit(checkpoint, &self.settings)?;
        generation.merge_segments(&self.settings)?;
        progress(RebuildProgress { done, total: done });
        let name = generation.name.clone();
        self.publish(generation)?;
        Ok(RebuildReport { records: done, checkpoint, generation: name })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch behind a backlog takes about 0.3 s at the last one's pace, within its bounds.
    #[test]
    fn backlog_batches_follow_the_pace_of_the_last() {
        // A quiet machine: 1,000 changes in 150 ms is faster than the target, so the most.
        assert_eq!(next_backlog_batch(1000, Duration::from_millis(150)), BACKLOG_BATCH);
        // A busy one: 1,000 changes in 1.3 s is 769 a second, 230 in 0.3 s.
        assert_eq!(next_backlog_batch(1000, Duration::from_millis(1300)), 230);
        // Back to quiet after a small batch: 230 in 50 ms grows to the most again.
        assert_eq!(next_backlog_batch(230, Duration::from_millis(50)), BACKLOG_BATCH);
        // Never fewer than the least, never more than the most.
        assert_eq!(next_backlog_batch(10, Duration::from_secs(5)), BACKLOG_BATCH_MIN);
        assert_eq!(next_backlog_batch(1, Duration::ZERO), BACKLOG_BATCH);
    }
}
