//! Refusing, with the numbers, a model or dataset that would not fit in memory — before
//! anything is allocated, instead of an abort ("memory allocation failed") or the OOM killer.

use crate::error::{Error, Result};

/// Memory the system can give this process now (Linux: `MemAvailable` of /proc/meminfo, less
/// where the process's address-space limit — `ulimit -v`, a scheduler's rlimit — leaves less);
/// `None` where it cannot be told, and then nothing is refused.
#[cfg(not(target_arch = "wasm32"))]
pub fn available_bytes() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let free = kib_field(&info, "MemAvailable:")?.saturating_mul(1024);
    Some(address_space_left().map_or(free, |left| free.min(left)))
}

/// In a browser: what a wasm32 module can still address (4 GiB in all, what it holds included).
/// A page asked for more learns it from the check, not from an allocation that cannot succeed.
#[cfg(target_arch = "wasm32")]
pub fn available_bytes() -> Option<u64> {
    const WASM_PAGE: u64 = 65_536;
    let used = core::arch::wasm32::memory_size(0) as u64 * WASM_PAGE;
    Some((1u64 << 32).saturating_sub(used))
}

/// The soft address-space limit (/proc/self/limits) less the address space in use
/// (`VmSize`), if a limit is set.
#[cfg(not(target_arch = "wasm32"))]
fn address_space_left() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max address space"))?;
    let limit: u64 = line.split_whitespace().nth(3)?.parse().ok()?;
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let used = kib_field(&status, "VmSize:")?.saturating_mul(1024);
    Some(limit.saturating_sub(used))
}

/// The number of a `Name:   1234 kB` line.
#[cfg(not(target_arch = "wasm32"))]
fn kib_field(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    line.split_whitespace().nth(1)?.parse().ok()
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
