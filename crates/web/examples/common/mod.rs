//! What the benchmarks share: percentiles, a free port, the staff screens' set-up ([`staff`]),
//! and Zebra (Debian idzebra-2.0, Koha's engine) indexing a MARC file with the
//! `shared/peers/zebra` configuration and serving it.

#![allow(dead_code)] // each benchmark uses its own part

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub mod staff;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The configuration in `shared/peers/zebra`, beside this repository.
pub fn default_zebra_config() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/peers/zebra"))
}

pub fn ms(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Percent-encodes a query-string value.
pub fn encode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// The hit count of an SRU searchRetrieve response.
pub fn sru_hits(body: &str) -> Option<u64> {
    let start = body.find("numberOfRecords>")? + "numberOfRecords>".len();
    body[start..].split('<').next()?.trim().parse().ok()
}

pub fn free_port() -> Result<u16, Error> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Zebra with the file indexed, serving Z39.50 and SRU on `port`.
pub struct Zebra {
    pub child: Child,
}

impl Drop for Zebra {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What building Zebra's index took.
pub struct ZebraIndexing {
    pub elapsed: Duration,
    /// The largest resident set `zebraidx` reached, sampled from /proc every 20 ms (KiB).
    pub peak_rss_kib: u64,
}

/// Indexes `file` with `zebraidx` into `dir`, configured for a server on `port`.
pub fn index_zebra(config: &Path, dir: &Path, file: &Path, port: u16) -> Result<ZebraIndexing, Error> {
    for sub in ["reg", "lock", "tmp"] {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    for name in ["zebra.cfg", "yazgfs.xml"] {
        let text = std::fs::read_to_string(config.join(name))?
            .replace("ZEBRA_DIR", &dir.display().to_string())
            .replace("PORT", &port.to_string());
        std::fs::write(dir.join(name), text)?;
    }
    std::fs::copy("/usr/share/yaz/etc/pqf.properties", dir.join("pqf.properties"))?;
    let run = |args: &[&str]| -> Result<u64, Error> {
        let mut child =
            Command::new("zebraidx").args(args).current_dir(dir).stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
        let mut peak = 0;
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            peak = peak.max(peak_rss_kib(child.id()).unwrap_or(0));
            std::thread::sleep(Duration::from_millis(20));
        };
        if !status.success() {
            return Err(format!("zebraidx {args:?} failed: {status}").into());
        }
        Ok(peak)
    };
    run(&["-c", "zebra.cfg", "init"])?;
    let file = file.canonicalize()?;
    let started = Instant::now();
    let peak_rss_kib = run(&["-c", "zebra.cfg", "-t", "grs.marcxml.marc21", "update", &file.display().to_string()])?;
    Ok(ZebraIndexing { elapsed: started.elapsed(), peak_rss_kib })
}

/// `zebrasrv` over the index in `dir`, once it listens on `port`.
pub fn serve_zebra(dir: &Path, port: u16) -> Result<Zebra, Error> {
    let child = Command::new("zebrasrv")
        .args(["-f", "yazgfs.xml"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > Duration::from_secs(30) {
            return Err("zebrasrv did not start listening".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(Zebra { child })
}

pub fn start_zebra(config: &Path, dir: &Path, file: &Path, port: u16) -> Result<Zebra, Error> {
    index_zebra(config, dir, file, port)?;
    serve_zebra(dir, port)
}

/// A process's peak resident set (`VmHWM`, KiB); `None` once it has gone.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The bytes under `dir`, every file counted once.
pub fn size_of_dir(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => size_of_dir(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
