//! Fetching MNIST and Fashion-MNIST like torchvision does: the four official files from a mirror
//! into `data/<name>/`, each verified before it is written (atomically), and never fetched
//! again once a verified copy is there.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use md5::Md5;
use sha2::{Digest, Sha256};

use super::catalog::DatasetName;
use super::idx::{gunzip_file, is_gzip};
use super::locate::FILES;
use crate::artifacts::write_atomic;
use crate::error::{Error, Result};

/// Overrides the mirror when `--mirror` is not given.
pub const MIRROR_ENV: &str = "GPU_MLP_MIRROR";

/// How long a download may wait and take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest wait for a connection, a response or the next bytes of a body.
    pub timeout: Duration,
    /// Longest time one file may take in all, however steadily its bytes trickle in.
    pub deadline: Duration,
}

impl Limits {
    /// 30 s for each wait, 10 minutes a file (the largest official file is 26 MB: a
    /// 50 KB/s link).
    pub const DEFAULT: Limits = Limits {
        timeout: Duration::from_secs(30),
        deadline: Duration::from_secs(600),
    };
}

/// Largest file accepted from a mirror: the largest official one (Fashion-MNIST's training
/// images) is 26 MB compressed.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// How a downloaded file is known to be right.
#[derive(Debug, Clone, Copy)]
pub enum Check {
    /// MD5 of the `.gz` file as published.
    Md5OfGz(&'static str),
    /// SHA-256 of the decompressed bytes (a re-compressed copy still verifies).
    Sha256OfRaw(&'static str),
}

/// The default mirror and each file's check, in [`FILES`] order.
pub fn sources(name: DatasetName) -> Option<(&'static str, [Check; 4])> {
    match name {
        DatasetName::Mnist => Some((
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            [
                Check::Md5OfGz("f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                Check::Md5OfGz("d53e105ee54ea40749a09fcbcd1e9432"),
                Check::Md5OfGz("9fb629c4189551a2d022fa330f9573f3"),
                Check::Md5OfGz("ec29112dd5afa0611ce80d1b7f02629c"),
            ],
        )),
        DatasetName::Fashion => Some((
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            [
                Check::Sha256OfRaw("c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
                Check::Sha256OfRaw("bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
                Check::Sha256OfRaw("5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
                Check::Sha256OfRaw("0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
            ],
        )),
        DatasetName::Blobs | DatasetName::Circle => None,
    }
}

/// `Ok(())` when a file's bytes (gzip-compressed or not) pass `check`, else what was found.
pub fn verify(file: &[u8], check: Check) -> std::result::Result<(), String> {
    let unpacked;
    let contents = if is_gzip(file) {
        // Inflated no further than its IDX header promises: a downloaded bomb stops there.
        unpacked = gunzip_file(Path::new("download"), file).map_err(|e| format!("not a valid IDX gzip file ({e})"))?;
        &unpacked[..]
    } else {
        file
    };
    verify_contents(file, contents, check)
}

/// [`verify`] for a file (`file`, as stored) whose decompressed `contents` are already at hand.
/// An uncompressed file cannot be held to the MD5 of its `.gz` and passes that check.
pub fn verify_contents(file: &[u8], contents: &[u8], check: Check) -> std::result::Result<(), String> {
    let (expected, found) = match check {
        Check::Md5OfGz(_) if !is_gzip(file) => return Ok(()),
        Check::Md5OfGz(md5) => (md5, hex(&Md5::digest(file))),
        Check::Sha256OfRaw(sha) => (sha, hex(&Sha256::digest(contents))),
    };
    if found == expected {
        Ok(())
    } else {
        Err(format!("checksum {found}, expected {expected}"))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Progress of one file: (file name, bytes so far, total bytes if the server said).
pub type Progress<'a> = &'a mut dyn FnMut(&str, u64, Option<u64>);

/// Downloads dataset `name` into `dir` from `mirror` (default: `$GPU_MLP_MIRROR`, then the
/// official one). Files already there that verify are kept. Returns the four paths. Waits at
/// most `limits.timeout` for a connection, a response or the next bytes, and gives up on a
/// file not whole after `limits.deadline`; stops a body past `MAX_FILE_BYTES`, and on a stop
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
            let bytes = fetch(&agent, &url, &file, limits.deadline, progress)?;
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

fn fetch(agent: &ureq::Agent, url: &str, file: &str, deadline: Duration, progress: Progress<'_>) -> Result<Vec<u8>> {
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
