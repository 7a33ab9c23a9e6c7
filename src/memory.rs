//! Refusing, with the numbers, a model or dataset that would not fit in memory — before
//! anything is allocated, instead of an abort ("memory allocation failed") or the OOM killer.

use crate::error::{Error, Result};

/// Memory the system can give this process now (Linux: `MemAvailable` of /proc/meminfo);
/// `None` where it cannot be told, and then nothing is refused.
pub fn available_bytes() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

/// Fails when `bytes` (what `field` asks for, described by `what`) is more than the memory
/// available (`available`, usually [`available_bytes`]).
pub fn check_fits(field: &'static str, what: &str, bytes: u128, available: Option<u64>) -> Result<()> {
    match available {
        Some(free) if bytes > u128::from(free) => Err(Error::InvalidConfig {
            field,
            detail: format!(
                "{what} needs about {} of memory, {} is available",
                gib(bytes),
                gib(u128::from(free))
            ),
        }),
        _ => Ok(()),
    }
}

fn gib(bytes: u128) -> String {
    format!("{:.1} GiB", bytes as f64 / f64::from(1u32 << 30))
}
