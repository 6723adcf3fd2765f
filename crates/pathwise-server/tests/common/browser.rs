//! The browser harness shared by the Chromium end-to-end tests: a chromedriver child process,
//! one browser session at a time, screenshots in `target/browser-artifacts/<name>.png`, and
//! helpers to wait for, query and click elements.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian: `apt-get install chromium
//! chromium-driver`; override with `PATHWISE_CHROMIUM` / `PATHWISE_CHROMEDRIVER`). Without them
//! the tests fail, unless `PATHWISE_SKIP_BROWSER=1` is set.

use std::future::Future;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// Longest wait for anything to appear.
pub const WAIT: Duration = Duration::from_secs(20);

/// One browser at a time: Chromium is heavy, and tests run in parallel threads.
pub static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub fn skip_requested() -> bool {
    std::env::var("PATHWISE_SKIP_BROWSER").is_ok_and(|v| v == "1")
}

pub fn tool(env: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(env).map_or_else(|| PathBuf::from(default), PathBuf::from);
    assert!(
        path.is_file(),
        "{} not found at {}: install Chromium and its driver (Debian: `apt-get install -y \
         chromium chromium-driver`), point {env} at it, or set PATHWISE_SKIP_BROWSER=1 to skip \
         the browser tests",
        default.rsplit('/').next().unwrap_or(default),
        path.display()
    );
    path
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A chromedriver child process (in its own process group, with the browsers it starts),
/// stopped on drop.
pub struct Driver {
    child: Child,
    port: u16,
    profile: tempfile::TempDir,
}

impl Driver {
    pub fn start() -> Driver {
        let chromedriver = tool("PATHWISE_CHROMEDRIVER", "/usr/bin/chromedriver");
        let port = free_port();
        let mut command = Command::new(chromedriver);
        command
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().expect("chromedriver starts");
        let driver = Driver {
            child,
            port,
            profile: tempfile::tempdir().expect("a temporary browser profile"),
        };
        let deadline = Instant::now() + WAIT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        driver
    }

    pub async fn session(&self) -> Client {
        let chromium = tool("PATHWISE_CHROMIUM", "/usr/bin/chromium");
        let profile = format!("--user-data-dir={}", self.profile.path().display());
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1400,1000",
                    profile,
                ]
            }
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        ClientBuilder::native()
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a Chromium session through chromedriver")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole group: chromedriver and any browser it left behind.
        #[cfg(unix)]
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn artifacts_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    let dir = target.join("browser-artifacts");
    std::fs::create_dir_all(&dir).expect("the artifacts directory");
    dir
}

pub async fn screenshot(client: &Client, name: &str) {
    match client.screenshot().await {
        Ok(png) => {
            let path = artifacts_dir().join(format!("{name}.png"));
            std::fs::write(&path, png).expect("write the screenshot");
            eprintln!("screenshot: {}", path.display());
        }
        Err(e) => eprintln!("no screenshot for {name}: {e}"),
    }
}

/// Runs `body` in a fresh browser session, then saves a screenshot (also when `body` fails)
/// and closes the browser before reporting the outcome.
pub async fn in_browser<F, Fut>(name: &str, body: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    if skip_requested() {
        eprintln!("PATHWISE_SKIP_BROWSER=1: skipping the browser test {name}");
        return;
    }
    let _turn = ONE_BROWSER.lock().await;
    let driver = Driver::start();
    let client = driver.session().await;
    let outcome = tokio::spawn(body(client.clone())).await;
    screenshot(&client, name).await;
    if let Err(e) = client.close().await {
        eprintln!("closing the browser: {e}");
    }
    drop(driver);
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("{name}: {e}"),
        }
    }
}

pub fn base() -> String {
    format!("http://{}", super::fixture_server())
}

pub async fn trace_id_named(base: &str, name: &str) -> String {
    let page: Value = reqwest::get(format!("{base}/api/traces?q={name}&limit=1"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["traces"][0]["trace_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no trace named {name}"))
        .to_string()
}

/// Waits for an element matching `css`.
pub async fn element(client: &Client, css: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css:?} within {WAIT:?}: {e}"))
}

/// Runs a script returning JSON.
pub async fn js(client: &Client, script: &str) -> Value {
    client
        .execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
}

/// Waits until the JavaScript expression `condition` is truthy.
pub async fn until(client: &Client, what: &str, condition: &str) {
    let script = format!("return Boolean({condition});");
    let deadline = Instant::now() + WAIT;
    loop {
        if js(client, &script).await == Value::Bool(true) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Opens `url` and waits for the view's first render.
pub async fn open(client: &Client, url: &str, view: &str) {
    client.goto(url).await.expect("navigation");
    element(
        client,
        &format!("body[data-ready=\"1\"][data-view=\"{view}\"]"),
    )
    .await;
}

/// Scrolls the element matching `css` to the middle of its scroller (clear of the sticky
/// waterfall header and the status bar) and clicks it.
pub async fn click(client: &Client, css: &str) {
    let target = element(client, css).await;
    client
        .execute(
            "arguments[0].scrollIntoView({block: 'center', inline: 'nearest'});",
            vec![serde_json::to_value(&target).unwrap()],
        )
        .await
        .unwrap();
    target
        .click()
        .await
        .unwrap_or_else(|e| panic!("cannot click {css:?}: {e}"));
}

/// How many traces the API lists with `status`.
pub async fn traces_with_status(base: &str, status: &str) -> usize {
    let page: Value = reqwest::get(format!("{base}/api/traces?status={status}&limit=1000"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["traces"].as_array().unwrap().len()
}

pub async fn texts(client: &Client, css: &str) -> Vec<String> {
    let script =
        format!("return [...document.querySelectorAll({css:?})].map(e => e.textContent.trim());");
    serde_json::from_value(js(client, &script).await).unwrap()
}

/// Scrolls the element matching `css` to the top of the page's scroller.
pub async fn scroll_to(client: &Client, css: &str) {
    element(client, css).await;
    client
        .execute(
            &format!("document.querySelector({css:?}).scrollIntoView({{block: 'start'}});"),
            vec![],
        )
        .await
        .unwrap();
    // Let the scroll paint before a screenshot.
    tokio::time::sleep(Duration::from_millis(150)).await;
}

/// Opens the Analysis page at `url` and waits for its node table to settle (it is drawn again
/// when the p95 trends arrive, which would leave a found cell stale).
pub async fn open_analysis_settled(client: &Client, url: &str) {
    open(client, url, "analysis").await;
    until(
        client,
        "the node table with its trends",
        "document.querySelector('#node-table') && !document.querySelector('#node-table .spark-wait')",
    )
    .await;
}

/// After a drill-down: waits for the trace list to show its rows, then gives each row's trace
/// id and status, top to bottom.
pub async fn listed_traces(client: &Client) -> Vec<(String, String)> {
    until(
        client,
        "the trace list",
        "location.hash.startsWith('#/traces') && document.body.dataset.ready === '1' \
         && document.querySelectorAll('#trace-rows tr[data-trace-id]').length > 0",
    )
    .await;
    let rows = js(
        client,
        "return [...document.querySelectorAll('#trace-rows tr[data-trace-id]')].map((r) => [r.dataset.traceId, r.dataset.status]);",
    )
    .await;
    serde_json::from_value(rows).unwrap()
}
