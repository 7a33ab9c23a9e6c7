//! The live curves, drawn with plotters (the charting library the command line's reports use)
//! on the page's canvases: loss and accuracy per epoch for the training, validation and test
//! splits, and the training loss of every chunk of steps, smoothed, between them.

use gpu_mlp::training::train::{EpochReport, Tick};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::canvas::Canvas;
use crate::theme::Theme;

/// How much of the smoothed batch loss each new chunk replaces.
const SMOOTHING: f64 = 0.3;

const TRAIN: RGBColor = RGBColor(37, 99, 235);
const VAL: RGBColor = RGBColor(217, 119, 6);
const TEST: RGBColor = RGBColor(22, 163, 74);
const BATCHES: RGBColor = RGBColor(147, 197, 253);

/// Picks one split's (loss, accuracy) from an epoch's figures.
type SplitOf = fn(&EpochPoint) -> Option<(f64, f64)>;

/// One epoch's figures: (loss, accuracy) of each split it measured.
struct EpochPoint {
    epoch: f64,
    train: (f64, f64),
    val: Option<(f64, f64)>,
    test: Option<(f64, f64)>,
}

#[derive(Default)]
pub struct Curves {
    epochs: Vec<EpochPoint>,
    /// (epochs done, smoothed training loss) after every chunk of steps.
    batches: Vec<(f64, f64)>,
    smoothed: Option<f64>,
}

impl Curves {
    pub fn clear(&mut self) {
        *self = Curves::default();
    }

    pub fn tick(&mut self, tick: &Tick) {
        let loss = tick.recent.loss;
        if !loss.is_finite() {
            return;
        }
        let smoothed = self.smoothed.map_or(loss, |s| (1.0 - SMOOTHING) * s + SMOOTHING * loss);
        self.smoothed = Some(smoothed);
        let at = (tick.epoch - 1) as f64 + tick.batch as f64 / tick.batches.max(1) as f64;
        self.batches.push((at, smoothed));
    }

    pub fn epoch(&mut self, report: &EpochReport) {
        let pair = |m: gpu_mlp::Metrics| (m.loss, m.accuracy);
        self.epochs.push(EpochPoint {
            epoch: report.epoch as f64,
            train: pair(report.train),
            val: report.val.map(pair),
            test: report.test.map(pair),
        });
    }

    /// Every epoch's points as drawn, for the page's automation: `[epoch, train loss, train
    /// accuracy, val loss, val accuracy, test loss, test accuracy]` (null where not measured).
    pub fn points_json(&self) -> String {
        let number = |v: Option<f64>| v.filter(|v| v.is_finite()).map_or("null".into(), |v| v.to_string());
        let rows: Vec<String> = self
            .epochs
            .iter()
            .map(|p| {
                format!(
                    "[{},{},{},{},{},{},{}]",
                    p.epoch,
                    number(Some(p.train.0)),
                    number(Some(p.train.1)),
                    number(p.val.map(|v| v.0)),
                    number(p.val.map(|v| v.1)),
                    number(p.test.map(|v| v.0)),
                    number(p.test.map(|v| v.1))
                )
            })
            .collect();
        format!("[{}]", rows.join(","))
    }

    /// Draws the loss into the canvas `#loss-chart` and the accuracy into `#accuracy-chart`.
    pub fn draw(&self, epochs: usize) -> Result<(), String> {
        let x_end = (epochs.max(1)) as f64;
        let pick_loss = |p: &(f64, f64)| p.0;
        let pick_accuracy = |p: &(f64, f64)| 100.0 * p.1;
        let loss_top = self
            .epochs
            .iter()
            .flat_map(|p| [Some(p.train), p.val, p.test])
            .flatten()
            .map(|p| p.0)
            .chain(self.batches.iter().map(|b| b.1))
            .filter(|v| v.is_finite())
            .fold(0.1f64, f64::max);
        self.chart("loss-chart", "mean loss", 0.0..loss_top * 1.05, x_end, pick_loss, true)?;
        self.chart(
            "accuracy-chart",
            "accuracy (%)",
            0.0..100.0,
            x_end,
            pick_accuracy,
            false,
        )
    }

    fn chart(
        &self,
        canvas: &str,
        y_label: &str,
        y: std::ops::Range<f64>,
        x_end: f64,
        pick: impl Fn(&(f64, f64)) -> f64,
        with_batches: bool,
    ) -> Result<(), String> {
        let Some(backend) = Canvas::new(canvas) else {
            return Ok(());
        };
        let root = backend.into_drawing_area();
        let fail = |e: &dyn std::fmt::Display| format!("drawing {canvas}: {e}");
        let theme = Theme::current();
        root.fill(&theme.background).map_err(|e| fail(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(48)
            .build_cartesian_2d(0.0..x_end, y)
            .map_err(|e| fail(&e))?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc(y_label)
            .light_line_style(theme.grid)
            .bold_line_style(theme.grid)
            .axis_style(theme.axis)
            .label_style(theme.font(12))
            .axis_desc_style(theme.font(13))
            .draw()
            .map_err(|e| fail(&e))?;
        let mut drawn: Vec<(&str, RGBColor)> = Vec::new();
        if with_batches && !self.batches.is_empty() {
            chart
                .draw_series(LineSeries::new(self.batches.iter().copied(), BATCHES.stroke_width(1)))
                .map_err(|e| fail(&e))?;
            drawn.push(("train, per chunk (smoothed)", BATCHES));
        }
        let splits: [(&str, RGBColor, SplitOf); 3] = [
            ("train", TRAIN, |p| Some(p.train)),
            ("validation", VAL, |p| p.val),
            ("test", TEST, |p| p.test),
        ];
        for (name, color, split) in splits {
            let points: Vec<(f64, f64)> = self
                .epochs
                .iter()
                .filter_map(|p| split(p).map(|v| (p.epoch, pick(&v))))
                .filter(|(_, v)| v.is_finite())
                .collect();
            if points.is_empty() {
                continue;
            }
            chart
                .draw_series(LineSeries::new(points.iter().copied(), color.stroke_width(2)))
                .map_err(|e| fail(&e))?;
            drawn.push((name, color));
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .map_err(|e| fail(&e))?;
        }
        legend(&chart.plotting_area().strip_coord_spec(), &drawn, &theme).map_err(|e| fail(&e))?;
        root.present().map_err(|e| fail(&e))
    }
}

/// The series' names and colours in the plot's upper right corner, as plotters' series labels
/// draw them, but measured through the backend: plotters' own legend measures its text through
/// the page's layout (see [`crate::canvas`]).
fn legend(
    area: &DrawingArea<Canvas, Shift>,
    entries: &[(&str, RGBColor)],
    theme: &Theme,
) -> Result<(), DrawingAreaErrorKind<<Canvas as DrawingBackend>::ErrorType>> {
    const PAD: i32 = 6;
    const SWATCH: i32 = 18;
    const ROW: i32 = 18;
    if entries.is_empty() {
        return Ok(());
    }
    let font = theme.font(12);
    let mut widest = 0;
    for (name, _) in entries {
        widest = widest.max(area.estimate_text_size(name, &font)?.0 as i32);
    }
    let (width, _) = area.dim_in_pixel();
    let (right, top) = (width as i32 - PAD, PAD);
    let left = right - (3 * PAD + SWATCH + widest);
    let bottom = top + 2 * PAD + ROW * entries.len() as i32;
    area.draw(&Rectangle::new(
        [(left, top), (right, bottom)],
        theme.background.mix(0.85).filled(),
    ))?;
    area.draw(&Rectangle::new([(left, top), (right, bottom)], theme.axis))?;
    let font = font.pos(Pos::new(HPos::Left, VPos::Center));
    for (i, (name, color)) in entries.iter().enumerate() {
        let y = top + PAD + ROW * i as i32 + ROW / 2;
        let x = left + PAD;
        area.draw(&PathElement::new([(x, y), (x + SWATCH, y)], color.stroke_width(2)))?;
        area.draw(&Text::new(*name, (x + SWATCH + PAD, y), font.clone()))?;
    }
    Ok(())
}
