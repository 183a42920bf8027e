//! `shelfmark patrons import FILE.csv [--dry-run]`: a school's student list, row by row, with a
//! report line per row on standard output and progress on the terminal.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use desk::patrons::RowOutcome;
use indicatif::{ProgressBar, ProgressStyle};
use storage::Database;

/// Imports the file; true when some rows were refused or were duplicates (the caller exits 2).
pub fn import(db: &dyn Database, desk: &desk::Desk, file: &Path, dry_run: bool) -> anyhow::Result<bool> {
    let text = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    // Rows, for the progress bar: lines is close enough (a quoted address may span two).
    let lines = text.iter().filter(|b| **b == b'\n').count().saturating_sub(1) as u64;
    let progress = ProgressBar::new(lines.max(1));
    progress.set_style(
        ProgressStyle::with_template("{msg:.bold} [{bar:40}] {pos}/{len} rows")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    progress.set_message(file.display().to_string());
    progress.enable_steady_tick(Duration::from_millis(200));
    let reports = desk
        .import_patrons_csv(db, &text[..], dry_run, chrono::Utc::now(), &mut |row| progress.set_position(row - 1))
        .with_context(|| format!("{} was not imported", file.display()))?;
    progress.finish_and_clear();

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (mut registered, mut duplicates, mut refused) = (0, 0, 0);
    for r in &reports {
        writeln!(out, "{r}")?;
        match r.outcome {
            RowOutcome::Registered { .. } | RowOutcome::WouldRegister => registered += 1,
            RowOutcome::Duplicate { .. } | RowOutcome::DuplicateOfRow(_) => duplicates += 1,
            RowOutcome::Refused(_) => refused += 1,
        }
    }
    out.flush()?;
    let verb = if dry_run { "would be registered" } else { "registered" };
    eprintln!(
        "{}: {} rows: {registered} {verb}, {duplicates} duplicates, {refused} refused{}",
        file.display(),
        reports.len(),
        if dry_run { " (dry run: nothing was written)" } else { "" }
    );
    Ok(duplicates + refused > 0)
}
