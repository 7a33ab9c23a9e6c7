//! `gpu_mlp._core`: the Rust side of the Python package. It converts Python values to the
//! library's settings and arrays, trains with the GIL released, and hands back numbers; what a
//! Python user sees (keywords, Keras-style lines, History) is shaped in `gpu_mlp/__init__.py`.

use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use gpu_mlp::data::{Affine, Dataset, DatasetName, Features, LoadOptions, Splits};
use gpu_mlp::insight::evaluate::{all_probabilities, evaluate_params, outputs_of};
use gpu_mlp::nn::model::ParamLayout;
use std::path::PathBuf;

use gpu_mlp::run::artifacts::{HistoryRow, RunDir};
use gpu_mlp::run::checkpoint::{self, Checkpoint};
use gpu_mlp::run::Run;
use gpu_mlp::settings::Config;
use gpu_mlp::training::backend::Backend;
use gpu_mlp::training::train::{EpochReport, Observer, Tick};

/// A library error as the Python exception a caller expects: bad settings or data are
/// `ValueError`, anything else (a device, a file) `RuntimeError`.
fn to_py(e: gpu_mlp::Error) -> PyErr {
    match e.exit_code() {
        2 => PyValueError::new_err(e.to_string()),
        _ => PyRuntimeError::new_err(e.to_string()),
    }
}

/// A Python value as a TOML value: bool, int, float, str, or a list or tuple of them.
fn to_toml(key: &str, value: &Bound<'_, PyAny>) -> PyResult<toml::Value> {
    if value.is_instance_of::<PyBool>() {
        return Ok(toml::Value::Boolean(value.extract()?));
    }
    if value.is_instance_of::<PyInt>() {
        return Ok(toml::Value::Integer(value.extract()?));
    }
    if value.is_instance_of::<PyFloat>() {
        return Ok(toml::Value::Float(value.extract()?));
    }
    if value.is_instance_of::<PyString>() {
        return Ok(toml::Value::String(value.extract()?));
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        let items: PyResult<Vec<toml::Value>> = value.try_iter()?.map(|item| to_toml(key, &item?)).collect();
        return Ok(toml::Value::Array(items?));
    }
    Err(PyValueError::new_err(format!(
        "{key}: expected a bool, int, float, str or list of them, got {}",
        value.get_type().name()?
    )))
}

/// The settings given as keywords (None: the declared default) on top of `base` (a run's
/// config.toml, or nothing), validated as a config file is.
fn resolve_on(base: Option<&str>, settings: &Bound<'_, PyDict>) -> PyResult<Config> {
    let mut table = match base {
        Some(text) => toml::from_str::<toml::Table>(text).map_err(|e| PyValueError::new_err(e.to_string()))?,
        None => toml::Table::new(),
    };
    for (key, value) in settings.iter() {
        let key: String = key.extract()?;
        if !value.is_none() {
            table.insert(key.clone(), to_toml(&key, &value)?);
        }
    }
    Config::resolve(None, &table).map_err(to_py)
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
            Ok(d)
        })
        .collect()
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
    let name: DatasetName = clap::ValueEnum::from_str(name, false).map_err(PyValueError::new_err)?;
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

/// Samples as the library stores them: uint8 rows stay uint8 (scaled by `normalize`), float32
/// rows as they are.
fn dataset(x: &Bound<'_, PyAny>, labels: Vec<u32>) -> PyResult<Dataset> {
    let (features, [rows, dim]) = if let Ok(x) = x.extract::<PyReadonlyArray2<'_, u8>>() {
        (Features::U8(x.as_slice()?.to_vec()), [x.shape()[0], x.shape()[1]])
    } else {
        let x: PyReadonlyArray2<'_, f32> = x.extract()?;
        (Features::F32(x.as_slice()?.to_vec()), [x.shape()[0], x.shape()[1]])
    };
    if labels.len() != rows {
        return Err(PyValueError::new_err(format!(
            "{rows} samples but {} labels",
            labels.len()
        )));
    }
    Ok(Dataset {
        features,
        labels,
        dim,
        transform: Affine::IDENTITY,
    })
}

/// Calls the Python progress object (`on_tick`, `on_epoch`) with the GIL taken back for the
/// moment, and turns Ctrl-C (KeyboardInterrupt) into a stop at the next tick.
struct PythonObserver {
    progress: Py<PyAny>,
    interrupted: Option<PyErr>,
    failed: Option<PyErr>,
}

impl PythonObserver {
    fn call<A: for<'py> pyo3::call::PyCallArgs<'py>>(&mut self, method: &str, args: A) {
        Python::attach(|py| {
            if let Err(e) = self.progress.call_method1(py, method, args) {
                self.failed.get_or_insert(e);
            }
        });
    }
}

impl Observer for PythonObserver {
    fn tick(&mut self, t: &Tick) {
        self.call(
            "on_tick",
            (t.epoch, t.batch, t.batches, t.recent.loss, t.recent.accuracy),
        );
    }

    fn epoch(&mut self, _backend: &mut dyn Backend, r: &EpochReport, _improved: bool) -> gpu_mlp::Result<()> {
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
            ),
        );
        Ok(())
    }

    fn should_stop(&mut self) -> bool {
        if self.interrupted.is_none() {
            self.interrupted = Python::attach(|py| py.check_signals().err());
        }
        self.interrupted.is_some() || self.failed.is_some()
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
}

/// Where a model's state is named in errors (it is not a file).
const STATE: &str = "pickled model";

impl Model {
    fn built(&self) -> PyResult<&Checkpoint> {
        self.trained
            .as_ref()
            .ok_or_else(|| PyValueError::new_err("this model has not been built yet: call fit() first"))
    }

    /// Trains `run` to the end, with the GIL released, and keeps what it made.
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
        match (observer.failed, observer.interrupted) {
            (Some(e), _) | (None, Some(e)) => Err(e),
            (None, None) => Ok(()),
        }
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
        })
    }

    /// Trains a new network on `(x, y)` (with `test` scored after each epoch when given),
    /// calling `progress` as it goes, writing its run directory to `out` when given (as
    /// `gpu-mlp train --out` does); the GIL is released while it trains.
    #[pyo3(signature = (x, y, class_names, progress, test=None, out=None))]
    #[allow(clippy::too_many_arguments)]
    fn fit(
        &mut self,
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        y: PyReadonlyArray1<'_, u32>,
        class_names: Vec<String>,
        progress: Py<PyAny>,
        test: Option<(Bound<'_, PyAny>, PyReadonlyArray1<'_, u32>)>,
        out: Option<PathBuf>,
    ) -> PyResult<()> {
        if let Some(&label) = y.as_slice()?.iter().find(|&&l| l as usize >= class_names.len()) {
            return Err(PyValueError::new_err(format!(
                "label {label} for {} classes",
                class_names.len()
            )));
        }
        let splits = Splits {
            name: "arrays".into(),
            train: dataset(x, y.as_slice()?.to_vec())?,
            val: None,
            test: test.map(|(x, y)| dataset(&x, y.as_slice()?.to_vec())).transpose()?,
            class_names,
            warnings: Vec::new(),
            table: None,
        };
        let config = self.config.clone();
        self.train(py, progress, move || Run::from_splits(&config, splits, out.as_deref()))
    }

    /// Trains a new network on the CSV table `path` (class column `target`), encoded as
    /// `gpu-mlp train --data` encodes a table, all rows training (`test_split` 0) unless the
    /// settings hold some out; in memory.
    fn fit_table(&mut self, py: Python<'_>, path: PathBuf, target: String, progress: Py<PyAny>) -> PyResult<()> {
        let mut config = self.config.clone();
        config.table.data = Some(path);
        config.table.target = Some(target);
        config.validate().map_err(to_py)?;
        self.train(py, progress, move || Run::new(&config))
    }

    /// Every epoch's row of history.json, as JSON: metrics, lr, timing and each layer's
    /// diagnostics.
    fn history(&self) -> PyResult<String> {
        serde_json::to_string(&self.history).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// Class probabilities of each row of `x`.
    fn predict<'py>(&self, py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        // Unlabelled: the labels are not read.
        let data = dataset(x, vec![0; x.len()?])?;
        self.probabilities(py, data)
    }

    /// Class probabilities of each row of the CSV table `path`, encoded by the fitted codec.
    fn predict_table<'py>(&self, py: Python<'py>, path: PathBuf) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let c = self.built()?;
        let codec = c
            .meta
            .table
            .as_ref()
            .ok_or_else(|| PyValueError::new_err("this model was not fitted on a table"))?;
        let rows = codec
            .encode_file(&path, c.meta.config.table.delimiter as u8, &Default::default())
            .map_err(to_py)?;
        self.probabilities(py, rows.data)
    }

    /// Loss, accuracy, ROC AUC, the confusion matrix and per-class precision, recall and F1 on
    /// `(x, y)`, computed by the CPU reference as `gpu-mlp eval` does.
    fn evaluate<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        y: PyReadonlyArray1<'py, u32>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let c = self.built()?;
        let mut data = dataset(x, y.as_slice()?.to_vec())?;
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
        Ok(d)
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

    /// Everything the model holds, for pickle: its settings (TOML), its checkpoint (the bytes of
    /// a .safetensors file) and its history (JSON).
    fn state<'py>(&self, py: Python<'py>) -> PyResult<(String, Option<Bound<'py, PyBytes>>, String)> {
        let checkpoint = match &self.trained {
            Some(c) => Some(PyBytes::new(
                py,
                &c.to_bytes(std::path::Path::new(STATE)).map_err(to_py)?,
            )),
            None => None,
        };
        let history = serde_json::to_string(&self.history).map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok((self.config.to_toml(), checkpoint, history))
    }

    /// The model [`Model::state`] described.
    #[staticmethod]
    fn from_state(settings: &str, checkpoint: Option<&[u8]>, history: &str) -> PyResult<Model> {
        let path = std::path::Path::new(STATE);
        Ok(Model {
            config: Config::from_toml(path, settings).map_err(to_py)?,
            trained: checkpoint
                .map(|b| Checkpoint::from_bytes(path, b))
                .transpose()
                .map_err(to_py)?,
            history: serde_json::from_str(history).map_err(|e| PyValueError::new_err(e.to_string()))?,
            device: String::new(),
            findings: Vec::new(),
        })
    }
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(settings, m)?)?;
    m.add_function(wrap_pyfunction!(new_run_dir, m)?)?;
    m.add_function(wrap_pyfunction!(load_dataset, m)?)?;
    m.add_function(wrap_pyfunction!(explain, m)?)?;
    m.add_class::<Model>()?;
    Ok(())
}
