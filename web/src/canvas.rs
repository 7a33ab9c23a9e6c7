//! plotters' canvas backend, measuring text with the canvas's own `measureText`. plotters'
//! default adds a span to the page and reads its `offsetHeight` for every label it lays out: a
//! layout of the whole page each time, which held the main thread for 50–65 ms per redraw of the
//! curves once the page had its epoch table and results (measured in a Chromium trace).

use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind};
use plotters_canvas::CanvasBackend;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

pub struct Canvas {
    drawn: CanvasBackend,
    measured: CanvasRenderingContext2d,
}

/// plotters-canvas does not name its error type.
type CanvasError = <CanvasBackend as DrawingBackend>::ErrorType;
type Drawn = Result<(), DrawingErrorKind<CanvasError>>;

impl Canvas {
    /// The canvas with id `id`, when the page has it.
    pub fn new(id: &str) -> Option<Canvas> {
        let canvas: HtmlCanvasElement = web_sys::window()?.document()?.get_element_by_id(id)?.dyn_into().ok()?;
        let measured = canvas.get_context("2d").ok()??.dyn_into().ok()?;
        Some(Canvas {
            drawn: CanvasBackend::with_canvas_object(canvas)?,
            measured,
        })
    }
}

impl DrawingBackend for Canvas {
    type ErrorType = CanvasError;

    fn get_size(&self) -> (u32, u32) {
        self.drawn.get_size()
    }

    fn ensure_prepared(&mut self) -> Drawn {
        self.drawn.ensure_prepared()
    }

    fn present(&mut self) -> Drawn {
        self.drawn.present()
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Drawn {
        self.drawn.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(&mut self, from: BackendCoord, to: BackendCoord, style: &S) -> Drawn {
        self.drawn.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Drawn {
        self.drawn.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(&mut self, path: I, style: &S) -> Drawn {
        self.drawn.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(&mut self, center: BackendCoord, radius: u32, style: &S, fill: bool) -> Drawn {
        self.drawn.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(&mut self, vertices: I, style: &S) -> Drawn {
        self.drawn.fill_polygon(vertices, style)
    }

    fn draw_text<S: BackendTextStyle>(&mut self, text: &str, style: &S, pos: BackendCoord) -> Drawn {
        self.drawn.draw_text(text, style, pos)
    }

    /// The text's width as the canvas draws it (in the font `draw_text` sets), and the font's
    /// ascent plus descent: what plotters' span measured, without laying out the page.
    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<CanvasError>> {
        self.measured.set_font(&format!(
            "{} {}px {}",
            style.style().as_str(),
            style.size(),
            style.family().as_str()
        ));
        let metrics = self
            .measured
            .measure_text(text)
            .map_err(|e| DrawingErrorKind::FontError(format!("{e:?}").into()))?;
        let height = metrics.font_bounding_box_ascent() + metrics.font_bounding_box_descent();
        Ok((metrics.width().ceil() as u32, height.ceil() as u32))
    }

    fn blit_bitmap(&mut self, pos: BackendCoord, (width, height): (u32, u32), rgb: &[u8]) -> Drawn {
        self.drawn.blit_bitmap(pos, (width, height), rgb)
    }
}
