//! Starting the outside Z39.50 servers (yaz-ztest, zebrasrv) on 127.0.0.1 and asking
//! `yaz-client` the same questions our client asks.
#![allow(dead_code)]

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether `program` is installed. Missing outside CI: the test says so and passes without
/// running; missing under `CI`: the test fails, because CI must judge us by the peer.
pub fn peer_available(program: &str, package: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set but {program} (Debian package {package}) is not installed");
        }
        eprintln!("skipping: {program} (Debian package {package}) is not installed");
    }
    found
}

pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// A server process, killed when the test is done with it.
pub struct Server {
    pub child: Child,
    pub port: u16,
}

impl Server {
    /// Starts `command` and waits until it accepts connections on `port`.
    pub fn start(mut command: Command, port: u16) -> Server {
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {command:?}: {e}"));
        let mut server = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        // The server binds after it has read its configuration: poll until it listens.
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("{command:?} exited with {status} before listening on {port}");
            }
            assert!(Instant::now() < deadline, "{command:?} is not listening on {port} after 20 s");
            std::thread::sleep(Duration::from_millis(25));
        }
        server
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The hit count `yaz-client` reports for a PQF query on `database`.
pub fn yaz_client_hits(port: u16, database: &str, pqf: &str) -> u64 {
    let script = format!("open tcp:127.0.0.1:{port}/{database}\nfind {pqf}\nquit\n");
    let output = run_with_input(Command::new("yaz-client"), &script);
    let hits = output
        .lines()
        .find_map(|line| line.strip_prefix("Number of hits: "))
        .unwrap_or_else(|| panic!("yaz-client printed no hit count for {pqf}:\n{output}"));
    hits.split(',')
        .next()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("yaz-client's hit count is not a number: {hits}"))
}

pub fn run_with_input(mut command: Command, input: &str) -> String {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {command:?}: {e}"));
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write to the child");
    let output = child.wait_with_output().expect("wait for the child");
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

pub fn run(command: &mut Command, dir: &Path) {
    let output = command.current_dir(dir).output().unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
