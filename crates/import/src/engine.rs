//! Streaming import: read records one at a time, prepare them on one thread, store them in
//! batches (one transaction each) on another, and report every reject with its reason.
//!
//! Why two threads: on a 2-core machine parsing + deriving and the database's commit work are
//! of the same order, so overlapping them nearly doubles throughput. Memory stays bounded by
//! two batches in flight, whatever the file's size.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use catalog::ItemMapping;
use marc::{Encoding, ReadOptions};
use storage::{Database, ImportCandidate, ImportOutcome, OnMatch};

use crate::prepare::prepare_record;

#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub on_match: OnMatch,
    /// Where the file carries its items; `None` keeps item fields in the record untouched.
    pub items: Option<ItemMapping>,
    /// Records per transaction.
    pub batch_size: usize,
    /// Character coding of ISO 2709 input.
    pub encoding: Encoding,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            on_match: OnMatch::Skip,
            items: Some(ItemMapping::koha_952()),
            batch_size: 5000,
            encoding: Encoding::Auto,
        }
    }
}

/// What an import did. Every record read is counted exactly once in added, replaced, unchanged,
/// skipped or rejected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub read: u64,
    pub added: u64,
    pub replaced: u64,
    pub unchanged: u64,
    pub skipped: u64,
    pub rejected: u64,
    pub items_added: u64,
    /// Items whose barcode was already in the catalog: left as they are.
    pub items_existing: u64,
    /// Problems with item fields: an item with no barcode or a bad code is left out, a bad
    /// date is dropped from its item. The record still imports; each problem is in the report.
    pub item_problems: u64,
    /// Records imported with a repaired problem (bad indicator, invalid UTF-8 byte...).
    pub records_with_warnings: u64,
    /// The first rejects, for a summary on screen; all of them are in the reject report.
    pub first_rejects: Vec<String>,
}

impl ImportReport {
    fn add(&mut self, other: &ImportReport) {
        self.read += other.read;
        self.added += other.added;
        self.replaced += other.replaced;
        self.unchanged += other.unchanged;
        self.skipped += other.skipped;
        self.rejected += other.rejected;
        self.items_added += other.items_added;
        self.items_existing += other.items_existing;
        self.item_problems += other.item_problems;
        self.records_with_warnings += other.records_with_warnings;
        for r in &other.first_rejects {
            if self.first_rejects.len() < FIRST_REJECTS {
                self.first_rejects.push(r.clone());
            }
        }
    }
}

const FIRST_REJECTS: usize = 20;

/// Told after every batch: bytes of the input consumed so far, and the running totals.
pub trait Progress {
    fn update(&self, bytes_read: u64, report: &ImportReport);
}

impl<F: Fn(u64, &ImportReport)> Progress for F {
    fn update(&self, bytes_read: u64, report: &ImportReport) {
        self(bytes_read, report)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Open { path: PathBuf, source: std::io::Error },
    #[error("cannot write the reject file {path}: {source}")]
    Rejects { path: PathBuf, source: std::io::Error },
    #[error("the input stopped being readable at record {number} (byte {offset}): {reason}")]
    Unreadable { number: usize, offset: u64, reason: String },
    #[error("storing records failed: {0}")]
    Storage(#[from] storage::StorageError),
}

/// Where rejected records go: their original bytes to one file (so they can be fixed and
/// imported again) and a line per problem to a report. Both files are created on the first
/// reject or warning, so a clean import leaves nothing behind.
pub struct RejectSink {
    base: PathBuf,
    records_path: PathBuf,
    report_path: PathBuf,
    records: Option<std::io::BufWriter<File>>,
    report: Option<std::io::BufWriter<File>>,
}

impl RejectSink {
    /// Rejects of `input` go to `input.rejects.mrc` (or `.xml`) and `input.rejects.txt`.
    pub fn beside(input: &Path) -> RejectSink {
        let name = input.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "import".into());
        let dir = input.parent().map(Path::to_path_buf).unwrap_or_default();
        RejectSink::at(&dir.join(format!("{name}.rejects")))
    }

    /// Rejects go to `base.mrc` (`base.xml` for a MARCXML input) and `base.txt`.
    pub fn at(base: &Path) -> RejectSink {
        RejectSink {
            base: base.to_path_buf(),
            records_path: with_suffix(base, "mrc"),
            report_path: with_suffix(base, "txt"),
            records: None,
            report: None,
        }
    }

    /// Rejected records keep their original form, so a MARCXML input's go to an XML file.
    fn set_format(&mut self, format: marc::FileFormat) {
        let ext = if format == marc::FileFormat::MarcXml { "xml" } else { "mrc" };
        self.records_path = with_suffix(&self.base, ext);
    }

    pub fn report_path(&self) -> Option<&Path> {
        self.report.as_ref().map(|_| self.report_path.as_path())
    }

    pub fn records_path(&self) -> Option<&Path> {
        self.records.as_ref().map(|_| self.records_path.as_path())
    }

    fn line(&mut self, line: &str) -> Result<(), ImportError> {
        let path = &self.report_path;
        let report = match &mut self.report {
            Some(r) => r,
            None => self.report.insert(std::io::BufWriter::new(
                File::create(path).map_err(|source| ImportError::Rejects { path: path.clone(), source })?,
            )),
        };
        writeln!(report, "{line}").map_err(|source| ImportError::Rejects { path: path.clone(), source })
    }

    fn record(&mut self, raw: &[u8]) -> Result<(), ImportError> {
        let path = &self.records_path;
        let records = match &mut self.records {
            Some(r) => r,
            None => self.records.insert(std::io::BufWriter::new(
                File::create(path).map_err(|source| ImportError::Rejects { path: path.clone(), source })?,
            )),
        };
        records.write_all(raw).map_err(|source| ImportError::Rejects { path: path.clone(), source })
    }

    fn finish(&mut self) -> Result<(), ImportError> {
        for (w, path) in [(&mut self.records, &self.records_path), (&mut self.report, &self.report_path)] {
            if let Some(w) = w {
                w.flush().map_err(|source| ImportError::Rejects { path: path.clone(), source })?;
            }
        }
        Ok(())
    }
}

fn with_suffix(base: &Path, ext: &str) -> PathBuf {
    let mut name = base.as_os_str().to_owned();
    name.push(".");
    name.push(ext);
    PathBuf::from(name)
}

/// Imports one file, ISO 2709 or MARCXML (told apart by its first bytes). Rejects go to
/// `rejects` ([`RejectSink::beside`] the file, usually).
pub fn import_file(
    db: &dyn Database,
    path: &Path,
    options: &ImportOptions,
    rejects: &mut RejectSink,
    progress: &dyn Progress,
) -> Result<ImportReport, ImportError> {
    let file = File::open(path).map_err(|source| ImportError::Open { path: path.to_path_buf(), source })?;
    import_reader(db, BufReader::with_capacity(1 << 16, file), options, rejects, progress)
}

/// Where a prepared record came from, kept beside it in case storage rejects it.
struct Origin {
    number: usize,
    offset: u64,
    raw: Vec<u8>,
}

/// One batch: the records to store, and what the reading side already decided (rejects and
/// warnings, in file order, as report lines).
struct Batch {
    candidates: Vec<ImportCandidate>,
    origins: Vec<Origin>,
    /// Report lines in file order; a reject carries its record's original bytes.
    notes: Vec<(Option<Vec<u8>>, String)>,
    report: ImportReport,
    bytes_read: u64,
}

/// Imports from any reader (format sniffed from its first bytes).
pub fn import_reader<R: Read + Send>(
    db: &dyn Database,
    input: R,
    options: &ImportOptions,
    rejects: &mut RejectSink,
    progress: &dyn Progress,
) -> Result<ImportReport, ImportError> {
    let unreadable = |reason: String| ImportError::Unreadable { number: 1, offset: 0, reason };
    let records = marc::MarcReader::detect(input, ReadOptions { encoding: options.encoding })
        .map_err(|e| unreadable(e.to_string()))?
        .ok_or_else(|| {
            unreadable("not a MARC file: neither ISO 2709 (a record length) nor MARCXML (<) at the start".into())
        })?;
    rejects.set_format(records.format());
    let batch_size = options.batch_size.max(1);
    let (tx, rx) = mpsc::sync_channel::<Result<Batch, ImportError>>(2);

    std::thread::scope(|scope| {
        let reading = std::thread::Builder::new().name("import-read".into()).spawn_scoped(scope, move || {
            let mut batch = new_batch(batch_size);
            for item in records {
                match item {
                    Ok(read) => {
                        batch.bytes_read = read.offset + read.raw.len() as u64;
                        prepare_one(read, options, &mut batch);
                    }
                    Err(err) => {
                        batch.bytes_read = err.offset + err.raw.len() as u64;
                        if err.fatal {
                            let _ = tx.send(Ok(batch));
                            let _ = tx.send(Err(ImportError::Unreadable {
                                number: err.number,
                                offset: err.offset,
                                reason: err.problem.to_string(),
                            }));
                            return;
                        }
                        batch.report.read += 1;
                        reject(
                            &mut batch,
                            err.raw,
                            format!("record {} (byte {}): {}", err.number, err.offset, err.problem),
                        );
                    }
                }
                if batch.candidates.len() as u64 + batch.report.rejected >= batch_size as u64
                    && tx.send(Ok(std::mem::replace(&mut batch, new_batch(batch_size)))).is_err()
                {
                    return;
                }
            }
            let _ = tx.send(Ok(batch));
        });
        if let Err(e) = reading {
            return Err(ImportError::Unreadable {
                number: 0,
                offset: 0,
                reason: format!("cannot start a thread: {e}"),
            });
        }

        let mut total = ImportReport::default();
        let mut bytes_read = 0;
        for batch in rx {
            let batch = batch?;
            bytes_read = bytes_read.max(batch.bytes_read);
            let report = store(db, batch, options.on_match, rejects)?;
            total.add(&report);
            progress.update(bytes_read, &total);
        }
        rejects.finish()?;
        Ok(total)
    })
}

fn new_batch(capacity: usize) -> Batch {
    Batch {
        candidates: Vec::with_capacity(capacity),
        origins: Vec::with_capacity(capacity),
        notes: Vec::new(),
        report: ImportReport::default(),
        bytes_read: 0,
    }
}

fn reject(batch: &mut Batch, raw: Vec<u8>, line: String) {
    count_reject(&mut batch.report, &line);
    batch.notes.push((Some(raw), line));
}

fn count_reject(report: &mut ImportReport, line: &str) {
    report.rejected += 1;
    if report.first_rejects.len() < FIRST_REJECTS {
        report.first_rejects.push(line.to_string());
    }
}

fn prepare_one(read: marc::ReadRecord, options: &ImportOptions, batch: &mut Batch) {
    let marc::ReadRecord { number, offset, raw, mut record, warnings } = read;
    batch.report.read += 1;
    // Only built when something is reported: this runs once per record.
    let at = || format!("record {number} (byte {offset})");
    if !warnings.is_empty() {
        let at = at();
        batch.report.records_with_warnings += 1;
        for w in &warnings {
            batch.notes.push((None, format!("{at}: warning: {w}")));
        }
    }
    let items = match &options.items {
        Some(mapping) => {
            let (items, problems) = catalog::extract_items(&record, mapping);
            batch.report.item_problems += problems.len() as u64;
            for p in problems {
                batch.notes.push((None, format!("{}: item not imported: {p}", at())));
            }
            record.fields.retain(|f| !f.as_data().is_some_and(|d| mapping.carries_item(d)));
            items
        }
        None => Vec::new(),
    };
    match prepare_record(record) {
        Ok(prepared) => {
            batch.candidates.push(ImportCandidate { record: prepared, items });
            batch.origins.push(Origin { number, offset, raw });
        }
        Err(e) => reject(batch, raw, format!("{}: {e}", at())),
    }
}

/// Stores one batch in one transaction and writes its rejects and warnings.
fn store(
    db: &dyn Database,
    batch: Batch,
    on_match: OnMatch,
    rejects: &mut RejectSink,
) -> Result<ImportReport, ImportError> {
    let Batch { candidates, origins, notes, mut report, .. } = batch;
    for (raw, line) in notes {
        if let Some(raw) = raw {
            rejects.record(&raw)?;
        }
        rejects.line(&line)?;
    }
    if candidates.is_empty() {
        return Ok(report);
    }
    let outcomes = db.import_batch(&candidates, on_match)?;
    for (p, outcome) in origins.into_iter().zip(outcomes) {
        match outcome {
            ImportOutcome::Added { items_added, items_existing, .. }
            | ImportOutcome::Replaced { items_added, items_existing, .. }
            | ImportOutcome::Unchanged { items_added, items_existing, .. }
            | ImportOutcome::Skipped { items_added, items_existing, .. } => {
                *match outcome {
                    ImportOutcome::Added { .. } => &mut report.added,
                    ImportOutcome::Replaced { .. } => &mut report.replaced,
                    ImportOutcome::Unchanged { .. } => &mut report.unchanged,
                    _ => &mut report.skipped,
                } += 1;
                report.items_added += u64::from(items_added);
                report.items_existing += u64::from(items_existing);
            }
            ImportOutcome::Rejected { reason } => {
                let line = format!("record {} (byte {}): {reason}", p.number, p.offset);
                count_reject(&mut report, &line);
                rejects.record(&p.raw)?;
                rejects.line(&line)?;
            }
        }
    }
    Ok(report)
}
