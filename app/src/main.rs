//! The page: choose a file and settings, start a job in the worker, show progress, preview the
//! crop window over the video, offer the result for download. All heavy work is in the worker.
//!
//! Modules: [`dom`] (the page's elements), [`link`] (the worker and its messages),
//! [`preview`] (the crop window drawn over the video), [`download`] (the finished file).

mod dom;
mod download;
mod link;
mod preview;

use dom::{Page, PageState};
use gloo::events::EventListener;
use reframe_core::camera_path::Smoothness;
use reframe_core::protocol::{CropMode, DetectorBackend, CropPosition, FromWorker, JobSettings, Profile};
use reframe_core::units::AspectRatio;
use reframe_core::ReframeError;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{File, HtmlInputElement};

/// Everything the page remembers between events.
struct App {
    page: Page,
    worker: link::WorkerLink,
    file: Option<File>,
    preview_url: Option<String>,
    download_url: Option<String>,
    /// Set by `?decode_only=1` (benchmarks): decode every frame, write nothing.
    decode_only: bool,
    /// Set by `?detector=webgpu|cpu` (tests, benchmarks): where the person detector runs.
    detector: DetectorBackend,
}

fn main() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        if let Some(page) = Page::find() {
            page.show_error("Reframe hit an internal error. Reload the page to start again.", "internal");
        }
    }));
    let Some(page) = Page::find() else { return };
    let query = gloo::utils::window().location().search().unwrap_or_default();
    let decode_only = query.contains("decode_only=1");
    let detector = if query.contains("detector=webgpu") {
        DetectorBackend::Webgpu
    } else if query.contains("detector=cpu") {
        DetectorBackend::Cpu
    } else {
        DetectorBackend::Auto
    };
    let worker = match link::WorkerLink::start() {
        Ok(w) => w,
        Err(message) => {
            page.show_error(&message, "no_worker");
            return;
        }
    };
    let app = Rc::new(RefCell::new(App { page, worker, file: None, preview_url: None, download_url: None, decode_only, detector }));
    wire(&app);
}

/// Attaches every event handler. Listeners live as long as the page, so they are forgotten.
fn wire(app: &Rc<RefCell<App>>) {
    let page = app.borrow().page.clone();

    let a = app.clone();
    app.borrow().worker.on_message(move |msg| on_worker_message(&a, msg));
    let a = app.clone();
    app.borrow().worker.on_error(move |message| a.borrow().page.show_error(&message, "worker"));

    let a = app.clone();
    EventListener::new(&page.file_input, "change", move |_| {
        let input: HtmlInputElement = a.borrow().page.file_input.clone();
        let file = input.files().and_then(|l| l.get(0));
        if let Some(f) = file {
            choose_file(&a, f);
        }
    })
    .forget();

    // Drag and drop onto the drop zone.
    for kind in ["dragover", "dragenter"] {
        let zone = page.drop_zone.clone();
        EventListener::new(&page.drop_zone, kind, move |e| {
            e.prevent_default();
            let _ = zone.class_list().add_1("dragging");
        })
        .forget();
    }
    let zone = page.drop_zone.clone();
    EventListener::new(&page.drop_zone, "dragleave", move |_| {
        let _ = zone.class_list().remove_1("dragging");
    })
    .forget();
    let a = app.clone();
    EventListener::new(&page.drop_zone, "drop", move |e| {
        e.prevent_default();
        let _ = a.borrow().page.drop_zone.class_list().remove_1("dragging");
        let drag: &web_sys::DragEvent = e.unchecked_ref();
        let file = drag.data_transfer().and_then(|d| d.files()).and_then(|l| l.get(0));
        if let Some(f) = file {
            choose_file(&a, f);
        }
    })
    .forget();

    // Settings that move the crop window redraw the preview.
    for el in [page.ratio.clone().unchecked_into::<web_sys::EventTarget>(), page.custom_ratio.clone().into(), page.pos_x.clone().into(), page.pos_y.clone().into()] {
        for kind in ["input", "change"] {
            let a = app.clone();
            EventListener::new(&el, kind, move |_| {
                let app = a.borrow();
                app.page.custom_ratio.set_hidden(app.page.ratio.value() != "custom");
                preview::draw(&app.page, read_ratio(&app.page).ok());
            })
            .forget();
        }
    }
    let a = app.clone();
    EventListener::new(&page.preview_video, "loadedmetadata", move |_| {
        let app = a.borrow();
        preview::draw(&app.page, read_ratio(&app.page).ok());
    })
    .forget();

    let a = app.clone();
    EventListener::new(&page.start, "click", move |_| start(&a)).forget();
    let a = app.clone();
    EventListener::new(&page.cancel, "click", move |_| a.borrow().worker.cancel()).forget();
}

fn choose_file(app: &Rc<RefCell<App>>, file: File) {
    let mut a = app.borrow_mut();
    if a.page.state() == PageState::Running {
        return;
    }
    if let Some(url) = a.preview_url.take() {
        let _ = web_sys::Url::revoke_object_url(&url);
    }
    // The preview streams from the file on disk; nothing is read into memory here.
    if let Ok(url) = web_sys::Url::create_object_url_with_blob(&file) {
        a.page.preview_video.set_src(&url);
        a.preview_url = Some(url);
    }
    a.page.set_file_name(&file.name(), file.size());
    a.file = Some(file);
    a.page.clear_error();
    a.page.start.set_disabled(false);
    a.page.set_state(PageState::Ready);
}

fn read_ratio(page: &Page) -> Result<AspectRatio, ReframeError> {
    let text = if page.ratio.value() == "custom" { page.custom_ratio.value() } else { page.ratio.value() };
    AspectRatio::parse(&text).ok_or(ReframeError::BadRatio(text))
}

fn read_settings(app: &App) -> Result<JobSettings, ReframeError> {
    let page = &app.page;
    let position = CropPosition {
        x: page.pos_x.value_as_number() / 100.0,
        y: page.pos_y.value_as_number() / 100.0,
    };
    let mode = if page.mode.value() == "auto" { CropMode::Auto } else { CropMode::Fixed };
    let profile = match page.profile.value().as_str() {
        "fast" => Profile::Fast,
        "quality" => Profile::Quality,
        _ => Profile::Balanced,
    };
    let smoothness = Smoothness::parse(&page.smoothness.value()).unwrap_or_default();
    Ok(JobSettings { ratio: read_ratio(page)?, mode, position, profile, smoothness, detector: app.detector, decode_only: app.decode_only })
}

fn start(app: &Rc<RefCell<App>>) {
    let mut a = app.borrow_mut();
    let Some(file) = a.file.clone() else {
        a.page.show_error("Choose a video first.", "no_file");
        return;
    };
    let settings = match read_settings(&a) {
        Ok(s) => s,
        Err(e) => {
            a.page.show_error(&e.to_string(), e.code());
            return;
        }
    };
    if let Some(url) = a.download_url.take() {
        let _ = web_sys::Url::revoke_object_url(&url);
    }
    a.page.clear_error();
    a.page.hide_result();
    a.page.set_state(PageState::Running);
    a.worker.start_job(settings, &file);
}

fn on_worker_message(app: &Rc<RefCell<App>>, msg: FromWorker) {
    match msg {
        FromWorker::Ready => {
            let a = app.borrow();
            if a.page.state() == PageState::Loading {
                a.page.set_state(PageState::Ready);
            }
        }
        FromWorker::Probed { source } => {
            let a = app.borrow();
            a.page.show_source(&source);
            dom::expose("source", &source);
        }
        FromWorker::Progress { progress } => {
            dom::expose("progress", &progress);
            app.borrow().page.show_progress(&progress);
        }
        FromWorker::Done { summary } => {
            dom::expose("summary", &summary);
            if summary.output_path.is_empty() {
                let a = app.borrow();
                a.page.show_result(&summary, None);
                a.page.set_state(PageState::Done);
                return;
            }
            let app = app.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match download::object_url(&summary.output_path).await {
                    Ok(url) => {
                        let mut a = app.borrow_mut();
                        a.page.show_result(&summary, Some(&url));
                        a.download_url = Some(url);
                        a.page.set_state(PageState::Done);
                    }
                    Err(message) => app.borrow().page.show_error(&message, "storage"),
                }
            });
        }
        FromWorker::Failed { error } => {
            app.borrow().page.show_error(&error.message, &error.code);
        }
        FromWorker::Cancelled => {
            let a = app.borrow();
            a.page.show_note("Cancelled. Nothing was saved; press Start to begin again.");
            a.page.set_state(PageState::Ready);
        }
    }
}
