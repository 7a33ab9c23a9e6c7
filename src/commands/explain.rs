//! `gpu-mlp explain`: one mini-batch through the network, printed step by step.

use gpu_mlp::settings::Config;
use gpu_mlp::Error;

use super::train::TrainArgs;

#[derive(clap::Args)]
pub struct ExplainArgs {
    /// Which mini-batch of the first epoch (0-based).
    #[arg(long, default_value_t = 0)]
    batch: usize,
    #[command(flatten)]
    settings: TrainArgs,
}

pub fn run(args: &ExplainArgs) -> Result<(), Error> {
    let config = Config::resolve(args.settings.config_file(), args.settings.settings())?;
    let explanation = gpu_mlp::insight::explain::explain(&config, args.batch)?;
    print!("{}", explanation.to_text());
    Ok(())
}
