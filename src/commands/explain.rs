//! `gpu-mlp explain`: one mini-batch through the network, printed step by step.

use std::path::PathBuf;

use gpu_mlp::settings::flags::{OneStep, SettingFlags};
use gpu_mlp::settings::Config;
use gpu_mlp::Error;

/// The flags of `explain`: the batch, and the settings one training step depends on.
#[derive(clap::Args)]
pub struct ExplainArgs {
    /// Which mini-batch of the first epoch (0-based).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = batch_index)]
    batch: usize,
    /// TOML file with any of the settings below (keys in snake_case); flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
    #[command(flatten)]
    settings: SettingFlags<OneStep>,
}

/// `--batch`'s value: a whole number ≥ 0, said so when it is not.
fn batch_index(text: &str) -> Result<usize, String> {
    text.parse().map_err(|_| gpu_mlp::declare::whole_number_expected(text))
}

pub fn run(args: &ExplainArgs) -> Result<(), Error> {
    let config = Config::resolve(args.config.as_deref(), &args.settings.0)?;
    let explanation = gpu_mlp::insight::explain::explain(&config, args.batch)?;
    print!("{}", explanation.to_text());
    Ok(())
}
