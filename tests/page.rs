//! The page in a real browser: `gpu-mlp serve` serves web/dist/ (built by `bash web/build.sh`,
//! which .ci/test runs first) and headless Chromium (Debian's chromium and chromium-driver;
//! webdriver.json's flags give it SwiftShader's WebGPU) opens it with its settings in the link,
//! driven through WebDriver; each test reads the page's `#status` element as automation would.
//! Without the built page or chromedriver the tests fail under CI and are skipped elsewhere.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// One browser at a time: two SwiftShader GPUs on a 2-core machine would only slow each other.
static BROWSER: Mutex<()> = Mutex::new(());

/// How long a page may take to train before the test gives up.
const DEADLINE: Duration = Duration::from_secs(600);

/// How long a button may take to change the page's state.
const STATE_DEADLINE: Duration = Duration::from_secs(60);

/// Asks `check` every 100 ms until it answers `Ok`, failing after `deadline` with `what` and
/// what the last look saw (`check`'s `Err`).
fn poll<T>(deadline: Duration, what: &str, mut check: impl FnMut() -> Result<T, String>) -> T {
    let start = Instant::now();
    loop {
        match check() {
            Ok(answer) => return answer,
            Err(seen) => assert!(start.elapsed() < deadline, "{what}: {seen}"),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn site() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("web/dist")
}

fn chromedriver() -> PathBuf {
    std::env::var_os("CHROMEDRIVER").map_or_else(|| PathBuf::from("/usr/bin/chromedriver"), PathBuf::from)
}

/// A child process killed when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `gpu-mlp serve` on a free port, and the address it printed.
fn serve(extra: &[&str]) -> (Killed, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gpu-mlp"))
        .args(["serve", "--port", "0", "--site"])
        .arg(site())
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("gpu-mlp serve starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let child = Killed(child);
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("serve's output");
        if let Some(url) = line.strip_prefix("serving the page at ") {
            let url = url.split_whitespace().next().expect("an address").to_string();
            return (child, url);
        }
    }
    panic!("gpu-mlp serve ended without printing its address");
}

/// A WebDriver session in headless Chromium, with webdriver.json's flags.
struct Browser {
    _driver: Killed,
    base: String,
}

impl Browser {
    fn open() -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new(chromedriver())
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver = Killed(driver);
        let root = format!("http://127.0.0.1:{port}");
        poll(Duration::from_secs(30), "chromedriver never answered", || {
            call("GET", &format!("{root}/status"), None)
        });
        let options: Value = serde_json::from_str(include_str!("../webdriver.json")).expect("webdriver.json is JSON");
        let mut always = options.as_object().expect("an object").clone();
        always.insert("browserName".into(), json!("chrome"));
        let session = call(
            "POST",
            &format!("{root}/session"),
            Some(json!({ "capabilities": { "alwaysMatch": always } })),
        )
        .expect("a browser session");
        let id = session["sessionId"].as_str().expect("a session id").to_string();
        Browser {
            _driver: driver,
            base: format!("{root}/session/{id}"),
        }
    }

    /// Runs `source` in every page before the page's own scripts (chromedriver's DevTools
    /// passthrough).
    fn before_every_page(&self, source: &str) {
        call(
            "POST",
            &format!("{}/goog/cdp/execute", self.base),
            Some(json!({ "cmd": "Page.addScriptToEvaluateOnNewDocument", "params": { "source": source } })),
        )
        .expect("a script before every page");
    }

    fn go(&self, url: &str) {
        call("POST", &format!("{}/url", self.base), Some(json!({ "url": url }))).expect("the page opens");
    }

    /// `#status`'s data attributes.
    fn status(&self) -> Value {
        let script = "return Object.assign({}, document.getElementById('status').dataset);";
        call(
            "POST",
            &format!("{}/execute/sync", self.base),
            Some(json!({ "script": script, "args": [] })),
        )
        .expect("the script runs")
    }

    /// Runs `script` (a function body) in the page and returns its value.
    fn run(&self, script: &str) -> Value {
        call(
            "POST",
            &format!("{}/execute/sync", self.base),
            Some(json!({ "script": script, "args": [] })),
        )
        .expect("the script runs")
    }

    /// The file a download link of the page offers, fetched from its Blob URL.
    fn download(&self, id: &str) -> Vec<u8> {
        let script = format!(
            "const done = arguments[arguments.length - 1]; \
             fetch(document.getElementById('{id}').href).then(r => r.arrayBuffer()) \
             .then(b => done(Array.from(new Uint8Array(b)))).catch(e => done(String(e)));"
        );
        let value = call(
            "POST",
            &format!("{}/execute/async", self.base),
            Some(json!({ "script": script, "args": [] })),
        )
        .expect("the script runs");
        serde_json::from_value(value.clone()).unwrap_or_else(|_| panic!("{id} gave no bytes: {value}"))
    }

    /// Picks `file` in the file input `id`, as a person would.
    fn pick_file(&self, id: &str, file: &Path) {
        self.pick_files(id, &[file]);
    }

    /// Picks `files` at once in the file input `id` (one that takes several).
    fn pick_files(&self, id: &str, files: &[&Path]) {
        let found = call(
            "POST",
            &format!("{}/element", self.base),
            Some(json!({ "using": "css selector", "value": format!("#{id}") })),
        )
        .expect("the input exists");
        let element = found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .expect("an element reference")
            .to_string();
        call(
            "POST",
            &format!("{}/element/{element}/value", self.base),
            Some(json!({ "text": files.iter().map(|f| f.to_str().expect("a UTF-8 path")).collect::<Vec<_>>().join("\n") })),
        )
        .expect("the files are picked");
    }

    fn click(&self, id: &str) {
        self.run(&format!("document.getElementById('{id}').click(); return null;"));
    }

    /// Waits until `#status`'s state is `state`, and returns `#status`.
    fn wait_for_state(&self, state: &str) -> Value {
        poll(STATE_DEADLINE, &format!("the page never became {state}"), || {
            let status = self.status();
            match status["state"] == state {
                true => Ok(status),
                false => Err(status.to_string()),
            }
        })
    }

    /// Waits until the element `id`'s text starts with `prefix`.
    fn wait_for_text(&self, id: &str, prefix: &str) {
        poll(STATE_DEADLINE, &format!("{id} never said {prefix:?}"), || {
            let text = self.text(id);
            match text.starts_with(prefix) {
                true => Ok(()),
                false => Err(text),
            }
        })
    }

    /// The text of the element `id`.
    fn text(&self, id: &str) -> String {
        let script = format!("return document.getElementById('{id}').textContent;");
        let value = call(
            "POST",
            &format!("{}/execute/sync", self.base),
            Some(json!({ "script": script, "args": [] })),
        )
        .expect("the script runs");
        value.as_str().unwrap_or_default().to_string()
    }

    /// `#status` once a reset page is back to idle (its run's end may still report first).
    fn wait_until_done_or_idle(&self) -> Value {
        std::thread::sleep(Duration::from_millis(500));
        self.wait_for_state("idle")
    }

    /// `#status` once the page is done (finished or error).
    fn wait_until_done(&self) -> Value {
        poll(DEADLINE, "the page never finished", || {
            let status = self.status();
            match matches!(status["state"].as_str(), Some("finished" | "error")) {
                true => Ok(status),
                false => Err(status.to_string()),
            }
        })
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = call("DELETE", &self.base, None);
    }
}

/// One WebDriver command: its `value`, or the error it answered.
fn call(method: &str, url: &str, body: Option<Value>) -> Result<Value, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let response = match (method, body) {
        ("GET", _) => agent.get(url).call(),
        ("DELETE", _) => agent.delete(url).call(),
        (_, body) => agent
            .post(url)
            .header("Content-Type", "application/json")
            .send(body.unwrap_or(json!({})).to_string()),
    };
    let mut response = response.map_err(|e| e.to_string())?;
    let ok = response.status().is_success();
    let text = response.body_mut().read_to_string().map_err(|e| e.to_string())?;
    let value: Value = serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?;
    match ok {
        true => Ok(value["value"].clone()),
        false => Err(value.to_string()),
    }
}

/// The built page and chromedriver, or why the test cannot run (failing it under CI).
fn prerequisites(test: &str) -> bool {
    let missing = match (site().join("index.html").is_file(), chromedriver().is_file()) {
        (false, _) => format!(
            "the page is not built ({} lacks it: run `bash web/build.sh`)",
            site().display()
        ),
        (_, false) => format!(
            "{} is missing (apt-get install chromium chromium-driver)",
            chromedriver().display()
        ),
        _ => return true,
    };
    common::skip_unless_ci(test, &missing);
    false
}

/// Opens the page with `query` and returns `#status` when it is done, with the browser.
fn run_page(query: &str, serve_args: &[&str]) -> (Value, Browser) {
    let (_server, address) = serve(serve_args);
    let browser = Browser::open();
    browser.go(&format!("{address}{query}"));
    let status = browser.wait_until_done();
    (status, browser)
}

fn number(status: &Value, key: &str) -> f64 {
    status[key]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("#status has no number `{key}`: {status}"))
}

/// Every epoch of the native command line's run of `flags` (`train --out`): its `columns` of
/// history.csv, in order.
fn native_history(flags: &[&str], columns: &[&str]) -> Vec<Vec<f64>> {
    let out = tempfile::tempdir().expect("a temporary directory");
    let dir = out.path().join("run");
    let dir_text = dir.to_str().expect("a UTF-8 temporary path");
    let args: Vec<&str> = ["train"]
        .iter()
        .chain(flags)
        .chain(&["--out", dir_text])
        .copied()
        .collect();
    let run = common::gpu_mlp(&args);
    assert!(run.status.success(), "{}", common::output_text(&run));
    let history = std::fs::read_to_string(dir.join("history.csv")).expect("history.csv");
    let mut lines = history.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let at: Vec<usize> = columns
        .iter()
        .map(|name| header.iter().position(|h| h == name).expect("the column"))
        .collect();
    lines
        .map(|line| {
            let cells: Vec<f64> = line.split(',').map(|c| c.parse().unwrap_or(f64::NAN)).collect();
            at.iter().map(|&i| cells[i]).collect()
        })
        .collect()
}

/// The last epoch's `column` of the native command line's run of `flags`.
fn native_last_epoch(flags: &[&str], column: &str) -> f64 {
    native_history(flags, &[column]).last().expect("an epoch")[0]
}

/// What `tests/unchanged.rs` allows a machine that rounds differently (the browser's wasm GEMM
/// and SwiftShader sum in other orders than a native AVX2 kernel).
const RUN_TOL: f64 = 1e-3;

fn close(what: &str, page: f64, native: f64) {
    let err = (page - native).abs() / native.abs().max(1e-6);
    assert!(
        err <= RUN_TOL,
        "{what}: {page} on the page, {native} natively (rel {err:e})"
    );
}

const BLOBS: &str = "dataset=blobs&hidden=16&epochs=30&seed=1";
const BLOBS_FLAGS: [&str; 8] = ["--dataset", "blobs", "--hidden", "16", "--epochs", "30", "--seed", "1"];

#[test]
fn the_page_trains_blobs_on_webgpu_as_the_native_cpu_reference_does() {
    if !prerequisites("the_page_trains_blobs_on_webgpu_as_the_native_cpu_reference_does") {
        return;
    }
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let (status, browser) = run_page(&format!("/?{BLOBS}&device=gpu&autostart=1"), &[]);
    assert_eq!(status["state"], "finished", "{status}");
    assert_eq!(status["epoch"], "30", "{status}");
    assert!(number(&status, "test_accuracy") >= 0.95, "{status}");
    assert!(number(&status, "samples_per_second") > 0.0, "{status}");
    // The adapter it ran on, as the browser names it (SwiftShader in CI).
    let adapter = status["adapter"].as_str().unwrap_or_default();
    assert!(
        adapter.starts_with("gpu: ") && adapter.contains("BrowserWebGpu"),
        "{status}"
    );
    assert!(
        browser.text("adapter").contains("device=gpu"),
        "{}",
        browser.text("adapter")
    );
    assert_eq!(browser.text("epochs").matches('%').count(), 2 * 30, "a row per epoch");
    let native: Vec<&str> = BLOBS_FLAGS.iter().copied().chain(["--device", "cpu"]).collect();
    close(
        "train loss",
        number(&status, "train_loss"),
        native_last_epoch(&native, "train_loss"),
    );
    close(
        "test accuracy",
        number(&status, "test_accuracy"),
        native_last_epoch(&native, "test_accuracy"),
    );
}

#[test]
fn without_a_hardware_gpu_the_page_says_why_and_trains_on_the_cpu_reference() {
    if !prerequisites("without_a_hardware_gpu_the_page_says_why_and_trains_on_the_cpu_reference") {
        return;
    }
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    // device=auto: SwiftShader is a software renderer, as lavapipe is natively.
    let (status, browser) = run_page(&format!("/?{BLOBS}&autostart=1"), &[]);
    assert_eq!(status["state"], "finished", "{status}");
    assert!(
        status["adapter"].as_str().unwrap_or_default().starts_with("cpu"),
        "{status}"
    );
    let why = browser.text("adapter");
    assert!(why.contains("software renderer") && why.contains("device=gpu"), "{why}");
    assert!(number(&status, "test_accuracy") >= 0.95, "{status}");
}

/// A browser without WebGPU at all (no `navigator.gpu`, as in browsers that have not shipped
/// it) trains on the CPU reference and says why.
#[test]
fn a_browser_without_webgpu_trains_on_the_cpu_reference() {
    if !prerequisites("a_browser_without_webgpu_trains_on_the_cpu_reference") {
        return;
    }
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let (_server, address) = serve(&[]);
    let browser = Browser::open();
    browser.before_every_page("delete Navigator.prototype.gpu;");
    browser.go(&format!("{address}/?{BLOBS}&autostart=1"));
    let status = browser.wait_until_done();
    assert_eq!(browser.run("return typeof navigator.gpu;"), "undefined");
    assert_eq!(status["state"], "finished", "{status}");
    assert!(
        status["adapter"].as_str().unwrap_or_default().starts_with("cpu"),
        "{status}"
    );
    let why = browser.text("adapter");
    assert!(why.contains("offers no WebGPU adapter"), "{why}");
    assert!(number(&status, "test_accuracy") >= 0.95, "{status}");
}

#[test]
fn a_bad_setting_in_the_link_is_an_error_with_the_command_lines_message() {
    if !prerequisites("a_bad_setting_in_the_link_is_an_error_with_the_command_lines_message") {
        return;
    }
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let (server, address) = serve(&[]);
    let browser = Browser::open();
    let cli = common::gpu_mlp(&["train", "--dataset", "blobs", "--hidden", "0"]);
    let cli_message = String::from_utf8_lossy(&cli.stderr);
    let cli_message = cli_message
        .lines()
        .next()
        .expect("a message")
        .trim_start_matches("error: ");
    for (query, expected) in [
        ("dataset=blobs&hidden=0", cli_message),
        (
            "dataset=blobs&hidden=abc",
            "invalid hidden: (--hidden) invalid value 'abc': expected a whole number",
        ),
        ("dataset=blobs&hiden=16", "unknown key `hiden` (did you mean `hidden`?)"),
        (
            "dataset=blobs&lr=-1",
            "invalid lr: (--lr) must be a finite number > 0, got -1",
        ),
        (
            "data_dir=/tmp",
            "`data_dir` names a file on the computer that runs the command line",
        ),
    ] {
        browser.go(&format!("{address}/?{query}&autostart=1"));
        let status = browser.wait_until_done();
        assert_eq!(status["state"], "error", "{query}: {status}");
        let error = status["error"].as_str().unwrap_or_default();
        assert!(error.contains(expected), "{query}: {error:?} lacks {expected:?}");
        assert_eq!(browser.text("error"), error, "{query}: shown on the page");
    }
    drop(server);
}

#[test]
fn the_page_trains_on_the_fashion_files_gpu_mlp_serve_offers() {
    if !prerequisites("the_page_trains_on_the_fashion_files_gpu_mlp_serve_offers")
        || !common::fashion_or_skip("the_page_trains_on_the_fashion_files_gpu_mlp_serve_offers")
    {
        return;
    }
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let query = "/?dataset=fashion&train_samples=10000&hidden=64&epochs=3&optimizer=adam&seed=1&device=gpu&autostart=1";
    let (status, browser) = run_page(query, &[]);
    assert_eq!(status["state"], "finished", "{status}");
    let accuracy = number(&status, "test_accuracy");
    assert!(accuracy >= 0.80, "{status}");
    // The test split's confusion matrix (every test image counted once) and misclassified images
    // with their names, from the weights the run ended with.
    let heading = browser.run("return document.querySelector('#results h2').textContent;");
    assert_eq!(
        heading,
        format!("The test split: 10000 images, {:.2}% right", 100.0 * accuracy)
    );
    let counted = browser.run(
        "return [...document.querySelectorAll('.confusion td')].reduce((s, td) => s + Number(td.textContent), 0);",
    );
    assert_eq!(counted, 10000);
    let captions = browser.run("return [...document.querySelectorAll('.gallery figcaption')].map(f => f.textContent);");
    let captions: Vec<String> = serde_json::from_value(captions).expect("captions");
    assert_eq!(captions.len(), 12, "{captions:?}");
    assert!(
        captions[0].contains(" → ") && captions.iter().any(|c| c.contains("Shirt") || c.contains("Coat")),
        "{captions:?}"
    );
    // Try it: a stroke on the pad gives every class a probability.
    browser.run(
        "const pad = document.getElementById('sketch'); \
         const at = (type, x, y) => pad.dispatchEvent(new PointerEvent(type, {clientX: pad.getBoundingClientRect().left + x, \
           clientY: pad.getBoundingClientRect().top + y, bubbles: true})); \
         at('pointerdown', 140, 40); for (let y = 40; y <= 240; y += 10) at('pointermove', 140, y); at('pointerup', 140, 240); \
         return null;",
    );
    let shares = browser.run(
        "return [...document.querySelectorAll('#sketch-probabilities li')].map(li => parseFloat(li.textContent.split(': ')[1]));",
    );
    let shares: Vec<f64> = serde_json::from_value(shares).expect("probabilities");
    assert_eq!(shares.len(), 10, "{shares:?}");
    assert!((shares.iter().sum::<f64>() - 100.0).abs() < 1.0, "{shares:?}");
    let native = native_last_epoch(
        &[
            "--dataset",
            "fashion",
            "--train-samples",
            "10000",
            "--hidden",
            "64",
            "--epochs",
            "3",
            "--optimizer",
            "adam",
            "--seed",
            "1",
            "--device",
            "cpu",
        ],
        "test_accuracy",
    );
    // 10,000 test images: a few flipped by rounding is a 1e-3 difference.
    assert!(
        (accuracy - native).abs() <= 3e-3,
        "{accuracy} on the page, {native} natively"
    );
}

#[test]
fn dataset_files_the_server_lacks_are_an_error_saying_where_to_put_them() {
    if !prerequisites("dataset_files_the_server_lacks_are_an_error_saying_where_to_put_them") {
        return;
    }
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let empty = tempfile::tempdir().expect("a temporary directory");
    let empty = empty.path().to_str().expect("a UTF-8 temporary path");
    let (status, _browser) = run_page("/?dataset=fashion&autostart=1", &["--data-dir", empty]);
    assert_eq!(status["state"], "error", "{status}");
    let error = status["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("cannot fetch data/fashion/train-images-idx3-ubyte.gz: HTTP 404")
            && error.contains("gpu-mlp serve"),
        "{error}"
    );
}

#[test]
fn the_page_trains_the_spiral_and_its_curves_are_the_runs_history() {
    if !prerequisites("the_page_trains_the_spiral_and_its_curves_are_the_runs_history") {
        return;
    }
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let settings = "dataset=spiral&noise=0.1&hidden=32,32&optimizer=adam&lr=0.01&batch_size=32&epochs=60&seed=3";
    let (status, browser) = run_page(&format!("/?{settings}&device=cpu&autostart=1"), &[]);
    assert_eq!(status["state"], "finished", "{status}");
    assert!(number(&status, "test_accuracy") >= 0.90, "{status}");
    // The decision regions were drawn for this two-input network.
    assert_eq!(
        browser.run("return document.getElementById('boundary-box').hidden;"),
        false
    );
    let points = browser.run("return JSON.parse(document.getElementById('loss-chart').dataset.points);");
    let points = points.as_array().expect("the curves' points");
    let native = native_history(
        &[
            "--dataset",
            "spiral",
            "--noise",
            "0.1",
            "--hidden",
            "32,32",
            "--optimizer",
            "adam",
            "--lr",
            "0.01",
            "--batch-size",
            "32",
            "--epochs",
            "60",
            "--seed",
            "3",
            "--device",
            "cpu",
        ],
        &["train_loss", "test_accuracy"],
    );
    assert_eq!(points.len(), native.len(), "a point per epoch");
    for (i, (point, row)) in points.iter().zip(&native).enumerate() {
        let (loss, accuracy) = (&row[0], &row[1]);
        let at = |k: usize| point[k].as_f64().unwrap_or(f64::NAN);
        assert_eq!(at(0), (i + 1) as f64);
        // Each epoch's figures as history.csv rounds them (6 decimals), within the run tolerance.
        assert!(
            (at(1) - loss).abs() <= RUN_TOL * loss.max(1e-3) + 1e-6,
            "epoch {}: loss {} vs {loss}",
            i + 1,
            at(1)
        );
        assert!(
            (at(6) - accuracy).abs() <= 1e-6 + 0.005,
            "epoch {}: accuracy {} vs {accuracy}",
            i + 1,
            at(6)
        );
    }
}

#[test]
fn the_form_is_the_declaration_and_the_link_follows_it() {
    if !prerequisites("the_form_is_the_declaration_and_the_link_follows_it") {
        return;
    }
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let (_server, address) = serve(&[]);
    let browser = Browser::open();
    browser.go(&format!("{address}/?dataset=xor&hidden=8"));
    browser.wait_for_state("idle");
    // A field per setting the page can use, filled from the link, the rest empty (defaults).
    let fields =
        browser.run("return [...document.querySelectorAll('#settings-form [name]')].map(e => [e.name, e.value]);");
    let fields: Vec<(String, String)> = serde_json::from_value(fields).expect("name/value pairs");
    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    for key in [
        "dataset",
        "noise",
        "hidden",
        "activation",
        "optimizer",
        "lr",
        "epochs",
        "batch_size",
        "seed",
        "device",
    ] {
        assert!(names.contains(&key), "{key} missing from {names:?}");
    }
    for key in ["data_dir", "data", "test_data", "backend"] {
        assert!(!names.contains(&key), "{key} is not for the page");
    }
    let value = |key: &str| fields.iter().find(|(n, _)| n == key).map(|(_, v)| v.clone());
    assert_eq!(value("dataset").as_deref(), Some("xor"));
    assert_eq!(value("hidden").as_deref(), Some("8"));
    assert_eq!(value("epochs").as_deref(), Some(""));
    // A change goes into the link; a bad value is marked with the command line's message.
    let set = |key: &str, v: &str| {
        browser.run(&format!(
            "const e = document.getElementById('setting-{key}'); e.value = '{v}'; \
             e.dispatchEvent(new Event('change')); return null;"
        ));
    };
    set("epochs", "7");
    let search = browser.run("return location.search;");
    assert_eq!(search, "?dataset=xor&hidden=8&epochs=7");
    set("lr", "-1");
    let error = browser.text("settings-error");
    assert!(
        error.contains("invalid lr: (--lr) must be a finite number > 0, got -1"),
        "{error}"
    );
    assert_eq!(
        browser.run("return document.getElementById('setting-lr').getAttribute('aria-invalid');"),
        "true"
    );
    browser.click("start");
    let status = browser.wait_until_done();
    assert_eq!(status["state"], "error", "{status}");
    set("lr", "");
    assert_eq!(browser.text("settings-error"), "");
    assert_eq!(browser.run("return location.search;"), "?dataset=xor&hidden=8&epochs=7");
}

#[test]
fn pause_step_and_reset_drive_the_run() {
    if !prerequisites("pause_step_and_reset_drive_the_run") {
        return;
    }
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let (_server, address) = serve(&[]);
    let browser = Browser::open();
    browser.go(&format!(
        "{address}/?dataset=blobs&samples=4000&hidden=16&epochs=500&batch_size=16&device=cpu"
    ));
    browser.wait_for_state("idle");
    browser.click("start");
    browser.wait_for_state("training");
    browser.click("pause");
    browser.wait_for_state("paused");
    // Paused, it stays where it is.
    let text = || browser.text("status");
    let paused_at = text();
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(text(), paused_at, "a paused run does not move");
    assert_eq!(browser.status()["state"], "paused");
    // A step runs one chunk, then waits again.
    browser.click("step");
    poll(STATE_DEADLINE, "the step never happened", || {
        match text() == paused_at || browser.status()["state"] != "paused" {
            true => Err(text()),
            false => Ok(()),
        }
    });
    assert_ne!(text(), paused_at);
    // Start goes on; Reset ends the run and empties the page.
    browser.click("start");
    browser.wait_for_state("training");
    browser.click("reset");
    let status = browser.wait_until_done_or_idle();
    assert_eq!(status["state"], "idle", "{status}");
    assert_eq!(browser.text("epochs"), "");
    assert_eq!(status["epoch"], "0");
}

#[test]
fn a_run_trained_on_the_page_goes_home_to_the_command_line() {
    if !prerequisites("a_run_trained_on_the_page_goes_home_to_the_command_line") {
        return;
    }
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let (status, browser) = run_page("/?dataset=xor&noise=0.1&hidden=8&activation=tanh&optimizer=adam&lr=0.01&batch_size=32&epochs=12&seed=4&device=gpu&autostart=1", &[]);
    assert_eq!(status["state"], "finished", "{status}");
    let home = tempfile::tempdir().expect("a temporary directory");
    let save = |id: &str, name: &str| {
        let path = home.path().join(name);
        std::fs::write(&path, browser.download(id)).expect("saved");
        path
    };
    let model = save("download-model", "model.safetensors");
    let config = save("download-config", "config.toml");
    let history = std::fs::read_to_string(save("download-history", "history.csv")).expect("text");
    assert_eq!(history.lines().count(), 13, "a header and 12 epochs: {history}");
    // gpu-mlp eval scores the page's weights to the page's test accuracy.
    let eval = common::gpu_mlp(&["eval", "--checkpoint", model.to_str().expect("UTF-8"), "--json"]);
    assert!(eval.status.success(), "{}", common::output_text(&eval));
    let scored: Value = serde_json::from_slice(&eval.stdout).expect("eval's JSON");
    let accuracy = scored["accuracy"].as_f64().expect("an accuracy");
    assert!(
        (accuracy - number(&status, "test_accuracy")).abs() < 1e-9,
        "{accuracy} vs {status}"
    );
    // The page's config.toml reruns the same run on the command line.
    let rerun = native_history(
        &["--config", config.to_str().expect("UTF-8"), "--device", "cpu"],
        &["train_loss"],
    );
    let last_loss: f64 = history
        .lines()
        .last()
        .and_then(|l| l.split(',').nth(1))
        .and_then(|v| v.parse().ok())
        .expect("the page's last train loss");
    assert_eq!(rerun.len(), 12);
    close("rerun train loss", last_loss, rerun[11][0]);
}

#[test]
fn a_run_trained_by_the_command_line_loads_into_the_page_and_predicts_as_predict_does() {
    if !prerequisites("a_run_trained_by_the_command_line_loads_into_the_page_and_predicts_as_predict_does") {
        return;
    }
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let home = tempfile::tempdir().expect("a temporary directory");
    let run = home.path().join("run");
    let trained = common::gpu_mlp(&[
        "train",
        "--dataset",
        "circle",
        "--hidden",
        "16",
        "--epochs",
        "8",
        "--seed",
        "2",
        "--device",
        "cpu",
        "--out",
        run.to_str().expect("UTF-8"),
    ]);
    assert!(trained.status.success(), "{}", common::output_text(&trained));
    let checkpoint = run.join("last.safetensors");
    let checkpoint_text = checkpoint.to_str().expect("UTF-8");
    let (_server, address) = serve(&[]);
    let browser = Browser::open();
    browser.go(&format!("{address}/"));
    browser.wait_for_state("idle");
    browser.pick_file("load-model", &checkpoint);
    let loaded = poll(STATE_DEADLINE, "never loaded", || {
        let accuracy = browser.run("return document.getElementById('loaded').dataset.test_accuracy || null;");
        match accuracy.as_str() {
            Some(accuracy) => Ok(accuracy.parse::<f64>().unwrap_or(f64::NAN)),
            None => Err(browser.text("loaded")),
        }
    });
    let eval = common::gpu_mlp(&["eval", "--checkpoint", checkpoint_text, "--json"]);
    let scored: Value = serde_json::from_slice(&eval.stdout).expect("eval's JSON");
    assert_eq!(Some(loaded), scored["accuracy"].as_f64(), "{}", browser.text("loaded"));
    // Pointing at the regions gives the probabilities `predict --point` gives there.
    browser.run(
        "const c = document.getElementById('boundary-chart'); const r = c.getBoundingClientRect(); \
         c.dispatchEvent(new MouseEvent('mousemove', {clientX: r.left + r.width * 0.62, clientY: r.top + r.height * 0.4, bubbles: true})); \
         return null;",
    );
    let (x, y) = (
        browser.run("return document.getElementById('point-probabilities').dataset.x;"),
        browser.run("return document.getElementById('point-probabilities').dataset.y;"),
    );
    let point = format!("{},{}", x.as_str().expect("an x"), y.as_str().expect("a y"));
    let shown = browser.text("point-probabilities");
    let predicted = common::gpu_mlp(&["predict", "--checkpoint", checkpoint_text, "--point", &point]);
    let predicted = String::from_utf8_lossy(&predicted.stdout).into_owned();
    assert!(shown.starts_with("at ("), "{shown}");
    assert_eq!(predicted.lines().count(), 2, "both classes: {predicted}");
    for line in predicted.lines() {
        // `1. 1 outside  84.63%`: the class name and its share, as the page shows them.
        let words: Vec<&str> = line.split_whitespace().collect();
        let (name, share) = (words[2], words[words.len() - 1]);
        assert!(
            shown.contains(&format!("{name} {share}")),
            "page: {shown}; predict: {predicted}"
        );
    }
}

/// A small table: two numeric columns, a text category and the class (three species).
fn table_csv(rows: usize) -> String {
    let mut csv = String::from("mass,flipper,island,species\n");
    for i in 0..rows {
        let (species, mass, flipper, island) = match i % 3 {
            0 => ("Adelie", 3700.0, 190.0, "Dream"),
            1 => ("Gentoo", 5000.0, 217.0, "Biscoe"),
            _ => ("Chinstrap", 3730.0, 204.0, "Torgersen"),
        };
        let wobble = ((i * 37) % 11) as f64 - 5.0;
        csv += &format!("{},{},{island},{species}\n", mass + 20.0 * wobble, flipper + wobble);
    }
    csv
}

#[test]
fn a_table_picked_from_disk_trains_and_a_malformed_one_gets_the_command_lines_message() {
    if !prerequisites("a_table_picked_from_disk_trains_and_a_malformed_one_gets_the_command_lines_message") {
        return;
    }
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let home = tempfile::tempdir().expect("a temporary directory");
    let good = home.path().join("penguins.csv");
    std::fs::write(&good, table_csv(150)).expect("written");
    let bad = home.path().join("bad.csv");
    std::fs::write(
        &bad,
        "mass,flipper,island,species\n3700,190,Dream,Adelie\n5000,217,Biscoe\n",
    )
    .expect("written");
    let (_server, address) = serve(&[]);
    let browser = Browser::open();
    browser.go(&format!(
        "{address}/?target=species&hidden=16&epochs=30&optimizer=adam&lr=0.01&batch_size=16&device=cpu"
    ));
    browser.wait_for_state("idle");
    browser.pick_file("pick-table", &good);
    browser.wait_for_text("table-picked", "training on penguins.csv");
    browser.click("start");
    let status = browser.wait_until_done();
    assert_eq!(status["state"], "finished", "{status}");
    assert!(number(&status, "test_accuracy") >= 0.9, "{status}");
    // The same reader as the command line's: the same message, naming the line.
    browser.pick_file("pick-table", &bad);
    browser.wait_for_text("table-picked", "training on bad.csv");
    browser.click("start");
    let status = browser.wait_until_done();
    assert_eq!(status["state"], "error", "{status}");
    let cli = common::gpu_mlp_in(
        home.path(),
        &["train", "--data", "bad.csv", "--target", "species", "--device", "cpu"],
    );
    let cli = String::from_utf8_lossy(&cli.stderr);
    let cli = cli.lines().next().expect("a message").trim_start_matches("error: ");
    assert!(cli.contains("line 3"), "{cli}");
    // The command line names the file by its absolute path; the page by the name picked.
    let page = status["error"].as_str().unwrap_or_default();
    assert_eq!(cli, format!("{}/{page}", home.path().display()), "{status}");
}

#[test]
fn hostile_inputs_get_the_command_lines_messages_on_the_page() {
    if !prerequisites("hostile_inputs_get_the_command_lines_messages_on_the_page")
        || !common::fashion_or_skip("hostile_inputs_get_the_command_lines_messages_on_the_page")
    {
        return;
    }
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let home = tempfile::tempdir().expect("a temporary directory");
    let error_of = |browser: &Browser, what: &str| -> String {
        let status = browser.wait_until_done();
        assert_eq!(status["state"], "error", "{what}: {status}");
        let error = status["error"].as_str().unwrap_or_default().to_string();
        assert_eq!(browser.text("error"), error, "{what}: shown on the page");
        error
    };
    let cli_error = |args: &[&str]| -> String {
        let out = common::gpu_mlp_in(home.path(), args);
        assert!(!out.status.success());
        let text = String::from_utf8_lossy(&out.stderr).into_owned();
        text.lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("error: ")
            .to_string()
    };
    // The part of a message after the file it names (the page names files as it got them).
    let after_path = |m: &str| m.split_once(": ").map(|(_, rest)| rest.to_string()).unwrap_or_default();
    // A truncated IDX file, served by `gpu-mlp serve` as it found it.
    let data = home.path().join("fashion");
    std::fs::create_dir_all(&data).expect("a folder");
    let installed = gpu_mlp::data::idx_files(gpu_mlp::data::DatasetName::Fashion, None).expect("Fashion-MNIST");
    for (i, (source, name)) in installed.iter().zip(gpu_mlp::data::locate::FILES).enumerate() {
        let mut bytes = std::fs::read(source).expect("Fashion-MNIST installed");
        if i == 0 {
            // gzipped train images, cut short
            bytes.truncate(100_000);
        }
        std::fs::write(data.join(format!("{name}.gz")), bytes).expect("written");
    }
    let data_dir = home.path().to_str().expect("UTF-8");
    let (server, address) = serve(&["--data-dir", data_dir]);
    let browser = Browser::open();
    browser.go(&format!("{address}/?dataset=fashion&device=cpu&autostart=1"));
    let page = error_of(&browser, "a truncated IDX file");
    let cli = cli_error(&[
        "train",
        "--dataset",
        "fashion",
        "--data-dir",
        data_dir,
        "--device",
        "cpu",
    ]);
    assert!(page.starts_with("data/fashion/train-images-idx3-ubyte.gz: "), "{page}");
    assert_eq!(after_path(&page), after_path(&cli), "page: {page}; command line: {cli}");
    drop(server);
    // An absurd hidden size: refused before anything is allocated.
    let (_server, address) = serve(&[]);
    browser.go(&format!("{address}/?dataset=blobs&hidden=100000000&autostart=1"));
    let page = error_of(&browser, "an absurd hidden size");
    assert!(
        page.starts_with(
            "invalid hidden: a 2-100000000-2 network (500000064 parameters, batch 128) needs about 99.1 GiB of memory"
        ),
        "{page}"
    );
    // NaN cells in a table: the command line's message, and which setting fixes it.
    let nan = home.path().join("nan.csv");
    std::fs::write(&nan, "a,b,species\n1,2,x\nNaN,3,y\n4,5,x\n").expect("written");
    browser.go(&format!("{address}/?target=species&device=cpu"));
    browser.wait_for_state("idle");
    browser.pick_file("pick-table", &nan);
    browser.wait_for_text("table-picked", "training on nan.csv");
    browser.click("start");
    let page = error_of(&browser, "NaN cells");
    let cli = cli_error(&["train", "--data", "nan.csv", "--target", "species", "--device", "cpu"]);
    assert!(
        page.starts_with("nan.csv: line 3, column `a`: missing value `NaN`"),
        "{page}"
    );
    assert_eq!(after_path(&page), after_path(&cli), "page: {page}; command line: {cli}");
}

#[test]
fn a_runs_config_toml_fills_the_form_and_the_link() {
    if !prerequisites("a_runs_config_toml_fills_the_form_and_the_link") {
        return;
    }
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let home = tempfile::tempdir().expect("a temporary directory");
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        "dataset = \"xor\"\nhidden = [8, 4]\nepochs = 7\noptimizer = \"adam\"\nlr = 0.01\n",
    )
    .expect("written");
    let (_server, address) = serve(&[]);
    let browser = Browser::open();
    browser.go(&format!("{address}/?epochs=3&seed=9"));
    browser.wait_for_state("idle");
    browser.pick_file("load-config", &config);
    browser.wait_for_text("config-loaded", "settings from config.toml");
    assert_eq!(
        browser.run("return location.search;"),
        "?dataset=xor&hidden=8%2C4&optimizer=adam&lr=0.01&epochs=7"
    );
    assert_eq!(browser.text("settings-error"), "");
}

#[test]
fn image_files_picked_from_disk_train_without_a_server_offering_them() {
    if !prerequisites("image_files_picked_from_disk_train_without_a_server_offering_them")
        || !common::fashion_or_skip("image_files_picked_from_disk_train_without_a_server_offering_them")
    {
        return;
    }
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let installed = gpu_mlp::data::idx_files(gpu_mlp::data::DatasetName::Fashion, None).expect("Fashion-MNIST");
    let nothing = tempfile::tempdir().expect("a temporary directory");
    let (_server, address) = serve(&["--data-dir", nothing.path().to_str().expect("UTF-8")]);
    let browser = Browser::open();
    browser.go(&format!(
        "{address}/?dataset=fashion&train_samples=3000&hidden=32&epochs=2&optimizer=adam&device=cpu"
    ));
    browser.wait_for_state("idle");
    let files: Vec<&Path> = installed.iter().map(|p| p.as_path()).collect();
    browser.pick_files("pick-idx", &files);
    browser.wait_for_text("idx-picked", "training on ");
    browser.click("start");
    let status = browser.wait_until_done();
    assert_eq!(status["state"], "finished", "{status}");
    assert!(number(&status, "test_accuracy") >= 0.6, "{status}");
}

#[test]
fn once_loaded_the_page_works_offline() {
    if !prerequisites("once_loaded_the_page_works_offline") {
        return;
    }
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let (server, address) = serve(&[]);
    let browser = Browser::open();
    browser.go(&format!("{address}/"));
    browser.wait_for_state("idle");
    // The service worker has installed (the page and its wasm cached) and controls the page.
    poll(STATE_DEADLINE, "no service worker took the page", || {
        match browser.run("return navigator.serviceWorker.controller !== null;") == true {
            true => Ok(()),
            false => {
                browser.go(&format!("{address}/"));
                Err("not controlled".into())
            }
        }
    });
    drop(server);
    browser.go(&format!(
        "{address}/?dataset=blobs&hidden=16&epochs=10&seed=1&device=cpu&autostart=1"
    ));
    let status = browser.wait_until_done();
    assert_eq!(status["state"], "finished", "offline: {status}");
    assert!(number(&status, "test_accuracy") >= 0.95, "{status}");
}

#[test]
fn a_picture_dropped_on_the_sketchpad_is_classified_as_predict_classifies_it() {
    if !prerequisites("a_picture_dropped_on_the_sketchpad_is_classified_as_predict_classifies_it")
        || !common::fashion_or_skip("a_picture_dropped_on_the_sketchpad_is_classified_as_predict_classifies_it")
    {
        return;
    }
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let home = tempfile::tempdir().expect("a temporary directory");
    let run = home.path().join("run");
    let trained = common::gpu_mlp(&[
        "train",
        "--dataset",
        "fashion",
        "--train-samples",
        "3000",
        "--hidden",
        "32",
        "--epochs",
        "1",
        "--device",
        "cpu",
        "--out",
        run.to_str().expect("UTF-8"),
    ]);
    assert!(trained.status.success(), "{}", common::output_text(&trained));
    // Test image 0 as a PNG file.
    let fashion = gpu_mlp::data::load(gpu_mlp::data::DatasetName::Fashion, &Default::default()).expect("Fashion-MNIST");
    let test = fashion.test.expect("a test split");
    let gpu_mlp::data::Features::U8(pixels) = &test.features else {
        panic!("images are bytes")
    };
    let picture = home.path().join("garment.png");
    {
        let file = std::fs::File::create(&picture).expect("created");
        let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), 28, 28);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        encoder
            .write_header()
            .expect("header")
            .write_image_data(&pixels[..784])
            .expect("pixels");
    }
    let (_server, address) = serve(&[]);
    let browser = Browser::open();
    browser.go(&format!("{address}/"));
    browser.wait_for_state("idle");
    browser.pick_file("load-model", &run.join("last.safetensors"));
    browser.wait_for_text("loaded", "last.safetensors: ");
    let bytes: Vec<u8> = std::fs::read(&picture).expect("the picture");
    browser.run(&format!(
        "const dt = new DataTransfer(); dt.items.add(new File([new Uint8Array({bytes:?})], 'garment.png', {{type: 'image/png'}})); \
         document.getElementById('sketch').dispatchEvent(new DragEvent('drop', {{dataTransfer: dt, bubbles: true, cancelable: true}})); \
         return null;"
    ));
    poll(STATE_DEADLINE, "no probabilities for the picture", || {
        let shown = browser.run("return document.querySelectorAll('#sketch-probabilities li').length;");
        match shown == 10 {
            true => Ok(()),
            false => Err(format!("{shown} shown")),
        }
    });
    let shown = browser.text("sketch-probabilities");
    let predicted = common::gpu_mlp(&[
        "predict",
        "--checkpoint",
        run.join("last.safetensors").to_str().expect("UTF-8"),
        "--image",
        picture.to_str().expect("UTF-8"),
        "--top-k",
        "3",
    ]);
    let predicted = String::from_utf8_lossy(&predicted.stdout).into_owned();
    let ranked: Vec<&str> = predicted.lines().filter(|l| l.contains('%')).collect();
    assert_eq!(ranked.len(), 3, "{predicted}");
    for line in ranked {
        // `1. 9 Ankle boot  48.14%`: the class's name and its share, as the page rounds it.
        let words: Vec<&str> = line.split_whitespace().collect();
        let name = words[2..words.len() - 1].join(" ");
        let share: f64 = words[words.len() - 1].trim_end_matches('%').parse().expect("a share");
        assert!(
            shown.contains(&format!("{name}: {share:.1}%")),
            "page: {shown}; predict: {predicted}"
        );
    }
}

/// The first number after `label` in the line of `text` that holds it.
fn number_after(text: &str, label: &str) -> f64 {
    let line = text
        .lines()
        .find(|l| l.contains(label))
        .unwrap_or_else(|| panic!("no {label:?} in:\n{text}"));
    let after = &line[line.find(label).expect("found") + label.len()..];
    let number: String = after
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e'))
        .collect();
    number
        .parse()
        .unwrap_or_else(|_| panic!("no number after {label:?} in {line:?}"))
}

#[test]
fn one_step_is_explained_with_the_gpus_values_beside_the_cpus() {
    if !prerequisites("one_step_is_explained_with_the_gpus_values_beside_the_cpus") {
        return;
    }
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let (_server, address) = serve(&[]);
    let browser = Browser::open();
    browser.go(&format!("{address}/?dataset=blobs&hidden=8&batch_size=16&seed=3"));
    browser.wait_for_state("idle");
    browser.run("document.getElementById('explain-batch').value = '1'; return null;");
    browser.click("explain");
    let summary = poll(STATE_DEADLINE, "never explained", || {
        let summary = browser.run(
            "const s = document.getElementById('explain-summary'); \
             return {state: s.dataset.state, largest: s.dataset.largest, gap: s.dataset.gap, text: s.textContent};",
        );
        match summary["state"] == "done" || summary["state"] == "error" {
            true => Ok(summary),
            false => Err(summary.to_string()),
        }
    });
    assert_eq!(summary["state"], "done", "{summary}");
    // On the browser's WebGPU (SwiftShader here), within the kernels' parity tolerance.
    let gap: f64 = summary["gap"].as_str().and_then(|g| g.parse().ok()).expect("a gap");
    assert!(gap <= 1e-5, "{summary}");
    let tensors = browser
        .run("return [...document.querySelectorAll('#explain-tensors td:first-child')].map(td => td.textContent);");
    let tensors: Vec<String> = serde_json::from_value(tensors).expect("names");
    for name in common::STEP_TENSORS {
        assert!(tensors.iter().any(|t| t == name), "{name} in {tensors:?}");
    }
    assert!(
        tensors.iter().any(|t| Some(t.as_str()) == summary["largest"].as_str()),
        "{summary}"
    );
    // The CPU reference's numbers are the command line's.
    let page = browser.text("explain-text");
    let native = common::gpu_mlp(&[&["explain", "--batch", "1"][..], &common::EXPLAINED_RUN].concat());
    let native = common::output_text(&native);
    for label in ["mean loss over the batch L =", "‖dW1‖ =", "‖dW2‖ ="] {
        let (on_page, natively) = (number_after(&page, label), number_after(&native, label));
        assert!(
            (on_page - natively).abs() <= 1e-5 * natively.abs().max(1.0),
            "{label} {on_page} on the page, {natively} natively"
        );
    }
}
