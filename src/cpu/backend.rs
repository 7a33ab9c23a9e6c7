//! The CPU reference as a full backend: `--device cpu`.

use std::sync::Arc;

use super::net::{forward, loss_and_gradients, Workspace};
use super::ops::{sgd_update, softmax_cross_entropy};
use crate::backend::{check_order, check_setup, Backend, Metrics, ScheduleStats, StepMetrics};
use crate::data::{Dataset, Splits};
use crate::error::Result;
use crate::model::{MlpSpec, ParamLayout};

pub struct CpuBackend {
    layout: ParamLayout,
    params: Vec<f32>,
    grads: Vec<f32>,
    ws: Workspace<f32>,
    labels: Vec<u32>,
    data: Arc<Splits>,
    batch_size: usize,
    steps: u64,
}

impl CpuBackend {
    pub fn new(spec: &MlpSpec, params: Vec<f32>, data: Arc<Splits>, batch_size: usize) -> Result<Self> {
        let layout = ParamLayout::new(spec);
        check_setup(&layout, &params, &data, batch_size)?;
        Ok(CpuBackend {
            grads: vec![0.0; layout.len],
            ws: Workspace::new(&layout, batch_size),
            labels: vec![0; batch_size],
            layout,
            params,
            data,
            batch_size,
            steps: 0,
        })
    }

    /// Copies the samples `indices` of `split` into the input batch and label buffers.
    fn gather(&mut self, split: &Dataset, indices: &[u32]) {
        let dim = split.dim;
        for (r, &i) in indices.iter().enumerate() {
            split.write_row(i as usize, &mut self.ws.acts[0][r * dim..(r + 1) * dim]);
            self.labels[r] = split.labels[i as usize];
        }
    }
}

impl Backend for CpuBackend {
    fn describe(&self) -> String {
        "cpu (plain-Rust reference, matrixmultiply GEMM)".into()
    }

    fn batch_size(&self) -> usize {
        self.batch_size
    }

    fn train(&mut self, order: &[u32], lr: f32) -> Result<Vec<StepMetrics>> {
        check_order(order, self.data.train.len())?;
        let data = Arc::clone(&self.data);
        let mut steps = Vec::with_capacity(order.len().div_ceil(self.batch_size));
        self.steps += steps.capacity() as u64;
        for batch in order.chunks(self.batch_size) {
            self.gather(&data.train, batch);
            let rows = batch.len();
            let loss = loss_and_gradients(
                &self.layout,
                &self.params,
                &mut self.ws,
                &self.labels,
                rows,
                &mut self.grads,
            );
            sgd_update(&mut self.params, &self.grads, lr);
            steps.push(StepMetrics {
                loss_sum: loss.loss_sum,
                correct: loss.correct,
                samples: rows as u32,
            });
        }
        Ok(steps)
    }

    fn evaluate_test(&mut self) -> Result<Metrics> {
        let data = Arc::clone(&self.data);
        let classes = data.classes();
        let mut scratch = vec![0.0f32; self.batch_size * classes];
        let indices: Vec<u32> = (0..data.test.len() as u32).collect();
        let mut steps = Vec::new();
        for batch in indices.chunks(self.batch_size) {
            self.gather(&data.test, batch);
            forward(&self.layout, &self.params, &mut self.ws, batch.len());
            let loss = softmax_cross_entropy(self.ws.logits(), &self.labels, batch.len(), classes, &mut scratch);
            steps.push(StepMetrics {
                loss_sum: loss.loss_sum,
                correct: loss.correct,
                samples: batch.len() as u32,
            });
        }
        Ok(Metrics::from_steps(&steps))
    }

    fn parameters(&mut self) -> Result<Vec<f32>> {
        Ok(self.params.clone())
    }

    fn schedule_stats(&self) -> ScheduleStats {
        ScheduleStats {
            steps: self.steps,
            ..Default::default()
        }
    }
}
