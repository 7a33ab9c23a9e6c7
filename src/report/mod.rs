//! Plots of a run, as PNG and SVG: loss and accuracy curves per epoch, the confusion matrix as a
//! heat map with the class names on both axes, and a 3×3 grid of test images, each titled with
//! its label and the prediction (wrong ones in red).

mod legend;
mod text;

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::checkpoint::Checkpoint;
use crate::data::{Dataset, Features};
use crate::error::{Error, Result};
use crate::files::write_atomic;
use crate::insight::boundary::{Plane, Regions};
use crate::insight::evaluate::{self, Evaluation};
use crate::training::diagnostics::LayerDiagnostics;
use crate::training::history::HistoryRow;
use legend::{LegendEntry, Swatch};

/// The bundled font (DejaVu Sans, see fonts/LICENSE-DejaVu.txt), so PNG text needs no system fonts.
static FONT: &[u8] = include_bytes!("fonts/DejaVuSans.ttf");
#[cfg(not(target_arch = "wasm32"))]
static REGISTER: std::sync::Once = std::sync::Once::new();

fn register_font() {
    // plotters draws a browser's text with the browser's fonts: there is nothing to register.
    #[cfg(not(target_arch = "wasm32"))]
    REGISTER.call_once(|| {
        // The bundled file is a valid TrueType font, so registration cannot fail.
        let registered = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
        assert!(registered.is_ok(), "the bundled font loads");
    });
}

fn plot_error(e: impl std::fmt::Display) -> Error {
    Error::Plot(e.to_string())
}

/// One test image for the grid: its index in the test split, 28×28 u8 pixels, true and
/// predicted class names.
pub struct Example {
    pub index: usize,
    pub pixels: Vec<u8>,
    pub side: usize,
    pub truth: String,
    pub predicted: String,
}

/// One figure, drawable on any plotters backend.
enum Plot<'a> {
    /// Curve charts in a grid of `columns` columns, with one legend beside them for all.
    Panels {
        panels: &'a [Panel],
        columns: usize,
    },
    /// The confusion matrix of `eval` (scored on the `data` split, e.g. "test") of the
    /// weights of `epoch`.
    Confusion {
        eval: &'a Evaluation,
        data: &'a str,
        epoch: usize,
    },
    /// A two-input model's class regions with the test points on them.
    Boundary(&'a BoundaryView),
    Examples(&'a [Example]),
    /// A two-class model's ROC curve on the test split: (false, true positive rate) points,
    /// the positive class's name and the area under the curve.
    Roc {
        points: &'a [(f64, f64)],
        positive: &'a str,
        auc: f64,
    },
}

impl Plot<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        match self {
            Plot::Panels { panels, columns } => {
                root.fill(&WHITE).map_err(plot_error)?;
                let figure = legend::beside(root, &panels_legend(panels))?;
                let rows = panels.len().div_ceil(*columns);
                for (area, panel) in figure.split_evenly((rows, *columns)).iter().zip(panels.iter()) {
                    curves(area, panel)?;
                }
                Ok(())
            }
            Plot::Confusion { eval, data, epoch } => confusion(root, eval, data, *epoch),
            Plot::Boundary(view) => boundary(root, view),
            Plot::Examples(examples) => grid(root, examples),
            Plot::Roc { points, positive, auc } => roc(root, points, positive, *auc),
        }
    }
}

/// Draws `plot` into `<stem>.png` and `<stem>.svg` in `dir`; returns both paths.
/// A stop signal ends plotting between files (each written whole or not at all).
fn both_formats(dir: &Path, stem: &str, size: (u32, u32), plot: &Plot<'_>) -> Result<Vec<PathBuf>> {
    if let Some(signal) = crate::signals::requested() {
        return Err(Error::PlotsInterrupted {
            signal,
            dir: dir.to_path_buf(),
        });
    }
    let png_bytes = png_of(&render_rgb(plot, size)?, size)?;
    let png_path = dir.join(format!("{stem}.png"));
    write_atomic(&png_path, &png_bytes)?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        plot.draw(&root)?;
        root.present().map_err(plot_error)?;
    }
    let svg_path = dir.join(format!("{stem}.svg"));
    write_atomic(&svg_path, svg.as_bytes())?;
    Ok(vec![png_path, svg_path])
}

/// A PNG file of the RGB pixels `rgb` of `size`.
pub fn png_of(rgb: &[u8], size: (u32, u32)) -> Result<Vec<u8>> {
    let mut png_bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png_bytes, size.0, size.1);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(plot_error)?;
        writer.write_image_data(rgb).map_err(plot_error)?;
    }
    Ok(png_bytes)
}

/// `plot` drawn into an RGB pixel buffer of `size`.
fn render_rgb(plot: &Plot<'_>, size: (u32, u32)) -> Result<Vec<u8>> {
    register_font();
    let mut rgb = vec![0u8; (size.0 * size.1 * 3) as usize];
    {
        let root = text::Bitmap::new(BitMapBackend::with_buffer(&mut rgb, size)).into_drawing_area();
        plot.draw(&root)?;
        root.present().map_err(plot_error)?;
    }
    Ok(rgb)
}

type Series = (String, Vec<(f64, f64)>, RGBColor);

/// The best epoch's mark on curves.
const BEST_EPOCH_COLOR: RGBColor = RGBColor(120, 120, 120);

/// One entry per distinct series name of `panels` (in order), then the best epoch's mark.
fn panels_legend(panels: &[Panel]) -> Vec<LegendEntry> {
    let mut entries: Vec<LegendEntry> = Vec::new();
    for (name, _, color) in panels.iter().flat_map(|p| p.series.iter()).filter(|s| !s.1.is_empty()) {
        if !entries.iter().any(|e| &e.label == name) {
            entries.push(LegendEntry {
                label: name.clone(),
                swatch: Swatch::Line(*color),
            });
        }
    }
    if let Some(best) = panels.iter().find_map(|p| p.best_epoch) {
        entries.push(LegendEntry {
            label: format!("best epoch ({best})"),
            swatch: Swatch::Marker(BEST_EPOCH_COLOR),
        });
    }
    entries
}

/// One panel's curves per epoch, with the best epoch marked (its legend is drawn beside the
/// figure).
fn curves<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, panel: &Panel) -> Result<()> {
    let series = &panel.series;
    let points = || series.iter().flat_map(|s| s.1.iter());
    let x_max = points().fold(1.0f64, |x, p| x.max(p.0));
    let (y_min, y_max) = match panel.y_range {
        Some(range) => range,
        None => {
            let y_max = points().fold(f64::NEG_INFINITY, |y, p| y.max(p.1));
            let y_min = points().fold(f64::INFINITY, |y, p| y.min(p.1));
            let (y_min, y_max) = if y_min <= y_max { (y_min, y_max) } else { (0.0, 1.0) };
            let pad = ((y_max - y_min) * 0.05).max(1e-3);
            (y_min - pad, y_max + pad)
        }
    };
    let mut chart = ChartBuilder::on(root)
        .caption(&panel.title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(1.0..x_max.max(2.0), y_min..y_max)
        .map_err(plot_error)?;
    let span = y_max - y_min;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .x_labels((x_max as usize).clamp(2, 12))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| legend::tick_text(*y, span))
        .y_desc(panel.y_label.as_str())
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(plot_error)?;
    if let Some(best) = panel.best_epoch {
        let best = best as f64;
        chart
            .draw_series(LineSeries::new(
                [(best, y_min), (best, y_max)],
                BEST_EPOCH_COLOR.stroke_width(2),
            ))
            .map_err(plot_error)?;
    }
    for (_, data, color) in series.iter().filter(|s| !s.1.is_empty()) {
        let color = *color;
        chart
            .draw_series(LineSeries::new(data.iter().copied(), color.stroke_width(2)))
            .map_err(plot_error)?;
        chart
            .draw_series(data.iter().map(|&p| Circle::new(p, 3, color.filled())))
            .map_err(plot_error)?;
    }
    Ok(())
}

/// One chart of a [`Plot::Panels`] figure.
struct Panel {
    title: String,
    y_label: String,
    series: Vec<Series>,
    /// The y axis' range (else the data's, padded).
    y_range: Option<(f64, f64)>,
    /// The epoch to mark as the best one.
    best_epoch: Option<usize>,
}

impl Panel {
    fn new(title: &str, y_label: &str, series: Vec<Series>) -> Panel {
        Panel {
            title: title.into(),
            y_label: y_label.into(),
            series,
            y_range: None,
            best_epoch: None,
        }
    }
}

/// Distinct line colours for series drawn together (layers, runs): Tableau's 10, then 6 more
/// dark ones, so a sweep of up to 16 runs repeats no colour.
fn palette(i: usize) -> RGBColor {
    const COLORS: [RGBColor; 16] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
        RGBColor(0, 0, 128),
        RGBColor(128, 0, 0),
        RGBColor(0, 100, 0),
        RGBColor(85, 26, 139),
        RGBColor(139, 69, 19),
        RGBColor(0, 0, 0),
    ];
    COLORS[i % COLORS.len()]
}

/// The diagnostics per epoch, one line per layer: log₁₀ of the weight gradient norm and of the
/// update-to-weight ratio, and for hidden layers the activations' standard deviation and, when
/// `units_can_die` (some hidden layer is ReLU: others never output exactly 0), the percentage
/// of dead units on a 0–100% axis.
fn diagnostics_panels(history: &[HistoryRow], units_can_die: bool) -> Vec<Panel> {
    let layers = history.iter().map(|r| r.layers.len()).max().unwrap_or(0);
    type Pick = fn(&LayerDiagnostics) -> Option<f64>;
    let panel = |title: &str, y_label: &str, pick: Pick| Panel {
        title: title.into(),
        y_label: y_label.into(),
        y_range: None,
        best_epoch: None,
        series: (0..layers)
            .map(|l| {
                let points = history
                    .iter()
                    .filter_map(|r| {
                        let v = pick(r.layers.get(l)?)?;
                        v.is_finite().then_some((r.epoch as f64, v))
                    })
                    .collect();
                (format!("layer {}", l + 1), points, palette(l))
            })
            .filter(|s: &Series| !s.1.is_empty())
            .collect(),
    };
    let mut panels = vec![
        panel("weight gradient norm", "log10 |dW|", |d| log10(d.weight_grad_norm)),
        panel("update / weight", "log10 |ΔW| / |W|", |d| log10(d.update_ratio)),
        panel("activation std (hidden layers)", "std", |d| d.activation_std),
    ];
    if units_can_die {
        panels.push(Panel {
            y_range: Some((0.0, 100.0)),
            ..panel("dead units (hidden layers)", "% never fired", |d| {
                d.dead_fraction.map(|f| 100.0 * f)
            })
        });
    }
    panels
}

/// log₁₀ of a positive value (none for 0, whose logarithm the chart cannot show).
fn log10(v: f64) -> Option<f64> {
    (v > 0.0).then(|| v.log10())
}

/// One epoch's train, validation (if any) and test (if any) value of a metric.
type EpochValues = (f64, Option<f64>, Option<f64>);

fn history_series(history: &[HistoryRow], pick: fn(&HistoryRow) -> EpochValues) -> Vec<Series> {
    let col = |f: &dyn Fn(&HistoryRow) -> Option<f64>| -> Vec<(f64, f64)> {
        history
            .iter()
            .filter_map(|r| f(r).map(|v| (r.epoch as f64, v)))
            .collect()
    };
    vec![
        ("train".into(), col(&|r| Some(pick(r).0)), BLUE),
        ("validation".into(), col(&|r| pick(r).1), RGBColor(230, 120, 0)),
        ("test".into(), col(&|r| pick(r).2), RGBColor(0, 150, 60)),
    ]
}

fn confusion<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    eval: &Evaluation,
    data: &str,
    epoch: usize,
) -> Result<()> {
    root.fill(&WHITE).map_err(plot_error)?;
    let n = eval.confusion.len() as i32;
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!(
                "{data} confusion matrix, weights of epoch {epoch} (accuracy {:.2}%)",
                100.0 * eval.accuracy
            ),
            ("sans-serif", 22),
        )
        .margin(12)
        .x_label_area_size(64)
        .y_label_area_size(110)
        // A segmented range a..b holds the segments a..=b.
        .build_cartesian_2d((0..n - 1).into_segmented(), (0..n - 1).into_segmented())
        .map_err(plot_error)?;
    let names: Vec<String> = eval.classes.iter().map(|c| c.name.clone()).collect();
    // Row 0 (the first class) at the top.
    let label = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) => Some(*i),
        _ => None,
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("predicted class")
        .y_desc("true class (label)")
        .x_labels(n as usize)
        .y_labels(n as usize)
        // The predicted classes' names are drawn below, staggered.
        .x_label_formatter(&|_| String::new())
        .y_label_formatter(&|v| {
            label(v)
                .and_then(|i| names.get((n - 1 - i) as usize).cloned())
                .unwrap_or_default()
        })
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(plot_error)?;
    // Names side by side would overlap under narrow columns: every other one a line lower.
    let bottom = chart.plotting_area().get_pixel_range().1.end;
    for (i, name) in names.iter().enumerate() {
        let (x, _) = chart.backend_coord(&(SegmentValue::CenterOf(i as i32), SegmentValue::CenterOf(0)));
        root.draw(&Text::new(
            name.clone(),
            (x, bottom + 6 + 16 * (i as i32 % 2)),
            ("sans-serif", 13)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Top)),
        ))
        .map_err(plot_error)?;
    }
    let max = eval.confusion.iter().flatten().copied().max().unwrap_or(1).max(1) as f64;
    for (t, row) in eval.confusion.iter().enumerate() {
        for (p, &count) in row.iter().enumerate() {
            let (x, y) = (p as i32, n - 1 - t as i32);
            let strength = (count as f64 / max).sqrt();
            let shade = (255.0 * (1.0 - strength)) as u8;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [
                        (SegmentValue::Exact(x), SegmentValue::Exact(y)),
                        (SegmentValue::Exact(x + 1), SegmentValue::Exact(y + 1)),
                    ],
                    RGBColor(shade, shade, 255).filled(),
                )))
                .map_err(plot_error)?;
            let ink = if strength > 0.6 { WHITE } else { BLACK };
            chart
                .draw_series(std::iter::once(Text::new(
                    count.to_string(),
                    (SegmentValue::CenterOf(x), SegmentValue::CenterOf(y)),
                    ("sans-serif", 12)
                        .into_font()
                        .color(&ink)
                        .pos(Pos::new(HPos::Center, VPos::Center)),
                )))
                .map_err(plot_error)?;
        }
    }
    Ok(())
}

fn roc<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    points: &[(f64, f64)],
    positive: &str,
    auc: f64,
) -> Result<()> {
    root.fill(&WHITE).map_err(plot_error)?;
    let mut chart = ChartBuilder::on(root)
        .caption(format!("ROC curve of {positive} (AUC {auc:.4})"), ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..1.0f64, 0.0..1.0f64)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc("false positive rate")
        .y_desc("true positive rate")
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(plot_error)?;
    chart
        .draw_series(LineSeries::new(
            [(0.0, 0.0), (1.0, 1.0)],
            RGBColor(160, 160, 160).stroke_width(1),
        ))
        .map_err(plot_error)?;
    chart
        .draw_series(LineSeries::new(points.iter().copied(), BLUE.stroke_width(2)))
        .map_err(plot_error)?;
    Ok(())
}

/// Height of each example's two title lines (label, prediction).
const EXAMPLE_TITLE_PX: u32 = 42;

fn grid<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, examples: &[Example]) -> Result<()> {
    root.fill(&WHITE).map_err(plot_error)?;
    for (cell, ex) in root.split_evenly((3, 3)).iter().zip(examples) {
        let wrong = ex.truth != ex.predicted;
        let (title, image) = cell.split_vertically(EXAMPLE_TITLE_PX);
        let (w, _) = title.dim_in_pixel();
        let line = |text: String, y: i32, color: RGBColor| {
            title.draw(&Text::new(
                text,
                (w as i32 / 2, y),
                ("sans-serif", 14)
                    .into_font()
                    .color(&color)
                    .pos(Pos::new(HPos::Center, VPos::Top)),
            ))
        };
        line(format!("#{} label: {}", ex.index, ex.truth), 6, BLACK).map_err(plot_error)?;
        let predicted = format!("predicted: {}{}", ex.predicted, if wrong { " ✗" } else { "" });
        line(predicted, 23, if wrong { RED } else { BLACK }).map_err(plot_error)?;
        let (w, h) = image.dim_in_pixel();
        let px = (w.min(h) as usize / ex.side).max(1) as i32;
        let left = (w as i32 - px * ex.side as i32) / 2;
        for (i, &v) in ex.pixels.iter().enumerate() {
            let (x, y) = (left + (i % ex.side) as i32 * px, (i / ex.side) as i32 * px);
            image
                .draw(&Rectangle::new([(x, y), (x + px, y + px)], RGBColor(v, v, v).filled()))
                .map_err(plot_error)?;
        }
    }
    Ok(())
}

/// What a decision-boundary figure shows.
pub struct BoundaryView {
    pub title: String,
    pub regions: Regions,
    /// Test points in plane coordinates, with their true class.
    pub points: Vec<(f64, f64, usize)>,
    /// Per test point: the network's prediction differs from its class.
    pub misclassified: Vec<bool>,
    pub axes: [String; 2],
    pub classes: Vec<String>,
}

impl BoundaryView {
    /// The regions of the network `checkpoint` describes with parameters `params`, over the
    /// plane around `test`'s points.
    pub fn new(checkpoint: &Checkpoint, params: &[f32], plane: &Plane, test: &Dataset, title: String) -> Result<Self> {
        let (x, y) = plane.bounds(test);
        let resolution = boundary_resolution(params.len());
        let regions = Regions::compute(&checkpoint.meta.spec()?, params, plane, x, y, resolution);
        let points = (0..test.len())
            .map(|i| {
                let (x, y) = plane.point(test, i);
                (x, y, test.labels[i] as usize)
            })
            .collect();
        let spec = checkpoint.meta.spec()?;
        let outputs = evaluate::outputs_of(&spec, params, test);
        let misclassified = outputs
            .chunks_exact(spec.outputs())
            .zip(&test.labels)
            .map(|(out, &label)| evaluate::predicted_class(spec.loss, out) != label as usize)
            .collect();
        Ok(BoundaryView {
            title,
            regions,
            points,
            misclassified,
            axes: plane.names.clone(),
            classes: checkpoint.meta.class_names.clone(),
        })
    }
}

/// Grid cells per side of a decision-boundary plot…
pub const BOUNDARY_RESOLUTION: usize = 100;
/// …fewer for a network so large that the grid's forward passes would take more than about
/// this many multiply-adds (a second or two), but never fewer than `MIN_BOUNDARY_RESOLUTION`.
const BOUNDARY_WORK: usize = 2_000_000_000;
const MIN_BOUNDARY_RESOLUTION: usize = 16;

/// Grid cells per side for a network of `params` parameters.
pub fn boundary_resolution(params: usize) -> usize {
    let cells = BOUNDARY_WORK / params.max(1);
    (cells.isqrt()).clamp(MIN_BOUNDARY_RESOLUTION, BOUNDARY_RESOLUTION)
}

/// Ring colour around misclassified test points.
const MISCLASSIFIED: RGBColor = RGBColor(0, 0, 0);

fn boundary<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, view: &BoundaryView) -> Result<()> {
    root.fill(&WHITE).map_err(plot_error)?;
    let mut entries: Vec<LegendEntry> = view
        .classes
        .iter()
        .enumerate()
        .map(|(class, name)| LegendEntry {
            label: name.clone(),
            swatch: Swatch::Dot(palette(class)),
        })
        .collect();
    let wrong = view.misclassified.iter().filter(|&&w| w).count();
    if wrong > 0 {
        entries.push(LegendEntry {
            label: format!("misclassified ({wrong} of {})", view.points.len()),
            swatch: Swatch::Ring(MISCLASSIFIED),
        });
    }
    let figure = legend::beside(root, &entries)?;
    let regions = &view.regions;
    let mut chart = ChartBuilder::on(&figure)
        .caption(&view.title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(regions.x.clone(), regions.y.clone())
        .map_err(plot_error)?;
    let (x_span, y_span) = (regions.x.end - regions.x.start, regions.y.end - regions.y.start);
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(view.axes[0].as_str())
        .y_desc(view.axes[1].as_str())
        .x_label_formatter(&|x| legend::tick_text(*x, x_span))
        .y_label_formatter(&|y| legend::tick_text(*y, y_span))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(plot_error)?;
    let (w, h) = regions.cell_size();
    let cells = regions.classes.iter().enumerate().map(|(cell, &class)| {
        let (cx, cy) = regions.cell_center(cell % regions.resolution, cell / regions.resolution);
        let corners = [(cx - w / 2.0, cy - h / 2.0), (cx + w / 2.0, cy + h / 2.0)];
        Rectangle::new(corners, palette(class).mix(0.25).filled())
    });
    chart.draw_series(cells).map_err(plot_error)?;
    let dots = view
        .points
        .iter()
        .map(|&(x, y, class)| Circle::new((x, y), 4, palette(class).filled()));
    chart.draw_series(dots).map_err(plot_error)?;
    let rings = view
        .points
        .iter()
        .zip(&view.misclassified)
        .filter(|(_, &wrong)| wrong)
        .map(|(&(x, y, _), _)| Circle::new((x, y), 7, MISCLASSIFIED.stroke_width(2)));
    chart.draw_series(rings).map_err(plot_error)?;
    Ok(())
}

/// confusion.png's size in pixels.
pub const CONFUSION_SIZE: (u32, u32) = (720, 720);

/// The most classes a confusion plot draws: past it the cells are too small to read and the
/// SVG too large to open (`eval --json` holds the whole matrix).
pub const MAX_CONFUSION_PLOT_CLASSES: usize = 100;

/// The confusion matrix of `eval` (scored on what `data` names) of the weights of `epoch`, as
/// the PNG bytes of a run's confusion.png: for a model in memory, which has no run's test split.
pub fn confusion_png(eval: &Evaluation, data: &str, epoch: usize) -> Result<Vec<u8>> {
    if eval.classes.len() > MAX_CONFUSION_PLOT_CLASSES {
        return Err(plot_error(format!(
            "{} classes are too many to draw a confusion matrix (at most {MAX_CONFUSION_PLOT_CLASSES})",
            eval.classes.len()
        )));
    }
    let plot = Plot::Confusion { eval, data, epoch };
    png_of(&render_rgb(&plot, CONFUSION_SIZE)?, CONFUSION_SIZE)
}

/// What a run's plots show besides its history.
pub struct RunFacts {
    /// The epoch whose weights the confusion matrix, examples and boundary show.
    pub shown_epoch: usize,
    /// The best epoch by the monitored validation metric (none without a validation split).
    pub best_epoch: Option<usize>,
    /// Some hidden layer is ReLU, whose units can die (output 0 for every sample).
    pub units_can_die: bool,
}

/// Writes loss, accuracy, diagnostics, confusion (up to [`MAX_CONFUSION_PLOT_CLASSES`]; for two
/// classes ROC) and examples plots (PNG and SVG) into `dir`.
pub fn write_plots(
    dir: &Path,
    history: &[HistoryRow],
    facts: &RunFacts,
    eval: Option<&Evaluation>,
    examples: &[Example],
) -> Result<Vec<PathBuf>> {
    let loss = history_series(history, |r| (r.train_loss, r.val_loss, r.test_loss));
    let accuracy = history_series(history, |r| {
        (
            100.0 * r.train_accuracy,
            r.val_accuracy.map(|a| 100.0 * a),
            r.test_accuracy.map(|a| 100.0 * a),
        )
    });
    let mut written = Vec::new();
    for (stem, y_label, series) in [("loss", "mean loss", loss), ("accuracy", "accuracy (%)", accuracy)] {
        let panel = Panel {
            best_epoch: facts.best_epoch,
            ..Panel::new(stem, y_label, series)
        };
        let plot = Plot::Panels {
            panels: std::slice::from_ref(&panel),
            columns: 1,
        };
        written.extend(both_formats(dir, stem, (960, 500), &plot)?);
    }
    if history.iter().any(|r| !r.layers.is_empty()) {
        let panels = diagnostics_panels(history, facts.units_can_die);
        let diagnostics = Plot::Panels {
            panels: &panels,
            columns: 2,
        };
        written.extend(both_formats(dir, "diagnostics", (1300, 800), &diagnostics)?);
    }
    if let Some(eval) = eval.filter(|e| e.classes.len() <= MAX_CONFUSION_PLOT_CLASSES) {
        let confusion = Plot::Confusion {
            eval,
            data: "test",
            epoch: facts.shown_epoch,
        };
        written.extend(both_formats(dir, "confusion", CONFUSION_SIZE, &confusion)?);
        if let (Some(points), Some(auc)) = (&eval.roc_curve, eval.roc_auc) {
            let roc = Plot::Roc {
                points,
                positive: &eval.classes[1].name,
                auc,
            };
            written.extend(both_formats(dir, "roc", (640, 600), &roc)?);
        }
    }
    if !examples.is_empty() {
        written.extend(both_formats(dir, "examples", (600, 720), &Plot::Examples(examples))?);
    }
    Ok(written)
}

/// A run's plots, written into `dir`: its `history`'s curves and, from `model` (the weights
/// of the epoch to show), its confusion matrix, examples and decision regions on its `test`
/// samples (curves only without them). Everything drawn is given in memory.
pub fn plot_model(
    dir: &Path,
    history: &[HistoryRow],
    model: &Checkpoint,
    test: Option<&Dataset>,
    examples_shown: &ExampleChoice,
) -> Result<Vec<PathBuf>> {
    let with_val = history.iter().any(|r| r.val_loss.is_some());
    let facts = RunFacts {
        shown_epoch: model.meta.epoch,
        // With a validation split the model shown is the best epoch's.
        best_epoch: with_val.then_some(model.meta.epoch),
        units_can_die: model.meta.activations.contains(&crate::nn::model::Activation::Relu),
    };
    let Some(test) = test else {
        return write_plots(dir, history, &facts, None, &[]);
    };
    let eval = evaluate::evaluate(model, test)?;
    let examples = examples(model, test, examples_shown)?;
    let mut written = write_plots(dir, history, &facts, Some(&eval), &examples)?;
    if let Some(plane) = Plane::of(model) {
        let title = format!("decision regions, weights of epoch {}, test points", model.meta.epoch);
        let view = BoundaryView::new(model, &model.params, &plane, test, title)?;
        written.extend(both_formats(dir, "boundary", (900, 640), &Plot::Boundary(&view))?);
    }
    Ok(written)
}

/// One drawn frame: its epoch and RGB pixels.
pub type Frame = (usize, Vec<u8>);

/// Each frame of boundary.gif, in pixels.
pub const BOUNDARY_FRAME_SIZE: (u32, u32) = (600, 540);

/// The decision regions of `model`'s network at each of `frames` (epoch, parameters) over its
/// `test` points, as RGB pixels of [`BOUNDARY_FRAME_SIZE`], or `None` when the model has no
/// plane to draw. `dir`: where they are for, named if a stop signal interrupts the drawing.
pub fn boundary_frames(
    dir: &Path,
    model: &Checkpoint,
    test: &Dataset,
    frames: &[(usize, Vec<f32>)],
) -> Result<Option<Vec<Frame>>> {
    let Some(plane) = Plane::of(model) else {
        return Ok(None);
    };
    let mut drawn = Vec::with_capacity(frames.len());
    for (epoch, params) in frames {
        if let Some(signal) = crate::signals::requested() {
            return Err(Error::PlotsInterrupted {
                signal,
                dir: dir.to_path_buf(),
            });
        }
        let title = format!("decision regions after epoch {epoch}");
        let view = BoundaryView::new(model, params, &plane, test, title)?;
        drawn.push((*epoch, render_rgb(&Plot::Boundary(&view), BOUNDARY_FRAME_SIZE)?));
    }
    Ok(Some(drawn))
}

/// An animated GIF of `frames` (from [`boundary_frames`]), one second each, written to
/// `boundary.gif` in `dir`.
pub fn boundary_gif(dir: &Path, frames: &[Frame]) -> Result<PathBuf> {
    let (width, height) = (BOUNDARY_FRAME_SIZE.0 as u16, BOUNDARY_FRAME_SIZE.1 as u16);
    let mut bytes = Vec::new();
    {
        let mut encoder = gif::Encoder::new(&mut bytes, width, height, &[]).map_err(plot_error)?;
        encoder.set_repeat(gif::Repeat::Infinite).map_err(plot_error)?;
        for (_, rgb) in frames {
            let mut frame = gif::Frame::from_rgb_speed(width, height, rgb, 10);
            frame.delay = 100;
            encoder.write_frame(&frame).map_err(plot_error)?;
        }
    }
    let path = dir.join("boundary.gif");
    write_atomic(&path, &bytes)?;
    Ok(path)
}

/// Which test images examples.png shows (nine at most: a 3×3 grid).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ExampleChoice {
    /// The first nine.
    #[default]
    First,
    /// The first nine the model gets wrong.
    Misclassified,
    /// These test indices.
    Indices(Vec<usize>),
}

/// Images in the examples grid.
pub const EXAMPLES_SHOWN: usize = 9;

impl std::str::FromStr for ExampleChoice {
    type Err = String;

    /// `first`, `misclassified`, or test indices such as `3,17,42`.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim() {
            "first" => Ok(ExampleChoice::First),
            "misclassified" => Ok(ExampleChoice::Misclassified),
            list => {
                let indices = list
                    .split(',')
                    .map(|i| i.trim().parse::<usize>())
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|_| format!("`{s}`: expected first, misclassified, or test indices such as 3,17,42"))?;
                if indices.len() > EXAMPLES_SHOWN {
                    return Err(format!(
                        "`{s}`: {} indices, the grid shows {EXAMPLES_SHOWN}",
                        indices.len()
                    ));
                }
                Ok(ExampleChoice::Indices(indices))
            }
        }
    }
}

/// The chosen test images with their predictions, when the inputs are square u8 images.
fn examples(checkpoint: &Checkpoint, test: &Dataset, choice: &ExampleChoice) -> Result<Vec<Example>> {
    let side = (test.dim as f64).sqrt() as usize;
    let Features::U8(pixels) = &test.features else {
        return Ok(Vec::new());
    };
    if side * side != test.dim {
        return Ok(Vec::new());
    }
    let loss = checkpoint.meta.loss;
    let predictions = |data: &Dataset| -> Result<Vec<usize>> {
        let outputs = evaluate::outputs(checkpoint, data)?;
        let units = outputs.len() / data.len().max(1);
        Ok(outputs
            .chunks_exact(units)
            .map(|out| evaluate::predicted_class(loss, out))
            .collect())
    };
    let (indices, predicted) = match choice {
        ExampleChoice::First => {
            let indices: Vec<usize> = (0..test.len().min(EXAMPLES_SHOWN)).collect();
            let predicted = predictions(&test.subset(&indices))?;
            (indices, predicted)
        }
        ExampleChoice::Misclassified => {
            let all = predictions(test)?;
            (0..test.len())
                .filter(|&i| all[i] != test.labels[i] as usize)
                .take(EXAMPLES_SHOWN)
                .map(|i| (i, all[i]))
                .unzip()
        }
        ExampleChoice::Indices(indices) => {
            if let Some(&past) = indices.iter().find(|&&i| i >= test.len()) {
                return Err(Error::InvalidConfig {
                    field: "examples",
                    detail: format!(
                        "(--examples) index {past} is past the test split's {} images",
                        test.len()
                    ),
                });
            }
            let predicted = predictions(&test.subset(indices))?;
            (indices.clone(), predicted)
        }
    };
    let names = &checkpoint.meta.class_names;
    Ok(indices
        .iter()
        .zip(predicted)
        .map(|(&i, predicted)| Example {
            index: i,
            pixels: pixels[i * test.dim..(i + 1) * test.dim].to_vec(),
            side,
            truth: names[test.labels[i] as usize].clone(),
            predicted: names[predicted].clone(),
        })
        .collect())
}

/// Runs side by side, each its label (see [`run_labels`]) and history: `compare-loss` and
/// `compare-accuracy` (PNG and SVG) in `out`, each with a training and a held-out (validation,
/// else test) panel, one line per run. Returns the files written.
pub fn compare_runs(runs: &[(String, Vec<HistoryRow>)], out: &Path) -> Result<Vec<PathBuf>> {
    let histories: Vec<&Vec<HistoryRow>> = runs.iter().map(|(_, history)| history).collect();
    let labels: Vec<&String> = runs.iter().map(|(label, _)| label).collect();
    let lines = |pick: &dyn Fn(&HistoryRow) -> Option<f64>| -> Vec<Series> {
        histories
            .iter()
            .zip(&labels)
            .enumerate()
            .map(|(i, (history, label))| {
                let points = history
                    .iter()
                    .filter_map(|r| pick(r).filter(|v| v.is_finite()).map(|v| (r.epoch as f64, v)))
                    .collect();
                (label.to_string(), points, palette(i))
            })
            .collect()
    };
    let held_out = |val: Option<f64>, test: Option<f64>| val.or(test);
    let with_val = histories
        .iter()
        .filter(|h| h.iter().any(|r| r.val_loss.is_some()))
        .count();
    let held_out_name = match with_val {
        0 => "test",
        n if n == histories.len() => "validation",
        _ => "validation (test for runs without one)",
    };
    let loss = [
        Panel::new("training loss", "mean loss", lines(&|r| Some(r.train_loss))),
        Panel::new(
            &format!("{held_out_name} loss"),
            "mean loss",
            lines(&|r| held_out(r.val_loss, r.test_loss)),
        ),
    ];
    let accuracy = [
        Panel::new(
            "training accuracy",
            "accuracy (%)",
            lines(&|r| Some(100.0 * r.train_accuracy)),
        ),
        Panel::new(
            &format!("{held_out_name} accuracy"),
            "accuracy (%)",
            lines(&|r| held_out(r.val_accuracy, r.test_accuracy).map(|a| 100.0 * a)),
        ),
    ];
    let mut written = Vec::new();
    for (stem, panels) in [("compare-loss", &loss), ("compare-accuracy", &accuracy)] {
        let plot = Plot::Panels { panels, columns: 2 };
        written.extend(both_formats(out, stem, (1400, 520), &plot)?);
    }
    Ok(written)
}

/// A label per run, each given by its name and its config.toml's settings: the settings in
/// which the runs differ (`lr=0.1, activation=tanh`), those that change where or how visibly a
/// run computes aside ([`NotLearned`](crate::declare::Role::NotLearned)), or the run's name
/// when they differ in none.
pub fn run_labels(runs: &[(String, toml::Table)]) -> Vec<String> {
    let configs: Vec<&toml::Table> = runs.iter().map(|(_, config)| config).collect();
    let not_learned = crate::settings::keys_playing(crate::declare::Role::NotLearned);
    let mut keys: Vec<&String> = configs.iter().flat_map(|c| c.keys()).collect();
    keys.sort();
    keys.dedup();
    let differing: Vec<&String> = keys
        .into_iter()
        .filter(|k| !not_learned.contains(&k.as_str()))
        .filter(|k| configs.iter().any(|c| c.get(*k) != configs[0].get(*k)))
        .collect();
    configs
        .iter()
        .zip(runs)
        .map(|(config, (name, _))| match differing.is_empty() {
            true => name.clone(),
            false => differing
                .iter()
                .map(|k| {
                    format!(
                        "{k}={}",
                        config
                            .get(*k)
                            .map_or("-".into(), |v| crate::settings::value_text(v, ":"))
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect()
}
