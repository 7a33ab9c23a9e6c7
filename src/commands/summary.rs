//! `gpu-mlp summary`: the network a config (and flags) would train, layer by layer.

use gpu_mlp::settings::Config;
use gpu_mlp::Error;

use super::train::TrainArgs;

pub fn run(args: &TrainArgs) -> Result<(), Error> {
    let config = match args.resume_dir() {
        Some(dir) => Config::resolve(Some(&dir.join("config.toml")), args.settings())?,
        None => Config::resolve(args.config_file(), args.settings())?,
    };
    // The input width of a table depends on its columns' encoding: read the data to know it.
    let data = config.load_data()?;
    let spec = config.spec(data.train.dim, data.classes())?;
    println!(
        "model {} for {} ({} features, {} classes)",
        spec.describe(),
        data.name,
        data.train.dim,
        data.classes()
    );
    print!("{}", spec.summary_table(config.model.dropout));
    Ok(())
}
