//! Text in PNG plots, laid out glyph by glyph. plotters' ab_glyph renderer places each glyph's
//! outline at the pen position without its left side bearing, which opens gaps and overlaps
//! inside words ("T rouser", "Ank le"); [`Bitmap`] wraps its bitmap backend and draws text at
//! each glyph's own bounds instead, with kerning, keeping plotters' anchors and rotations.

use ab_glyph::{Font, FontRef, ScaleFont};
use plotters::prelude::BitMapBackend;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind};

type DrawResult<E> = Result<(), DrawingErrorKind<E>>;

/// A bitmap backend whose text is drawn with [`FONT`](super::FONT), the plots' only font.
pub struct Bitmap<'a> {
    inner: BitMapBackend<'a>,
    font: FontRef<'static>,
}

impl<'a> Bitmap<'a> {
    pub fn new(inner: BitMapBackend<'a>) -> Self {
        // The bundled file is a valid TrueType font (the same bytes plotters registers).
        let font = FontRef::try_from_slice(super::FONT).expect("the bundled font parses");
        Bitmap { inner, font }
    }

    /// Calls `draw(x, y, coverage)` for the pixels of `text` at `size` px, the pen starting at
    /// x = 0 with plotters' vertical placement (baseline at size / 2 below the layout's top).
    fn raster(&self, text: &str, size: f32, mut draw: impl FnMut(i32, i32, f32)) {
        let font = self.font.as_scaled(size);
        let mut pen = 0f32;
        let mut previous = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(p) = previous {
                pen += font.kern(p, id);
            }
            previous = Some(id);
            if let Some(outline) = font.outline_glyph(font.scaled_glyph(c)) {
                let bounds = outline.px_bounds();
                let (left, top) = ((pen + bounds.min.x) as i32, (size / 2.0 + bounds.min.y) as i32);
                outline.draw(|x, y, coverage| draw(left + x as i32, top + y as i32, coverage));
            }
            pen += font.h_advance(id);
        }
    }
}

impl<'a> DrawingBackend for Bitmap<'a> {
    type ErrorType = <BitMapBackend<'a> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> DrawResult<Self::ErrorType> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> DrawResult<Self::ErrorType> {
        self.inner.present()
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> DrawResult<Self::ErrorType> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> DrawResult<Self::ErrorType> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> DrawResult<Self::ErrorType> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> DrawResult<Self::ErrorType> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> DrawResult<Self::ErrorType> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> DrawResult<Self::ErrorType> {
        self.inner.fill_polygon(vert, style)
    }

    fn blit_bitmap(&mut self, pos: BackendCoord, size: (u32, u32), src: &[u8]) -> DrawResult<Self::ErrorType> {
        self.inner.blit_bitmap(pos, size, src)
    }

    /// As plotters' default `draw_text` (anchor from the layout box, then the style's
    /// rotation), with the glyphs from [`Bitmap::raster`].
    fn draw_text<T: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &T,
        pos: BackendCoord,
    ) -> DrawResult<Self::ErrorType> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let ((min_x, min_y), (max_x, max_y)) = style
            .layout_box(text)
            .map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let (width, height) = (max_x - min_x, max_y - min_y);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let transform = style.transform();
        let (w, h) = self.get_size();
        let mut pixels = Vec::new();
        self.raster(text, style.size() as f32, |x, y, coverage| {
            let (x, y) = transform.transform(x + dx - min_x, y + dy - min_y);
            let (x, y) = (pos.0 + x, pos.1 + y);
            if x >= 0 && x < w as i32 && y >= 0 && y < h as i32 && coverage > 0.0 {
                pixels.push(((x, y), coverage));
            }
        });
        for (point, coverage) in pixels {
            let alpha = color.alpha * f64::from(coverage.min(1.0));
            self.inner.draw_pixel(point, BackendColor { alpha, rgb: color.rgb })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::style::{IntoFont, TextStyle};

    const SIZE: f32 = 40.0;
    const WIDTH: u32 = 400;

    /// `text` drawn by [`Bitmap::draw_text`] at (10, 10), as RGB bytes.
    fn render(text: &str) -> Vec<u8> {
        super::super::register_font();
        let mut buffer = vec![255u8; (WIDTH * 60 * 3) as usize];
        {
            let mut bitmap = Bitmap::new(BitMapBackend::with_buffer(&mut buffer, (WIDTH, 60)));
            let style = TextStyle::from(("sans-serif", f64::from(SIZE)).into_font());
            bitmap.draw_text(text, &style, (10, 10)).expect("draws");
        }
        buffer
    }

    /// The leftmost column where two renders differ.
    fn first_changed_column(a: &[u8], b: &[u8]) -> Option<i32> {
        (0..a.len())
            .filter(|&i| a[i] != b[i])
            .map(|i| (i / 3) as i32 % WIDTH as i32)
            .min()
    }

    /// Each letter's ink starts where the font puts it: the pen (advances and kerning so far)
    /// plus the letter's left side bearing. plotters' own renderer drops the bearing, which
    /// opened gaps and overlaps inside words ("T rouser", "Ank le").
    #[test]
    fn letters_start_at_the_pen_plus_their_bearing() {
        let font = FontRef::try_from_slice(super::super::FONT).expect("font");
        let scaled = font.as_scaled(SIZE);
        for word in ["Trouser", "Ankle", "Sandal", "T-shirt/top"] {
            let mut pen = 0f32;
            let mut previous: Option<(ab_glyph::GlyphId, Vec<u8>)> = None;
            for (i, c) in word.chars().enumerate() {
                let id = scaled.glyph_id(c);
                if let Some((p, _)) = &previous {
                    pen += scaled.kern(*p, id);
                }
                let drawn = render(&word[..word.char_indices().nth(i + 1).map_or(word.len(), |(at, _)| at)]);
                let bearing = scaled
                    .outline_glyph(scaled.scaled_glyph(c))
                    .map(|o| o.px_bounds().min.x)
                    .expect("a letter has an outline");
                let want = 10 + (pen + bearing) as i32;
                let before = previous.as_ref().map_or_else(|| render(""), |(_, b)| b.clone());
                let got = first_changed_column(&before, &drawn).expect("the letter has ink");
                assert!(
                    (got - want).abs() <= 1,
                    "{word}: `{c}` starts at column {got}, the font puts it at {want}"
                );
                pen += scaled.h_advance(id);
                previous = Some((id, drawn));
            }
        }
    }
}
