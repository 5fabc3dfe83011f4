//! A real browser for the page tests: Debian's headless Chromium, driven
//! through its `chromedriver` over WebDriver with fantoccini.
//!
//! Without Chromium or chromedriver a test prints how to install them and
//! returns, unless `LATCHKEY_REQUIRE_BROWSER=1` (as in CI), when it fails.
//! Screenshots land in `target/ui-screenshots/<test>/` (under
//! `CARGO_TARGET_DIR` when that is set).

mod flows;
mod gallery;
mod invitation;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use tokio::sync::{Mutex, MutexGuard};

const CHROMIUM: &str = "/usr/bin/chromium";
const DRIVER: &str = "chromedriver";
pub const DESKTOP: u32 = 1280;
pub const PHONE: u32 = 375;
const HEIGHT: u32 = 860;

/// One browser at a time: the machine has two cores.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

pub struct Browser {
    pub client: Client,
    driver: Child,
    driver_url: String,
    _profile: tempfile::TempDir,
    screenshots: PathBuf,
    step: usize,
    width: u32,
    _turn: MutexGuard<'static, ()>,
}

fn driver_path() -> Option<PathBuf> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .chain([
            PathBuf::from("/usr/bin"),
            PathBuf::from("/usr/lib/chromium"),
        ])
        .map(|dir| dir.join(DRIVER))
        .find(|path| path.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// `target/ui-screenshots/<test>`, emptied for this run.
fn screenshot_dir(test: &str) -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|dir| manifest.join(dir))
        .unwrap_or_else(|| manifest.join("target"));
    let dir = target.join("ui-screenshots").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the screenshot directory");
    dir
}

impl Browser {
    /// A fresh browser, or `None` (with a message) when none is installed.
    pub async fn start(test: &str) -> Option<Browser> {
        Browser::launch(test, true).await
    }

    /// A browser that runs no page script, for the plain-forms fallbacks.
    pub async fn start_without_script(test: &str) -> Option<Browser> {
        Browser::launch(test, false).await
    }

    async fn launch(test: &str, script: bool) -> Option<Browser> {
        let driver_path = driver_path();
        if !Path::new(CHROMIUM).is_file() || driver_path.is_none() {
            let install = "apt-get install chromium chromium-driver";
            assert!(
                std::env::var("LATCHKEY_REQUIRE_BROWSER").as_deref() != Ok("1"),
                "LATCHKEY_REQUIRE_BROWSER=1 but Chromium or chromedriver is missing: {install}"
            );
            eprintln!("SKIPPED {test}: no Chromium or chromedriver; to run it: {install}");
            return None;
        }
        let turn = ONE_AT_A_TIME.lock().await;
        let port = free_port();
        let driver = Command::new(driver_path.unwrap())
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver_url = format!("http://127.0.0.1:{port}");
        let profile = tempfile::tempdir().expect("a profile directory");
        let client = connect(&driver_url, profile.path(), script).await;
        let mut browser = Browser {
            client,
            driver,
            driver_url,
            _profile: profile,
            screenshots: screenshot_dir(test),
            step: 0,
            width: 0,
            _turn: turn,
        };
        browser.set_width(DESKTOP).await;
        Some(browser)
    }

    /// The viewport's width; the window is sized so the page gets exactly it.
    pub async fn set_width(&mut self, width: u32) {
        self.client
            .set_window_size(width, HEIGHT)
            .await
            .expect("resize");
        let inner = self.eval("return window.innerWidth").await;
        let inner = u32::try_from(inner.as_u64().unwrap()).unwrap();
        if inner != width {
            self.client
                .set_window_size(2 * width - inner, HEIGHT)
                .await
                .expect("resize");
        }
        self.width = width;
        let inner = self.eval("return window.innerWidth").await;
        assert_eq!(inner, json!(width), "the viewport is {width} px wide");
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigation");
    }

    /// Saves `NN-<name>-<width>.png` for this step.
    pub async fn screenshot(&mut self, name: &str) {
        self.step += 1;
        // Let transitions and fonts settle.
        tokio::time::sleep(Duration::from_millis(150)).await;
        let png = self.client.screenshot().await.expect("a screenshot");
        let file = format!("{:02}-{name}-{}.png", self.step, self.width);
        std::fs::write(self.screenshots.join(file), png).expect("the screenshot is saved");
    }

    /// Saves the whole page, beyond the window's height, for this step.
    pub async fn screenshot_page(&mut self, name: &str) {
        self.step += 1;
        tokio::time::sleep(Duration::from_millis(150)).await;
        let metrics = self.devtools("Page.getLayoutMetrics", json!({})).await;
        let size = &metrics["cssContentSize"];
        let shot = self
            .devtools(
                "Page.captureScreenshot",
                json!({
                    "format": "png",
                    "captureBeyondViewport": true,
                    "clip": { "x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1 },
                }),
            )
            .await;
        let png = STANDARD
            .decode(shot["data"].as_str().expect("screenshot data"))
            .expect("base64 PNG");
        let file = format!("{:02}-{name}-{}.png", self.step, self.width);
        std::fs::write(self.screenshots.join(file), png).expect("the screenshot is saved");
    }

    /// A Chrome DevTools command, through chromedriver.
    async fn devtools(&self, cmd: &str, params: Value) -> Value {
        self.driver_command("goog/cdp/execute", json!({ "cmd": cmd, "params": params }))
            .await
    }

    /// A chromedriver command that fantoccini has no method for.
    async fn driver_command(&self, path: &str, body: Value) -> Value {
        let session = self
            .client
            .session_id()
            .await
            .expect("a session")
            .expect("a session id");
        let answer: Value = reqwest::Client::new()
            .post(format!("{}/session/{session}/{path}", self.driver_url))
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("chromedriver {path}: {e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("chromedriver {path} as JSON: {e}"));
        answer["value"].clone()
    }

    pub async fn eval(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script {script:?} failed: {e}"))
    }

    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(5))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// The id of the focused element, or its tag name when it has none.
    pub async fn focused(&self) -> String {
        let value = self
            .eval("const e = document.activeElement; return e.id || e.tagName.toLowerCase()")
            .await;
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Presses and releases a key wherever focus is, as a person would.
    pub async fn press(&self, key: Key) {
        let value = char::from(key);
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value })
            .then(KeyAction::Up { value });
        self.client
            .perform_actions(keys)
            .await
            .expect("the key is pressed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    /// Presses Tab until the element with this id has focus.
    pub async fn tab_to(&self, id: &str) {
        for _ in 0..40 {
            if self.focused().await == id {
                return;
            }
            self.press(Key::Tab).await;
        }
        panic!("Tab never reached #{id}");
    }

    /// Waits until the expression is true.
    pub async fn wait_until(&self, what: &str, expression: &str) {
        let deadline = Instant::now() + Duration::from_secs(5);
        let script = format!("return {expression}");
        while self.eval(&script).await != json!(true) {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Everything the page logged at error level since the last call:
    /// script errors, failed loads, and Content-Security-Policy violations.
    pub async fn console_errors(&self) -> Vec<String> {
        let logs = self
            .driver_command("se/log", json!({ "type": "browser" }))
            .await;
        logs.as_array()
            .unwrap_or_else(|| panic!("no browser log: {logs}"))
            .iter()
            .filter(|entry| entry["level"] == "SEVERE" || entry["level"] == "WARNING")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_owned())
            .collect()
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
    }
}

async fn connect(driver_url: &str, profile: &Path, script: bool) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".into(), json!("chrome"));
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                format!("--user-data-dir={}", profile.display()),
            ],
            "prefs": {
                "profile.managed_default_content_settings.javascript": if script { 1 } else { 2 },
            },
        }),
    );
    capabilities.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities.clone())
            .connect(driver_url)
            .await
        {
            Ok(client) => return client,
            // chromedriver takes a moment to listen.
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("chromedriver at {driver_url} gave no session: {e}"),
        }
    }
}
