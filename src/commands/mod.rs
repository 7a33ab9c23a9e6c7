//! The command line: one file per subcommand, each parsing its flags, calling the library and
//! printing the result.

mod bench;
mod download;
mod eval;
mod explain;
mod export;
mod info;
mod plot;
mod predict;
mod serve;
mod summary;
mod train;

use clap::{Parser, Subcommand};

use gpu_mlp::Error;

#[derive(Parser)]
#[command(
    name = "gpu-mlp",
    version,
    about = "Train multi-layer perceptrons with hand-written WGSL kernels (wgpu) or the plain-Rust CPU reference"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Train an MLP and print per-epoch train/test loss and accuracy.
    Train(Box<train::TrainArgs>),
    /// Print the network a config and flags describe, layer by layer (shapes, activation,
    /// dropout, parameters), as Keras' `model.summary()` does; `train` prints it too.
    Summary(Box<train::TrainArgs>),
    /// One real mini-batch through the freshly initialized network, step by step: shapes,
    /// statistics, logits, softmax, losses, gradients and the update, each naming the CPU
    /// function and the WGSL kernel that compute it, with the GPU's value beside the CPU's.
    Explain(Box<explain::ExplainArgs>),
    /// Score a checkpoint on its dataset's test split: loss, accuracy, confusion matrix,
    /// per-class precision/recall/F1 (computed by the CPU reference).
    Eval(eval::EvalArgs),
    /// Classify one test image (by index) or an image file (PNG or PGM): top-k classes.
    Predict(predict::PredictArgs),
    /// Fetch MNIST or Fashion-MNIST into ./data/<name>/ (or --data-dir), verified.
    Download(download::DownloadArgs),
    /// Redraw a run directory's plots (loss, accuracy, confusion matrix, example images).
    Plot(plot::PlotArgs),
    /// Write a run's weights alone (no optimizer state) as safetensors for other tools:
    /// `layers.{i}.weight` [out, in] and `layers.{i}.bias`, as nn.Linear stores them.
    Export(export::ExportArgs),
    /// List the GPU adapters wgpu sees on every graphics API (or --backend's), their type,
    /// key limits and features, and which one --device auto and --device gpu take.
    Info(info::InfoArgs),
    /// Measure this machine on the reference configurations: training samples/s (CPU and GPU
    /// side by side), each GPU step's dispatches with their workgroups and GPU time, and the
    /// GFLOP/s of every product the configuration runs.
    Bench(bench::BenchArgs),
    /// Serve the page that trains in a browser tab (on its WebGPU, or the CPU reference
    /// compiled to wasm) on 127.0.0.1, with the Fashion-MNIST and MNIST files `train` finds.
    Serve(serve::ServeArgs),
}

impl Command {
    pub fn run(self) -> Result<(), Error> {
        match self {
            Command::Train(args) => train::run(&args),
            Command::Summary(args) => summary::run(&args),
            Command::Explain(args) => explain::run(&args),
            Command::Eval(args) => eval::run(&args),
            Command::Predict(args) => predict::run(&args),
            Command::Download(args) => {
                gpu_mlp::signals::install();
                download::run(&args)
            }
            Command::Plot(args) => {
                gpu_mlp::signals::install();
                plot::run(&args)
            }
            Command::Export(args) => export::run(&args),
            Command::Info(args) => info::run(&args),
            Command::Bench(args) => bench::run(&args),
            Command::Serve(args) => serve::run(&args),
        }
    }
}

/// For a list setting given as separate words (`--hidden 128 64`), which clap reads as an
/// unexpected `64`: the spelling it takes (`--hidden 128,64`).
pub fn list_tip(error: &clap::Error, args: &[String]) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if error.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let Some(ContextValue::String(unexpected)) = error.get(ContextKind::InvalidArg) else {
        return None;
    };
    let at = args.iter().position(|a| a == unexpected)?;
    // Back over the words before it to the flag they follow.
    let start = args[..at].iter().rposition(|a| a.starts_with("--"))?;
    let setting = gpu_mlp::settings::find(&args[start].trim_start_matches("--").replace('-', "_"))?;
    let words: Vec<&str> = args[start + 1..]
        .iter()
        .take_while(|a| !a.starts_with("--"))
        .map(String::as_str)
        .collect();
    (setting.list && words.len() > 1).then(|| {
        format!(
            "{} takes a comma-separated list: {} {}",
            args[start],
            args[start],
            words.join(",")
        )
    })
}
