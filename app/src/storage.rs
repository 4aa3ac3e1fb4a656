//! Storage care: how much the browser lets Reframe store and how much it uses (under the stored
//! jobs, each of which shows its own size and a Delete), and the request that the browser keep
//! Reframe's data through its clean-ups (`navigator.storage.persist()`), asked with a button that
//! says why.

use crate::dom::human_bytes;
use gloo::events::EventListener;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{HtmlElement, StorageManager};

fn element(id: &str) -> Option<HtmlElement> {
    gloo::utils::document().get_element_by_id(id).and_then(|e| e.dyn_into().ok())
}

fn manager() -> Option<StorageManager> {
    let navigator = gloo::utils::window().navigator();
    js_sys::Reflect::has(&navigator, &"storage".into()).unwrap_or(false).then(|| navigator.storage())
}

/// Wires the "Keep Reframe's data" button; call [`refresh`] whenever stored data changes.
pub fn wire() {
    let Some(button) = element("persist") else { return };
    EventListener::new(&button, "click", move |_| {
        let Some(storage) = manager() else { return };
        let Ok(asked) = storage.persist() else { return };
        wasm_bindgen_futures::spawn_local(async move {
            let granted = JsFuture::from(asked).await.ok().and_then(|v| v.as_bool()).unwrap_or(false);
            if !granted {
                if let Some(line) = element("persist-help") {
                    line.set_text_content(Some(
                        "The browser said no (Chromium decides by how much you use the site, or when it is \
                         installed as an app). Your videos stay stored unless the disk runs very low.",
                    ));
                }
            }
            show().await;
        });
    })
    .forget();
}

/// Updates the line "Reframe stores 1.2 GB of the 54 GB this browser lets it use" and the
/// persistence button.
pub fn refresh() {
    wasm_bindgen_futures::spawn_local(show());
}

async fn show() {
    let (Some(storage), Some(line), Some(button)) = (manager(), element("storage-line"), element("persist")) else {
        return;
    };
    let estimate = match storage.estimate() {
        Ok(p) => JsFuture::from(p).await.ok(),
        Err(_) => None,
    };
    let get =
        |k: &str| estimate.as_ref().and_then(|e| js_sys::Reflect::get(e, &k.into()).ok()).and_then(|v| v.as_f64());
    let persisted = match storage.persisted() {
        Ok(p) => JsFuture::from(p).await.ok().and_then(|v| v.as_bool()).unwrap_or(false),
        Err(_) => false,
    };
    let mut text = match (get("usage"), get("quota")) {
        (Some(usage), Some(quota)) => format!(
            "Reframe stores {} here, of the {} this browser lets it use.",
            human_bytes(usage),
            human_bytes(quota)
        ),
        _ => String::new(),
    };
    text.push_str(if persisted {
        " The browser keeps it until you delete it."
    } else {
        " When the disk runs low, the browser may delete it to make room."
    });
    line.set_text_content(Some(text.trim_start()));
    button.set_hidden(persisted);
    if let Some(help) = element("persist-help") {
        help.set_hidden(persisted);
    }
}
