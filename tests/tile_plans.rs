//! How products are cut into workgroups, checked without a GPU: on a 132-SM GPU
//! (`TilePolicy::HARDWARE`) every product of the reference configurations A, D and S either
//! launches at least 132 workgroups or walks at most 128 of k in each (long k on few workgroups
//! is what made them slow on an H100); big products stay whole; splits cover k exactly.

use gpu_mlp::bench::BenchConfig;
use gpu_mlp::gpu::kernels::matmul::{ProductPlan, TilePolicy};

fn workgroups(plan: &ProductPlan, m: usize, n: usize) -> usize {
    let (x, y) = plan.tiles(m, n);
    (x * y) as usize * plan.slices
}

#[test]
fn every_product_of_a_d_and_s_fills_an_h100_or_walks_a_short_k() {
    for config in [BenchConfig::A, BenchConfig::D, BenchConfig::S] {
        for shape in config.setup().products() {
            let p = shape.product;
            let plan = TilePolicy::HARDWARE.plan(p.m, p.k, p.n);
            let groups = workgroups(&plan, p.m, p.n);
            assert!(
                groups >= 132 || plan.k_slice <= 128,
                "{config:?} {}: {plan:?} launches {groups} workgroups of k {}",
                shape.name,
                plan.k_slice
            );
        }
    }
}

#[test]
fn products_with_enough_tiles_are_not_split() {
    // E's big products: 1024×784·784×4096 has 16×64 tiles of 64×64.
    for shape in BenchConfig::E.setup().products() {
        let p = shape.product;
        let plan = TilePolicy::HARDWARE.plan(p.m, p.k, p.n);
        let unsplit = ProductPlan::unsplit(p.m, p.k, p.n);
        let (x, y) = unsplit.tiles(p.m, p.n);
        if (x * y) >= 132 {
            assert_eq!(plan, unsplit, "{}", shape.name);
        }
    }
}

#[test]
fn split_slices_are_tile_aligned_and_cover_k_exactly() {
    for (m, k, n) in [
        (1, 1, 1),
        (128, 784, 512),
        (128, 512, 10),
        (32, 785, 128),
        (10, 33, 7),
        (7, 129, 1),
    ] {
        for slices in [1, 2, 3, 7, 1000] {
            let plan = ProductPlan::split(m, k, n, slices);
            let tile_k = plan.shape.dims().tile_k as usize;
            assert!(plan.slices >= 1 && plan.slices <= slices.max(1), "{plan:?}");
            assert!(plan.slices * plan.k_slice >= k, "{plan:?} does not cover k {k}");
            assert!(
                (plan.slices - 1) * plan.k_slice < k,
                "{plan:?} has an empty slice for k {k}"
            );
            if plan.slices > 1 {
                assert_eq!(plan.k_slice % tile_k, 0, "{plan:?}");
            }
        }
    }
}
