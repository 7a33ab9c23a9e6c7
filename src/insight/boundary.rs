//! Decision boundaries of a network with two inputs (blobs, circle, spiral, xor, a table of two numeric
//! columns): which class it predicts at every cell of a grid over the input plane, in the units
//! the user knows (the raw coordinates `predict --point` takes, or the table's columns).

use std::ops::Range;

use crate::checkpoint::Checkpoint;
use crate::data::table::ColumnKind;
use crate::data::{Affine, Dataset, Features};
use crate::insight::evaluate::{outputs_of, predicted_class};
use crate::nn::model::MlpSpec;

/// The input plane: each axis's name and how its coordinate becomes the network's input.
#[derive(Debug, Clone, PartialEq)]
pub struct Plane {
    pub names: [String; 2],
    pub axes: [Affine; 2],
}

impl Plane {
    /// The plane of a two-input model, if `checkpoint` is one (for a table, two numeric columns).
    pub fn of(checkpoint: &Checkpoint) -> Option<Plane> {
        let meta = &checkpoint.meta;
        if meta.sizes.first() != Some(&2) {
            return None;
        }
        match &meta.table {
            None => Some(Plane::of_points(meta.input_transform())),
            Some(codec) => {
                let axis = |c: &crate::data::table::ColumnCodec| match c.kind {
                    ColumnKind::Numeric { mean, scale, .. } => Some(Affine {
                        scale: (1.0 / scale) as f32,
                        shift: (-mean / scale) as f32,
                    }),
                    ColumnKind::Categorical { .. } => None,
                };
                match codec.columns.as_slice() {
                    [a, b] => Some(Plane {
                        names: [a.name.clone(), b.name.clone()],
                        axes: [axis(a)?, axis(b)?],
                    }),
                    _ => None,
                }
            }
        }
    }

    /// The plane of 2-D points (the generated sets) that the network sees through `transform`.
    pub fn of_points(transform: Affine) -> Plane {
        Plane {
            names: ["x1".into(), "x2".into()],
            axes: [transform; 2],
        }
    }

    /// The network's input at plane coordinates `(x, y)`.
    pub fn to_input(&self, x: f64, y: f64) -> [f32; 2] {
        let [a, b] = self.axes;
        [x as f32 * a.scale + a.shift, y as f32 * b.scale + b.shift]
    }

    /// Plane coordinates of sample `i` of `data` (as the network sees it, mapped back).
    pub fn point(&self, data: &Dataset, i: usize) -> (f64, f64) {
        let mut input = [0.0f32; 2];
        data.write_row(i, &mut input);
        let back = |v: f32, a: Affine| f64::from((v - a.shift) / a.scale);
        (back(input[0], self.axes[0]), back(input[1], self.axes[1]))
    }

    /// The range of `data`'s points on each axis, widened by a tenth on every side.
    pub fn bounds(&self, data: &Dataset) -> (Range<f64>, Range<f64>) {
        let points: Vec<(f64, f64)> = (0..data.len()).map(|i| self.point(data, i)).collect();
        let range = |pick: fn(&(f64, f64)) -> f64| {
            let (lo, hi) = points
                .iter()
                .map(pick)
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
            let (lo, hi) = if lo < hi { (lo, hi) } else { (lo - 1.0, lo + 1.0) };
            let pad = 0.1 * (hi - lo);
            (lo - pad)..(hi + pad)
        };
        (range(|p| p.0), range(|p| p.1))
    }
}

/// The predicted class at the centre of each cell of a `resolution` × `resolution` grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Regions {
    pub x: Range<f64>,
    pub y: Range<f64>,
    pub resolution: usize,
    /// Row-major from the bottom row (smallest y), left to right.
    pub classes: Vec<usize>,
}

impl Regions {
    /// Classifies the grid over `x` × `y` with the network `spec`, `params`.
    pub fn compute(
        spec: &MlpSpec,
        params: &[f32],
        plane: &Plane,
        x: Range<f64>,
        y: Range<f64>,
        resolution: usize,
    ) -> Regions {
        let mut regions = Regions {
            x,
            y,
            resolution,
            classes: Vec::new(),
        };
        let inputs: Vec<f32> = (0..resolution * resolution)
            .flat_map(|cell| {
                let (cx, cy) = regions.cell_center(cell % resolution, cell / resolution);
                plane.to_input(cx, cy)
            })
            .collect();
        let grid = Dataset {
            features: Features::F32(inputs),
            labels: vec![0; resolution * resolution],
            dim: 2,
            transform: Affine { scale: 1.0, shift: 0.0 },
            weights: None,
        };
        let outputs = outputs_of(spec, params, &grid);
        regions.classes = outputs
            .chunks_exact(spec.outputs())
            .map(|out| predicted_class(spec.loss, out))
            .collect();
        regions
    }

    /// The cell's width and height.
    pub fn cell_size(&self) -> (f64, f64) {
        let n = self.resolution as f64;
        ((self.x.end - self.x.start) / n, (self.y.end - self.y.start) / n)
    }

    /// The centre of the cell in column `i`, row `j` (from the bottom).
    pub fn cell_center(&self, i: usize, j: usize) -> (f64, f64) {
        let (w, h) = self.cell_size();
        (self.x.start + (i as f64 + 0.5) * w, self.y.start + (j as f64 + 0.5) * h)
    }

    /// The class of the cell holding `(x, y)`, if inside the grid.
    pub fn class_at(&self, x: f64, y: f64) -> Option<usize> {
        let (w, h) = self.cell_size();
        let (i, j) = (((x - self.x.start) / w).floor(), ((y - self.y.start) / h).floor());
        let n = self.resolution as f64;
        (i >= 0.0 && j >= 0.0 && i < n && j < n).then(|| self.classes[j as usize * self.resolution + i as usize])
    }
}
