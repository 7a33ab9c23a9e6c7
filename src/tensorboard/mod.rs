//! TensorBoard event files: scalars, histograms, PNG images and HParams sessions, each event a
//! TFRecord (length, masked CRC-32C of the length, the serialized `Event`, masked CRC-32C of
//! it). Every [`EventFile::flush`] leaves whole records on disk, so a crash loses at most the
//! events since the last flush and never makes the file unreadable.

pub mod proto;

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use prost::Message;

use crate::error::{Error, Result};
use proto::{Data, Event, HParamsData, HParamsPluginData, Kind, ProtoValue, What};

/// The tags under which the HParams plugin looks for its data.
pub const EXPERIMENT_TAG: &str = "_hparams_/experiment";
pub const SESSION_START_TAG: &str = "_hparams_/session_start_info";
pub const SESSION_END_TAG: &str = "_hparams_/session_end_info";

/// Buckets of each histogram.
const HISTOGRAM_BUCKETS: usize = 30;

/// One event file, open for appending events.
pub struct EventFile {
    path: PathBuf,
    out: BufWriter<File>,
}

/// A hyperparameter's value as the HParams view shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum HParam {
    Number(f64),
    Text(String),
    Bool(bool),
}

/// How a run ended, for the HParams view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Success = 1,
    Failure = 2,
}

impl EventFile {
    /// A new event file in `dir` (which must exist), named as TensorBoard expects:
    /// `events.out.tfevents.<seconds>.gpu-mlp.<pid>[.<n>]`, never an existing file.
    pub fn create(dir: &Path) -> Result<EventFile> {
        let stem = format!(
            "events.out.tfevents.{}.gpu-mlp.{}",
            now().floor() as u64,
            std::process::id()
        );
        let mut n = 0;
        let (path, file) = loop {
            let path = dir.join(match n {
                0 => stem.clone(),
                n => format!("{stem}.{n}"),
            });
            match File::options().write(true).create_new(true).open(&path) {
                Ok(file) => break (path, file),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
                Err(e) => return Err(Error::io(path, e)),
            }
        };
        let mut events = EventFile {
            path,
            out: BufWriter::new(file),
        };
        events.write(0, What::FileVersion("brain.Event:2".into()))?;
        events.flush()?;
        Ok(events)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Marks a restart at `step`: TensorBoard drops every event earlier files logged at this
    /// step or later (what a killed process logged after its last checkpoint, logged again).
    pub fn restart(&mut self, step: i64) -> Result<()> {
        self.write(step, What::SessionLog(proto::SessionLog { status: 1 }))?;
        self.flush()
    }

    /// A scalar at `step` (stored as f32, as TensorBoard keeps scalars).
    pub fn scalar(&mut self, tag: &str, step: i64, value: f64) -> Result<()> {
        self.value(step, tag, None, Data::SimpleValue(value as f32))
    }

    /// A histogram of the finite values among `values` at `step` (nothing when there are none).
    pub fn histogram(&mut self, tag: &str, step: i64, values: &[f32]) -> Result<()> {
        match histogram(values) {
            Some(histo) => self.value(step, tag, None, Data::Histo(histo)),
            None => Ok(()),
        }
    }

    /// A PNG image (`png`: the file's bytes) of `width` × `height` RGB pixels at `step`.
    pub fn image(&mut self, tag: &str, step: i64, png: Vec<u8>, (width, height): (u32, u32)) -> Result<()> {
        let image = proto::Image {
            height: height as i32,
            width: width as i32,
            colorspace: 3,
            encoded_image_string: png,
        };
        self.value(step, tag, None, Data::Image(image))
    }

    /// Starts an HParams session now: this run's settings.
    pub fn session_start(&mut self, hparams: &[(String, HParam)]) -> Result<()> {
        let info = proto::SessionStartInfo {
            hparams: hparams
                .iter()
                .map(|(k, v)| (k.clone(), proto_value(v)))
                .collect::<HashMap<_, _>>(),
            group_name: String::new(),
            start_time_secs: now(),
        };
        self.hparams(SESSION_START_TAG, HParamsData::SessionStartInfo(info))
    }

    /// Ends the HParams session.
    pub fn session_end(&mut self, status: Status) -> Result<()> {
        let info = proto::SessionEndInfo {
            status: status as i32,
            end_time_secs: now(),
        };
        self.hparams(SESSION_END_TAG, HParamsData::SessionEndInfo(info))
    }

    /// The columns of the HParams view for the sessions under this file's directory: the
    /// settings `hparams` (each with the values taken) and the scalar tags `metrics`.
    pub fn experiment(&mut self, description: &str, hparams: &[(String, Vec<HParam>)], metrics: &[&str]) -> Result<()> {
        let hparam_infos = hparams
            .iter()
            .map(|(name, values)| proto::HParamInfo {
                name: name.clone(),
                r#type: match values.first() {
                    Some(HParam::Number(_)) => 3,
                    Some(HParam::Bool(_)) => 2,
                    _ => 1,
                },
                domain_discrete: Some(proto::ListValue {
                    values: values.iter().map(proto_value).collect(),
                }),
            })
            .collect();
        let metric_infos = metrics
            .iter()
            .map(|tag| proto::MetricInfo {
                name: Some(proto::MetricName {
                    group: String::new(),
                    tag: tag.to_string(),
                }),
            })
            .collect();
        let experiment = proto::Experiment {
            description: description.into(),
            time_created_secs: now(),
            hparam_infos,
            metric_infos,
        };
        self.hparams(EXPERIMENT_TAG, HParamsData::Experiment(experiment))
    }

    /// Writes what was buffered to the file, so a running job shows up in TensorBoard.
    pub fn flush(&mut self) -> Result<()> {
        self.out.flush().map_err(|e| Error::io(&self.path, e))
    }

    fn hparams(&mut self, tag: &str, data: HParamsData) -> Result<()> {
        let content = HParamsPluginData {
            version: 0,
            data: Some(data),
        };
        let metadata = proto::SummaryMetadata {
            plugin_data: Some(proto::PluginData {
                plugin_name: "hparams".into(),
                content: content.encode_to_vec(),
            }),
        };
        // The plugin reads its summaries as tensors: each carries an empty one.
        let empty = proto::Tensor {
            dtype: 1,
            tensor_shape: Some(proto::TensorShape {
                dim: vec![proto::Dim { size: 0 }],
            }),
        };
        self.value(0, tag, Some(metadata), Data::Tensor(empty))?;
        self.flush()
    }

    fn value(&mut self, step: i64, tag: &str, metadata: Option<proto::SummaryMetadata>, data: Data) -> Result<()> {
        let value = proto::Value {
            tag: tag.into(),
            metadata,
            data: Some(data),
        };
        self.write(step, What::Summary(proto::Summary { value: vec![value] }))
    }

    fn write(&mut self, step: i64, what: What) -> Result<()> {
        let event = Event {
            wall_time: now(),
            step,
            what: Some(what),
        };
        let record = record(&event.encode_to_vec());
        self.out.write_all(&record).map_err(|e| Error::io(&self.path, e))
    }
}

/// Seconds since the Unix epoch.
fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn proto_value(value: &HParam) -> ProtoValue {
    ProtoValue {
        kind: Some(match value {
            HParam::Number(v) => Kind::NumberValue(*v),
            HParam::Text(v) => Kind::StringValue(v.clone()),
            HParam::Bool(v) => Kind::BoolValue(*v),
        }),
    }
}

/// `data` framed as one TFRecord.
pub fn record(data: &[u8]) -> Vec<u8> {
    let length = (data.len() as u64).to_le_bytes();
    let mut out = Vec::with_capacity(data.len() + 16);
    out.extend_from_slice(&length);
    out.extend_from_slice(&masked_crc(&length).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc(data).to_le_bytes());
    out
}

/// TFRecord's masked CRC-32C: rotated right by 15 bits plus a constant, so that a CRC stored
/// inside data that is itself checksummed does not weaken the outer CRC.
pub fn masked_crc(data: &[u8]) -> u32 {
    let crc = crc32c::crc32c(data);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// Equal-width buckets between the smallest and largest finite value; `None` when no value is
/// finite.
fn histogram(values: &[f32]) -> Option<proto::Histogram> {
    let finite = || values.iter().map(|&v| f64::from(v)).filter(|v| v.is_finite());
    let (min, max) = finite().fold(None, |range: Option<(f64, f64)>, v| match range {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })?;
    let buckets = if max > min { HISTOGRAM_BUCKETS } else { 1 };
    let width = (max - min) / buckets as f64;
    let bucket_limit: Vec<f64> = (1..=buckets)
        .map(|i| if i == buckets { max } else { min + width * i as f64 })
        .collect();
    let mut bucket = vec![0.0; buckets];
    let (mut num, mut sum, mut sum_squares) = (0.0, 0.0, 0.0);
    for v in finite() {
        let i = match width > 0.0 {
            true => (((v - min) / width).ceil() as usize).saturating_sub(1).min(buckets - 1),
            false => 0,
        };
        bucket[i] += 1.0;
        num += 1.0;
        sum += v;
        sum_squares += v * v;
    }
    Some(proto::Histogram {
        min,
        max,
        num,
        sum,
        sum_squares,
        bucket_limit,
        bucket,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_crc_matches_tensorflow() {
        // The CRC-32C check value (TensorBoard's reader checks the masked CRCs: python/tests).
        assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
    }

    #[test]
    fn histogram_counts_every_finite_value_once_in_its_bucket() {
        let values = [0.0, 0.0, 1.0, 3.0, f32::NAN, 2.999, f32::INFINITY];
        let h = histogram(&values).unwrap();
        assert_eq!(h.num, 5.0);
        assert_eq!(h.bucket.iter().sum::<f64>(), 5.0);
        assert_eq!((h.min, h.max), (0.0, 3.0));
        assert_eq!(h.bucket[0], 2.0);
        assert_eq!(h.bucket[HISTOGRAM_BUCKETS - 1], 2.0);
        assert_eq!(*h.bucket_limit.last().unwrap(), 3.0);
        let constant = histogram(&[0.5; 4]).unwrap();
        assert_eq!(
            (constant.bucket.clone(), constant.bucket_limit.clone()),
            (vec![4.0], vec![0.5])
        );
        assert!(histogram(&[f32::NAN]).is_none());
    }
}
