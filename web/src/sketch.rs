//! Try it: draw a digit or a garment on `#sketch` (or drop a picture on it) and see the class
//! probabilities of the trained image model as you draw. The drawing is averaged down to the
//! model's 28×28 pixels (light on dark, as the datasets' images are; Invert turns a dark-on-light
//! picture around) and goes through the network by the CPU reference.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gpu_mlp::data::Features;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, Document, DragEvent, HtmlCanvasElement, PointerEvent};

use crate::results::Model;

/// The pen's width on the 280-pixel pad: about two of the model's pixels.
const PEN: f64 = 22.0;

/// Wires the pad: drawing with a pointer, the Clear button, the probabilities after each stroke.
pub fn wire(document: &Document, model: Rc<RefCell<Option<Model>>>) -> Result<(), JsValue> {
    let Some(canvas) = document.get_element_by_id("sketch") else {
        return Ok(());
    };
    let canvas: HtmlCanvasElement = canvas.dyn_into()?;
    let context: CanvasRenderingContext2d = canvas.get_context("2d")?.ok_or("no 2-D context")?.dyn_into()?;
    clear(&canvas, &context);
    let drawing = Rc::new(Cell::new(false));
    let document = document.clone();
    let listen = |event: &str, handler: Box<dyn FnMut(PointerEvent)>| -> Result<(), JsValue> {
        let closure = Closure::<dyn FnMut(PointerEvent)>::new(handler);
        canvas.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref())?;
        // The pad lives as long as the page.
        closure.forget();
        Ok(())
    };
    {
        let (context, drawing) = (context.clone(), Rc::clone(&drawing));
        listen(
            "pointerdown",
            Box::new(move |e: PointerEvent| {
                drawing.set(true);
                context.begin_path();
                context.move_to(f64::from(e.offset_x()), f64::from(e.offset_y()));
            }),
        )?;
    }
    {
        let (context, drawing, canvas) = (context.clone(), Rc::clone(&drawing), canvas.clone());
        let (model, document) = (Rc::clone(&model), document.clone());
        listen(
            "pointermove",
            Box::new(move |e: PointerEvent| {
                if drawing.get() {
                    context.line_to(f64::from(e.offset_x()), f64::from(e.offset_y()));
                    context.stroke();
                    predict(&document, &canvas, &context, &model);
                }
            }),
        )?;
    }
    for event in ["pointerup", "pointerleave"] {
        let drawing = Rc::clone(&drawing);
        listen(event, Box::new(move |_| drawing.set(false)))?;
    }
    wire_drop(&document, &canvas, &context, &model)?;
    if let Some(button) = document.get_element_by_id("sketch-invert") {
        let (canvas, context, model, document) = (canvas.clone(), context.clone(), Rc::clone(&model), document.clone());
        let closure = Closure::<dyn Fn()>::new(move || {
            invert(&canvas, &context);
            predict(&document, &canvas, &context, &model);
        });
        button.add_event_listener_with_callback("click", closure.as_ref().unchecked_ref())?;
        closure.forget();
    }
    if let Some(button) = document.get_element_by_id("sketch-clear") {
        let (canvas, context, document) = (canvas.clone(), context.clone(), document.clone());
        let closure = Closure::<dyn Fn()>::new(move || {
            clear(&canvas, &context);
            if let Some(list) = document.get_element_by_id("sketch-probabilities") {
                list.set_text_content(None);
            }
        });
        button.add_event_listener_with_callback("click", closure.as_ref().unchecked_ref())?;
        closure.forget();
    }
    Ok(())
}

/// A picture dropped on the pad fills it (scaled without smoothing, so a 28×28 image comes back
/// pixel for pixel) and is classified.
fn wire_drop(
    document: &Document,
    canvas: &HtmlCanvasElement,
    context: &CanvasRenderingContext2d,
    model: &Rc<RefCell<Option<Model>>>,
) -> Result<(), JsValue> {
    let over = Closure::<dyn Fn(DragEvent)>::new(|e: DragEvent| e.prevent_default());
    canvas.add_event_listener_with_callback("dragover", over.as_ref().unchecked_ref())?;
    over.forget();
    let (canvas_, context, model, document) = (canvas.clone(), context.clone(), Rc::clone(model), document.clone());
    let dropped = Closure::<dyn Fn(DragEvent)>::new(move |e: DragEvent| {
        e.prevent_default();
        let Some(file) = e.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)) else {
            return;
        };
        let (canvas, context, model, document) =
            (canvas_.clone(), context.clone(), Rc::clone(&model), document.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let Some(window) = web_sys::window() else { return };
            let Ok(pending) = window.create_image_bitmap_with_blob(&file) else {
                return;
            };
            let Ok(bitmap) = wasm_bindgen_futures::JsFuture::from(pending).await else {
                return;
            };
            let Ok(bitmap) = bitmap.dyn_into::<web_sys::ImageBitmap>() else {
                return;
            };
            clear(&canvas, &context);
            context.set_image_smoothing_enabled(false);
            let (w, h) = (f64::from(canvas.width()), f64::from(canvas.height()));
            let _ = context.draw_image_with_image_bitmap_and_dw_and_dh(&bitmap, 0.0, 0.0, w, h);
            context.set_image_smoothing_enabled(true);
            predict(&document, &canvas, &context, &model);
        });
    });
    canvas.add_event_listener_with_callback("drop", dropped.as_ref().unchecked_ref())?;
    dropped.forget();
    Ok(())
}

/// Turns the pad's shades around (dark strokes on light become light on dark).
fn invert(canvas: &HtmlCanvasElement, context: &CanvasRenderingContext2d) {
    let (w, h) = (f64::from(canvas.width()), f64::from(canvas.height()));
    let Ok(image) = context.get_image_data(0.0, 0.0, w, h) else {
        return;
    };
    let mut rgba = image.data().0;
    for pixel in rgba.chunks_exact_mut(4) {
        for channel in &mut pixel[..3] {
            *channel = 255 - *channel;
        }
    }
    if let Ok(inverted) = web_sys::ImageData::new_with_u8_clamped_array_and_sh(
        wasm_bindgen::Clamped(&rgba),
        canvas.width(),
        canvas.height(),
    ) {
        let _ = context.put_image_data(&inverted, 0.0, 0.0);
    }
}

fn clear(canvas: &HtmlCanvasElement, context: &CanvasRenderingContext2d) {
    context.set_fill_style_str("black");
    context.fill_rect(0.0, 0.0, f64::from(canvas.width()), f64::from(canvas.height()));
    context.set_stroke_style_str("white");
    context.set_line_width(PEN);
    context.set_line_cap("round");
    context.set_line_join("round");
}

/// The pad's pixels averaged down to `side`×`side` bytes.
fn pixels(canvas: &HtmlCanvasElement, context: &CanvasRenderingContext2d, side: usize) -> Option<Vec<u8>> {
    let (w, h) = (canvas.width() as usize, canvas.height() as usize);
    let rgba = context.get_image_data(0.0, 0.0, w as f64, h as f64).ok()?.data();
    let (cw, ch) = (w / side, h / side);
    Some(
        (0..side * side)
            .map(|cell| {
                let (cx, cy) = (cell % side, cell / side);
                let mut sum = 0u32;
                for y in cy * ch..(cy + 1) * ch {
                    for x in cx * cw..(cx + 1) * cw {
                        sum += u32::from(rgba[4 * (y * w + x)]);
                    }
                }
                (sum / (cw * ch) as u32) as u8
            })
            .collect(),
    )
}

/// The model's probabilities for the drawing, as bars in `#sketch-probabilities`.
fn predict(
    document: &web_sys::Document,
    canvas: &HtmlCanvasElement,
    context: &CanvasRenderingContext2d,
    model: &Rc<RefCell<Option<Model>>>,
) {
    let model = model.borrow();
    let (Some(model), Some(list)) = (model.as_ref(), document.get_element_by_id("sketch-probabilities")) else {
        return;
    };
    let Some(side) = model.side else { return };
    let Some(pixels) = pixels(canvas, context, side) else {
        return;
    };
    let probabilities = model.probabilities(Features::U8(pixels));
    list.set_text_content(None);
    let mut ranked: Vec<(usize, f32)> = probabilities.into_iter().enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (class, p) in ranked {
        if let Ok(item) = document.create_element("li") {
            let name = model
                .class_names
                .get(class)
                .cloned()
                .unwrap_or_else(|| class.to_string());
            item.set_text_content(Some(&format!("{name}: {:.1}%", 100.0 * p)));
            let _ = item.set_attribute(
                "style",
                &format!(
                    "background: linear-gradient(90deg, rgba(37,99,235,0.35) {:.1}%, transparent 0)",
                    100.0 * p
                ),
            );
            let _ = list.append_child(&item);
        }
    }
}
