//! This machine's own limits, measured: the fp32 FMA throughput and the memory bandwidth of the
//! CPU (an FMA loop on the widest vector unit it has, on every thread of the pool; a parallel
//! copy) and of the GPU (`shaders/peak.wgsl`). `gpu-mlp bench` holds every product and every
//! step against them: achieved GFLOP/s and GB/s as fractions of these peaks, and the arithmetic
//! intensity that decides which of the two bounds it (the roofline).

use std::time::Duration;

use web_time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use super::median_time;
use crate::error::Result;
use crate::gpu::kernels::peak::Peak;
use crate::gpu::GpuContext;

/// A device's measured peaks.
#[derive(Debug, Clone, Serialize)]
pub struct Peaks {
    /// What was measured: the vector unit and threads, or the adapter.
    pub unit: String,
    pub gflops: f64,
    pub gbps: f64,
}

impl Peaks {
    /// The best a computation of `intensity` FLOP per byte can reach here (GFLOP/s): the
    /// bandwidth's slope below the ridge point, the FMA peak above it.
    pub fn attainable(&self, intensity: f64) -> f64 {
        self.gflops.min(intensity * self.gbps)
    }

    /// Which limit bounds a computation of `intensity`.
    pub fn bound(&self, intensity: f64) -> &'static str {
        match intensity * self.gbps < self.gflops {
            true => "memory",
            false => "compute",
        }
    }

    /// `flops` and `bytes` done in `seconds`, held against these peaks.
    pub fn hold(&self, flops: u64, bytes: u64, seconds: f64) -> Achieved {
        let gflops = flops as f64 / seconds / 1e9;
        let gbps = bytes as f64 / seconds / 1e9;
        let intensity = flops as f64 / bytes.max(1) as f64;
        Achieved {
            gflops,
            gbps,
            intensity,
            of_peak_flops: gflops / self.gflops,
            of_peak_bandwidth: gbps / self.gbps,
            of_roofline: gflops / self.attainable(intensity),
            bound: self.bound(intensity),
        }
    }
}

/// What a computation achieved, against a device's peaks.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Achieved {
    pub gflops: f64,
    pub gbps: f64,
    /// FLOP per byte of the least traffic it needs.
    pub intensity: f64,
    pub of_peak_flops: f64,
    pub of_peak_bandwidth: f64,
    /// Of the roofline at its intensity: `min(peak FLOP/s, intensity × peak bandwidth)`.
    pub of_roofline: f64,
    pub bound: &'static str,
}

/// The CPU's peaks, with `repeats` timings each (the median).
pub fn cpu_peaks(repeats: usize) -> Result<Peaks> {
    let threads = rayon::current_num_threads();
    let (unit, lanes) = fma::widest();
    let fma = median_time(repeats, |iters| {
        let start = Instant::now();
        rayon::broadcast(|_| std::hint::black_box(fma::chains(iters * fma::ITERS, 1.0)));
        Ok(start.elapsed())
    })?;
    let flops = threads as u64 * fma::ITERS * fma::CHAINS * lanes * 2;
    let copy = copy_time(repeats)?;
    Ok(Peaks {
        unit: format!("{unit}, {threads} threads"),
        gflops: flops as f64 / fma.as_secs_f64() / 1e9,
        gbps: (2 * COPY_BYTES) as f64 / copy.as_secs_f64() / 1e9,
    })
}

/// Bytes the bandwidth measurements copy each way: far more than any cache holds.
const COPY_BYTES: u64 = 128 << 20;

/// Median time of one parallel copy of `COPY_BYTES`.
fn copy_time(repeats: usize) -> Result<Duration> {
    let len = (COPY_BYTES / 4) as usize;
    let src = vec![1.0f32; len];
    let mut dst = vec![0.0f32; len];
    // Pieces a thread copies at a time: large enough to stream, many enough to share.
    const PIECE: usize = 1 << 16;
    median_time(repeats, |iters| {
        let start = Instant::now();
        for _ in 0..iters {
            dst.par_chunks_mut(PIECE)
                .zip(src.par_chunks(PIECE))
                .for_each(|(d, s)| d.copy_from_slice(s));
        }
        std::hint::black_box(&dst);
        Ok(start.elapsed())
    })
}

/// The GPU's peaks on `ctx`, with `repeats` timings each (the median).
pub fn gpu_peaks(ctx: &GpuContext, repeats: usize) -> Result<Peaks> {
    // 2^20 invocations of 256 steps for the FMA chains (4,096 workgroups: waves on any GPU);
    // 2^22 vec4s (64 MiB each way) for the copy.
    let fma = Peak::new(ctx, 1 << 20, 256)?;
    let copy = Peak::new(ctx, 1 << 22, 1)?;
    let time = |peak: &Peak, dispatch: fn(&Peak, &mut wgpu::ComputePass<'_>)| {
        median_time(repeats, |iters| {
            let start = Instant::now();
            ctx.submit_pass("peak", |pass| {
                for _ in 0..iters {
                    dispatch(peak, pass);
                }
            });
            ctx.wait()?;
            Ok(start.elapsed())
        })
    };
    let fma_time = time(&fma, Peak::dispatch_fma)?;
    let copy_time = time(&copy, Peak::dispatch_copy)?;
    Ok(Peaks {
        unit: format!("{} ({})", ctx.adapter.name, ctx.adapter.backend),
        gflops: fma.fma_flops() as f64 / fma_time.as_secs_f64() / 1e9,
        gbps: copy.copy_bytes() as f64 / copy_time.as_secs_f64() / 1e9,
    })
}

/// The FMA loop: `CHAINS` independent accumulators of the widest vector the CPU has, so that
/// both FMA units stay busy through the instruction's latency (4 cycles × 2 units ≤ 12).
mod fma {
    pub const CHAINS: u64 = 12;
    /// Steps of each chain in one call.
    pub const ITERS: u64 = 1 << 16;

    /// The vector unit used and its f32 lanes.
    pub fn widest() -> (&'static str, u64) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return ("AVX-512 FMA (16 lanes)", 16);
            }
            if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                return ("AVX2 FMA (8 lanes)", 8);
            }
        }
        ("portable multiply-add (8 lanes, as the compiler vectorizes it)", 8)
    }

    /// `iters` steps of every chain on the widest unit; their sum.
    pub fn chains(iters: u64, seed: f32) -> f32 {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has AVX-512F (checked just above).
                return unsafe { x86::avx512(iters, seed) };
            }
            if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                // SAFETY: the CPU has AVX2 and FMA (checked just above).
                return unsafe { x86::avx2(iters, seed) };
            }
        }
        portable(iters, seed)
    }

    fn portable(iters: u64, seed: f32) -> f32 {
        let mut acc = [[seed; 8]; CHAINS as usize];
        for _ in 0..iters {
            for chain in acc.iter_mut() {
                for a in chain.iter_mut() {
                    *a = *a * 0.999_999_9 + 1e-7;
                }
            }
        }
        acc.iter().flatten().sum()
    }

    #[cfg(target_arch = "x86_64")]
    mod x86 {
        use std::arch::x86_64::*;

        use super::CHAINS;

        #[target_feature(enable = "avx512f")]
        pub fn avx512(iters: u64, seed: f32) -> f32 {
            let (b, c) = (_mm512_set1_ps(0.999_999_9), _mm512_set1_ps(1e-7));
            let mut acc = [_mm512_set1_ps(seed); CHAINS as usize];
            for _ in 0..iters {
                for a in acc.iter_mut() {
                    *a = _mm512_fmadd_ps(*a, b, c);
                }
            }
            let sum = acc.iter().fold(_mm512_setzero_ps(), |s, &a| _mm512_add_ps(s, a));
            _mm512_reduce_add_ps(sum)
        }

        #[target_feature(enable = "avx2,fma")]
        pub fn avx2(iters: u64, seed: f32) -> f32 {
            let (b, c) = (_mm256_set1_ps(0.999_999_9), _mm256_set1_ps(1e-7));
            let mut acc = [_mm256_set1_ps(seed); CHAINS as usize];
            for _ in 0..iters {
                for a in acc.iter_mut() {
                    *a = _mm256_fmadd_ps(*a, b, c);
                }
            }
            let sum = acc.iter().fold(_mm256_setzero_ps(), |s, &a| _mm256_add_ps(s, a));
            let mut lanes = [0.0f32; 8];
            // SAFETY: `lanes` holds 8 f32s, what an unaligned 256-bit store writes.
            unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), sum) };
            lanes.iter().sum()
        }
    }
}
