//! `gpu-mlp bench`: training throughput and each GPU dispatch on the reference configurations.

use gpu_mlp::bench::BenchConfig;
use gpu_mlp::Error;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Which configurations, comma-separated, or `all`: A 784-512-10 batch 128,
    /// D 784-1024-1024-10 batch 256, E 784-4096-4096-10 batch 1024, S 784-128-10 batch 32.
    #[arg(long, default_value = "A", value_parser = parse_bench_configs)]
    config: BenchConfigs,
    /// Timed runs per measurement (the median is reported).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    repeats: u32,
    /// Print the report as JSON instead of tables.
    #[arg(long)]
    json: bool,
    /// Split products along k until each launches at least N workgroups (default: 132 on
    /// hardware GPUs, one per CPU thread on software adapters such as lavapipe).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    fill_workgroups: Option<u32>,
}

/// The configurations `--config` names.
#[derive(Debug, Clone)]
struct BenchConfigs(Vec<BenchConfig>);

fn parse_bench_configs(value: &str) -> Result<BenchConfigs, String> {
    if value.eq_ignore_ascii_case("all") {
        return Ok(BenchConfigs(BenchConfig::ALL.to_vec()));
    }
    value
        .split(',')
        .map(|name| {
            <BenchConfig as clap::ValueEnum>::from_str(name.trim(), true)
                .map_err(|_| format!("`{name}` is not a configuration: expected A, D, E, S (comma-separated) or all"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(BenchConfigs)
}

pub fn run(args: &BenchArgs) -> Result<(), Error> {
    let report = gpu_mlp::bench::measure(
        &args.config.0,
        args.repeats as usize,
        args.fill_workgroups.map(|n| n as usize),
    )?;
    if args.json {
        // Plain structs of numbers and strings: serializing cannot fail.
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("bench report serializes")
        );
        Ok(())
    } else {
        report.write_text(std::io::stdout())
    }
}
