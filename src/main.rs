//! `gpu-mlp`: the command-line trainer. Each subcommand's parsing and printing lives in
//! `commands/`; what a run does lives in the library.

use std::process::ExitCode;

// stdout may be closed under a run (`gpu-mlp train | head -1`, `> /dev/full`): its output is
// best effort and never stops the run, so these shadow std's panicking `print!`/`println!`
// in every command module.
macro_rules! println {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

macro_rules! print {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

mod commands;

use clap::Parser;

fn main() -> ExitCode {
    // Mesa's Vulkan device-select layer connects to the display server to order the GPUs,
    // printing `XDG_RUNTIME_DIR is invalid…` on headless machines; gpu-mlp ranks adapters
    // itself, so the layer is skipped unless the user asks for it. Set before any thread starts.
    if std::env::var_os("NODEVICE_SELECT").is_none() {
        std::env::set_var("NODEVICE_SELECT", "1");
    }
    // Bad arguments: clap's whole message (what was wrong, valid values, "did you mean",
    // the usage line) and exit code 2; --help and --version print and exit 0.
    // OsStrings: a path (--out, a checkpoint) need not be UTF-8; clap asks for text only where
    // a flag needs it.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = commands::Cli::try_parse_from(&args).unwrap_or_else(|e| {
        let _ = e.print();
        let words: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        if let Some(tip) = commands::list_tip(&e, &words) {
            eprintln!("\n  tip: {tip}");
        }
        std::process::exit(e.exit_code());
    });
    match cli.command.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
