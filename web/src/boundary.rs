//! The decision regions of a two-input network, redrawn on `#boundary-chart` after every epoch:
//! the class it predicts over the plane (the library's `Regions`, computed by the CPU
//! reference from the weights the GPU or CPU holds), with the test points on top.

use std::cell::RefCell;

use crate::canvas::Canvas;
use gpu_mlp::data::Dataset;
use gpu_mlp::insight::boundary::{Plane, Regions};
use gpu_mlp::nn::model::MlpSpec;
use plotters::prelude::*;

use crate::theme::Theme;

/// From a pixel of the canvas to the plane's coordinates, as the last drawing laid it out.
type PixelToPlane = Box<dyn Fn((i32, i32)) -> Option<(f64, f64)>>;

thread_local! {
    /// The last drawing's mapping, for the pointer over the regions.
    static LAYOUT: RefCell<Option<PixelToPlane>> = const { RefCell::new(None) };
}

/// The plane's coordinates under canvas pixel `(x, y)` (of the canvas's own size), if inside
/// the last drawing's plot.
pub fn plane_at(x: i32, y: i32) -> Option<(f64, f64)> {
    LAYOUT.with(|layout| layout.borrow().as_ref().and_then(|to_plane| to_plane((x, y))))
}

/// Cells a side: fine enough to see a spiral's arms, cheap enough to redraw every epoch.
const RESOLUTION: usize = 72;

/// Region and point colours, class by class.
const CLASSES: [(RGBColor, RGBColor); 2] = [
    (RGBColor(191, 219, 254), RGBColor(29, 78, 216)),
    (RGBColor(254, 215, 170), RGBColor(194, 65, 12)),
];

fn colors(class: usize) -> (RGBColor, RGBColor) {
    CLASSES[class % CLASSES.len()]
}

/// Draws the regions of `spec`, `params` over `points` (whose plane is `plane`), titled with
/// the epoch.
pub fn draw(spec: &MlpSpec, params: &[f32], plane: &Plane, points: &Dataset, epoch: usize) -> Result<(), String> {
    let Some(backend) = Canvas::new("boundary-chart") else {
        return Ok(());
    };
    let fail = |e: &dyn std::fmt::Display| format!("drawing the decision regions: {e}");
    let (x, y) = plane.bounds(points);
    let regions = Regions::compute(spec, params, plane, x.clone(), y.clone(), RESOLUTION);
    let root = backend.into_drawing_area();
    let theme = Theme::current();
    root.fill(&theme.background).map_err(|e| fail(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("decision regions after epoch {epoch}, test points"),
            theme.font(16),
        )
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(40)
        .build_cartesian_2d(x, y)
        .map_err(|e| fail(&e))?;
    let (w, h) = regions.cell_size();
    chart
        .draw_series((0..RESOLUTION * RESOLUTION).map(|cell| {
            let (cx, cy) = regions.cell_center(cell % RESOLUTION, cell / RESOLUTION);
            let fill = colors(regions.classes[cell]).0;
            Rectangle::new(
                [(cx - w / 2.0, cy - h / 2.0), (cx + w / 2.0, cy + h / 2.0)],
                fill.filled(),
            )
        }))
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .disable_mesh()
        .axis_style(theme.axis)
        .label_style(theme.font(12))
        .axis_desc_style(theme.font(13))
        .x_desc(plane.names[0].as_str())
        .y_desc(plane.names[1].as_str())
        .draw()
        .map_err(|e| fail(&e))?;
    chart
        .draw_series((0..points.len()).map(|i| {
            let color = colors(points.labels[i] as usize).1;
            Circle::new(plane.point(points, i), 3, color.filled())
        }))
        .map_err(|e| fail(&e))?;
    let to_plane: PixelToPlane = Box::new(chart.into_coord_trans());
    LAYOUT.with(|layout| *layout.borrow_mut() = Some(to_plane));
    root.present().map_err(|e| fail(&e))
}
