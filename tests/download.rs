//! Downloading against an HTTP server this test runs on 127.0.0.1: good files, a corrupted
//! file, a dropped connection, and a second run that fetches nothing. The server serves the
//! Debian package's Fashion-MNIST files (CI installs them).

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use gpu_mlp::data::download::{download, Limits, MAX_FILE_BYTES};
use gpu_mlp::data::{load, DatasetName, LoadOptions};

const DEBIAN_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// How the server answers a request for `file`.
#[derive(Clone, Copy)]
enum Behaviour {
    Serve,
    /// Flips one byte in the middle of the file.
    Corrupt,
    /// Promises the whole file, sends half, and closes.
    Drop,
    /// Accepts the request and never answers.
    Silent,
    /// Answers with a body of no announced length that never ends (until the client leaves).
    Endless,
    /// Promises a megabyte and sends a byte every half second: never a read timeout.
    Trickle,
}

/// Serves the Debian files over HTTP on an ephemeral port until the test process ends;
/// `behaviour(file)` decides each answer. Returns the base URL and a request counter.
fn serve(behaviour: fn(&str) -> Behaviour) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind on loopback");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&requests);
    thread::spawn(move || {
        // Bounded: a download is four requests; no test makes more than 8.
        for stream in listener.incoming().take(8) {
            let Ok(mut stream) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            let mut request_line = String::new();
            let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            // Skip the headers.
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let file = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_string();
            match behaviour(&file) {
                Behaviour::Silent => {
                    // Hold the connection open, unanswered, until the client gives up.
                    let _ = reader.read_line(&mut line);
                    continue;
                }
                Behaviour::Trickle => {
                    let _ =
                        stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\nConnection: close\r\n\r\n");
                    // Bounded: a minute at most, or until the client hangs up.
                    for _ in 0..120 {
                        if stream.write_all(b"x").and_then(|()| stream.flush()).is_err() {
                            break;
                        }
                        thread::sleep(std::time::Duration::from_millis(500));
                    }
                    continue;
                }
                Behaviour::Endless => {
                    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
                    let zeros = vec![0u8; 1 << 16];
                    // Bounded: stops at 4× the client's cap, or when it hangs up.
                    for _ in 0..(4 * MAX_FILE_BYTES as usize / zeros.len()) {
                        if stream.write_all(&zeros).is_err() {
                            break;
                        }
                    }
                    continue;
                }
                _ => {}
            }
            let Ok(mut body) = std::fs::read(Path::new(DEBIAN_DIR).join(&file)) else {
                let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                continue;
            };
            let full = body.len();
            match behaviour(&file) {
                Behaviour::Serve => {}
                Behaviour::Corrupt => {
                    let mid = body.len() / 2;
                    body[mid] ^= 0xff;
                }
                Behaviour::Drop => body.truncate(full / 2),
                Behaviour::Silent | Behaviour::Endless | Behaviour::Trickle => {}
            }
            let header = format!("HTTP/1.1 200 OK\r\nContent-Length: {full}\r\nConnection: close\r\n\r\n");
            let _ = stream.write_all(header.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    (url, requests)
}

fn assert_nothing_written(dir: &Path) {
    assert_eq!(std::fs::read_dir(dir).expect("dir").count(), 0, "nothing written");
}

fn fashion_files_present() -> bool {
    if Path::new(DEBIAN_DIR).join("t10k-labels-idx1-ubyte.gz").is_file() {
        return true;
    }
    common::skip_unless_ci(
        "download tests",
        &format!("{DEBIAN_DIR} is missing (CI installs dataset-fashion-mnist)"),
    );
    false
}

#[test]
fn downloads_verifies_and_does_not_fetch_twice() {
    if !fashion_files_present() {
        return;
    }
    let (url, requests) = serve(|_| Behaviour::Serve);
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("fashion");
    let mut seen = 0u64;
    let paths = download(
        DatasetName::Fashion,
        &target,
        Some(&url),
        Limits::DEFAULT,
        &mut |_, done, _| seen = seen.max(done),
    )
    .expect("downloads");
    assert_eq!(paths.len(), 4);
    assert_eq!(requests.load(Ordering::SeqCst), 4);
    assert!(seen > 1_000_000, "progress reported ({seen} bytes)");
    let splits = load(
        DatasetName::Fashion,
        &LoadOptions {
            data_dir: Some(dir.path().into()),
            ..LoadOptions::default()
        },
    )
    .expect("loads");
    assert_eq!(
        (splits.train.len(), splits.test.as_ref().map_or(0, |t| t.len())),
        (60_000, 10_000)
    );
    // Everything verifies: a second run asks the server for nothing.
    download(
        DatasetName::Fashion,
        &target,
        Some(&url),
        Limits::DEFAULT,
        &mut |_, _, _| {},
    )
    .expect("nothing to do");
    assert_eq!(requests.load(Ordering::SeqCst), 4);
}

#[test]
fn a_corrupted_file_is_rejected_and_not_written() {
    if !fashion_files_present() {
        return;
    }
    let (url, _) = serve(|f| {
        if f.starts_with("train-labels") {
            Behaviour::Corrupt
        } else {
            Behaviour::Serve
        }
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let err = download(
        DatasetName::Fashion,
        dir.path(),
        Some(&url),
        Limits::DEFAULT,
        &mut |_, _, _| {},
    )
    .expect_err("refused");
    let msg = err.to_string();
    assert!(
        msg.contains("train-labels-idx1-ubyte.gz") && msg.contains("nothing was written"),
        "{msg}"
    );
    assert!(!dir.path().join("train-labels-idx1-ubyte.gz").exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(
        leftovers,
        ["train-images-idx3-ubyte.gz"],
        "only the verified file before it, no temporary files"
    );
}

#[test]
fn a_dropped_connection_is_an_error_not_a_truncated_file() {
    if !fashion_files_present() {
        return;
    }
    let (url, _) = serve(|_| Behaviour::Drop);
    let dir = tempfile::tempdir().expect("temp dir");
    let err = download(
        DatasetName::Fashion,
        dir.path(),
        Some(&url),
        Limits::DEFAULT,
        &mut |_, _, _| {},
    )
    .expect_err("fails");
    let msg = err.to_string();
    assert!(
        msg.contains("train-images-idx3-ubyte.gz") && msg.contains("bytes"),
        "{msg}"
    );
    assert_nothing_written(dir.path());
}

/// A mirror that accepts the connection and never answers is given up on after the timeout,
/// and nothing is written.
#[test]
fn a_silent_mirror_times_out() {
    let (url, _) = serve(|_| Behaviour::Silent);
    let dir = tempfile::tempdir().expect("temp dir");
    let start = std::time::Instant::now();
    let limits = Limits {
        timeout: std::time::Duration::from_secs(1),
        ..Limits::DEFAULT
    };
    let err = download(DatasetName::Fashion, dir.path(), Some(&url), limits, &mut |_, _, _| {}).expect_err("fails");
    assert!(start.elapsed().as_secs() < 20, "took {:?}", start.elapsed());
    assert!(err.to_string().contains("train-images-idx3-ubyte.gz"), "{err}");
    assert_nothing_written(dir.path());
}

/// A mirror that keeps the connection alive with a byte every half second never trips the
/// per-read timeout; the total deadline gives up on it, naming the URL and the deadline.
#[test]
fn a_trickling_mirror_is_given_up_on_at_the_deadline() {
    let (url, _) = serve(|_| Behaviour::Trickle);
    let dir = tempfile::tempdir().expect("temp dir");
    let start = std::time::Instant::now();
    let limits = Limits {
        timeout: std::time::Duration::from_secs(30),
        deadline: std::time::Duration::from_secs(2),
        ..Limits::DEFAULT
    };
    let err = download(DatasetName::Fashion, dir.path(), Some(&url), limits, &mut |_, _, _| {}).expect_err("fails");
    assert!(start.elapsed().as_secs() < 10, "took {:?}", start.elapsed());
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("{url}/train-images-idx3-ubyte.gz")) && msg.contains("deadline of 2 s"),
        "{msg}"
    );
    assert_nothing_written(dir.path());
}

/// Without a deadline of its own, a trickling mirror is still bounded: by the minimum rate,
/// whose message says the mirror is too slow and which flag lifts the bound.
#[test]
fn a_trickling_mirror_is_too_slow_for_the_minimum_rate() {
    let (url, _) = serve(|_| Behaviour::Trickle);
    let dir = tempfile::tempdir().expect("temp dir");
    let start = std::time::Instant::now();
    let limits = Limits {
        timeout: std::time::Duration::from_secs(5),
        rate_window: std::time::Duration::from_secs(2),
        ..Limits::DEFAULT
    };
    let err = download(DatasetName::Fashion, dir.path(), Some(&url), limits, &mut |_, _, _| {}).expect_err("fails");
    assert!(start.elapsed().as_secs() < 10, "took {:?}", start.elapsed());
    let msg = err.to_string();
    assert!(
        msg.contains("the mirror is too slow") && msg.contains("--min-rate 0"),
        "{msg}"
    );
    assert_nothing_written(dir.path());
}

/// `gpu-mlp download --timeout 5` with no --deadline against a byte every half second: the
/// default minimum rate ends it (in about 20 s, not the 90+ s a user waited in vain), saying
/// the mirror is too slow and which flag lifts the bound.
#[test]
fn the_command_line_gives_up_on_a_trickle_without_a_deadline() {
    let (url, _) = serve(|_| Behaviour::Trickle);
    let dir = tempfile::tempdir().expect("temp dir");
    let start = std::time::Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gpu-mlp"))
        .args(["download", "fashion", "--timeout", "5", "--mirror", &url, "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert!(start.elapsed().as_secs() < 45, "took {:?}", start.elapsed());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("the mirror is too slow") && stderr.contains("--min-rate 0"),
        "{stderr}"
    );
}

/// `--data-dir` naming a regular file is a usage error (exit 2) naming it, not an I/O failure.
#[test]
fn a_data_dir_that_is_a_file_is_a_usage_error() {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gpu-mlp"))
        .args(["download", "fashion", "--data-dir"])
        .arg(file.path())
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&file.path().display().to_string()) && stderr.contains("is not a directory: --data-dir"),
        "{stderr}"
    );
}

/// An endless body is cut off at the size cap, not read until memory runs out.
#[test]
fn an_endless_body_is_cut_off_at_the_cap() {
    let (url, _) = serve(|_| Behaviour::Endless);
    let dir = tempfile::tempdir().expect("temp dir");
    let err = download(
        DatasetName::Fashion,
        dir.path(),
        Some(&url),
        Limits::DEFAULT,
        &mut |_, _, _| {},
    )
    .expect_err("fails");
    assert!(
        err.to_string().contains(&format!("more than {MAX_FILE_BYTES} bytes")),
        "{err}"
    );
    assert_nothing_written(dir.path());
}
