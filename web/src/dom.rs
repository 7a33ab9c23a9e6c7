//! Building the page's elements: the few calls every view makes.

use web_sys::{Document, Element};

/// A new `tag` element holding `text` (none when empty).
pub fn element(document: &Document, tag: &str, text: &str) -> Result<Element, String> {
    let element = document.create_element(tag).map_err(js)?;
    if !text.is_empty() {
        element.set_text_content(Some(text));
    }
    Ok(element)
}

pub fn append(parent: &Element, child: &Element) -> Result<(), String> {
    parent.append_child(child).map(|_| ()).map_err(js)
}

/// A JavaScript exception, as text.
pub fn js(e: wasm_bindgen::JsValue) -> String {
    format!("{e:?}")
}
