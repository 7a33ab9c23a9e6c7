//! Legends beside a figure, never over its data: a column on the right with one swatch per
//! series and its label wrapped to the column's width.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::plot_error;
use crate::error::Result;

/// How a legend entry shows its series.
#[derive(Debug, Clone, Copy)]
pub enum Swatch {
    Line(RGBColor),
    /// A thin vertical mark (the best epoch).
    Marker(RGBColor),
    Dot(RGBColor),
    /// An open circle drawn around points (misclassified ones).
    Ring(RGBColor),
}

#[derive(Debug, Clone)]
pub struct LegendEntry {
    pub label: String,
    pub swatch: Swatch,
}

/// The legend column's width in pixels.
const LEGEND_WIDTH: u32 = 240;
const FONT_SIZE: u32 = 14;
const LINE_HEIGHT: i32 = 18;
/// Where the labels start, right of the swatches.
const TEXT_LEFT: i32 = 40;

/// Splits `root` into the figure's area and a column on its right holding `entries` (each
/// label wrapped to the column); returns the figure's area. No entries: all of `root`.
pub fn beside<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
) -> Result<DrawingArea<DB, Shift>> {
    if entries.is_empty() {
        return Ok(root.clone());
    }
    let (width, _) = root.dim_in_pixel();
    let (figure, legend) = root.split_horizontally(width.saturating_sub(LEGEND_WIDTH));
    let font = ("sans-serif", FONT_SIZE).into_font();
    let measured = TextStyle::from(font.clone());
    let room = LEGEND_WIDTH as i32 - TEXT_LEFT - 8;
    let mut y = 44;
    for entry in entries {
        let lines = wrap(&entry.label, |text| {
            legend
                .estimate_text_size(text, &measured)
                .map_or(text.len() as u32 * 8, |(w, _)| w) as i32
                <= room
        });
        draw_swatch(&legend, entry.swatch, (20, y + LINE_HEIGHT / 2))?;
        for (i, line) in lines.iter().enumerate() {
            let style = font.clone().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
            legend
                .draw(&Text::new(
                    line.clone(),
                    (TEXT_LEFT, y + LINE_HEIGHT / 2 + i as i32 * LINE_HEIGHT),
                    style,
                ))
                .map_err(plot_error)?;
        }
        y += LINE_HEIGHT * lines.len() as i32 + 8;
    }
    Ok(figure)
}

fn draw_swatch<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, swatch: Swatch, (x, y): (i32, i32)) -> Result<()> {
    match swatch {
        Swatch::Line(color) => area.draw(&PathElement::new(vec![(x - 12, y), (x + 12, y)], color.stroke_width(3))),
        Swatch::Marker(color) => area.draw(&PathElement::new(vec![(x, y - 8), (x, y + 8)], color.stroke_width(2))),
        Swatch::Dot(color) => area.draw(&Circle::new((x, y), 5, color.filled())),
        Swatch::Ring(color) => area.draw(&Circle::new((x, y), 7, color.stroke_width(2))),
    }
    .map_err(plot_error)
}

/// `text` in lines that each `fits`, broken after `, ` or at spaces, and inside a word only
/// when the word alone does not fit.
pub fn wrap(text: &str, fits: impl Fn(&str) -> bool) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_inclusive(' ') {
        let candidate = format!("{line}{word}");
        if fits(candidate.trim_end()) || line.is_empty() {
            line = candidate;
        } else {
            lines.push(line.trim_end().to_string());
            line = word.to_string();
        }
        // A word too long for a line of its own is cut where it stops fitting.
        while !fits(line.trim_end()) && line.chars().count() > 1 {
            let chars: Vec<char> = line.chars().collect();
            let cut = (1..chars.len())
                .rev()
                .find(|&n| fits(&chars[..n].iter().collect::<String>()))
                .unwrap_or(1);
            lines.push(chars[..cut].iter().collect());
            line = chars[cut..].iter().collect();
        }
    }
    if !line.trim().is_empty() {
        lines.push(line.trim_end().to_string());
    }
    lines
}

/// A tick label for `value` on an axis spanning `span`: as many decimals as the ticks' spacing
/// needs, and never `-0.0`.
pub fn tick_text(value: f64, span: f64) -> String {
    let step = (span / 10.0).abs().max(1e-12);
    let decimals = (-step.log10().floor()).clamp(0.0, 8.0) as usize;
    let text = format!("{value:.decimals$}");
    match text.strip_prefix('-') {
        Some(positive) if positive.chars().all(|c| c == '0' || c == '.') => positive.to_string(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_wrap_at_commas_and_spaces_and_cut_only_words_too_long() {
        let fits = |s: &str| s.chars().count() <= 12;
        assert_eq!(wrap("lr=0.1, hidden=64:32", fits), ["lr=0.1,", "hidden=64:32"]);
        assert_eq!(wrap("abcdefghijklmnopq", fits), ["abcdefghijkl", "mnopq"]);
        assert_eq!(wrap("short", fits), ["short"]);
    }

    #[test]
    fn ticks_never_read_minus_zero() {
        assert_eq!(tick_text(-0.0001, 2.0), "0.0");
        assert_eq!(tick_text(-0.04, 2.0), "0.0");
        assert_eq!(tick_text(-0.5, 2.0), "-0.5");
        assert_eq!(tick_text(60.0, 20.0), "60");
        assert_eq!(tick_text(0.25, 0.1), "0.25");
    }
}
