//! Stopping a run from outside: Ctrl-C (SIGINT), SIGTERM (what a shell's `kill`, a scheduler or a
//! container stop sends) and SIGHUP (a closed terminal) all ask training to finish its current
//! steps, save where it stands and exit with 128 + the signal's number (130, 143, 129). A second
//! signal exits at once. Training polls [`requested`] between steps. Where nothing is worth
//! saving yet (loading data, building the network: [`exit_at_once`]) the first signal exits
//! at once.

use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

/// Signals received so far.
static RECEIVED: AtomicUsize = AtomicUsize::new(0);
/// The first signal's number.
static FIRST: AtomicI32 = AtomicI32::new(0);

/// SIGINT's number, the one non-Unix platforms deliver (as Ctrl-C).
const SIGINT: i32 = 2;

/// Live [`ExitAtOnce`] guards.
static AT_ONCE: AtomicUsize = AtomicUsize::new(0);

/// Records a signal; the second one, or any inside [`exit_at_once`], ends the process at once.
#[cfg(any(unix, windows))]
fn on_signal(signal: i32) {
    if RECEIVED.fetch_add(1, Ordering::SeqCst) > 0 {
        std::process::exit(crate::error::signal_exit_code(signal));
    }
    if AT_ONCE.load(Ordering::SeqCst) > 0 {
        eprintln!("\n{}: stopped before anything was written", name(signal));
        std::process::exit(crate::error::signal_exit_code(signal));
    }
    FIRST.store(signal, Ordering::SeqCst);
    eprintln!(
        "\n{}: finishing the current steps and saving (again to quit at once)",
        name(signal)
    );
}

#[cfg(any(unix, windows))]
fn name(signal: i32) -> &'static str {
    match signal {
        1 => "hangup (SIGHUP)",
        15 => "terminated (SIGTERM)",
        _ => "interrupt",
    }
}

/// Installs the handlers (once per process; later calls do nothing).
pub fn install() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(install_handlers);
}

#[cfg(unix)]
fn install_handlers() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    // Failing to register leaves the signals' default effect (the process ends unsaved).
    if let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
        std::thread::spawn(move || {
            for signal in signals.forever() {
                on_signal(signal);
            }
        });
    }
}

#[cfg(windows)]
fn install_handlers() {
    // Failure only means another handler is installed; Ctrl-C then keeps its default effect.
    let _ = ctrlc::set_handler(|| on_signal(SIGINT));
}

/// No signals reach a page (wasm32): it stops training through its observer.
#[cfg(not(any(unix, windows)))]
fn install_handlers() {}

/// While the returned guard lives, a stop signal ends the process at once: for work that
/// writes nothing (loading and checking data, building the network), where finishing first
/// would only delay the exit.
pub fn exit_at_once() -> ExitAtOnce {
    AT_ONCE.fetch_add(1, Ordering::SeqCst);
    ExitAtOnce(())
}

/// See [`exit_at_once`].
pub struct ExitAtOnce(());

impl Drop for ExitAtOnce {
    fn drop(&mut self) {
        AT_ONCE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The signal that asked the run to stop, if one did.
pub fn requested() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        _ => Some(FIRST.load(Ordering::SeqCst)).filter(|&s| s != 0).or(Some(SIGINT)),
    }
}
