//! `gpu-mlp`: the command-line trainer.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use std::io::IsTerminal;

// stdout may be closed under a run (`gpu-mlp train | head -1`, `> /dev/full`): its output is
// best effort and never stops the run, so these shadow std's panicking `print!`/`println!`.
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

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use gpu_mlp::backend::Backend;
use gpu_mlp::backend::EvalSplit;
use gpu_mlp::bench::BenchConfig;
use gpu_mlp::checkpoint::Checkpoint;
use gpu_mlp::config::Config;
use gpu_mlp::data::{Dataset, DatasetName, Features, Normalize};
use gpu_mlp::device::DeviceChoice;
use gpu_mlp::evaluate;
use gpu_mlp::gpu::list_adapters;
use gpu_mlp::model::{Activation, Init, Loss, ParamLayout};
use gpu_mlp::optim::{OptimizerKind, ScheduleKind};
use gpu_mlp::run::Run;
use gpu_mlp::train::{EpochReport, Monitor, Observer, Tick};
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
    Train(Box<TrainArgs>),
    /// Score a checkpoint on its dataset's test split: loss, accuracy, confusion matrix,
    /// per-class precision/recall/F1 (computed by the CPU reference).
    Eval(EvalArgs),
    /// Classify one test image (by index) or an image file (PNG or PGM): top-k classes.
    Predict(PredictArgs),
    /// Fetch MNIST or Fashion-MNIST into ./data/<name>/ (or --data-dir), verified.
    Download(DownloadArgs),
    /// Redraw a run directory's plots (loss, accuracy, confusion matrix, example images).
    Plot {
        /// The run directory (e.g. runs/run-1700000000).
        run: PathBuf,
    },
    /// Write a run's weights alone (no optimizer state) as safetensors for other tools:
    /// `layers.{i}.weight` [out, in] and `layers.{i}.bias`, as nn.Linear stores them.
    Export {
        /// A run directory (its best checkpoint, else its last) or a checkpoint file.
        run: PathBuf,
        /// Where to write the weights (must not exist yet).
        #[arg(long)]
        out: PathBuf,
    },
    /// List the GPU adapters wgpu sees, their backend, type and key limits.
    Info,
    /// Measure this machine on the reference configurations: training samples/s (CPU and GPU
    /// side by side), each GPU step's dispatches with their workgroups and GPU time, and the
    /// GFLOP/s of every product the configuration runs.
    Bench {
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
    },
}

#[derive(clap::Args)]
struct DownloadArgs {
    /// fashion or mnist.
    #[arg(value_enum)]
    dataset: DatasetName,
    /// Download into DIR/<dataset>/ instead of ./data/<dataset>/.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Base URL to fetch the four .gz files from [default: $GPU_MLP_MIRROR, else the official mirror].
    #[arg(long)]
    mirror: Option<String>,
    /// Seconds to wait for a connection, a response or the next bytes before giving up.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    timeout: u64,
}

#[derive(clap::Args)]
struct EvalArgs {
    /// A checkpoint written by `train`, or a run directory (its best checkpoint).
    #[arg(long)]
    checkpoint: PathBuf,
    /// Evaluate on this dataset's test split instead of the checkpoint's own.
    #[arg(long, value_enum)]
    dataset: Option<DatasetName>,
    /// Folder with the dataset's IDX files.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Print the results as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["index", "image"])))]
struct PredictArgs {
    /// A checkpoint written by `train`, or a run directory (its best checkpoint).
    #[arg(long)]
    checkpoint: PathBuf,
    /// Index of an image in the test split.
    #[arg(long)]
    index: Option<usize>,
    /// A PNG or PGM file, converted to 28×28 grayscale (light strokes on dark, like the datasets).
    #[arg(long)]
    image: Option<PathBuf>,
    /// How many classes to list (≥ 1).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    top_k: u32,
    /// Draw the image in the terminal.
    #[arg(long)]
    show: bool,
    /// Invert the image's shades first (for dark strokes on a light background).
    #[arg(long, requires = "image")]
    invert: bool,
    /// Folder with the dataset's IDX files (for --index).
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

/// The flags of `train`. Each overrides the same key of `--config`; unset ones serialize to
/// nothing, and `Config`'s defaults fill what neither gives.
#[derive(clap::Args, Serialize)]
struct TrainArgs {
    /// TOML file with any of the settings below (keys in snake_case); flags override it.
    #[arg(long)]
    #[serde(skip)]
    config: Option<PathBuf>,
    /// Run directory for the config, history, checkpoints and plots [default: runs/run-<time>].
    #[arg(long)]
    #[serde(skip)]
    out: Option<PathBuf>,
    /// Continue the run in this directory from its last checkpoint (its config.toml, with any
    /// flags given here on top, e.g. a larger --epochs).
    #[arg(long, conflicts_with_all = ["config", "out", "force"])]
    #[serde(skip)]
    resume: Option<PathBuf>,
    /// Start anew in an --out directory that holds a run: the old run is moved aside to
    /// <out>.old-<N> first (never deleted).
    #[arg(long)]
    #[serde(skip)]
    force: bool,
    /// Dataset [default: fashion].
    #[arg(long, value_enum)]
    dataset: Option<DatasetName>,
    /// Passes over the training set [default: 5].
    #[arg(long)]
    epochs: Option<usize>,
    /// Samples per mini-batch; the last batch of an epoch may be smaller [default: 128].
    #[arg(long)]
    batch_size: Option<usize>,
    /// Learning rate, a finite number > 0 [default: 0.1].
    #[arg(long, allow_negative_numbers = true)]
    lr: Option<f32>,
    /// Hidden layer widths, comma-separated: `512`, or `128,64` for two layers [default: 512].
    #[arg(long, value_parser = parse_hidden)]
    hidden: Option<Hidden>,
    /// Hidden activation(s): one for all layers, or a comma-separated list, one per layer [default: relu].
    #[arg(long, value_enum, value_delimiter = ',')]
    activation: Option<Vec<Activation>>,
    /// Weight initialization (biases start at 0) [default: he-uniform].
    #[arg(long, value_enum)]
    init: Option<Init>,
    /// Output layer and loss [default: softmax-cross-entropy].
    #[arg(long, value_enum)]
    loss: Option<Loss>,
    /// Dropout probability after each hidden layer, training only (inverted scaling) [default: 0].
    #[arg(long)]
    dropout: Option<f32>,
    /// Optimizer [default: sgd].
    #[arg(long, value_enum)]
    optimizer: Option<OptimizerKind>,
    /// Momentum μ for `--optimizer momentum` [default: 0.9].
    #[arg(long)]
    momentum: Option<f32>,
    /// Nesterov momentum.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    nesterov: Option<bool>,
    /// Adam β1 [default: 0.9].
    #[arg(long)]
    beta1: Option<f32>,
    /// Adam β2 [default: 0.999].
    #[arg(long)]
    beta2: Option<f32>,
    /// Adam ε [default: 1e-8].
    #[arg(long)]
    eps: Option<f32>,
    /// Weight decay: L2 for sgd/momentum/adam, decoupled for adamw [default: 0].
    #[arg(long)]
    weight_decay: Option<f32>,
    /// Learning-rate schedule [default: constant].
    #[arg(long, value_enum)]
    schedule: Option<ScheduleKind>,
    /// Step schedule: epochs between decays [default: 1].
    #[arg(long)]
    step_epochs: Option<usize>,
    /// Step schedule: decay factor [default: 0.5].
    #[arg(long)]
    gamma: Option<f32>,
    /// Cosine schedule: epochs of linear warm-up [default: 0].
    #[arg(long)]
    warmup_epochs: Option<usize>,
    /// Seed for initialization, shuffling and synthetic data: same seed, same run [default: 42].
    #[arg(long)]
    seed: Option<u64>,
    /// Where to compute: `auto` takes a hardware GPU if present, else the CPU [default: auto].
    #[arg(long, value_enum)]
    device: Option<DeviceChoice>,
    /// Folder with the dataset's IDX files (searched before $GPU_MLP_DATA, ./data/<name>/ and system folders).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Train on only the first N training samples (quick runs); the test set is used whole.
    #[arg(long)]
    train_samples: Option<usize>,
    /// Points generated for blobs/circle, split 80% train / 20% test [default: 1000].
    #[arg(long)]
    samples: Option<usize>,
    /// Input normalization: unit [0,1], pm1 [−1,1], standard (train mean/std) [default: unit].
    #[arg(long, value_enum)]
    normalize: Option<Normalize>,
    /// Refuse dataset files whose checksum is not the official one (default: warn).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    strict_data: Option<bool>,
    /// Fraction of the training data held out for validation, e.g. 0.1 [default: 0].
    #[arg(long)]
    val_split: Option<f32>,
    /// Stop after N epochs without improvement of --monitor (needs --val-split).
    #[arg(long)]
    patience: Option<usize>,
    /// Validation metric for early stopping and the best epoch [default: val-loss].
    #[arg(long, value_enum)]
    monitor: Option<Monitor>,
    /// Print the running training loss every N batches.
    #[arg(long)]
    log_every: Option<usize>,
    /// Print only errors and the final summary: no progress, no per-epoch lines.
    #[arg(long)]
    #[serde(skip)]
    quiet: bool,
    /// Download MNIST / Fashion-MNIST first when it is not found locally.
    #[arg(long)]
    #[serde(skip)]
    download: bool,
    /// Mirror for --download [default: $GPU_MLP_MIRROR, else the official one].
    #[arg(long)]
    #[serde(skip)]
    mirror: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(transparent)]
struct Hidden(Vec<usize>);

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
    // Mesa's Vulkan device-select layer connects to the display server to order the GPUs,
    // printing `XDG_RUNTIME_DIR is invalid…` on headless machines; gpu-mlp ranks adapters
    // itself, so the layer is skipped unless the user asks for it. Set before any thread starts.
    if std::env::var_os("NODEVICE_SELECT").is_none() {
        std::env::set_var("NODEVICE_SELECT", "1");
    }
    // Bad arguments: clap's whole message (what was wrong, valid values, "did you mean",
    // the usage line) and exit code 2; --help and --version print and exit 0.
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(args) => {
            gpu_mlp::signals::install();
            run_train(&args)
        }
        Command::Eval(args) => run_eval(&args),
        Command::Download(args) => download(
            args.dataset,
            args.data_dir.as_deref(),
            args.mirror.as_deref(),
            Duration::from_secs(args.timeout),
        )
        .map(|paths| {
            for p in paths {
                println!("{}", p.display());
            }
        }),
        Command::Plot { run } => gpu_mlp::report::plot_run(&run).map(|files| {
            for f in files {
                println!("wrote {}", f.display());
            }
        }),
        Command::Predict(args) => run_predict(&args),
        Command::Export { run, out } => run_export(&run, &out),
        Command::Info => {
            run_info();
            Ok(())
        }
        Command::Bench {
            config,
            repeats,
            json,
            fill_workgroups,
        } => run_bench(&config.0, repeats as usize, json, fill_workgroups),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn run_export(run: &Path, out: &Path) -> Result<(), Error> {
    if out.exists() {
        return Err(Error::ConfigFile {
            path: out.into(),
            detail: "already exists: choose another --out (nothing is overwritten)".into(),
        });
    }
    let checkpoint = Checkpoint::load(&gpu_mlp::checkpoint::resolve(run)?)?;
    checkpoint.export_weights(out)?;
    println!(
        "wrote the weights of {} ({} tensors) to {}",
        checkpoint.meta.spec()?.describe(),
        2 * (checkpoint.meta.sizes.len() - 1),
        out.display()
    );
    Ok(())
}

/// A setting as its flag spells it (`he-uniform`, `softmax-cross-entropy`), not its Rust name.
fn flag(value: impl clap::ValueEnum) -> String {
    value
        .to_possible_value()
        .map_or_else(|| "?".into(), |v| v.get_name().to_string())
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

fn run_bench(configs: &[BenchConfig], repeats: usize, json: bool, fill_workgroups: Option<u32>) -> Result<(), Error> {
    let report = gpu_mlp::bench::measure(configs, repeats, fill_workgroups.map(|n| n as usize))?;
    if json {
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

/// Downloads `dataset` into `data_dir/<name>` (default `data/<name>`), with a progress bar.
fn download(
    dataset: DatasetName,
    data_dir: Option<&Path>,
    mirror: Option<&str>,
    timeout: Duration,
) -> Result<Vec<PathBuf>, Error> {
    let dir = data_dir.unwrap_or(Path::new("data")).join(dataset.as_str());
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    let paths = gpu_mlp::data::download::download(dataset, &dir, mirror, timeout, &mut |file, done, total| {
        bar.set_message(file.to_string());
        bar.set_length(total.unwrap_or(done));
        bar.set_position(done);
    });
    bar.finish_and_clear();
    paths
}

fn run_train(args: &TrainArgs) -> Result<(), Error> {
    let mut run = match &args.resume {
        Some(dir) => Run::resume(dir, args)?,
        None => {
            let config = Config::resolve(args.config.as_deref(), args)?;
            if args.download && gpu_mlp::data::load(config.dataset, &config.load_options()).is_err() {
                download(
                    config.dataset,
                    config.data_dir.as_deref(),
                    args.mirror.as_deref(),
                    gpu_mlp::data::download::DEFAULT_TIMEOUT,
                )?;
            }
            Run::with_dir(&config, args.out.as_deref(), args.force)?
        }
    };
    let config = &run.config.clone();
    let splits = Arc::clone(&run.data);
    let has_val = splits.val.is_some();
    for warning in &splits.warnings {
        eprintln!("warning: {warning}");
    }
    let say = |text: String| {
        if !args.quiet {
            println!("{text}");
        }
    };
    say(format!(
        "dataset {}: {} train / {} validation / {} test samples, {} features, {} classes ({} normalization)",
        splits.name,
        splits.train.len(),
        splits.val.as_ref().map_or(0, |v| v.len()),
        splits.test.len(),
        splits.train.dim,
        splits.classes(),
        flag(config.normalize)
    ));
    say(format!("device: {} ({})", run.backend.describe(), run.device_note));
    say(format!(
        "model {} ({} parameters, {} init, {}, dropout {}), {} lr {}{} ({} schedule), batch {}, {} epochs, seed {}",
        run.spec.describe(),
        ParamLayout::new(&run.spec).count(),
        flag(config.init),
        flag(config.loss),
        config.dropout,
        flag(config.optimizer),
        config.lr,
        if config.lr_defaulted {
            format!(" (the default for {}; --lr sets another)", flag(config.optimizer))
        } else {
            String::new()
        },
        flag(config.schedule),
        config.batch_size,
        config.epochs,
        config.seed
    ));
    if let Some(old) = &run.moved_aside {
        say(format!("moved the run that was there to {}", old.display()));
    }
    if let Some(dir) = &run.dir {
        match run.start_epoch {
            0 => say(format!("run directory: {}", dir.path.display())),
            done => say(format!("resuming {} after epoch {done}", dir.path.display())),
        }
    }
    let val_header = if has_val {
        format!(" {:>10} {:>9}", "val_loss", "val_acc")
    } else {
        String::new()
    };
    say(format!(
        "{:>5} {:>10} {:>9}{val_header} {:>10} {:>9} {:>8} {:>10}",
        "epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds", "samples/s"
    ));
    // Progress ticks ~20 times an epoch: they feed the bar and let Ctrl-C stop between steps.
    let steps = splits.train.len().div_ceil(config.batch_size);
    run.tick_every = Some(steps.div_ceil(20).max(1));
    // A live bar on a terminal; plain lines otherwise.
    let bar = (!args.quiet && std::io::stdout().is_terminal()).then(|| {
        ProgressBar::with_draw_target(Some(steps as u64), ProgressDrawTarget::stdout()).with_style(
            ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} batches {msg}")
                .expect("a valid template")
                .progress_chars("=> "),
        )
    });
    let mut console = Console {
        bar: bar.clone(),
        quiet: args.quiet,
        log_every: config.log_every.is_some(),
        batch_size: config.batch_size,
        epoch_start: std::time::Instant::now(),
    };
    let outcome = run.train(&mut console);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let outcome = outcome?;
    if let Some((epoch, steps)) = outcome.interrupted {
        let saved = run.dir.as_ref().map_or(String::new(), |d| {
            format!("; saved {} (resume with --resume {0})", d.path.display())
        });
        let signal = gpu_mlp::signals::requested().unwrap_or(2);
        eprintln!("interrupted in epoch {epoch} after {steps} steps{saved}");
        std::process::exit(gpu_mlp::signals::exit_code(signal));
    }
    if let (true, Some(last)) = (args.quiet, outcome.reports.last()) {
        println!(
            "epoch {}: train loss {:.4}, test loss {:.4}, test accuracy {:.2}%",
            last.epoch,
            last.train.loss,
            last.test.loss,
            100.0 * last.test.accuracy
        );
    }
    let backend = &mut run.backend;
    if outcome.stopped_early {
        say(format!(
            "early stopping: no {} improvement for {} epochs",
            flag(config.monitor),
            config.patience.unwrap_or(0)
        ));
    }
    if let Some(best) = &outcome.best {
        backend.set_parameters(&best.params)?;
        let test = backend.evaluate(EvalSplit::Test)?;
        println!(
            "best epoch {} by {}: val loss {:.4}, val accuracy {:.2}%; its test loss {:.4}, test accuracy {:.2}%",
            best.epoch,
            flag(config.monitor),
            best.val.loss,
            100.0 * best.val.accuracy,
            test.loss,
            100.0 * test.accuracy
        );
    }
    let stats = backend.schedule_stats();
    if stats.dispatches > 0 && !outcome.reports.is_empty() {
        say(format!(
            "GPU schedule: {:.0} dispatches per step, {:.1} submits per epoch",
            stats.dispatches_per_step(),
            stats.submits as f64 / outcome.reports.len() as f64
        ));
    }
    if let Some(dir) = &run.dir {
        let plots = gpu_mlp::report::plot_run(&dir.path)?;
        say(format!(
            "wrote {} plots and the checkpoints to {}",
            plots.len(),
            dir.path.display()
        ));
    }
    Ok(())
}

fn run_eval(args: &EvalArgs) -> Result<(), Error> {
    let checkpoint = Checkpoint::load(&gpu_mlp::checkpoint::resolve(&args.checkpoint)?)?;
    let data = evaluate::test_data(&checkpoint, args.dataset, args.data_dir.as_deref())?;
    let result = evaluate::evaluate(&checkpoint, &data)?;
    if args.json {
        // Plain numbers and strings: serialization cannot fail.
        println!(
            "{}",
            serde_json::to_string_pretty(&result).expect("evaluation serializes")
        );
    } else {
        println!(
            "{}: {} test samples, loss {:.4}, accuracy {:.2}%\n",
            args.checkpoint.display(),
            result.samples,
            result.loss,
            100.0 * result.accuracy
        );
        print!("{}", result.table());
    }
    Ok(())
}

fn run_predict(args: &PredictArgs) -> Result<(), Error> {
    let checkpoint = Checkpoint::load(&gpu_mlp::checkpoint::resolve(&args.checkpoint)?)?;
    let spec = checkpoint.meta.spec()?;
    let side = (spec.inputs() as f64).sqrt() as usize;
    let (pixels, truth) = match (&args.image, args.index) {
        (Some(path), _) => {
            if side * side != spec.inputs() {
                return Err(Error::InvalidConfig {
                    field: "image",
                    detail: format!("the model takes {} features, not a square image", spec.inputs()),
                });
            }
            let mut pixels = gpu_mlp::image::load_gray(path, side)?;
            if args.invert {
                gpu_mlp::image::invert(&mut pixels);
            } else if gpu_mlp::image::looks_dark_on_light(&pixels, side) {
                eprintln!(
                    "warning: {} looks dark-on-light; the model learned light strokes on black: pass --invert",
                    path.display()
                );
            }
            (pixels, None)
        }
        (None, index) => {
            let data = evaluate::test_data(&checkpoint, None, args.data_dir.as_deref())?;
            let index = index.unwrap_or(0);
            let Features::U8(all) = &data.features else {
                return Err(Error::InvalidConfig {
                    field: "index",
                    detail: "predict --index needs an image dataset".into(),
                });
            };
            if index >= data.len() {
                return Err(Error::InvalidConfig {
                    field: "index",
                    detail: format!("{index} is past the test split's {} images", data.len()),
                });
            }
            (
                all[index * data.dim..(index + 1) * data.dim].to_vec(),
                Some(data.labels[index] as usize),
            )
        }
    };
    if args.show && side * side == pixels.len() {
        print!("{}", gpu_mlp::image::render(&pixels, side));
    }
    let sample = Dataset {
        features: Features::U8(pixels),
        labels: vec![0],
        dim: spec.inputs(),
        transform: checkpoint.meta.input_transform(),
    };
    let outputs = evaluate::outputs(&checkpoint, &sample)?;
    let probs = evaluate::probabilities(spec.loss, &outputs);
    let mut ranked: Vec<(usize, f32)> = probs.iter().copied().enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let names = &checkpoint.meta.class_names;
    if let Some(t) = truth {
        println!("true class: {t} {}", names[t]);
    }
    for (rank, (class, p)) in ranked.iter().take(args.top_k as usize).enumerate() {
        println!("{}. {class} {:<12} {:6.2}%", rank + 1, names[*class], 100.0 * p);
    }
    Ok(())
}

/// Prints a run's progress: a bar on terminals, one line per epoch otherwise.
struct Console {
    bar: Option<ProgressBar>,
    quiet: bool,
    /// `--log-every` was given: print a line per tick.
    log_every: bool,
    batch_size: usize,
    epoch_start: std::time::Instant,
}

impl Console {
    fn line(&self, text: String) {
        match (&self.bar, self.quiet) {
            (_, true) => {}
            (Some(bar), false) => bar.println(text),
            (None, false) => println!("{text}"),
        }
    }
}

impl Observer for Console {
    fn tick(&mut self, t: &Tick) {
        if let Some(bar) = &self.bar {
            bar.set_prefix(t.epoch.to_string());
            bar.set_position(t.batch as u64);
            let rate = (t.batch * self.batch_size) as f64 / self.epoch_start.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!("loss {:.4}  {:.0} samples/s", t.recent.loss, rate));
        }
        if self.log_every {
            self.line(format!(
                "      epoch {} batch {}/{}: loss {:.4}, accuracy {:.2}%",
                t.epoch,
                t.batch,
                t.batches,
                t.recent.loss,
                100.0 * t.recent.accuracy
            ));
        }
    }

    fn epoch(&mut self, _backend: &mut dyn Backend, r: &EpochReport, _improved: bool) -> Result<(), Error> {
        let val = r.val.map_or(String::new(), |v| {
            format!(" {:>10.4} {:>8.2}%", v.loss, 100.0 * v.accuracy)
        });
        self.line(format!(
            "{:>5} {:>10.4} {:>8.2}%{val} {:>10.4} {:>8.2}% {:>8.2} {:>10.0}",
            r.epoch,
            r.train.loss,
            100.0 * r.train.accuracy,
            r.test.loss,
            100.0 * r.test.accuracy,
            r.train_seconds,
            r.samples_per_second
        ));
        if let Some(bar) = &self.bar {
            bar.reset();
        }
        self.epoch_start = std::time::Instant::now();
        Ok(())
    }

    fn should_stop(&mut self) -> bool {
        gpu_mlp::signals::requested().is_some()
    }
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
        println!(
            "    features: {}",
            if a.notable_features.is_empty() {
                "none of note".into()
            } else {
                a.notable_features.join(", ")
            }
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
