//! Offline use: registers the service worker (`www/sw.js`), says in the page's footer whether
//! Reframe opens and runs without a network here (Follow people included or not), and offers a
//! waiting new version ("Use the new version now"), which otherwise starts when no page of the
//! old one is open.

use gloo::events::EventListener;
use reframe_core::models::FACE_WEIGHTS;
use reframe_core::settings::DetectorModel;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{HtmlElement, ServiceWorkerContainer, ServiceWorkerRegistration};

/// The detector worker's wasm as the service worker keeps it (when auto mode first runs).
const DETECTOR_WASM: &str = "reframe-detect-worker_bg.wasm";

/// Starts the service worker and keeps the footer's line true. Does nothing where the browser
/// has no service workers (an insecure origin, a private window of some browsers).
pub fn start(model: impl Fn() -> DetectorModel + 'static) {
    let window = gloo::utils::window();
    let navigator = window.navigator();
    if !js_sys::Reflect::has(&navigator, &"serviceWorker".into()).unwrap_or(false) {
        return;
    }
    let container = navigator.service_worker();
    let (Some(line), Some(update)) = (element("offline"), element("update-now")) else { return };
    let kept_before = container.controller().is_some();
    if !kept_before {
        line.set_text_content(Some("Keeping Reframe in this browser for offline use…"));
    }
    wasm_bindgen_futures::spawn_local(async move {
        let registered = JsFuture::from(container.register("sw.js")).await;
        let registration: ServiceWorkerRegistration = match registered {
            Ok(r) => r.unchecked_into(),
            Err(e) => {
                let why = e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_default();
                line.set_text_content(Some(&format!("This browser could not keep Reframe for offline use ({why}).")));
                return;
            }
        };
        offer_update(&container, &registration, &update);
        // Installed: every file of the page is kept (the first visit waits for it here).
        if JsFuture::from(container.ready().unwrap_or_else(|_| js_sys::Promise::resolve(&JsValue::NULL))).await.is_ok()
        {
            show_status(&line, model()).await;
        }
        // The line is checked again when a job ends: its auto mode may have kept the detector.
        let line2 = line.clone();
        EventListener::new(&gloo::utils::document(), "reframe-job-ended", move |_| {
            let line = line2.clone();
            let m = model();
            wasm_bindgen_futures::spawn_local(async move { show_status(&line, m).await });
        })
        .forget();
    });
}

/// Tells the footer that a job ended (its auto mode may have kept the detector).
pub fn job_ended() {
    if let Ok(e) = web_sys::Event::new("reframe-job-ended") {
        let _ = gloo::utils::document().dispatch_event(&e);
    }
}

fn element(id: &str) -> Option<HtmlElement> {
    gloo::utils::document().get_element_by_id(id).and_then(|e| e.dyn_into().ok())
}

/// "Use the new version now" while a new version waits; pressing it switches and reloads.
fn offer_update(container: &ServiceWorkerContainer, registration: &ServiceWorkerRegistration, button: &HtmlElement) {
    let show = {
        let (registration, button) = (registration.clone(), button.clone());
        let container = container.clone();
        move || {
            // A waiting worker while this page has one: a new version (on a first visit the
            // installing worker becomes the first, not a new, version).
            let waiting = registration.waiting().is_some() && container.controller().is_some();
            button.set_hidden(!waiting);
        }
    };
    show();
    let reg = registration.clone();
    let show2 = show.clone();
    EventListener::new(registration, "updatefound", move |_| {
        if let Some(installing) = reg.installing() {
            let show = show2.clone();
            EventListener::new(&installing, "statechange", move |_| show()).forget();
        }
    })
    .forget();
    let reg = registration.clone();
    EventListener::new(button, "click", move |_| {
        let Some(waiting) = reg.waiting() else { return };
        let busy =
            gloo::utils::document().body().and_then(|b| b.get_attribute("data-state")).as_deref() == Some("running");
        if busy {
            let _ = gloo::utils::window()
                .alert_with_message("A job is running: the new version starts when it has finished and you reload.");
            return;
        }
        // Reload once the new version controls the page.
        EventListener::once(&gloo::utils::window().navigator().service_worker(), "controllerchange", |_| {
            let _ = gloo::utils::window().location().reload();
        })
        .forget();
        let _ = waiting.post_message(&"use-new-version".into());
    })
    .forget();
}

/// The footer's line: kept or not, and whether the chosen detector is kept too.
async fn show_status(line: &HtmlElement, model: DetectorModel) {
    let detector = kept(DETECTOR_WASM).await
        && kept(&weights_key(model.weights())).await
        && kept(&weights_key(FACE_WEIGHTS)).await;
    let text = if detector {
        "Reframe is kept in this browser: it opens and runs without a network, Follow people included."
    } else {
        "Reframe is kept in this browser: it opens and runs without a network. Follow people needs its \
         detector downloaded once (a few MB): run it once while online."
    };
    line.set_text_content(Some(text));
}

/// How the pipeline worker keys a weights file in its cache (`worker/src/detect.rs`).
fn weights_key(file: reframe_core::models::WeightsFile) -> String {
    format!("{}?sha256={}", file.path(), file.sha256)
}

/// Whether any of the page's caches holds this URL (relative to the page).
async fn kept(url: &str) -> bool {
    let Ok(caches) = gloo::utils::window().caches() else { return false };
    matches!(JsFuture::from(caches.match_with_str(url)).await, Ok(v) if !v.is_undefined())
}
