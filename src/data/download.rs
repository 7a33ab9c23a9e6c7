//! Fetching MNIST and Fashion-MNIST like torchvision does: the four official files from a mirror
//! into `data/<name>/`, each verified before it is written (atomically), and never fetched
//! again once a verified copy is there.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::catalog::{sources, verify, DatasetName};
use super::locate::FILES;
use crate::error::{Error, Result};
use crate::files::write_atomic;

/// Overrides the mirror when `--mirror` is not given.
pub const MIRROR_ENV: &str = "GPU_MLP_MIRROR";

/// How long a download may wait and take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest wait for a connection, a response or the next bytes of a body.
    pub timeout: Duration,
    /// Longest time one file may take in all, however steadily its bytes trickle in.
    pub deadline: Duration,
    /// The slowest a body may arrive, in bytes per second averaged over `rate_window` (as
    /// curl's --speed-limit and --speed-time); 0: no lower bound.
    pub min_rate: u64,
    pub rate_window: Duration,
}

impl Limits {
    /// 30 s for each wait, 10 minutes a file (the largest official file is 26 MB: a
    /// 50 KB/s link), and at least 1 KiB/s over any 20 s (a mirror slower than that would
    /// take days for one file).
    pub const DEFAULT: Limits = Limits {
        timeout: Duration::from_secs(30),
        deadline: Duration::from_secs(600),
        min_rate: 1024,
        rate_window: Duration::from_secs(20),
    };
}

/// Largest file accepted from a mirror: the largest official one (Fashion-MNIST's training
/// images) is 26 MB compressed.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// Progress of one file: (file name, bytes so far, total bytes if the server said).
pub type Progress<'a> = &'a mut dyn FnMut(&str, u64, Option<u64>);

/// Downloads dataset `name` into `dir` from `mirror` (default: `$GPU_MLP_MIRROR`, then the
/// official one). Files already there that verify are kept. Returns the four paths. Waits at
/// most `limits.timeout` for a connection, a response or the next bytes, and gives up on a
/// file not whole after `limits.deadline` or arriving slower than `limits.min_rate`; stops a
/// body past `MAX_FILE_BYTES`, and on a stop
/// signal (`crate::signals`); nothing is written unless whole and verified.
pub fn download(
    name: DatasetName,
    dir: &Path,
    mirror: Option<&str>,
    limits: Limits,
    progress: Progress<'_>,
) -> Result<Vec<PathBuf>> {
    let timeout = limits.timeout;
    let (official, checks) = sources(name).ok_or_else(|| Error::InvalidConfig {
        field: "dataset",
        detail: format!("`{}` is generated, not downloaded", name.as_str()),
    })?;
    let env_mirror = std::env::var(MIRROR_ENV).ok().filter(|m| !m.is_empty());
    let mirror = mirror
        .map(str::to_string)
        .or(env_mirror)
        .unwrap_or_else(|| official.to_string());
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_resolve(Some(timeout))
        .timeout_connect(Some(timeout))
        .timeout_send_request(Some(timeout))
        .timeout_recv_response(Some(timeout))
        .timeout_per_read(Some(timeout))
        .timeout_global(Some(limits.deadline))
        .build()
        .into();
    let mut paths = Vec::new();
    for (base, check) in FILES.iter().zip(checks) {
        let file = format!("{base}.gz");
        let path = dir.join(&file);
        let present = std::fs::read(&path)
            .ok()
            .is_some_and(|bytes| verify(&bytes, check).is_ok());
        if !present {
            let url = format!("{}/{file}", mirror.trim_end_matches('/'));
            let bytes = fetch(&agent, &url, &file, limits, progress)?;
            verify(&bytes, check).map_err(|detail| Error::Download {
                url: url.clone(),
                detail: format!("{detail}: the file is damaged or not the official one; nothing was written"),
            })?;
            write_atomic(&path, &bytes)?;
        }
        paths.push(path);
    }
    Ok(paths)
}

fn fetch(agent: &ureq::Agent, url: &str, file: &str, limits: Limits, progress: Progress<'_>) -> Result<Vec<u8>> {
    let deadline = limits.deadline;
    let started = std::time::Instant::now();
    let fail = |detail: String| Error::Download {
        url: url.to_string(),
        detail,
    };
    // Past the deadline, whatever the error says, the deadline is why.
    let failed = |detail: String, received: usize| {
        match started.elapsed() >= deadline {
        true => fail(format!(
            "not whole after the deadline of {} s ({received} bytes received; `gpu-mlp download --deadline` allows more); nothing was written",
            deadline.as_secs_f64()
        )),
        false => fail(detail),
    }
    };
    let mut response = agent.get(url).call().map_err(|e| failed(e.to_string(), 0))?;
    let total = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = || {
        fail(format!(
            "more than {MAX_FILE_BYTES} bytes, larger than any official file; nothing was written"
        ))
    };
    if total.is_some_and(|t| t > MAX_FILE_BYTES) {
        return Err(too_large());
    }
    let mut reader = response.body_mut().as_reader();
    let mut bytes = Vec::with_capacity(total.unwrap_or(0) as usize);
    let mut chunk = vec![0u8; 1 << 16];
    let mut rate = RateWindow::new(limits);
    loop {
        if let Some(signal) = crate::signals::requested() {
            return Err(Error::Interrupted(signal));
        }
        let n = reader.read(&mut chunk).map_err(|e| {
            failed(
                format!("connection failed after {} bytes: {e}", bytes.len()),
                bytes.len(),
            )
        })?;
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&chunk[..n]);
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(too_large());
        }
        if let Some(slow) = rate.too_slow(bytes.len() as u64) {
            return Err(fail(format!("{slow}; nothing was written")));
        }
        progress(file, bytes.len() as u64, total);
    }
    if let Some(total) = total.filter(|&t| t != bytes.len() as u64) {
        return Err(fail(format!(
            "the connection ended after {} of {total} bytes",
            bytes.len()
        )));
    }
    Ok(bytes)
}

/// The minimum transfer rate, checked over consecutive windows of `Limits::rate_window`.
struct RateWindow {
    limits: Limits,
    since: std::time::Instant,
    bytes_before: u64,
}

impl RateWindow {
    fn new(limits: Limits) -> Self {
        RateWindow {
            limits,
            since: std::time::Instant::now(),
            bytes_before: 0,
        }
    }

    /// Why the mirror is too slow, once a whole window brought fewer than `min_rate` bytes a
    /// second; `received`: the body's bytes so far.
    fn too_slow(&mut self, received: u64) -> Option<String> {
        let elapsed = self.since.elapsed();
        if self.limits.min_rate == 0 || elapsed < self.limits.rate_window {
            return None;
        }
        let rate = (received - self.bytes_before) as f64 / elapsed.as_secs_f64();
        if rate < self.limits.min_rate as f64 {
            return Some(format!(
                "the mirror is too slow: {rate:.0} bytes/s over the last {} s, below the minimum of {} bytes/s \
                 (`gpu-mlp download --min-rate 0` lifts this bound; --mirror picks another mirror)",
                elapsed.as_secs(),
                self.limits.min_rate
            ));
        }
        (self.since, self.bytes_before) = (std::time::Instant::now(), received);
        None
    }
}
