//! `gpu-mlp`: the command-line trainer.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use gpu_mlp::data::{self, DatasetName, LoadOptions};
use gpu_mlp::device::{create_backend, DeviceChoice};
use gpu_mlp::gpu::list_adapters;
use gpu_mlp::model::{initialize, Init, MlpSpec, ParamLayout};
use gpu_mlp::train::{train, EpochReport, TrainConfig};
use gpu_mlp::Error;

#[derive(Parser)]
#[command(
    name = "gpu-mlp",
    version,
    about = "Train multi-layer perceptrons with hand-written WGSL kernels (wgpu) or the plain-Rust CPU reference"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train an MLP and print per-epoch train/test loss and accuracy.
    Train(TrainArgs),
    /// List the GPU adapters wgpu sees, their backend, type and key limits.
    Info,
    /// Measure this machine: matmul GFLOP/s and training samples/s, CPU and GPU side by side.
    Bench {
        /// Timed runs per measurement (the median is reported).
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
        repeats: u32,
    },
}

#[derive(clap::Args)]
struct TrainArgs {
    /// Dataset to train on.
    #[arg(long, value_enum, default_value_t = DatasetName::Fashion)]
    dataset: DatasetName,
    /// Passes over the training set.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    epochs: u32,
    /// Samples per mini-batch (the last batch of an epoch may be smaller).
    #[arg(long, default_value_t = 128, value_parser = clap::value_parser!(u32).range(1..=65535))]
    batch_size: u32,
    /// SGD learning rate (a finite number > 0).
    #[arg(long, default_value_t = 0.1, value_parser = parse_lr, allow_negative_numbers = true)]
    lr: f32,
    /// Hidden layer widths, comma-separated: `512`, or `128,64` for two layers.
    #[arg(long, default_value = "512", value_parser = parse_hidden)]
    hidden: Hidden,
    /// Seed for initialization, shuffling and synthetic data (same seed, same run).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Where to compute: `auto` takes a hardware GPU if present, else the CPU.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    device: DeviceChoice,
    /// Folder with the dataset's IDX files (searched before $GPU_MLP_DATA, ./data/<name>/ and system folders).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Train on only the first N training samples (quick runs); the test set is used whole.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    train_samples: Option<u64>,
}

#[derive(Clone, Debug)]
struct Hidden(Vec<usize>);

fn parse_lr(s: &str) -> Result<f32, String> {
    let lr: f32 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if lr.is_finite() && lr > 0.0 {
        Ok(lr)
    } else {
        Err(format!("must be a finite number > 0, got {s}"))
    }
}

fn parse_hidden(s: &str) -> Result<Hidden, String> {
    let widths = s
        .split(',')
        .map(|w| match w.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!(
                "`{}` is not a layer width ≥ 1 (expected e.g. `512` or `128,64`)",
                w.trim()
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Hidden(widths))
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Bad arguments: clap's first line names the flag and what was expected; exit code 2.
        Err(e) if e.use_stderr() => {
            let text = e.render().to_string();
            eprintln!(
                "{}",
                text.lines()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("error: invalid arguments")
            );
            return ExitCode::from(2);
        }
        // --help and --version.
        Err(e) => e.exit(),
    };
    let result = match cli.command {
        Command::Train(args) => run_train(args),
        Command::Info => {
            run_info();
            Ok(())
        }
        Command::Bench { repeats } => gpu_mlp::bench::report(repeats as usize, std::io::stdout()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            match e {
                Error::InvalidConfig { .. } => ExitCode::from(2),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

fn run_train(args: TrainArgs) -> Result<(), Error> {
    let mut splits = data::load(
        args.dataset,
        &LoadOptions {
            data_dir: args.data_dir.clone(),
            seed: args.seed,
        },
    )?;
    if let Some(n) = args.train_samples {
        splits.train = splits.train.truncated(n as usize);
    }
    let spec = MlpSpec::new(splits.train.dim, &args.hidden.0, splits.classes())?;
    let layout = ParamLayout::new(&spec);
    let params = initialize(&layout, Init::HeUniform, args.seed);
    let train_len = splits.train.len();
    println!(
        "dataset {}: {} train / {} test samples, {} features, {} classes",
        splits.name,
        train_len,
        splits.test.len(),
        splits.train.dim,
        splits.classes()
    );
    let (mut backend, why) = create_backend(args.device, &spec, params, Arc::new(splits), args.batch_size as usize)?;
    println!("device: {} ({why})", backend.describe());
    println!(
        "model {} ({} parameters), SGD lr {}, batch {}, {} epochs, seed {}",
        spec.describe(),
        layout.count(),
        args.lr,
        args.batch_size,
        args.epochs,
        args.seed
    );
    println!(
        "{:>5} {:>10} {:>9} {:>10} {:>9} {:>8} {:>10}",
        "epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds", "samples/s"
    );
    let cfg = TrainConfig {
        epochs: args.epochs as usize,
        lr: args.lr,
        seed: args.seed,
    };
    let reports = train(backend.as_mut(), train_len, &cfg, |r: &EpochReport| {
        println!(
            "{:>5} {:>10.4} {:>8.2}% {:>10.4} {:>8.2}% {:>8.2} {:>10.0}",
            r.epoch,
            r.train.loss,
            100.0 * r.train.accuracy,
            r.test.loss,
            100.0 * r.test.accuracy,
            r.train_seconds,
            r.samples_per_second
        );
    })?;
    let stats = backend.schedule_stats();
    if stats.dispatches > 0 {
        println!(
            "GPU schedule: {:.0} dispatches per step, {:.1} submits per epoch",
            stats.dispatches_per_step(),
            stats.submits as f64 / reports.len() as f64
        );
    }
    Ok(())
}

fn run_info() {
    let adapters = list_adapters();
    if adapters.is_empty() {
        println!("wgpu sees no adapter: `--device auto` will use the CPU backend.");
        println!("On Debian/Ubuntu, `apt-get install mesa-vulkan-drivers` provides the lavapipe software driver.");
        return;
    }
    for (i, a) in adapters.iter().enumerate() {
        println!(
            "[{i}] {} ({}, {:?}) driver: {}",
            a.name, a.backend, a.device_type, a.driver
        );
        println!(
            "    max storage binding {} MiB, max buffer {} MiB, workgroup storage {} KiB, {} invocations/workgroup",
            a.max_storage_binding >> 20,
            a.max_buffer >> 20,
            a.max_workgroup_storage >> 10,
            a.max_invocations
        );
    }
    let chosen = match adapters.iter().find(|a| a.is_hardware()) {
        Some(a) => format!("--device auto uses {}", a.name),
        None => {
            "--device auto uses the CPU backend (no hardware adapter); --device gpu uses the first adapter above".into()
        }
    };
    println!("{chosen}");
}
