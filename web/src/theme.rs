//! The charts' colours, light or dark as the system asks (`prefers-color-scheme`), so a chart
//! is legible on the page around it.

use plotters::prelude::*;
use plotters::style::TextStyle;

#[derive(Clone, Copy)]
pub struct Theme {
    pub background: RGBColor,
    pub text: RGBColor,
    pub grid: RGBColor,
    pub axis: RGBColor,
}

const LIGHT: Theme = Theme {
    background: RGBColor(255, 255, 255),
    text: RGBColor(17, 24, 39),
    grid: RGBColor(235, 235, 235),
    axis: RGBColor(120, 120, 120),
};

const DARK: Theme = Theme {
    background: RGBColor(17, 24, 39),
    text: RGBColor(229, 231, 235),
    grid: RGBColor(45, 55, 72),
    axis: RGBColor(156, 163, 175),
};

impl Theme {
    /// The system's choice now.
    pub fn current() -> Theme {
        let dark = web_sys::window()
            .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
            .is_some_and(|query| query.matches());
        match dark {
            true => DARK,
            false => LIGHT,
        }
    }

    /// Axis and legend text of `size` pixels.
    pub fn font(&self, size: u32) -> TextStyle<'static> {
        ("sans-serif", size).into_font().color(&self.text)
    }
}
