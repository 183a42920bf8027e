//! Headless Chromium for the page tests: a chromedriver of our own on 127.0.0.1, a fresh
//! profile, and the helpers every browser test needs (keyboard input, waiting for a page,
//! axe-core, screenshots). Debian's `chromium` and `chromium-driver` are the peer; under `CI`
//! a missing one fails the test, elsewhere the test is skipped with a note.

#![allow(dead_code)] // each test binary uses its own part of the harness

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

/// A serious or critical axe-core finding, kept short enough to read in a failure message.
#[derive(Debug)]
pub struct Violation {
    pub id: String,
    pub impact: String,
    pub help: String,
    pub nodes: Vec<String>,
}

fn installed(tool: &str) -> bool {
    Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().is_ok_and(|o| o.status.success())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

impl Browser {
    /// Chromium at 1280x720, or `None` (outside CI only) when it is not installed.
    pub async fn start() -> Option<Browser> {
        for tool in ["chromium", "chromedriver"] {
            if !installed(tool) {
                assert!(std::env::var_os("CI").is_none(), "CI is set but {tool} is not installed");
                eprintln!("skipping the browser test: {tool} is not installed");
                return None;
            }
        }
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().expect("profile dir");
        // Without the networking switches Chromium keeps calling home, which on a closed
        // network means a stream of failing connections; --no-sandbox because CI runs as root.
        let args = [
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-default-apps".into(),
            "--no-first-run".into(),
            "--window-size=1280,720".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), json!({ "args": args }));
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector).capabilities(capabilities.clone()).connect(&url).await {
                Ok(client) => break client,
                Err(e) if started.elapsed() < Duration::from_secs(30) => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("no WebDriver session from chromedriver on port {port}: {e}"),
            }
        };
        Some(Browser { client, driver, _profile: profile })
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    pub async fn find(&self, css: &str) -> Element {
        self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(css)).await.unwrap_or_else(|e| panic!("looking for {css}: {e}"))
    }

    /// Waits (up to ten seconds) for an element, as after a form is sent.
    pub async fn wait_for(&self, css: &str) -> Element {
        let started = Instant::now();
        loop {
            if let Ok(found) = self.client.find(Locator::Css(css)).await {
                return found;
            }
            if started.elapsed() > Duration::from_secs(10) {
                let alerts = match self.client.find_all(Locator::Css("[role='alert']")).await {
                    Ok(found) => {
                        let mut texts = Vec::new();
                        for a in found {
                            texts.push(a.text().await.unwrap_or_default());
                        }
                        texts
                    }
                    Err(_) => Vec::new(),
                };
                panic!("{css} never appeared on {}; alerts on the page: {alerts:?}", self.path().await);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap_or_else(|e| panic!("text of {css}: {e}"))
    }

    /// Types into a field the way a person (or a barcode scanner) does, then Enter, and waits
    /// for the page the form leads to.
    pub async fn type_and_enter(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        let before = self.find("html").await;
        field
            .send_keys(&format!("{text}{}", char::from(Key::Enter)))
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
        self.wait_until_gone(before).await;
    }

    /// Keyboard activation of a link or button: focus it, press Enter, and wait for the page it
    /// leads to.
    pub async fn press_enter_on(&self, element: &Element) {
        let before = self.find("html").await;
        element.send_keys(&char::from(Key::Enter).to_string()).await.expect("press Enter");
        self.wait_until_gone(before).await;
    }

    /// Waits (up to ten seconds) until `old` belongs to a page no longer shown, so that what is
    /// looked for next is found on the new page, never on the one being left.
    async fn wait_until_gone(&self, old: Element) {
        let started = Instant::now();
        while old.tag_name().await.is_ok() {
            assert!(started.elapsed() < Duration::from_secs(10), "the page did not change from {}", self.path().await);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The path and query of the page now shown.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("current url");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// Runs axe-core on the page shown and returns its serious and critical violations.
    pub async fn axe(&self) -> Vec<Violation> {
        let source = std::fs::read_to_string(axe_path()).expect("read axe.min.js");
        self.client.execute(&source, vec![]).await.expect("inject axe-core");
        let result = self
            .client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                   axe.run(document, { resultTypes: ['violations'] })
                     .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
                         nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ')) }))))
                     .catch(e => done({ error: String(e) }));"#,
                vec![],
            )
            .await
            .expect("run axe-core");
        let Value::Array(found) = result else { panic!("axe-core failed: {result}") };
        found
            .into_iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .map(|v| Violation {
                id: v["id"].as_str().unwrap_or_default().into(),
                impact: v["impact"].as_str().unwrap_or_default().into(),
                help: v["help"].as_str().unwrap_or_default().into(),
                nodes: v["nodes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|n| n.as_str().map(String::from))
                    .collect(),
            })
            .collect()
    }

    /// Asserts axe-core finds nothing serious or critical on the page shown.
    pub async fn assert_accessible(&self, page: &str) {
        let violations = self.axe().await;
        assert!(violations.is_empty(), "axe-core on the {page} page ({}): {violations:#?}", self.path().await);
    }

    /// Writes a PNG of the page shown to `target/tmp/screenshots/NAME.png`, for a person to
    /// look at.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "the screenshot is not a PNG");
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Resizes the window: 1280x720 is the desk's screen, 768x1024 a tablet held upright.
    pub async fn set_window_size(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.expect("resize the window");
    }

    /// Whether the page shown fits its window's width (no sideways scrolling).
    pub async fn fits_width(&self) -> bool {
        let fits = self
            .client
            .execute("return document.documentElement.scrollWidth <= window.innerWidth;", vec![])
            .await
            .expect("measure the page");
        fits == Value::Bool(true)
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// axe-core's `axe.min.js`: `SHELFMARK_AXE` (scripts/test fetches it from the npm registry).
fn axe_path() -> PathBuf {
    match std::env::var_os("SHELFMARK_AXE") {
        Some(path) => PathBuf::from(path),
        None => panic!("SHELFMARK_AXE must name axe-core's axe.min.js (scripts/test sets it)"),
    }
}

/// Whether the axe-core checks can run; under `CI` they must.
pub fn have_axe() -> bool {
    let found = std::env::var_os("SHELFMARK_AXE").is_some_and(|p| std::path::Path::new(&p).is_file());
    if !found {
        assert!(std::env::var_os("CI").is_none(), "CI is set but SHELFMARK_AXE does not name axe.min.js");
        eprintln!("skipping the axe-core checks: SHELFMARK_AXE does not name axe.min.js");
    }
    found
}
