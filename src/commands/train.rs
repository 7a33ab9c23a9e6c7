//! `gpu-mlp train`: the flags, the run's header, live progress and the final summary. What the
//! run does (data, network, checkpoints, resume, signals, best epoch, plots) is [`Run`]'s.

use std::io::IsTerminal;
use std::path::PathBuf;

use gpu_mlp::data::Normalize;
use gpu_mlp::nn::model::ParamLayout;
use gpu_mlp::run::{Run, Summary};
use gpu_mlp::settings::flags::SettingFlags;
use gpu_mlp::settings::Config;
use gpu_mlp::sweep::{SweepAxis, SweepResult};
use gpu_mlp::training::backend::{Backend, Metrics};
use gpu_mlp::training::diagnostics::LayerDiagnostics;
use gpu_mlp::training::train::{EpochReport, Observer, Outcome, Tick};
use gpu_mlp::Error;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use gpu_mlp::declare::choice_name;

/// The flags of `train`: the run's own, and one per setting (declared in `gpu_mlp::settings`),
/// each overriding the same key of `--config`; the declared defaults fill what neither gives.
#[derive(clap::Args)]
pub struct TrainArgs {
    /// TOML file with any of the settings below (keys in snake_case); flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Run directory for the config, history, checkpoints and plots [default:
    /// runs/<date>_<time>-<dataset>, UTC, e.g. runs/2026-11-30_14-05-12-fashion].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue the run in this directory from its last checkpoint (its config.toml, with any
    /// flags given here on top, e.g. a larger --epochs).
    #[arg(long, conflicts_with_all = ["config", "out", "force"])]
    resume: Option<PathBuf>,
    /// Start anew in an --out directory that holds a run (or, with --sweep, an earlier sweep):
    /// the old one is moved aside to <out>.old-<N> first (never deleted).
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    settings: SettingFlags,
    /// Train a grid of runs, one per combination of the values: KEY=V1,V2,… (repeatable), e.g.
    /// `--sweep lr=1,0.1,0.001 --sweep activation=relu,tanh`; a list-valued setting separates
    /// its items with `:` (`hidden=64,128:64`). Each run gets a directory under --out [default:
    /// runs/<date>_<time>-sweep], which then holds the comparison plots; a table compares the runs.
    #[arg(long, value_name = "KEY=V1,V2", conflicts_with = "resume")]
    sweep: Vec<SweepAxis>,
    /// Print only errors and the final summary: no progress, no per-epoch lines.
    #[arg(long)]
    quiet: bool,
    /// Download MNIST / Fashion-MNIST first when it is not found locally.
    #[arg(long)]
    download: bool,
    /// Mirror for --download [default: $GPU_MLP_MIRROR, else the official one].
    #[arg(long)]
    mirror: Option<String>,
}

impl TrainArgs {
    pub fn config_file(&self) -> Option<&std::path::Path> {
        self.config.as_deref()
    }

    pub fn resume_dir(&self) -> Option<&std::path::Path> {
        self.resume.as_deref()
    }

    /// The settings given as flags.
    pub fn settings(&self) -> &toml::Table {
        &self.settings.0
    }
}

pub fn run(args: &TrainArgs) -> Result<(), Error> {
    gpu_mlp::signals::install();
    if !args.sweep.is_empty() {
        return sweep(args);
    }
    let mut run = match &args.resume {
        Some(dir) => Run::resume(dir, args.settings())?,
        None => open(
            &Config::resolve(args.config.as_deref(), args.settings())?,
            args.out.as_deref(),
            args,
        )?,
    };
    train_and_report(&mut run, args.quiet)?;
    Ok(())
}

/// Trains `run` with live progress between its header and its summary.
fn train_and_report(run: &mut Run, quiet: bool) -> Result<(Outcome, Summary), Error> {
    print_header(run, quiet);
    let (bar, outcome) = {
        let mut console = Console::new(run, quiet);
        let outcome = run.train(&mut console);
        (console.bar, outcome)
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let outcome = outcome?;
    let summary = run.finish(&outcome)?;
    print_summary(run, &outcome, &summary, quiet);
    Ok((outcome, summary))
}

/// Starts a run of `config` in `out` (downloading its data first with `--download` when it is
/// not found).
fn open(config: &Config, out: Option<&std::path::Path>, args: &TrainArgs) -> Result<Run, Error> {
    if args.download && gpu_mlp::data::load(config.data.dataset, &config.load_options()).is_err() {
        super::download::fetch(
            config.data.dataset,
            config.data.data_dir.as_deref(),
            args.mirror.as_deref(),
            gpu_mlp::data::download::Limits::DEFAULT,
        )?;
    }
    Run::with_dir(config, out, args.force)
}

/// Trains every point of the `--sweep` grid in turn, each in its own directory under one
/// parent; a failed run (e.g. one that diverged) is reported and the sweep goes on. Then the
/// comparison table and the overlaid plots.
fn sweep(args: &TrainArgs) -> Result<(), Error> {
    let points = gpu_mlp::sweep::plan(args.config.as_deref(), args.settings(), &args.sweep)?;
    let parent = args
        .out
        .clone()
        .unwrap_or_else(|| gpu_mlp::run::artifacts::new_run_path("sweep"));
    if let Some(aside) = clear_sweep_dir(&parent, args.force)? {
        println!("moved the earlier sweep in {} to {}", parent.display(), aside.display());
    }
    gpu_mlp::sweep::write_experiment(&parent, &args.sweep, &points)?;
    println!("sweep: {} runs into {}", points.len(), parent.display());
    let mut results = Vec::new();
    for (i, point) in points.iter().enumerate() {
        println!("\n[{}/{}] {}", i + 1, points.len(), point.name);
        let dir = parent.join(&point.name);
        let start = std::time::Instant::now();
        let trained = open(&point.config, Some(&dir), args).and_then(|mut run| train_and_report(&mut run, args.quiet));
        let mut result = SweepResult {
            name: point.name.clone(),
            dir,
            last_train: None,
            last_val: None,
            last_test: None,
            best: None,
            seconds: start.elapsed().as_secs_f64(),
            failure: None,
        };
        match trained {
            Ok((outcome, summary)) => {
                result.last_train = outcome.reports.last().map(|r| r.train);
                result.last_val = outcome.reports.last().and_then(|r| r.val);
                result.last_test = outcome.reports.last().and_then(|r| r.test);
                result.best = summary
                    .best
                    .map(|(best, test)| (best.epoch, best.val.accuracy, test.map_or(f64::NAN, |t| t.accuracy)));
            }
            // A stop signal ends the whole sweep.
            Err(e @ (Error::TrainingStopped { .. } | Error::Interrupted(_) | Error::PlotsInterrupted { .. })) => {
                return Err(e)
            }
            Err(e) => {
                eprintln!("error: {e}");
                result.failure = Some(e.to_string().lines().next().unwrap_or_default().to_string());
            }
        }
        results.push(result);
    }
    println!("\n{}", gpu_mlp::sweep::comparison_table(&results));
    let dirs: Vec<PathBuf> = results.iter().map(|r| r.dir.clone()).filter(|d| d.is_dir()).collect();
    for file in gpu_mlp::run::plots::compare(&dirs, &parent)? {
        println!("wrote {}", file.display());
    }
    Ok(())
}

/// A sweep writes its runs, table and overlays into a directory of its own: one that exists
/// and holds anything (an earlier sweep) is refused and left as it is, unless `force`, which
/// moves it aside to `<dir>.old-<N>` (returned), as it does for a run; a sweep another process
/// trains in is refused either way.
fn clear_sweep_dir(parent: &std::path::Path, force: bool) -> Result<Option<PathBuf>, Error> {
    gpu_mlp::run::artifacts::check_output_dir(parent)?;
    let used = std::fs::read_dir(parent).is_ok_and(|mut entries| entries.next().is_some());
    if !used {
        return Ok(None);
    }
    if let Some((run, pid)) = gpu_mlp::run::artifacts::training_in(parent) {
        return Err(Error::RunInUse {
            path: run,
            detail: format!("process {pid} is training in it"),
        });
    }
    match force {
        true => gpu_mlp::run::artifacts::move_aside(parent).map(Some),
        false => Err(Error::Output {
            path: parent.to_path_buf(),
            detail: "already holds files (an earlier sweep?): give the sweep a new --out directory, or --force to \
                     move the earlier one aside"
                .into(),
        }),
    }
}

/// What is about to train: the data, the device, the model and its settings, the directory.
fn print_header(run: &Run, quiet: bool) {
    let (config, splits) = (run.config(), run.data());
    for warning in &splits.warnings {
        eprintln!("warning: {warning}");
    }
    if quiet {
        return;
    }
    println!(
        "dataset {}: {} train / {} validation / {} test samples, {} features, {} classes{}",
        splits.name,
        splits.train.len(),
        splits.val.as_ref().map_or(0, |v| v.len()),
        splits.test.as_ref().map_or(0, |t| t.len()),
        splits.train.dim,
        splits.classes(),
        match splits.table {
            Some(_) => String::new(),
            None => format!(" ({} normalization)", choice_name(&config.data.normalize)),
        }
    );
    if let Some(table) = &splits.table {
        println!(
            "table columns: {}; target {} with classes {}{}",
            table.describe(),
            table.target,
            table.classes.join(", "),
            if config.data.normalize == Normalize::None {
                " (numeric columns as they are)"
            } else {
                " (numeric columns standardized on the training split)"
            }
        );
    }
    println!("device: {}", run.device());
    let (model, optimizer) = (&config.model, &config.optimizer);
    println!(
        "model {} ({} parameters, {} init, {}, dropout {}), {} lr {}{} ({} schedule), batch {}, {}, seed {}",
        run.spec().describe(),
        ParamLayout::new(run.spec()).count(),
        choice_name(&model.init),
        choice_name(&model.loss),
        model.dropout,
        choice_name(&optimizer.kind),
        optimizer.lr,
        if optimizer.lr_is_default() {
            format!(" (the default for {}; --lr sets another)", choice_name(&optimizer.kind))
        } else {
            String::new()
        },
        choice_name(&config.schedule.kind),
        config.training.batch_size,
        count(config.training.epochs, "epoch"),
        config.run.seed
    );
    print!("{}", run.spec().summary_table(model.dropout));
    if let Some(old) = run.moved_aside() {
        println!("moved the run that was there to {}", old.display());
    }
    if let Some(dir) = run.dir() {
        match run.resumed_after() {
            (0, 0) => {
                let logdir = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(dir);
                println!(
                    "run directory: {} (live: tensorboard --logdir {})",
                    dir.display(),
                    logdir.display()
                )
            }
            (done, 0) => println!("resuming {} after epoch {done}", dir.display()),
            (done, steps) => println!(
                "resuming {} in epoch {} after its {}",
                dir.display(),
                done + 1,
                count(steps, "batch")
            ),
        }
    }
    let val_header = if splits.val.is_some() {
        format!(" {:>10} {:>9}", "val_loss", "val_acc")
    } else {
        String::new()
    };
    println!(
        "{:>5} {:>10} {:>9}{val_header} {:>10} {:>9} {:>8} {:>10}",
        "epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds", "samples/s"
    );
}

/// The best epoch, early stopping, the GPU schedule and where the files went (with `--quiet`,
/// the last epoch, the best one and where the files went only).
fn print_summary(run: &Run, outcome: &Outcome, summary: &Summary, quiet: bool) {
    let config = run.config();
    if let (true, Some(last)) = (quiet, outcome.reports.last()) {
        let test = last.test.unwrap_or(Metrics::UNMEASURED);
        println!(
            "epoch {}: train loss {:.4}, test loss {:.4}, test accuracy {:.2}%",
            last.epoch,
            last.train.loss,
            test.loss,
            100.0 * test.accuracy
        );
    }
    if summary.stopped_early && !quiet {
        println!(
            "early stopping: no {} improvement for {}",
            choice_name(&config.training.monitor),
            count(config.training.patience.unwrap_or(0), "epoch")
        );
    }
    if let Some((best, test)) = &summary.best {
        let kept = match config.training.restore_best {
            true => {
                let test = test.unwrap_or(Metrics::UNMEASURED);
                format!(
                    "; its test loss {:.4}, test accuracy {:.2}%",
                    test.loss,
                    100.0 * test.accuracy
                )
            }
            false => " (not restored: the model keeps the last epoch's weights, --restore-best false)".into(),
        };
        println!(
            "best epoch {} by {}: val loss {:.4}, val accuracy {:.2}%{kept}",
            best.epoch,
            choice_name(&config.training.monitor),
            best.val.loss,
            100.0 * best.val.accuracy,
        );
    }
    if !summary.findings.is_empty() {
        println!("findings:");
        for finding in &summary.findings {
            println!("  - {finding}");
        }
    }
    if summary.dispatches.dispatches > 0 && summary.epochs > 0 && !quiet {
        println!(
            "GPU schedule: {:.0} dispatches per step, {:.1} submits per epoch",
            summary.dispatches.dispatches_per_step(),
            summary.dispatches.submits as f64 / summary.epochs as f64
        );
    }
    // Even with --quiet: where the run went is what a script needs next.
    if let Some(dir) = run.dir() {
        println!(
            "wrote {} plots and the checkpoints to {}",
            summary.plots.len(),
            dir.display()
        );
    }
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
    fn new(run: &Run, quiet: bool) -> Console {
        let steps = run.steps_per_epoch() as u64;
        let bar = (!quiet && std::io::stdout().is_terminal()).then(|| {
            ProgressBar::with_draw_target(Some(steps), ProgressDrawTarget::stdout()).with_style(
                ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} batches, {eta} left {msg}")
                    .expect("a valid template")
                    .progress_chars("=> "),
            )
        });
        Console {
            bar,
            quiet,
            log_every: run.config().run.log_every.is_some(),
            batch_size: run.config().training.batch_size,
            epoch_start: std::time::Instant::now(),
        }
    }

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
            format!(" {:>10} {:>8.2}%", loss_cell(v.loss), 100.0 * v.accuracy)
        });
        let test = r.test.unwrap_or(Metrics::UNMEASURED);
        self.line(format!(
            "{:>5} {:>10} {:>8.2}%{val} {:>10} {:>8.2}% {:>8.2} {:>10.0}",
            r.epoch,
            loss_cell(r.train.loss),
            100.0 * r.train.accuracy,
            loss_cell(test.loss),
            100.0 * test.accuracy,
            r.train_seconds,
            r.samples_per_second
        ));
        if self.log_every {
            for (l, d) in r.layers.iter().enumerate() {
                self.line(describe_layer(l, d));
            }
        }
        if let Some(bar) = &self.bar {
            bar.reset();
        }
        self.epoch_start = std::time::Instant::now();
        Ok(())
    }
}

/// One layer's diagnostics on one line.
fn describe_layer(l: usize, d: &LayerDiagnostics) -> String {
    let activations = match (d.activation_mean, d.activation_std, d.dead_fraction) {
        (Some(mean), Some(std), Some(dead)) => {
            format!(
                ", activations mean {mean:.3} std {std:.3}, {:.0}% units dead",
                100.0 * dead
            )
        }
        _ => String::new(),
    };
    format!(
        "      layer {}: |dW| {:.2e}, |db| {:.2e}, |W| {:.3}, update/weight {:.1e}{activations}",
        l + 1,
        d.weight_grad_norm,
        d.bias_grad_norm,
        d.weight_norm,
        d.update_ratio
    )
}

/// `1 epoch`, `5 epochs`.
fn count(n: usize, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

/// A loss as the epoch table prints it: four decimals, or scientific notation when that would
/// not fit its column (a diverging run's 1.8e8).
fn loss_cell(loss: f64) -> String {
    match loss.abs() < 1e5 || !loss.is_finite() {
        true => format!("{loss:.4}"),
        false => format!("{loss:.3e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::{count, loss_cell};

    #[test]
    fn losses_keep_their_column_however_large() {
        assert_eq!(loss_cell(0.23456), "0.2346");
        assert_eq!(loss_cell(1.796e8), "1.796e8");
        assert!(loss_cell(f64::MAX).len() <= 10);
        assert_eq!(loss_cell(f64::NAN), "NaN");
    }

    #[test]
    fn counts_are_singular_for_one() {
        assert_eq!(
            (count(1, "epoch"), count(3, "epoch")),
            ("1 epoch".into(), "3 epochs".into())
        );
    }
}
