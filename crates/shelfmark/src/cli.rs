//! The command line: global options, the subcommands, and what each one prints.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use storage::{Database, OnMatch, StorageConfig};

use crate::config::FileConfig;

#[derive(Debug, Parser)]
#[command(name = "shelfmark", version, about = "Shelfmark: an integrated library system")]
struct Cli {
    /// Folder for the embedded database and settings.
    #[arg(long, global = true, env = "SHELFMARK_DATA", default_value = "./shelfmark-data")]
    data: PathBuf,
    /// Use PostgreSQL (postgres://user:password@host:port/db) instead of the embedded SQLite.
    #[arg(long, global = true, env = "SHELFMARK_DATABASE_URL")]
    database_url: Option<String>,
    /// Settings file (TOML); default: shelfmark.toml in the data folder, when present.
    #[arg(long, global = true, env = "SHELFMARK_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the staff API, the catalog pages and /health.
    Serve {
        #[command(flatten)]
        serve: ServeArgs,
        /// Create the demo library first if the database is empty.
        #[arg(long)]
        demo: bool,
    },
    /// Create a demo library (branches, locations, item types, patrons, records, items) in an
    /// empty database, then serve it.
    Demo {
        #[command(flatten)]
        serve: ServeArgs,
        /// How many bibliographic records to generate.
        #[arg(long, default_value_t = 3000)]
        records: usize,
        /// Create the library and exit instead of serving it.
        #[arg(long)]
        no_serve: bool,
    },
    /// Import MARC files (ISO 2709 or MARCXML, MARC-8 or UTF-8) with their embedded items.
    Import {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// What to do with a record that matches one in the catalog (001+003, OCLC, ISBN, identical).
        #[arg(long, value_enum, default_value_t = OnMatchArg::Skip)]
        on_match: OnMatchArg,
        /// Where the file carries its items.
        #[arg(long, value_enum, default_value_t = ItemsArg::Koha)]
        items: ItemsArg,
        /// Character coding of ISO 2709 records (auto trusts leader/09 unless the bytes disagree).
        #[arg(long, value_enum, default_value_t = EncodingArg::Auto)]
        encoding: EncodingArg,
        /// Records per transaction (larger batches write each index page fewer times).
        #[arg(long, default_value_t = 5000)]
        batch_size: usize,
        /// Where rejected records and the report go (default: beside each file, FILE.rejects.*).
        #[arg(long)]
        rejects: Option<PathBuf>,
    },
    /// Export the catalog (or a selection) as ISO 2709 or MARCXML.
    Export {
        #[arg(long, value_enum, default_value_t = FormatArg::Iso2709)]
        format: FormatArg,
        /// Embed the items as Koha-style 952 fields.
        #[arg(long)]
        items: bool,
        /// Output file (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Only these record ids.
        #[arg(long = "id")]
        ids: Vec<i64>,
        /// Only records with an item at this branch.
        #[arg(long)]
        branch: Option<String>,
    },
    /// Call-number tools.
    Callnumber {
        #[command(subcommand)]
        command: CallnumberCommand,
    },
    /// Print a shelf list: a branch's items in shelf order (call number, barcode, status, title).
    ShelfList {
        #[command(flatten)]
        shelf: ShelfArgs,
        /// Only items with this status (available, checked_out, missing, ...).
        #[arg(long)]
        status: Option<String>,
    },
    /// Rebuild the search index from the database (a running server keeps searching the old
    /// one until the new one is ready, then switches).
    Reindex,
    /// Patrons: import a school's list (CSV).
    Patrons {
        #[command(subcommand)]
        command: PatronsCommand,
    },
    /// Inventory (shelf reading): start one, upload scans, print the report.
    Inventory {
        #[command(subcommand)]
        command: InventoryCommand,
    },
    /// Staff accounts and API tokens.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// The daily jobs (notices, ...): each runs once per library day; `serve` runs them at the
    /// `[notices] run_at` time.
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Copy cataloging: search the `[[copycat.targets]]` by ISBN, ISSN, LCCN, title, author or
    /// keywords, preview a candidate, import it.
    Copycat {
        #[command(subcommand)]
        command: crate::copycat::CopycatCommand,
    },
    /// Print a PDF sheet of spine or barcode labels for the items with these barcodes.
    Labels {
        #[arg(long, value_enum)]
        kind: LabelKindArg,
        /// Item barcodes; `--from-file` reads more, one a line.
        barcodes: Vec<String>,
        #[arg(long)]
        from_file: Option<PathBuf>,
        /// Label sheet: avery-5160 (30-up, the default for barcodes) or demco-ws14942260 (spine
        /// labels, the default for spines).
        #[arg(long)]
        layout: Option<String>,
        /// Labels already used on the first sheet.
        #[arg(long, default_value_t = 0)]
        offset: usize,
        #[arg(long, value_enum, default_value_t = SymbologyArg::Codabar)]
        symbology: SymbologyArg,
        /// Spine-label lines flush left instead of centred.
        #[arg(long)]
        left: bool,
        /// The PDF file to write.
        #[arg(short, long)]
        output: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum JobsCommand {
    /// Run the day's jobs now (all, or those named); a job that already ran that day is skipped.
    Run {
        /// The library day (YYYY-MM-DD) to run for; default today in the library's time zone.
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
        /// Jobs to run (default: all, in order).
        jobs: Vec<String>,
    },
    /// List the jobs in the order they run.
    List,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LabelKindArg {
    Spine,
    Barcode,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SymbologyArg {
    Codabar,
    Code39,
}

/// A stretch of shelf: a branch, optionally a shelving location and a call-number range.
#[derive(Debug, clap::Args)]
struct ShelfArgs {
    #[arg(long)]
    branch: String,
    #[arg(long)]
    location: Option<String>,
    /// First call number of the range.
    #[arg(long)]
    from: Option<String>,
    /// Last call number of the range, including every call number that begins like it.
    #[arg(long)]
    to: Option<String>,
}

impl ShelfArgs {
    fn scope(&self) -> anyhow::Result<storage::NewInventory> {
        Ok(storage::NewInventory {
            branch: catalog::Code::parse(&self.branch).context("--branch")?,
            location: self.location.as_deref().map(catalog::Code::parse).transpose().context("--location")?,
            call_number_from: self.from.clone(),
            call_number_to: self.to.clone(),
        })
    }
}

#[derive(Debug, Subcommand)]
enum PatronsCommand {
    /// Register patrons from a CSV file with a header row (surname, first_name, birth_date,
    /// email, phone, address, category, home_branch, guarantor, card_number, notice_preference,
    /// reading_history): one report line per row. Exits 2 when rows were refused or duplicates.
    Import {
        file: PathBuf,
        /// Check every row (against the database too) and write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
enum StaffCommand {
    /// Create a staff account; the password is read from standard input.
    Add {
        #[arg(long)]
        login: String,
        /// The name shown to colleagues.
        #[arg(long)]
        name: String,
        /// admin, clerk, supervisor, cataloger or volunteer (repeat for several).
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Limit the account to this branch (repeat for several; default: every branch).
        #[arg(long = "branch")]
        branches: Vec<String>,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Create a named API token for an account and print it (it is shown this once).
    Token {
        #[arg(long)]
        login: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum InventoryCommand {
    /// Start an inventory of a stretch of shelf; prints its number.
    Start {
        #[command(flatten)]
        shelf: ShelfArgs,
    },
    /// Add barcodes as scanned (one a line, in shelf-walking order; `-` reads standard input).
    Scan {
        id: i64,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print what the inventory found: missing, misplaced, wrong status, wrong place.
    Report {
        id: i64,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8080, or `bind` in the settings file).
    #[arg(long, env = "SHELFMARK_BIND")]
    bind: Option<SocketAddr>,
}

#[derive(Debug, Subcommand)]
enum CallnumberCommand {
    /// Read call numbers, one a line, on standard input; print them in shelf order.
    Sort {
        #[arg(long, value_enum, default_value_t = SchemeArg::Auto)]
        scheme: SchemeArg,
        /// Print each call number's spine-label lines instead.
        #[arg(long)]
        labels: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OnMatchArg {
    Add,
    Replace,
    Skip,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ItemsArg {
    /// Koha's 952.
    Koha,
    /// MARC 21 852 holdings.
    #[value(name = "852")]
    Holdings852,
    /// A vendor's 949 _1.
    #[value(name = "949")]
    Vendor949,
    /// Do not read items.
    None,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum EncodingArg {
    Auto,
    Utf8,
    Marc8,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Iso2709,
    Marcxml,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SchemeArg {
    Auto,
    Lc,
    Dewey,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("SHELFMARK_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(code) => code,
        // `shelfmark shelf-list ... | head`: the reader has what it wanted.
        Err(e) if e.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) => {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("shelfmark: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Command::Callnumber { command } = &cli.command {
        return callnumber(command);
    }
    let file = FileConfig::load(cli.config.as_deref(), &cli.data)?;
    let storage_config = match cli.database_url.clone().or(file.database_url.clone()) {
        Some(url) => StorageConfig::parse(&url),
        None => StorageConfig::Sqlite(storage::SqliteOptions::new(&cli.data)),
    };
    let db = storage::open(&storage_config)
        .with_context(|| format!("cannot open the database ({})", storage_config.describe()))?;
    let library_name = file.library_name.clone();
    // The search index lives in the data folder whichever database holds the catalog: it is
    // rebuilt from the database, one per server.
    let index_dir = cli.data.join("index");
    let bind = |args: &ServeArgs| args.bind.or(file.bind).unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));

    match cli.command {
        Command::Serve { serve, demo } => {
            if demo {
                create_demo(&*db, 3000)?;
                announce_demo_admin(&*db, file.admin_password.as_deref())?;
            }
            serve_http(db, bind(&serve), library_name, &file, &index_dir)?;
        }
        Command::Demo { serve, records, no_serve } => {
            create_demo(&*db, records)?;
            announce_demo_admin(&*db, file.admin_password.as_deref())?;
            // So that a later `shelfmark serve` on this data folder shows the demo library's name.
            let settings = cli.data.join("shelfmark.toml");
            if cli.config.is_none() && !settings.exists() && std::fs::create_dir_all(&cli.data).is_ok() {
                std::fs::write(&settings, format!("library_name = {:?}\n", crate::demo::LIBRARY_NAME))
                    .with_context(|| format!("cannot write {}", settings.display()))?;
            }
            if !no_serve {
                let name = library_name.or(Some(crate::demo::LIBRARY_NAME.to_string()));
                serve_http(db, bind(&serve), name, &file, &index_dir)?;
            }
        }
        Command::Copycat { command } => {
            let targets = file.copycat()?;
            return crate::copycat::run(&*db, &targets, command);
        }
        Command::Import { files, on_match, items, encoding, batch_size, rejects } => {
            let options = import::ImportOptions {
                on_match: match on_match {
                    OnMatchArg::Add => OnMatch::Add,
                    OnMatchArg::Replace => OnMatch::Replace,
                    OnMatchArg::Skip => OnMatch::Skip,
                },
                items: match items {
                    ItemsArg::Koha => Some(catalog::ItemMapping::koha_952()),
                    ItemsArg::Holdings852 => Some(catalog::ItemMapping::holdings_852()),
                    ItemsArg::Vendor949 => Some(catalog::ItemMapping::vendor_949()),
                    ItemsArg::None => None,
                },
                batch_size,
                encoding: match encoding {
                    EncodingArg::Auto => marc::Encoding::Auto,
                    EncodingArg::Utf8 => marc::Encoding::Utf8,
                    EncodingArg::Marc8 => marc::Encoding::Marc8,
                },
            };
            let mut any_rejects = false;
            for file in &files {
                any_rejects |= import_one(&*db, file, &options, rejects.as_deref())?;
            }
            if any_rejects {
                return Ok(ExitCode::from(2));
            }
        }
        Command::Export { format, items, output, ids, branch } => {
            let filter = storage::RecordFilter {
                ids: (!ids.is_empty()).then_some(ids),
                branch: branch.map(|b| catalog::Code::parse(&b)).transpose().context("--branch")?,
                ..Default::default()
            };
            let options = import::ExportOptions {
                format: match format {
                    FormatArg::Iso2709 => import::ExportFormat::Iso2709,
                    FormatArg::Marcxml => import::ExportFormat::MarcXml,
                },
                filter,
                items: items.then(catalog::ItemMapping::koha_952),
            };
            export(&*db, &options, output.as_deref())?;
        }
        Command::Callnumber { .. } => unreachable!("handled above"),
        Command::Staff { command: StaffCommand::Add { login, name, roles, branches, password_stdin } } => {
            crate::staff::add(&*db, &login, &name, &roles, &branches, password_stdin)?;
        }
        Command::Staff { command: StaffCommand::Token { login, name } } => {
            println!("{}", crate::staff::token(&*db, &login, &name)?);
        }
        Command::ShelfList { shelf, status } => {
            let mut query = shelf.scope()?.shelf_query();
            query.status = status
                .map(|s| {
                    catalog::ItemStatus::parse(&s).with_context(|| format!("--status: {s:?} is not an item status"))
                })
                .transpose()?;
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let n = crate::shelf::print_shelf_list(&*db, &query, &mut out)?;
            out.flush()?;
            eprintln!("{n} items");
        }
        Command::Labels { kind, barcodes, from_file, layout, offset, symbology, left, output } => {
            let mut list = barcodes;
            if let Some(file) = from_file {
                let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
                list.extend(text.lines().map(str::to_string));
            }
            let barcodes = list
                .iter()
                .map(|b| b.trim())
                .filter(|b| !b.is_empty())
                .map(|b| catalog::Barcode::parse(b).with_context(|| format!("barcode {b:?}")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let kind = match kind {
                LabelKindArg::Spine => web::labels::LabelKind::Spine,
                LabelKindArg::Barcode => web::labels::LabelKind::Barcode,
            };
            let request = web::labels::LabelRequest {
                kind,
                barcodes,
                layout: kind.layout(layout.as_deref()).map_err(|m| anyhow::anyhow!("--layout: {m}"))?,
                offset,
                symbology: match symbology {
                    SymbologyArg::Codabar => labels::Symbology::Codabar,
                    SymbologyArg::Code39 => labels::Symbology::Code39 { check_character: false },
                },
                align: if left { labels::Align::Left } else { labels::Align::Centre },
            };
            let name = library_name.unwrap_or_else(|| web::WebConfig::default().library_name);
            let pdf = web::labels::render(&*db, &name, &request)?;
            std::fs::write(&output, pdf).with_context(|| format!("cannot write {}", output.display()))?;
            eprintln!("{} labels written to {}", request.barcodes.len(), output.display());
        }
        Command::Jobs { command: JobsCommand::List } => {
            for job in jobs::JOBS {
                println!("{:<16} {}", job.name, job.about);
            }
        }
        Command::Jobs { command: JobsCommand::Run { date, jobs: names } } => {
            let desk = file.desk()?;
            desk.load_settings(&*db)?;
            let notices = file.notices(&display_name(&library_name))?;
            let now = chrono::Utc::now();
            let today = jobs::library_day(&desk.circulation(), now);
            let day = date.unwrap_or(today);
            if day > today {
                anyhow::bail!("{day} has not begun yet in the library's time zone (today is {today})");
            }
            let reports = jobs::run_day(&*db, &desk.circulation(), &notices, day, now, &names)?;
            let mut failed = false;
            for r in reports {
                match r.outcome {
                    jobs::Outcome::Ran { summary } => println!("{} {}: {summary}", r.day, r.job),
                    jobs::Outcome::AlreadyRan { summary } => {
                        println!("{} {}: already ran that day ({summary})", r.day, r.job)
                    }
                    jobs::Outcome::Failed { error } => {
                        failed = true;
                        eprintln!("{} {}: FAILED: {error}", r.day, r.job);
                    }
                }
            }
            if failed {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Reindex => {
            let index = search::SearchIndex::open(&index_dir, search::IndexSettings::default())
                .with_context(|| format!("cannot open the search index in {}", index_dir.display()))?;
            let progress = bar(db.count_records()?, "indexing [{bar:40}] {pos}/{len} records, eta {eta}");
            let started = Instant::now();
            let report = index.rebuild(&*db, &mut |p| {
                progress.set_length(p.total);
                progress.set_position(p.done);
            })?;
            progress.finish_and_clear();
            eprintln!(
                "indexed {} records in {:.1} s into {} (following changes after {})",
                report.records,
                started.elapsed().as_secs_f64(),
                report.generation,
                report.checkpoint
            );
        }
        Command::Patrons { command: PatronsCommand::Import { file: csv, dry_run } } => {
            if crate::patrons::import(&*db, &file.desk()?, &csv, dry_run)? {
                return Ok(ExitCode::from(2));
            }
        }
        Command::Inventory { command } => match command {
            InventoryCommand::Start { shelf } => {
                let id = crate::shelf::start(&*db, &shelf.scope()?)?;
                println!("{id}");
                eprintln!("inventory {id} started: upload scans with `shelfmark inventory scan {id} FILE`");
            }
            InventoryCommand::Scan { id, files } => {
                let total = crate::shelf::scan(&*db, id, &files)?;
                eprintln!("inventory {id}: {total} scans received");
            }
            InventoryCommand::Report { id, json } => {
                let stdout = std::io::stdout();
                let mut out = std::io::BufWriter::new(stdout.lock());
                crate::shelf::print_report(&*db, id, json, &mut out)?;
                out.flush()?;
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}

fn bar(len: u64, template: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()).progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Imports one file with a progress bar and prints its summary. True when records were rejected.
fn import_one(
    db: &dyn Database,
    file: &Path,
    options: &import::ImportOptions,
    rejects: Option<&Path>,
) -> anyhow::Result<bool> {
    let size = std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?.len();
    let progress = bar(size, "{msg:.bold} [{bar:40}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}");
    progress.set_message(file.display().to_string());
    let started = Instant::now();
    let update = |bytes: u64, r: &import::ImportReport| {
        progress.set_position(bytes);
        progress.set_message(format!("{}: {} records", file.display(), r.read));
    };
    let mut sink = match rejects {
        Some(base) => import::RejectSink::at(base),
        None => import::RejectSink::beside(file),
    };
    let report = import::import_file(db, file, options, &mut sink, &update)?;
    progress.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    let r = &report;
    println!(
        "{}: read {}, added {}, replaced {}, unchanged {}, skipped {}, rejected {}; items added {}, already present {}, item problems {}; {:.1} s ({:.0} records/s)",
        file.display(),
        r.read,
        r.added,
        r.replaced,
        r.unchanged,
        r.skipped,
        r.rejected,
        r.items_added,
        r.items_existing,
        r.item_problems,
        secs,
        r.read as f64 / secs.max(1e-9),
    );
    for line in &r.first_rejects {
        println!("  rejected: {line}");
    }
    if let Some(path) = sink.report_path() {
        println!("  report: {}", path.display());
    }
    if let Some(path) = sink.records_path() {
        println!("  rejected records: {}", path.display());
    }
    Ok(r.rejected > 0)
}

fn export(db: &dyn Database, options: &import::ExportOptions, output: Option<&Path>) -> anyhow::Result<()> {
    let total = db.count_records()?;
    let started = Instant::now();
    let (records, items) = match output {
        Some(path) => {
            let progress = bar(total, "exporting [{bar:40}] {pos}/{len} records, eta {eta}");
            let mut file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
            let counts = import::export(db, options, &mut file, &|n| progress.set_position(n))?;
            file.sync_all()?;
            progress.finish_and_clear();
            counts
        }
        None => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            let counts = import::export(db, options, &mut lock, &|_| {})?;
            lock.flush()?;
            counts
        }
    };
    eprintln!("exported {records} records and {items} items in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Makes the demo's `admin` account if there is none, and says how to log in.
fn announce_demo_admin(db: &dyn Database, configured: Option<&str>) -> anyhow::Result<()> {
    match crate::staff::demo_admin(db, configured)? {
        Some(_) if configured.is_some() => {
            eprintln!("staff log-in: admin, with admin_password from the settings file")
        }
        Some(password) => eprintln!("staff log-in: admin / {password}  (POST /api/v1/session)"),
        None => eprintln!("staff log-in: the existing admin account"),
    }
    Ok(())
}

fn create_demo(db: &dyn Database, records: usize) -> anyhow::Result<()> {
    if db.count_records()? > 0 {
        eprintln!("the catalog already has records: leaving it as it is");
        return Ok(());
    }
    let library = crate::demo::generate(2026, records);
    for b in &library.branches {
        db.upsert_branch(b)?;
    }
    for l in &library.locations {
        db.upsert_location(l)?;
    }
    for t in &library.item_types {
        db.upsert_item_type(t)?;
    }
    for p in &library.patrons {
        db.upsert_patron(p)?;
    }
    // The demo records take the same road as a cataloger's file: written as ISO 2709, then
    // imported, so the demo exercises the real import path.
    let mut file = Vec::new();
    for record in &library.records {
        marc::iso2709::write_record(record, &mut file).context("the demo generator made an unwritable record")?;
    }
    let progress = bar(file.len() as u64, "demo library [{bar:40}] {msg}");
    let mut rejects = import::RejectSink::at(&std::env::temp_dir().join("shelfmark-demo.rejects"));
    let options = import::ImportOptions { on_match: OnMatch::Add, ..Default::default() };
    let report = import::import_reader(
        db,
        std::io::Cursor::new(file),
        &options,
        &mut rejects,
        &|bytes: u64, r: &import::ImportReport| {
            progress.set_position(bytes);
            progress.set_message(format!("{} records", r.read));
        },
    )?;
    if report.rejected > 0 || report.item_problems > 0 {
        bail!("the demo generator made records the import refused: {}", report.first_rejects.join("; "));
    }
    progress.finish_and_clear();
    eprintln!(
        "demo library: {} branches, {} patrons, {} records, {} items",
        library.branches.len(),
        library.patrons.len(),
        report.added,
        report.items_added
    );
    Ok(())
}

/// The web server, the daily jobs and (with `[sip2]`) the self-check server, with the settings
/// of `file`.
fn serve_http(
    db: Arc<dyn Database>,
    bind: SocketAddr,
    library_name: Option<String>,
    file: &crate::config::FileConfig,
    index_dir: &Path,
) -> anyhow::Result<()> {
    let (desk, oai, sip2) = (file.desk()?, file.oai()?, file.sip2()?);
    // Checked now so that a mistake in a target stops the server at start-up, naming it.
    file.copycat()?;
    let copycat_settings = file.copycat.clone().unwrap_or_default();
    let notices = file.notices(&display_name(&library_name))?;
    desk.load_settings(&*db).context("cannot read the edited settings and the emergency closures")?;
    // The daily jobs run on a thread of their own, checking the clock each minute; dropping
    // the scheduler when the server stops ends it.
    let _scheduler =
        jobs::Scheduler::start(db.clone(), desk.clone(), notices.clone(), std::time::Duration::from_secs(60))
            .context("cannot start the daily jobs")?;
    let search = web::Search::start(index_dir, db.clone(), search::IndexSettings::default())
        .with_context(|| format!("cannot open the search index in {}", index_dir.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(bind).await.with_context(|| format!("cannot listen on {bind}"))?;
        // SIP2 kiosks beside the web server, on the same runtime and the same desk.
        if let Some(sip2) = sip2 {
            let sip_bind = sip2.bind;
            let tls = if sip2.tls.is_some() { " (TLS)" } else { "" };
            let sip_listener = tokio::net::TcpListener::bind(sip_bind)
                .await
                .with_context(|| format!("cannot listen for SIP2 on {sip_bind}"))?;
            let acs = selfcheck::Acs::new(db.clone(), desk.clone(), sip2, Arc::new(chrono::Utc::now));
            let server = selfcheck::Server::new(acs).context("the [sip2] TLS certificate and key")?;
            eprintln!("SIP2 self-check on {}{tls}", sip_listener.local_addr()?);
            tokio::spawn(async move {
                if let Err(error) = server.serve(sip_listener).await {
                    tracing::error!(%error, "the SIP2 server stopped");
                }
            });
        }
        let mut config = web::WebConfig { oai, copycat: copycat_settings, ..web::WebConfig::default() };
        if let Some(name) = library_name {
            config.library_name = name;
        }
        eprintln!("Shelfmark is serving {} on http://{}", config.library_name, listener.local_addr()?);
        web::serve(listener, web::router_with_notices(db, config, desk, Some(search), notices)).await?;
        anyhow::Ok(())
    })
}

/// The library's name as notices sign it.
fn display_name(name: &Option<String>) -> String {
    name.clone().unwrap_or_else(|| web::WebConfig::default().library_name)
}

fn callnumber(command: &CallnumberCommand) -> anyhow::Result<ExitCode> {
    let CallnumberCommand::Sort { scheme, labels } = command;
    let scheme = match scheme {
        SchemeArg::Auto => callnumber::Scheme::Auto,
        SchemeArg::Lc => callnumber::Scheme::Lc,
        SchemeArg::Dewey => callnumber::Scheme::Dewey,
    };
    let mut input = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut input)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if *labels {
        for line in callnumber::label_lines(&input, scheme) {
            writeln!(out, "{line}")?;
        }
    } else {
        for line in callnumber::sort_lines(&input, scheme) {
            writeln!(out, "{line}")?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
