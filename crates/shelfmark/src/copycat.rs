//! `shelfmark copycat`: list the copy-cataloging targets, search them, preview a candidate and
//! import it through the import path. The work is the `copycat` crate's; this prints it.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Subcommand, ValueEnum};
use copycat::{CopyQuery, Imported, InCatalog, OnMatch, Targets};
use storage::Database;

#[derive(Debug, Subcommand)]
pub enum CopycatCommand {
    /// List the targets of `[[copycat.targets]]`.
    Targets,
    /// Search targets (all, or those named) by one access point; prints numbered candidates per
    /// target, each marked `new`, `held #ID` (identical) or `match #ID`.
    Search {
        /// A target to search (repeat for several; default: all).
        #[arg(long = "target")]
        targets: Vec<String>,
        #[command(flatten)]
        query: QueryArgs,
        /// Records asked of each target (1-50).
        #[arg(long, default_value_t = 10)]
        max: usize,
    },
    /// Print candidate N of a search of one target in MARC mnemonic form.
    Show {
        /// The target (default: the only one configured).
        #[arg(long)]
        target: Option<String>,
        #[command(flatten)]
        query: QueryArgs,
        /// The candidate's number in the search's list.
        #[arg(long)]
        pick: usize,
    },
    /// Import candidate N of a search of one target through the import path (matching as
    /// `shelfmark import` does).
    Import {
        #[arg(long)]
        target: Option<String>,
        #[command(flatten)]
        query: QueryArgs,
        #[arg(long)]
        pick: usize,
        /// What to do when the record matches one in the catalog.
        #[arg(long, value_enum, default_value_t = OnMatchArg::Skip)]
        on_match: OnMatchArg,
    },
}

/// Exactly one access point to search by.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub struct QueryArgs {
    /// ISBN-10 or ISBN-13 (both forms are searched).
    #[arg(long)]
    isbn: Option<String>,
    #[arg(long)]
    issn: Option<String>,
    #[arg(long)]
    lccn: Option<String>,
    #[arg(long)]
    title: Option<String>,
    #[arg(long)]
    author: Option<String>,
    #[arg(long)]
    keywords: Option<String>,
}

impl QueryArgs {
    fn query(&self) -> anyhow::Result<CopyQuery> {
        let given = [
            ("isbn", &self.isbn),
            ("issn", &self.issn),
            ("lccn", &self.lccn),
            ("title", &self.title),
            ("author", &self.author),
            ("keywords", &self.keywords),
        ];
        let Some((by, Some(term))) = given.into_iter().find(|(_, v)| v.is_some()) else {
            bail!("give one of --isbn, --issn, --lccn, --title, --author or --keywords");
        };
        CopyQuery::parse(by, term).with_context(|| format!("--{by}"))
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OnMatchArg {
    Skip,
    Replace,
    Add,
}

pub fn run(db: &dyn Database, targets: &Targets, command: CopycatCommand) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match command {
        CopycatCommand::Targets => {
            if targets.all().is_empty() {
                eprintln!("no copy-cataloging targets: add [[copycat.targets]] to the settings file");
            }
            for t in targets.all() {
                writeln!(
                    out,
                    "{}\t{}\t{}\ttimeout {} s",
                    t.name,
                    t.endpoint.kind(),
                    t.endpoint.location(),
                    t.timeout.as_secs()
                )?;
            }
        }
        CopycatCommand::Search { targets: names, query, max } => {
            let query = query.query()?;
            if !(1..=copycat::MAX_RECORDS).contains(&max) {
                bail!("--max {max}: between 1 and {}", copycat::MAX_RECORDS);
            }
            let chosen = targets.select(&names)?;
            if chosen.is_empty() {
                bail!("no copy-cataloging targets: add [[copycat.targets]] to the settings file");
            }
            let mut answered = 0;
            for result in copycat::search(&chosen, &query, max) {
                match result.outcome {
                    Err(e) => writeln!(out, "{}: {e}", result.target)?,
                    Ok(hits) => {
                        answered += 1;
                        writeln!(out, "{}: {} found for {query}", result.target, hits.hits)?;
                        for c in &hits.candidates {
                            let marker = marker(&copycat::in_catalog(db, &c.record)?);
                            writeln!(out, "{:>3}. [{marker}] {}", c.position, line(&c.summary))?;
                        }
                        for (position, reason) in &hits.unreadable {
                            writeln!(out, "{position:>3}. (unreadable: {reason})")?;
                        }
                    }
                }
            }
            if answered == 0 {
                return Ok(ExitCode::FAILURE);
            }
        }
        CopycatCommand::Show { target, query, pick } => {
            let target = one_target(targets, target.as_deref())?;
            let candidate =
                copycat::fetch(target, &query.query()?, pick).with_context(|| format!("target {}", target.name))?;
            let marker = marker(&copycat::in_catalog(db, &candidate.record)?);
            writeln!(out, "{} #{pick} [{marker}] {}", target.name, line(&candidate.summary))?;
            for w in &candidate.warnings {
                writeln!(out, "warning: {w}")?;
            }
            write!(out, "{}", copycat::preview(&candidate.record))?;
        }
        CopycatCommand::Import { target, query, pick, on_match } => {
            let target = one_target(targets, target.as_deref())?;
            let candidate =
                copycat::fetch(target, &query.query()?, pick).with_context(|| format!("target {}", target.name))?;
            let on_match = match on_match {
                OnMatchArg::Skip => OnMatch::Skip,
                OnMatchArg::Replace => OnMatch::Replace,
                OnMatchArg::Add => OnMatch::Add,
            };
            let title = candidate.summary.title.clone();
            let imported = copycat::import(db, candidate.record, on_match)
                .with_context(|| format!("importing {} #{pick} ({title})", target.name))?;
            let sentence = match imported {
                Imported::Added(id) => format!("added as record {id}"),
                Imported::Replaced(id) => format!("replaced record {id}"),
                Imported::Unchanged(id) => {
                    format!("already in the catalog as record {id} (identical): nothing changed")
                }
                Imported::Skipped(id) => {
                    format!("matches record {id}, left as it is (--on-match replace to replace it)")
                }
            };
            writeln!(out, "{title}: {sentence}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn one_target<'a>(targets: &'a Targets, name: Option<&str>) -> anyhow::Result<&'a copycat::Target> {
    match (name, targets.all()) {
        (Some(name), _) => targets.get(name).with_context(|| format!("no target is named {name:?}")),
        (None, [only]) => Ok(only),
        (None, []) => bail!("no copy-cataloging targets: add [[copycat.targets]] to the settings file"),
        (None, _) => bail!("several targets are configured: choose one with --target"),
    }
}

fn marker(m: &InCatalog) -> String {
    match m {
        InCatalog::No => "new".into(),
        InCatalog::Identical(id) => format!("held #{id}"),
        InCatalog::Matched(id) => format!("match #{id}"),
        InCatalog::Refused(reason) => format!("cannot import: {reason}"),
    }
}

/// `Title / responsibility. Publisher, 1999. Book. ISBN 9780306406157`
fn line(s: &copycat::Summary) -> String {
    let mut text = s.title.clone();
    if let Some(r) = &s.responsibility {
        text.push_str(" / ");
        text.push_str(r);
    }
    let imprint: Vec<String> = [s.publisher.clone(), s.year.map(|y| y.to_string())].into_iter().flatten().collect();
    if !imprint.is_empty() {
        text.push_str(". ");
        text.push_str(&imprint.join(", "));
    }
    text.push_str(". ");
    text.push_str(s.format);
    if let Some(isbn) = s.isbns.first() {
        text.push_str(". ISBN ");
        text.push_str(isbn);
    }
    if let Some(lccn) = &s.lccn {
        text.push_str(". LCCN ");
        text.push_str(lccn);
    }
    text
}
