//! GPU time between the dispatches of a compute pass, from timestamp queries: where a step's
//! time goes, kernel by kernel.

use std::time::Duration;

use super::context::GpuContext;
use crate::error::{Error, Result};

/// Timestamps written into a pass after each labelled dispatch, read back once.
pub struct Timestamps {
    set: wgpu::QuerySet,
    resolved: wgpu::Buffer,
    capacity: u32,
    /// One label per timestamp after the first ("start").
    labels: Vec<String>,
}

impl Timestamps {
    /// Room for `dispatches` labelled dispatches. Needs `GpuContext::timestamps`.
    pub fn new(ctx: &GpuContext, dispatches: u32) -> Result<Self> {
        if !ctx.timestamps {
            return Err(Error::Gpu(format!(
                "{} cannot write timestamps inside compute passes",
                ctx.adapter.name
            )));
        }
        let capacity = dispatches + 1;
        Ok(Timestamps {
            set: ctx.device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("timestamps"),
                ty: wgpu::QueryType::Timestamp,
                count: capacity,
            }),
            resolved: ctx.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("timestamps resolved"),
                size: u64::from(capacity) * 8,
                usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            }),
            capacity,
            labels: Vec::new(),
        })
    }

    /// Writes the timestamp every later one is measured from.
    pub fn start(&mut self, pass: &mut wgpu::ComputePass<'_>) {
        pass.write_timestamp(&self.set, 0);
    }

    /// Writes a timestamp after the dispatch just recorded, which `label` names.
    pub fn mark(&mut self, pass: &mut wgpu::ComputePass<'_>, label: String) {
        let index = self.labels.len() as u32 + 1;
        // The capacity comes from the step's dispatch count: more marks would be a bug here.
        assert!(
            index < self.capacity,
            "more dispatches than the timestamps have room for"
        );
        pass.write_timestamp(&self.set, index);
        self.labels.push(label);
    }

    /// The GPU time of each marked dispatch, in recording order (after the pass was submitted).
    pub fn read(self, ctx: &GpuContext) -> Result<Vec<(String, Duration)>> {
        let count = self.labels.len() as u32 + 1;
        let bytes = u64::from(count) * 8;
        let mut encoder = ctx.device.create_command_encoder(&Default::default());
        encoder.resolve_query_set(&self.set, 0..count, &self.resolved, 0);
        let staging = ctx.staging_buffer(bytes);
        encoder.copy_buffer_to_buffer(&self.resolved, 0, &staging, 0, bytes);
        ctx.queue.submit([encoder.finish()]);
        let ticks: Vec<u64> = bytemuck::pod_collect_to_vec(&ctx.map_staging(&staging, bytes)?);
        let period_ns = f64::from(ctx.queue.get_timestamp_period());
        Ok(self
            .labels
            .into_iter()
            .zip(ticks.windows(2))
            .map(|(label, pair)| {
                let ns = pair[1].saturating_sub(pair[0]) as f64 * period_ns;
                (label, Duration::from_nanos(ns as u64))
            })
            .collect())
    }
}
