//! The settings form, generated from the one settings declaration (`gpu_mlp::settings::all()`):
//! a field per setting the page can use, labelled with its key, its help, its default and its
//! range or choices. An empty field means the default. The link's query always holds the
//! form's filled fields, so a run is a link to share.

use gpu_mlp::declare::Setting;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, HtmlInputElement, HtmlSelectElement};

/// Settings a page cannot use: paths on the computer that runs the command line (a table is
/// picked from disk instead), a native graphics API, what only the command line shows.
const NOT_ON_THE_PAGE: [&str; 7] = [
    "data_dir",
    "data",
    "test_data",
    "backend",
    "log_every",
    "boundary_every",
    "strict_data",
];

/// The settings the form offers, in the declaration's order.
pub fn offered() -> Vec<Setting> {
    gpu_mlp::settings::all()
        .into_iter()
        .filter(|s| !NOT_ON_THE_PAGE.contains(&s.key))
        .collect()
}

/// A field's id: `setting-<key>`.
fn field_id(key: &str) -> String {
    format!("setting-{key}")
}

pub struct Form {
    document: Document,
    settings: Vec<Setting>,
}

impl Form {
    /// Builds the form into `#settings-form`, grouped as the settings are declared, filled from
    /// `query` (keys the form lacks are kept aside: the settings check names them).
    pub fn build(document: &Document, query: &[(String, String)]) -> Result<Form, JsValue> {
        let settings = offered();
        let host = document
            .get_element_by_id("settings-form")
            .ok_or("index.html has a #settings-form element")?;
        let mut group_box: Option<Element> = None;
        for setting in &settings {
            if group_box
                .as_ref()
                .and_then(|g| g.get_attribute("data-group"))
                .as_deref()
                != Some(setting.group)
            {
                let fieldset = document.create_element("fieldset")?;
                fieldset.set_attribute("data-group", setting.group)?;
                let legend = document.create_element("legend")?;
                legend.set_text_content(Some(setting.group));
                fieldset.append_child(&legend)?;
                host.append_child(&fieldset)?;
                group_box = Some(fieldset);
            }
            let row = field(document, setting)?;
            if let Some(group) = &group_box {
                group.append_child(&row)?;
            }
        }
        let form = Form {
            document: document.clone(),
            settings,
        };
        for (key, value) in query {
            form.set(key, value);
        }
        Ok(form)
    }

    fn set(&self, key: &str, value: &str) {
        let Some(element) = self.document.get_element_by_id(&field_id(key)) else {
            return;
        };
        if let Some(input) = element.dyn_ref::<HtmlInputElement>() {
            input.set_value(value);
        } else if let Some(select) = element.dyn_ref::<HtmlSelectElement>() {
            select.set_value(value);
        }
    }

    fn get(&self, key: &str) -> String {
        let Some(element) = self.document.get_element_by_id(&field_id(key)) else {
            return String::new();
        };
        if let Some(input) = element.dyn_ref::<HtmlInputElement>() {
            input.value().trim().to_string()
        } else if let Some(select) = element.dyn_ref::<HtmlSelectElement>() {
            select.value()
        } else {
            String::new()
        }
    }

    /// Fills the form with `config`'s settings (those that differ from the defaults; the rest
    /// emptied), as a loaded config.toml says them.
    pub fn fill_from(&self, config: &gpu_mlp::settings::Config) {
        let as_table = |c: &gpu_mlp::settings::Config| toml::Table::try_from(c).unwrap_or_default();
        let (given, defaults) = (as_table(config), as_table(&gpu_mlp::settings::Config::default()));
        for setting in &self.settings {
            let value = given
                .get(setting.key)
                .filter(|v| defaults.get(setting.key) != Some(*v))
                .map_or_else(String::new, |v| gpu_mlp::settings::value_text(v, ","));
            self.set(setting.key, &value);
        }
    }

    /// The filled fields, key by key, in the declaration's order.
    pub fn values(&self) -> Vec<(String, String)> {
        self.settings
            .iter()
            .map(|s| (s.key.to_string(), self.get(s.key)))
            .filter(|(_, v)| !v.is_empty())
            .collect()
    }

    /// Marks the field `key` as the one an error is about (and no other).
    pub fn mark_invalid(&self, key: Option<&str>) {
        for setting in &self.settings {
            if let Some(element) = self.document.get_element_by_id(&field_id(setting.key)) {
                let _ = match Some(setting.key) == key {
                    true => element.set_attribute("aria-invalid", "true"),
                    false => element.remove_attribute("aria-invalid"),
                };
            }
        }
    }

    /// Runs `action` whenever a field changes.
    pub fn on_change(&self, action: impl Fn() + 'static) {
        let callback = Closure::<dyn Fn()>::new(action);
        for setting in &self.settings {
            if let Some(element) = self.document.get_element_by_id(&field_id(setting.key)) {
                let _ = element.add_event_listener_with_callback("change", callback.as_ref().unchecked_ref());
            }
        }
        // The fields live as long as the page, and their handler with them.
        callback.forget();
    }
}

/// One labelled field: a select for a choice or a switch, a text input otherwise; the help and
/// the default beside it.
fn field(document: &Document, setting: &Setting) -> Result<Element, JsValue> {
    let row = document.create_element("div")?;
    row.set_attribute("class", "field")?;
    let label = document.create_element("label")?;
    label.set_attribute("for", &field_id(setting.key))?;
    label.set_text_content(Some(setting.key));
    row.append_child(&label)?;
    let default = setting.default.clone().unwrap_or_else(|| "none".into());
    let choices: Vec<String> = match (setting.switch, setting.choices.is_empty()) {
        (true, _) => vec!["true".into(), "false".into()],
        (false, false) => setting.choices.iter().map(|c| c.get_name().to_string()).collect(),
        (false, true) => Vec::new(),
    };
    let input: Element = match choices.is_empty() || setting.list {
        true => {
            let input = document.create_element("input")?;
            input.set_attribute("type", "text")?;
            input.set_attribute("placeholder", &default)?;
            input.set_attribute("spellcheck", "false")?;
            input
        }
        false => {
            let select = document.create_element("select")?;
            let first = document.create_element("option")?;
            first.set_attribute("value", "")?;
            first.set_text_content(Some(&format!("{default} (default)")));
            select.append_child(&first)?;
            for choice in &choices {
                let option = document.create_element("option")?;
                option.set_attribute("value", choice)?;
                option.set_text_content(Some(choice));
                select.append_child(&option)?;
            }
            select
        }
    };
    input.set_attribute("id", &field_id(setting.key))?;
    input.set_attribute("name", setting.key)?;
    let mut help = setting.help.clone();
    if let Some(range) = setting.range.expected() {
        help.push_str(&format!(" ({range})"));
    }
    if setting.list && !choices.is_empty() {
        help.push_str(&format!(" Choices: {}.", choices.join(", ")));
    }
    input.set_attribute("title", &help)?;
    input.set_attribute("aria-describedby", &format!("{}-help", field_id(setting.key)))?;
    row.append_child(&input)?;
    let small = document.create_element("small")?;
    small.set_attribute("id", &format!("{}-help", field_id(setting.key)))?;
    small.set_text_content(Some(&help));
    row.append_child(&small)?;
    Ok(row)
}
