//! `gpu_mlp._core`: the Rust side of the Python package. It converts Python values to the
//! library's settings and arrays, trains with the GIL released, and hands back numbers; what a
//! Python user sees (keywords, Keras-style lines, History, callbacks) is shaped in
//! `gpu_mlp/__init__.py`.

use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use gpu_mlp::data::table::{Column, RawTable};
use gpu_mlp::data::{Affine, Dataset, DatasetName, Features, LoadOptions, Splits};
use gpu_mlp::declare::Setting;
use gpu_mlp::insight::evaluate::{all_probabilities, evaluate_params, outputs_of, Evaluation};
use gpu_mlp::nn::model::ParamLayout;
use std::path::{Path, PathBuf};

use gpu_mlp::checkpoint::{self, Checkpoint};
use gpu_mlp::run::artifacts::RunDir;
use gpu_mlp::run::Run;
use gpu_mlp::settings::Config;
use gpu_mlp::training::backend::Backend;
use gpu_mlp::training::history::HistoryRow;
use gpu_mlp::training::train::{EpochReport, Observer, Tick};

/// A library error as the Python exception a caller expects: bad settings or data are
/// `ValueError`, anything else (a device, a file) `RuntimeError`.
fn to_py(e: gpu_mlp::Error) -> PyErr {
    match e.exit_code() {
        2 => PyValueError::new_err(e.to_string()),
        _ => PyRuntimeError::new_err(e.to_string()),
    }
}

/// Where keyword settings are named in errors (they are not a file).
const KEYWORDS: &str = "keywords";

/// Python's spelling of `value` (`repr`), for messages.
fn python_repr(value: &Bound<'_, PyAny>) -> String {
    value.repr().map_or_else(|_| "?".into(), |r| r.to_string())
}

/// One Python value (numpy scalars and arrays as the Python values they hold) as the TOML
/// value of `setting`, checked as the command line checks its flags; a refusal names the
/// keyword, the value and what the setting takes.
fn keyword_value(setting: &Setting, value: &Bound<'_, PyAny>) -> PyResult<toml::Value> {
    // numpy: `np.int64(3).tolist()` is 3, `np.array([8]).tolist()` is [8].
    if !value.is_instance_of::<PyString>() && value.hasattr("tolist")? {
        return keyword_value(setting, &value.call_method0("tolist")?);
    }
    let refuse = |why: String| {
        let why = match (setting.range, setting.choices.is_empty()) {
            (_, false) => format!(
                "expected one of {}",
                setting
                    .choices
                    .iter()
                    .map(|c| c.get_name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            (_, true) => why,
        };
        PyValueError::new_err(format!("{}={}: {why}", setting.key, python_repr(value)))
    };
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        if !setting.list {
            return Err(refuse("expected one value, not a list".into()));
        }
        let items: PyResult<Vec<toml::Value>> = value.try_iter()?.map(|item| keyword_value(setting, &item?)).collect();
        return Ok(toml::Value::Array(items?));
    }
    let text = if value.is_instance_of::<PyBool>() {
        value.extract::<bool>()?.to_string()
    } else if value.is_instance_of::<PyInt>() || value.is_instance_of::<PyFloat>() {
        value.str()?.to_string()
    } else if value.is_instance_of::<PyString>() || value.hasattr("__fspath__")? {
        // A path (pathlib.Path) is its text.
        let text = match value.is_instance_of::<PyString>() {
            true => value.extract::<String>()?,
            false => value.call_method0("__fspath__")?.str()?.to_string(),
        };
        if !setting.text {
            let expected = setting.range.expected().unwrap_or_else(|| "a number".into());
            return Err(refuse(format!("expected {expected}, got the text {text:?}")));
        }
        text
    } else {
        return Err(refuse(format!(
            "expected a bool, int, float, str or list of them, got {}",
            value.get_type().name()?
        )));
    };
    if value.is_instance_of::<PyBool>() && !setting.switch {
        return Err(refuse("expected a number or text, got a bool".into()));
    }
    // What the setting takes, its range included, rather than the parser's bare "a number".
    (setting.parse_item)(&text).map_err(|why| refuse(setting.range.expected().map_or(why, |e| format!("expected {e}"))))
}

/// The settings given as keywords (None: the declared default) on top of `base` (a run's
/// config.toml, or nothing), validated as a config file is.
fn resolve_on(base: Option<&str>, settings: &Bound<'_, PyDict>) -> PyResult<Config> {
    let table = match base {
        Some(text) => toml::from_str::<toml::Table>(text).map_err(|e| PyValueError::new_err(e.to_string()))?,
        None => toml::Table::new(),
    };
    let mut given = toml::Table::new();
    for (key, value) in settings.iter() {
        let key: String = key.extract()?;
        let setting = gpu_mlp::settings::find(&key)
            .ok_or_else(|| pyo3::exceptions::PyTypeError::new_err(format!("unknown setting {key:?}")))?;
        if !value.is_none() {
            given.insert(key, keyword_value(&setting, &value)?);
        }
    }
    Config::resolve_from(Path::new(KEYWORDS), table, &given).map_err(to_py)
}

/// One mini-batch of the run `settings` describe through its freshly initialized network, step
/// by step, the CPU reference's values beside the GPU kernel's (`gpu-mlp explain`).
#[pyfunction]
#[pyo3(signature = (settings, batch=0))]
fn explain(py: Python<'_>, settings: &Bound<'_, PyDict>, batch: usize) -> PyResult<String> {
    let config = resolve_on(None, settings)?;
    let explanation = py
        .detach(|| gpu_mlp::insight::explain::explain(&config, batch))
        .map_err(to_py)?;
    Ok(explanation.to_text())
}

/// A new run directory's path under `parent`, named as the command line names them
/// (`<parent>/2026-11-30_14-05-12-arrays`), never an existing one.
#[pyfunction]
fn new_run_dir(parent: std::path::PathBuf) -> std::path::PathBuf {
    gpu_mlp::run::artifacts::new_run_path_in(&parent, "arrays")
}

/// Every setting's declaration, for the keywords of `MLP` and `MLPClassifier`.
#[pyfunction]
fn settings(py: Python<'_>) -> PyResult<Vec<Bound<'_, PyDict>>> {
    gpu_mlp::settings::all()
        .into_iter()
        .map(|s| {
            let d = PyDict::new(py);
            d.set_item("key", s.key)?;
            d.set_item("group", s.group)?;
            d.set_item("help", &s.help)?;
            d.set_item("default", s.default.as_deref())?;
            d.set_item("choices", s.choices.iter().map(|c| c.get_name()).collect::<Vec<_>>())?;
            d.set_item("list", s.list)?;
            d.set_item("range", s.range.describe())?;
            d.set_item("roles", s.roles.iter().map(|r| r.name()).collect::<Vec<_>>())?;
            Ok(d)
        })
        .collect()
}

fn dataset_name(name: &str) -> PyResult<DatasetName> {
    clap::ValueEnum::from_str(name, false).map_err(PyValueError::new_err)
}

/// What an image dataset's classes are called, without loading it.
#[pyfunction]
fn class_names(name: &str) -> PyResult<Vec<String>> {
    Ok(dataset_name(name)?.image_class_names())
}

/// `(x_train, y_train), (x_test, y_test), class_names` of an installed dataset, as stored
/// (images as uint8 rows of 784).
#[pyfunction]
#[pyo3(signature = (name, data_dir=None))]
#[allow(clippy::type_complexity)]
fn load_dataset<'py>(
    py: Python<'py>,
    name: &str,
    data_dir: Option<std::path::PathBuf>,
) -> PyResult<(
    (Bound<'py, PyAny>, Bound<'py, PyArray1<u32>>),
    (Bound<'py, PyAny>, Bound<'py, PyArray1<u32>>),
    Vec<String>,
)> {
    let name = dataset_name(name)?;
    let options = LoadOptions {
        data_dir,
        ..LoadOptions::default()
    };
    let splits = py.detach(|| gpu_mlp::data::load(name, &options)).map_err(to_py)?;
    let arrays = |d: &Dataset| -> PyResult<_> {
        let x = match &d.features {
            Features::U8(v) => PyArray1::from_slice(py, v).reshape([d.len(), d.dim])?.into_any(),
            Features::F32(v) => PyArray1::from_slice(py, v).reshape([d.len(), d.dim])?.into_any(),
        };
        Ok((x, PyArray1::from_slice(py, &d.labels)))
    };
    let test = splits.test.as_ref().map(arrays).transpose()?;
    let test = test.ok_or_else(|| PyValueError::new_err(format!("{} has no test split", splits.name)))?;
    Ok((arrays(&splits.train)?, test, splits.class_names.clone()))
}

/// Samples given from Python: their features as the library stores them, `rows` × `dim`.
struct Samples {
    features: Features,
    rows: usize,
    dim: usize,
}

impl Samples {
    /// The samples with `labels` (one per row, checked by the caller).
    fn labelled(self, labels: Vec<u32>) -> Dataset {
        Dataset {
            features: self.features,
            labels,
            dim: self.dim,
            transform: Affine::IDENTITY,
            weights: None,
        }
    }
}

/// The samples of the Python argument `name` as the library stores them (uint8 rows stay
/// uint8, scaled by `normalize`; float32 rows as they are); a value that is not a finite
/// number is refused, naming the argument, its row and its column.
fn samples(name: &str, x: &Bound<'_, PyAny>) -> PyResult<Samples> {
    let (features, [rows, dim]) = if let Ok(x) = x.extract::<PyReadonlyArray2<'_, u8>>() {
        (Features::U8(x.as_slice()?.to_vec()), [x.shape()[0], x.shape()[1]])
    } else {
        let x: PyReadonlyArray2<'_, f32> = x.extract()?;
        (Features::F32(x.as_slice()?.to_vec()), [x.shape()[0], x.shape()[1]])
    };
    if let Some((row, column, value)) = features.first_non_finite(dim) {
        return Err(PyValueError::new_err(format!(
            "{name}: row {row}, column {column} is {value}: inputs must be finite numbers (fill or drop missing \
             values first, or set missing=\"mean\" to fill them with the training means)"
        )));
    }
    Ok(Samples { features, rows, dim })
}

/// The target's column in a table given from Python (named so it cannot clash).
const FRAME_TARGET: &str = "__gpu_mlp_target__";

/// A DataFrame's columns as a table in memory: a numpy float64 array per numeric column (NaN:
/// missing), read as numbers, or a list of text per other column (None: missing).
fn frame_columns(columns: &Bound<'_, PyList>) -> PyResult<Vec<Column>> {
    columns
        .iter()
        .map(|column| {
            if let Ok(numbers) = column.extract::<PyReadonlyArray1<'_, f64>>() {
                Ok(Column::Numbers(numbers.as_slice()?.to_vec()))
            } else {
                let texts: Vec<Option<String>> = column.extract()?;
                Ok(Column::Texts(
                    texts.into_iter().map(Option::unwrap_or_default).collect(),
                ))
            }
        })
        .collect()
}

/// Calls the Python progress object (`on_tick`, `on_epoch_begin`, `on_epoch`, its
/// `stop_training`) with the GIL taken back for the moment, and turns Ctrl-C
/// (KeyboardInterrupt) into a stop at the next tick.
struct PythonObserver {
    progress: Py<PyAny>,
    interrupted: Option<PyErr>,
    failed: Option<PyErr>,
}

impl PythonObserver {
    fn call<A: for<'py> pyo3::call::PyCallArgs<'py>>(&mut self, method: &str, args: A) -> Option<Py<PyAny>> {
        Python::attach(|py| match self.progress.call_method1(py, method, args) {
            Ok(answer) => Some(answer),
            Err(e) => {
                self.failed.get_or_insert(e);
                None
            }
        })
    }

    /// The first error: a callback's, else Ctrl-C's.
    fn error(self) -> Option<PyErr> {
        self.failed.or(self.interrupted)
    }
}

impl Observer for PythonObserver {
    fn tick(&mut self, t: &Tick) {
        self.call(
            "on_tick",
            (t.epoch, t.batch, t.batches, t.recent.loss, t.recent.accuracy),
        );
    }

    fn epoch_lr(&mut self, epoch: usize, lr: f32) -> f32 {
        let answer = self.call("on_epoch_begin", (epoch, lr));
        Python::attach(|py| match answer.map(|a| a.extract::<Option<f32>>(py)) {
            Some(Ok(Some(chosen))) if chosen.is_finite() && chosen > 0.0 => chosen,
            Some(Ok(Some(chosen))) => {
                self.failed.get_or_insert(PyValueError::new_err(format!(
                    "the learning rate scheduler gave {chosen} for epoch {epoch}: expected a finite number > 0"
                )));
                lr
            }
            Some(Err(e)) => {
                self.failed.get_or_insert(e);
                lr
            }
            _ => lr,
        })
    }

    fn epoch(&mut self, _backend: &mut dyn Backend, r: &EpochReport, improved: bool) -> gpu_mlp::Result<()> {
        let metrics = |m: Option<gpu_mlp::Metrics>| m.map(|m| (m.loss, m.accuracy));
        self.call(
            "on_epoch",
            (
                r.epoch,
                (r.train.loss, r.train.accuracy),
                metrics(r.val),
                metrics(r.test),
                r.lr,
                r.train_seconds,
                improved,
            ),
        );
        Ok(())
    }

    fn should_stop(&mut self) -> bool {
        Python::attach(|py| {
            if self.interrupted.is_none() {
                self.interrupted = py.check_signals().err();
            }
            let asked = self.progress.getattr(py, "stop_training").and_then(|v| v.is_truthy(py));
            match asked {
                Ok(asked) => asked || self.interrupted.is_some() || self.failed.is_some(),
                Err(e) => {
                    self.failed.get_or_insert(e);
                    true
                }
            }
        })
    }
}

/// A model: the settings a new fit trains with, and once trained (or loaded) its checkpoint
/// (shape, weights, input transform, class names, a table's codec) and history.
#[pyclass(module = "gpu_mlp._core")]
struct Model {
    config: Config,
    trained: Option<Checkpoint>,
    history: Vec<HistoryRow>,
    device: String,
    /// What the last fit's diagnostics say went wrong.
    findings: Vec<String>,
    /// The last `evaluate`'s scores, for its confusion plot.
    evaluated: Option<Evaluation>,
    /// Fits that changed the model (a front end tells a refused fit from one that trained).
    generation: u64,
}

/// Where a model's state is named in errors (it is not a file).
const STATE: &str = "pickled model";

/// What a fit hands to the run it builds.
struct FitData {
    splits: Splits,
    out: Option<PathBuf>,
    initial_epoch: usize,
}

impl Model {
    fn built(&self) -> PyResult<&Checkpoint> {
        self.trained
            .as_ref()
            .ok_or_else(|| PyValueError::new_err("this model has not been built yet: call fit() first"))
    }

    /// Trains the run `open` builds to the end, with the GIL released, and keeps what it
    /// made: the model changes only once training has started (a refused fit leaves it as it
    /// was; Ctrl-C keeps the weights trained so far).
    fn train(
        &mut self,
        py: Python<'_>,
        progress: Py<PyAny>,
        open: impl Send + FnOnce() -> gpu_mlp::Result<Run>,
    ) -> PyResult<()> {
        let mut observer = PythonObserver {
            progress,
            interrupted: None,
            failed: None,
        };
        let trained = py.detach(|| -> gpu_mlp::Result<_> {
            let mut run = open()?;
            let (epochs, steps) = (run.config().training.epochs, run.steps_per_epoch());
            let begin = (run.resumed_after().0, epochs, steps, run.data().train.len());
            observer.call("on_train_begin", begin);
            let outcome = run.train(&mut observer)?;
            let summary = run.finish(&outcome)?;
            Ok((
                run.checkpoint()?,
                run.history().to_vec(),
                run.device(),
                summary.findings,
            ))
        });
        let (checkpoint, history, device, findings) = trained.map_err(to_py)?;
        (self.trained, self.history, self.device, self.findings) = (Some(checkpoint), history, device, findings);
        self.evaluated = None;
        self.generation += 1;
        // A Ctrl-C after the last tick (the final evaluation, plots and files) stops the fit
        // here, not at some later line of the caller's.
        if observer.interrupted.is_none() {
            observer.interrupted = py.check_signals().err();
        }
        match observer.error() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// `x` as this model takes it: finite, of its width, on the scale it was trained on.
    fn inputs(&self, name: &str, x: &Bound<'_, PyAny>) -> PyResult<Samples> {
        let c = self.built()?;
        let mut given = samples(name, x)?;
        if given.dim != c.meta.sizes[0] {
            return Err(PyValueError::new_err(format!(
                "{name}: expected {} features per sample, got {}",
                c.meta.sizes[0], given.dim
            )));
        }
        if let Some(range) = c.meta.stored_range() {
            given.features = range
                .accept(given.features)
                .map_err(|why| PyValueError::new_err(format!("{name}: {why}")))?;
        }
        Ok(given)
    }

    /// Probabilities of each sample of `data` (stored features; transformed as in training).
    fn probabilities<'py>(&self, py: Python<'py>, mut data: Dataset) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let c = self.built()?;
        let spec = c.meta.spec().map_err(to_py)?;
        data.transform = c.meta.input_transform();
        let outputs = py.detach(|| outputs_of(&spec, &c.params, &data));
        Ok(PyArray2::from_vec2(
            py,
            &all_probabilities(spec.loss, &outputs, spec.outputs()),
        )?)
    }

    /// The labelled samples `(x, y)` of the arguments named `name` (`x` and `y`, or
    /// `test_data`…), checked against `classes`; `like`: the model a fit continues, whose
    /// width and input scale they must have.
    fn labelled(
        &self,
        name: (&str, &str),
        x: &Bound<'_, PyAny>,
        y: &PyReadonlyArray1<'_, u32>,
        classes: usize,
        like: bool,
    ) -> PyResult<Dataset> {
        let given = match like {
            true => self.inputs(name.0, x)?,
            false => samples(name.0, x)?,
        };
        let labels = y.as_slice()?.to_vec();
        if labels.len() != given.rows {
            return Err(PyValueError::new_err(format!(
                "{}: {} labels for {} samples",
                name.1,
                labels.len(),
                given.rows
            )));
        }
        if let Some(&label) = labels.iter().find(|&&l| l as usize >= classes) {
            return Err(PyValueError::new_err(format!(
                "{}: label index {label} for {classes} classes",
                name.1
            )));
        }
        Ok(given.labelled(labels))
    }
}

#[pymethods]
impl Model {
    /// A model of `settings` (keywords named as the setting keys) on top of `base` (a loaded
    /// run's config.toml), validated now.
    #[new]
    #[pyo3(signature = (settings, base=None))]
    fn new(settings: &Bound<'_, PyDict>, base: Option<&str>) -> PyResult<Model> {
        Ok(Model {
            config: resolve_on(base, settings)?,
            trained: None,
            history: Vec::new(),
            device: String::new(),
            findings: Vec::new(),
            evaluated: None,
            generation: 0,
        })
    }

    /// The model of a run directory (or checkpoint file): its best weights (else its last),
    /// settings and history, as `gpu-mlp train` or `fit(out=…)` left them.
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<Model> {
        let file = checkpoint::resolve(&path).map_err(to_py)?;
        let c = Checkpoint::load(&file).map_err(to_py)?;
        let dir = RunDir {
            path: file.parent().unwrap_or(&path).to_path_buf(),
        };
        Ok(Model {
            config: c.meta.config.clone(),
            history: dir.read_history().map_err(to_py)?,
            trained: Some(c),
            device: String::new(),
            findings: Vec::new(),
            evaluated: None,
            generation: 0,
        })
    }

    /// Fits that changed the model so far.
    #[getter]
    fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether a fit with `settings` (on top of `base`) trains on from this model's weights:
    /// it is built, and the settings do not change its network, inputs or optimizer.
    #[pyo3(signature = (settings, base=None))]
    fn continues(&self, settings: &Bound<'_, PyDict>, base: Option<&str>) -> PyResult<bool> {
        let config = resolve_on(base, settings)?;
        Ok(self
            .trained
            .as_ref()
            .is_some_and(|c| c.meta.config.model_change(&config).is_none()))
    }

    /// Trains on `(x, y)` with `settings` (on top of `base`, a loaded run's config.toml):
    /// `val` is the validation split, `test` is scored after every epoch; the run directory
    /// goes to `out` when given (as `gpu-mlp train --out` writes it). With `keep_weights`, a
    /// built model whose network these settings do not change trains on from its weights
    /// (Keras' fit after fit); else a new network. Epochs `initial_epoch + 1 ..= epochs` train.
    /// Everything is checked before the model changes. The GIL is released while it trains.
    /// Returns whether the fit continued the model's weights.
    #[pyo3(signature = (x, y, class_names, progress, settings, base=None, test=None, val=None, out=None, keep_weights=false, initial_epoch=0, weights=None))]
    #[allow(clippy::too_many_arguments)]
    fn fit(
        &mut self,
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        y: PyReadonlyArray1<'_, u32>,
        class_names: Vec<String>,
        progress: Py<PyAny>,
        settings: &Bound<'_, PyDict>,
        base: Option<&str>,
        test: Option<(Bound<'_, PyAny>, PyReadonlyArray1<'_, u32>)>,
        val: Option<(Bound<'_, PyAny>, PyReadonlyArray1<'_, u32>)>,
        out: Option<PathBuf>,
        keep_weights: bool,
        initial_epoch: usize,
        weights: Option<PyReadonlyArray1<'_, f32>>,
    ) -> PyResult<bool> {
        let config = resolve_on(base, settings)?;
        let from = match keep_weights && self.continues(settings, base)? {
            true => self.trained.clone(),
            false => None,
        };
        let classes = class_names.len();
        if let Some(c) = &from {
            if c.meta.class_names.len() != classes {
                return Err(PyValueError::new_err(format!(
                    "y: the model has {} classes and these labels make {classes}: pass reinitialize=True to build a new network for them",
                    c.meta.class_names.len()
                )));
            }
        }
        let like = from.is_some();
        let mut train = self.labelled(("x", "y"), x, &y, classes, like)?;
        train.weights = weights.map(|w| w.as_slice().map(<[f32]>::to_vec)).transpose()?;
        let held_out = |(x, y): (Bound<'_, PyAny>, PyReadonlyArray1<'_, u32>), name: &str| {
            self.labelled((&format!("{name}[0]"), &format!("{name}[1]")), &x, &y, classes, like)
        };
        let test = test.map(|t| held_out(t, "test_data")).transpose()?;
        let val = val.map(|v| held_out(v, "validation_data")).transpose()?;
        for (name, split) in [("test_data[0]", &test), ("validation_data[0]", &val)] {
            if let Some(split) = split.as_ref().filter(|s| s.dim != train.dim) {
                return Err(PyValueError::new_err(format!(
                    "{name}: expected {} features per sample, as x has; got {}",
                    train.dim, split.dim
                )));
            }
        }
        if val.is_some() && config.data.val_split > 0.0 {
            return Err(PyValueError::new_err(
                "validation_data: give validation data or validation_split / val_split, not both",
            ));
        }
        let data = FitData {
            splits: Splits {
                name: "arrays".into(),
                train,
                val,
                test,
                class_names,
                warnings: Vec::new(),
                table: None,
            },
            out,
            initial_epoch,
        };
        self.train(py, progress, move || {
            let mut run = Run::from_splits(&config, data.splits, data.out.as_deref(), from.as_ref())?;
            if data.initial_epoch > 0 {
                run.start_after(data.initial_epoch)?;
            }
            Ok(run)
        })?;
        Ok(like)
    }

    /// Trains on a table given column by column (`names`, `columns`: a DataFrame's, see
    /// [`frame`]; `labels`: each row's class index), encoded as `gpu-mlp train --data` encodes
    /// a table, all rows training (`test_split` 0) unless the settings hold some out; in
    /// memory. With `keep_weights` a model fitted before trains on (its codec, weights and
    /// optimizer state); else a new network for `classes` classes. `epochs`: instead of the
    /// settings' (one for scikit-learn's `partial_fit`); `weights`: each row's weight in the loss.
    #[pyo3(signature = (names, columns, labels, classes, progress, keep_weights=false, epochs=None, weights=None))]
    #[allow(clippy::too_many_arguments)]
    fn fit_frame(
        &mut self,
        py: Python<'_>,
        names: Vec<String>,
        columns: &Bound<'_, PyList>,
        labels: PyReadonlyArray1<'_, u32>,
        classes: usize,
        progress: Py<PyAny>,
        keep_weights: bool,
        epochs: Option<usize>,
        weights: Option<PyReadonlyArray1<'_, f32>>,
    ) -> PyResult<()> {
        let mut names = names;
        let mut cells = frame_columns(columns)?;
        names.push(FRAME_TARGET.into());
        cells.push(Column::Texts(labels.as_slice()?.iter().map(u32::to_string).collect()));
        let table = RawTable::from_columns("X", names, cells).map_err(to_py)?;
        let mut config = self.config.clone();
        config.table.data = Some(PathBuf::from("X"));
        config.table.target = Some(FRAME_TARGET.into());
        if let Some(epochs) = epochs {
            config.training.epochs = epochs;
        }
        config.validate().map_err(to_py)?;
        let from = match keep_weights {
            true => self.trained.clone(),
            false => None,
        };
        let class_names: Vec<String> = (0..classes).map(|c| c.to_string()).collect();
        let weights = weights.map(|w| w.as_slice().map(<[f32]>::to_vec)).transpose()?;
        self.train(py, progress, move || {
            Run::from_table(&config, table, from.as_ref(), Some(&class_names), weights.as_deref())
        })
    }

    /// Every epoch's row of history.json, as JSON: metrics, lr, timing and each layer's
    /// diagnostics.
    fn history(&self) -> PyResult<String> {
        serde_json::to_string(&self.history).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// Class probabilities of each row of `x` (the argument `name`).
    #[pyo3(signature = (x, name="x"))]
    fn predict<'py>(&self, py: Python<'py>, x: &Bound<'py, PyAny>, name: &str) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let given = self.inputs(name, x)?;
        // Unlabelled: the labels are not read.
        let rows = given.rows;
        self.probabilities(py, given.labelled(vec![0; rows]))
    }

    /// Class probabilities of each row of a table given column by column (a DataFrame's; see
    /// [`frame`]), encoded by the fitted codec.
    fn predict_frame<'py>(
        &self,
        py: Python<'py>,
        names: Vec<String>,
        columns: &Bound<'py, PyList>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let c = self.built()?;
        let codec = c
            .meta
            .table
            .as_ref()
            .ok_or_else(|| PyValueError::new_err("this model was not fitted on a table"))?;
        let table = RawTable::from_columns("X", names, frame_columns(columns)?).map_err(to_py)?;
        let data = codec.encode_all(&table).map_err(to_py)?;
        self.probabilities(py, data)
    }

    /// Loss, accuracy, ROC AUC, the confusion matrix and per-class precision, recall and F1 on
    /// `(x, y)`, computed by the CPU reference as `gpu-mlp eval` does; kept for the confusion
    /// plot.
    fn evaluate<'py>(
        &mut self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        y: PyReadonlyArray1<'py, u32>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let c = self.built()?;
        let mut data = self.labelled(("x", "y"), x, &y, c.meta.class_names.len(), true)?;
        data.transform = c.meta.input_transform();
        let spec = c.meta.spec().map_err(to_py)?;
        let eval = py
            .detach(|| evaluate_params(&spec, &c.params, &c.meta.class_names, &data))
            .map_err(to_py)?;
        let d = PyDict::new(py);
        d.set_item("samples", eval.samples)?;
        d.set_item("loss", eval.loss)?;
        d.set_item("accuracy", eval.accuracy)?;
        d.set_item("auc", eval.roc_auc)?;
        d.set_item("confusion", eval.confusion.clone())?;
        let per_class = PyDict::new(py);
        for c in &eval.classes {
            per_class.set_item(&c.name, (c.precision, c.recall, c.f1, c.support))?;
        }
        d.set_item("per_class", per_class)?;
        d.set_item("macro_f1", eval.macro_f1)?;
        self.evaluated = Some(eval);
        Ok(d)
    }

    /// The confusion matrix of the last `evaluate`, as PNG bytes (None before one).
    fn evaluated_confusion_png<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let Some(eval) = &self.evaluated else { return Ok(None) };
        let epoch = self.built()?.meta.epoch;
        let png = gpu_mlp::report::confusion_png(eval, "evaluate()", epoch).map_err(to_py)?;
        Ok(Some(PyBytes::new(py, &png)))
    }

    /// The layer table Keras' `summary()` prints.
    fn summary(&self) -> PyResult<String> {
        let spec = self.built()?.meta.spec().map_err(to_py)?;
        Ok(spec.summary_table(self.config.model.dropout))
    }

    /// What the last fit's diagnostics say went wrong, in plain language.
    fn findings(&self) -> Vec<String> {
        self.findings.clone()
    }

    /// The device the last `fit` ran on, and why.
    fn device(&self) -> String {
        self.device.clone()
    }

    /// Features per sample the network takes, and its class names.
    fn shape(&self) -> PyResult<(usize, Vec<String>)> {
        let c = self.built()?;
        Ok((c.meta.sizes[0], c.meta.class_names.clone()))
    }

    /// The number of parameters.
    fn count_params(&self) -> PyResult<usize> {
        Ok(ParamLayout::new(&self.built()?.meta.spec().map_err(to_py)?).count())
    }

    /// Each layer's weight `[out, in]` (as `nn.Linear` stores it) and bias `[out]`.
    #[allow(clippy::type_complexity)]
    fn weights<'py>(&self, py: Python<'py>) -> PyResult<Vec<(Bound<'py, PyArray2<f32>>, Bound<'py, PyArray1<f32>>)>> {
        let c = self.built()?;
        ParamLayout::new(&c.meta.spec().map_err(to_py)?)
            .layers
            .iter()
            .map(|l| {
                let weight = PyArray1::from_slice(py, &c.params[l.weight.clone()]).reshape([l.fan_out, l.fan_in])?;
                Ok((weight, PyArray1::from_slice(py, &c.params[l.bias.clone()])))
            })
            .collect()
    }

    /// The epochs a fit of these settings trains (for the progress lines).
    fn epochs(&self) -> usize {
        self.config.training.epochs
    }

    /// The settings as a config file holds them.
    fn config_toml(&self) -> String {
        self.config.to_toml()
    }

    /// The settings the model was last trained with, as a config file holds them (None before).
    fn trained_config_toml(&self) -> Option<String> {
        self.trained.as_ref().map(|c| c.meta.config.to_toml())
    }

    /// Everything the model holds, for pickle: its settings (TOML), its checkpoint (the bytes of
    /// a .safetensors file) and its history (JSON).
    fn state<'py>(&self, py: Python<'py>) -> PyResult<(String, Option<Bound<'py, PyBytes>>, String)> {
        let checkpoint = match &self.trained {
            Some(c) => Some(PyBytes::new(py, &c.to_bytes(Path::new(STATE)).map_err(to_py)?)),
            None => None,
        };
        let history = serde_json::to_string(&self.history).map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok((self.config.to_toml(), checkpoint, history))
    }

    /// The model [`Model::state`] described.
    #[staticmethod]
    fn from_state(settings: &str, checkpoint: Option<&[u8]>, history: &str) -> PyResult<Model> {
        let path = Path::new(STATE);
        Ok(Model {
            config: Config::from_toml(path, settings).map_err(to_py)?,
            trained: checkpoint
                .map(|b| Checkpoint::from_bytes(path, b))
                .transpose()
                .map_err(to_py)?,
            history: serde_json::from_str(history).map_err(|e| PyValueError::new_err(e.to_string()))?,
            device: String::new(),
            findings: Vec::new(),
            evaluated: None,
            generation: 0,
        })
    }
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(settings, m)?)?;
    m.add_function(wrap_pyfunction!(new_run_dir, m)?)?;
    m.add_function(wrap_pyfunction!(load_dataset, m)?)?;
    m.add_function(wrap_pyfunction!(class_names, m)?)?;
    m.add_function(wrap_pyfunction!(explain, m)?)?;
    m.add_class::<Model>()?;
    Ok(())
}
