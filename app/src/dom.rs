//! The page's elements (declared in www/index.html) and how state is shown in them.
//!
//! `document.body.dataset.state` is one of `loading`, `ready`, `running`, `done`, `error`;
//! tests and `tests/process-headless` wait on it. `window.__reframe` holds the last
//! `source`, `summary` and `error` as plain objects for the same tools.

use reframe_core::protocol::{Progress, SourceInfo};
use reframe_core::summary::JobSummary;
use reframe_core::units::AspectRatio;
use serde::Serialize;
use wasm_bindgen::JsCast;
use web_sys::{
    Document, HtmlAnchorElement, HtmlButtonElement, HtmlCanvasElement, HtmlElement, HtmlInputElement,
    HtmlProgressElement, HtmlSelectElement, HtmlVideoElement,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageState {
    Loading,
    Ready,
    Running,
    Done,
    Error,
}

impl PageState {
    fn name(self) -> &'static str {
        match self {
            PageState::Loading => "loading",
            PageState::Ready => "ready",
            PageState::Running => "running",
            PageState::Done => "done",
            PageState::Error => "error",
        }
    }
}

#[derive(Clone)]
pub struct Page {
    document: Document,
    /// The page's own title; a running job puts its progress in front of it.
    base_title: String,
    pub drop_zone: HtmlElement,
    pub file_input: HtmlInputElement,
    pub file_name: HtmlElement,
    pub ratio: HtmlSelectElement,
    pub custom_ratio: HtmlInputElement,
    pub mode: HtmlSelectElement,
    pub profile: HtmlSelectElement,
    pub model: HtmlSelectElement,
    pub smoothness: HtmlSelectElement,
    pub two_people: HtmlSelectElement,
    pub pins: HtmlInputElement,
    pub pos_x: HtmlInputElement,
    pub pos_y: HtmlInputElement,
    pub start: HtmlButtonElement,
    pub cancel: HtmlButtonElement,
    pub preview_video: HtmlVideoElement,
    pub crop_overlay: HtmlElement,
    /// The second half's window on a split-screen frame.
    pub crop_overlay_2: HtmlElement,
    pub source_info: HtmlElement,
    /// What the user should know about how the file is read (a silent output, a file cut short).
    pub source_notices: HtmlElement,
    pub stage_label: HtmlElement,
    pub progress: HtmlProgressElement,
    pub progress_text: HtmlElement,
    pub error: HtmlElement,
    pub result: HtmlElement,
    pub result_text: HtmlElement,
    pub download: HtmlAnchorElement,
    pub jobs_panel: HtmlElement,
    pub jobs_list: HtmlElement,
    pub delete_all: HtmlButtonElement,
    pub cache_limit: HtmlInputElement,
    pub import_analysis: HtmlInputElement,
    pub boxes: HtmlElement,
    pub people: HtmlElement,
    pub people_list: HtmlElement,
    pub export_analysis: HtmlButtonElement,
    pub subject: HtmlInputElement,
    pub stage: HtmlElement,
    pub crop_preview: HtmlCanvasElement,
    pub editor: HtmlElement,
    pub play: HtmlButtonElement,
    pub time: HtmlElement,
    pub undo: HtmlButtonElement,
    pub redo: HtmlButtonElement,
    pub reset_shot: HtmlButtonElement,
    pub show_boxes: HtmlInputElement,
    pub timeline: HtmlCanvasElement,
    pub result_video: HtmlVideoElement,
    pub scrub: HtmlElement,
    pub scrub_frame: HtmlCanvasElement,
    pub scrub_time: HtmlElement,
    pub show_output: HtmlInputElement,
    pub show_output_label: HtmlElement,
    /// "Also export as": one checkbox per ratio.
    pub more_ratios: Vec<HtmlInputElement>,
    pub more_downloads: HtmlElement,
}

fn el<T: JsCast>(document: &Document, id: &str) -> Option<T> {
    document.get_element_by_id(id)?.dyn_into::<T>().ok()
}

fn all<T: JsCast>(document: &Document, selector: &str) -> Option<Vec<T>> {
    let list = document.query_selector_all(selector).ok()?;
    (0..list.length()).map(|i| list.item(i)?.dyn_into::<T>().ok()).collect()
}

impl Page {
    /// Finds every element; `None` if the HTML does not match this code.
    pub fn find() -> Option<Page> {
        let document = gloo::utils::document();
        let d = &document;
        Some(Page {
            base_title: document.title(),
            drop_zone: el(d, "drop-zone")?,
            file_input: el(d, "file-input")?,
            file_name: el(d, "file-name")?,
            ratio: el(d, "ratio")?,
            custom_ratio: el(d, "custom-ratio")?,
            mode: el(d, "mode")?,
            profile: el(d, "profile")?,
            model: el(d, "model")?,
            smoothness: el(d, "smoothness")?,
            two_people: el(d, "two-people")?,
            pins: el(d, "pins")?,
            pos_x: el(d, "pos-x")?,
            pos_y: el(d, "pos-y")?,
            start: el(d, "start")?,
            cancel: el(d, "cancel")?,
            preview_video: el(d, "preview-video")?,
            crop_overlay: el(d, "crop-overlay")?,
            crop_overlay_2: el(d, "crop-overlay-2")?,
            source_info: el(d, "source-info")?,
            source_notices: el(d, "source-notices")?,
            stage_label: el(d, "stage-label")?,
            progress: el(d, "progress")?,
            progress_text: el(d, "progress-text")?,
            error: el(d, "error")?,
            result: el(d, "result")?,
            result_text: el(d, "result-text")?,
            download: el(d, "download")?,
            jobs_panel: el(d, "jobs-panel")?,
            jobs_list: el(d, "jobs")?,
            delete_all: el(d, "delete-all")?,
            cache_limit: el(d, "cache-limit")?,
            import_analysis: el(d, "import-analysis")?,
            boxes: el(d, "boxes")?,
            people: el(d, "people")?,
            people_list: el(d, "people-list")?,
            export_analysis: el(d, "export-analysis")?,
            subject: el(d, "subject")?,
            stage: el(d, "stage")?,
            crop_preview: el(d, "crop-preview")?,
            editor: el(d, "editor")?,
            play: el(d, "play")?,
            time: el(d, "time")?,
            undo: el(d, "undo")?,
            redo: el(d, "redo")?,
            reset_shot: el(d, "reset-shot")?,
            show_boxes: el(d, "show-boxes")?,
            timeline: el(d, "timeline")?,
            result_video: el(d, "result-video")?,
            scrub: el(d, "scrub")?,
            scrub_frame: el(d, "scrub-frame")?,
            scrub_time: el(d, "scrub-time")?,
            show_output: el(d, "show-output")?,
            show_output_label: el(d, "show-output-label")?,
            more_ratios: all(d, "#more-ratios input")?,
            more_downloads: el(d, "more-downloads")?,
            document,
        })
    }

    pub fn state(&self) -> PageState {
        match self.document.body().and_then(|b| b.get_attribute("data-state")).as_deref() {
            Some("ready") => PageState::Ready,
            Some("running") => PageState::Running,
            Some("done") => PageState::Done,
            Some("error") => PageState::Error,
            _ => PageState::Loading,
        }
    }

    pub fn set_state(&self, state: PageState) {
        if let Some(body) = self.document.body() {
            let _ = body.set_attribute("data-state", state.name());
        }
        // The tab's title says how a job stands, for a user in another tab.
        match state {
            PageState::Done => self.document.set_title(&format!("Done – {}", self.base_title)),
            PageState::Error => self.document.set_title(&format!("Stopped – {}", self.base_title)),
            PageState::Running => {}
            _ => self.document.set_title(&self.base_title),
        }
        let running = state == PageState::Running;
        if running {
            // A new job: its own progress from zero.
            self.progress.set_value(0.0);
            self.progress_text.set_text_content(None);
        }
        self.start.set_disabled(running || state == PageState::Loading);
        self.cancel.set_hidden(!running);
        self.file_input.set_disabled(running);
        for s in [&self.ratio, &self.mode, &self.profile, &self.model, &self.smoothness, &self.two_people] {
            s.set_disabled(running);
        }
        for i in [&self.custom_ratio, &self.pos_x, &self.pos_y, &self.pins, &self.subject] {
            i.set_disabled(running);
        }
        self.sync_more_ratios(running);
    }

    /// The ticked "Also export as" ratios (the main ratio's box is disabled: it is exported anyway).
    pub fn more_ratios(&self) -> Vec<AspectRatio> {
        let main = self.main_ratio();
        let ticked = self.more_ratios.iter().filter(|b| b.checked()).filter_map(|b| AspectRatio::parse(&b.value()));
        ticked.filter(|r| Some(*r) != main).collect()
    }

    /// Disables the "Also export as" box of the main ratio, and all of them while a job runs.
    pub fn sync_more_ratios(&self, running: bool) {
        let main = self.main_ratio();
        for b in &self.more_ratios {
            b.set_disabled(running || AspectRatio::parse(&b.value()) == main);
        }
    }

    /// The main ratio as chosen, when it reads.
    pub fn main_ratio(&self) -> Option<AspectRatio> {
        let custom = self.ratio.value() == "custom";
        AspectRatio::parse(&if custom { self.custom_ratio.value() } else { self.ratio.value() })
    }

    pub fn set_file_name(&self, name: &str, bytes: f64) {
        self.file_name.set_text_content(Some(&format!("{name} ({})", human_bytes(bytes))));
    }

    pub fn show_source(&self, s: &SourceInfo) {
        let audio = s.audio_codec.as_deref().unwrap_or("no audio");
        let rotation =
            if s.rotation_degrees != 0 { format!(", rotated {}°", s.rotation_degrees) } else { String::new() };
        self.source_info.set_text_content(Some(&format!(
            "{} · {} · {}{} · {} frames · {:.1} s · {} · {}",
            s.container,
            s.display_size,
            s.video_codec,
            rotation,
            s.frames,
            s.duration_us as f64 / 1e6,
            audio,
            human_bytes(s.file_bytes as f64)
        )));
        self.source_notices.set_text_content(Some(&s.notices.join(" ")));
        self.source_notices.set_hidden(s.notices.is_empty());
    }

    /// Shows a job's progress (`auto`: the job analyses the video first), also in the tab's
    /// title ("42% – Reframe…").
    pub fn show_progress(&self, p: &Progress, auto: bool) {
        if let Some(f) = p.overall(auto) {
            self.document.set_title(&format!("{:.0}% – {}", f * 100.0, self.base_title));
        }
        self.progress.set_hidden(false);
        self.stage_label.set_text_content(Some(p.stage.label()));
        if p.frames_total > 0 {
            self.progress.set_max(p.frames_total as f64);
            self.progress.set_value(p.frames_done as f64);
        }
        let eta = p.eta_s.map(|s| format!(" · about {} left", human_duration(s))).unwrap_or_default();
        let detail = p.detail.as_ref().map(|d| format!(" · {d}")).unwrap_or_default();
        let text = if p.frames_total > 0 {
            let fps = if p.fps > 0.0 { format!(" · {:.0} fps", p.fps) } else { String::new() };
            format!("{} / {} frames{fps}{eta}{detail}", p.frames_done, p.frames_total)
        } else {
            p.detail.clone().unwrap_or_default()
        };
        self.progress_text.set_text_content(Some(&text));
    }

    pub fn show_error(&self, message: &str, code: &str) {
        expose("error", &reframe_core::error::UserError { code: code.to_string(), message: message.to_string() });
        // The progress area says how far a stopped job got (it resumes from there); otherwise (no
        // job was running, or it had done nothing) it is emptied, so only the message shows.
        if self.state() == PageState::Running && self.progress.value() > 0.0 {
            self.stage_label.set_text_content(Some("Stopped"));
        } else {
            self.stage_label.set_text_content(None);
            self.progress_text.set_text_content(None);
            self.progress.set_hidden(true);
        }
        self.error.set_text_content(Some(message));
        let _ = self.error.set_attribute("data-code", code);
        self.error.set_hidden(false);
        self.set_state(PageState::Error);
    }

    /// A neutral message in the progress area (not an error).
    pub fn show_note(&self, message: &str) {
        self.stage_label.set_text_content(Some(message));
        self.progress_text.set_text_content(None);
    }

    pub fn clear_error(&self) {
        self.error.set_text_content(None);
        self.error.set_hidden(true);
    }

    pub fn show_result(&self, s: &JobSummary, url: Option<&str>) {
        let mut text = format!(
            "{} frames · {}x{} {} · {} · {:.1} s ({:.0} fps)",
            s.frames_out,
            s.output_size.width,
            s.output_size.height,
            s.video_codec,
            human_bytes(s.output_bytes as f64),
            s.elapsed_s,
            s.frames_out as f64 / s.elapsed_s.max(1e-3)
        );
        // Auto mode: where the person detector ran and how fast (nothing when it was reused).
        if let Some(a) = s.analysis.as_ref().filter(|a| a.detect_batch > 0) {
            let batch = if a.detect_batch > 1 { format!(", {} frames a run", a.detect_batch) } else { String::new() };
            // Time the detector was busy per frame: with helper workers, runs overlap.
            let ms = if a.detect_wall_ms_per_frame > 0.0 { a.detect_wall_ms_per_frame } else { a.detect_ms_per_frame };
            text.push_str(&format!(" · people detector on {}: {ms:.0} ms per analysed frame{batch}", a.backend));
            if !a.preprocess.is_empty() {
                text.push_str(&format!(", frames scaled on {}", a.preprocess));
            }
            if a.detect_worker_restarts > 0 {
                let n = a.detect_worker_restarts;
                text.push_str(&format!(
                    " ({n} detector worker{} crashed and {} replaced; no frame was skipped)",
                    if n == 1 { "" } else { "s" },
                    if n == 1 { "was" } else { "were" }
                ));
            }
        }
        for notice in &s.notices {
            text.push_str(" · ");
            text.push_str(notice);
        }
        self.result_text.set_text_content(Some(&text));
        match url {
            Some(url) => {
                self.download.set_href(url);
                self.download.set_download(&s.download_name);
                self.download.set_text_content(Some(&format!("Download {}", s.download_name)));
                self.download.set_hidden(false);
            }
            None => self.download.set_hidden(true),
        }
        self.stage_label.set_text_content(Some("Done"));
        self.result.set_hidden(false);
    }

    /// A download link for one more output of the export (another ratio).
    pub fn add_more_download(&self, s: &JobSummary, url: &str) {
        let Ok(a) = self.document.create_element("a") else { return };
        let a: HtmlAnchorElement = a.unchecked_into();
        a.set_class_name("button secondary download-more");
        a.set_href(url);
        a.set_download(&s.download_name);
        a.set_text_content(Some(&format!(
            "Download {} ({}x{})",
            s.download_name, s.output_size.width, s.output_size.height
        )));
        let _ = self.more_downloads.append_child(&a);
    }

    pub fn hide_result(&self) {
        self.more_downloads.set_text_content(None);
        self.result.set_hidden(true);
        self.export_analysis.set_hidden(true);
    }
}

/// Publishes a value as `window.__reframe[key]` (a plain object) for tools and tests.
pub fn expose<T: Serialize>(key: &str, value: &T) {
    let window = gloo::utils::window();
    let root = match js_sys::Reflect::get(&window, &"__reframe".into()) {
        Ok(v) if v.is_object() => v,
        _ => {
            let o: wasm_bindgen::JsValue = js_sys::Object::new().into();
            let _ = js_sys::Reflect::set(&window, &"__reframe".into(), &o);
            o
        }
    };
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    if let Ok(v) = value.serialize(&serializer) {
        let _ = js_sys::Reflect::set(&root, &key.into(), &v);
    }
}

pub fn human_bytes(b: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = b;
    let mut i = 0;
    while v >= 1000.0 && i < UNITS.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        format!("{v:.0} {}", UNITS[i])
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

pub fn human_duration(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}h {:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// `localStorage[key]`, if the browser allows storage.
pub fn local_get(key: &str) -> Option<String> {
    gloo::utils::window().local_storage().ok().flatten()?.get_item(key).ok().flatten()
}

pub fn local_set(key: &str, value: &str) {
    if let Some(s) = gloo::utils::window().local_storage().ok().flatten() {
        let _ = s.set_item(key, value);
    }
}

/// `items[0].getAsFileSystemHandle()` of a drop (Chromium), if the browser has it.
pub fn file_handle_promise(transfer: &web_sys::DataTransfer) -> Option<js_sys::Promise> {
    let items = js_sys::Reflect::get(transfer, &"items".into()).ok()?;
    let first = js_sys::Reflect::get(&items, &0.into()).ok().filter(|v| v.is_object())?;
    let f = js_sys::Reflect::get(&first, &"getAsFileSystemHandle".into()).ok()?.dyn_into::<js_sys::Function>().ok()?;
    f.call0(&first).ok()?.dyn_into::<js_sys::Promise>().ok()
}

/// The `File` behind a stored `FileSystemFileHandle`, after asking for read permission again
/// (a click is the user gesture the browser wants). `None` when refused or gone.
pub async fn file_from_handle(handle: &wasm_bindgen::JsValue) -> Option<web_sys::File> {
    use wasm_bindgen_futures::JsFuture;
    let call = |name: &str, arg: Option<&wasm_bindgen::JsValue>| -> Option<js_sys::Promise> {
        let f = js_sys::Reflect::get(handle, &name.into()).ok()?.dyn_into::<js_sys::Function>().ok()?;
        let r = match arg {
            Some(a) => f.call1(handle, a),
            None => f.call0(handle),
        };
        r.ok()?.dyn_into::<js_sys::Promise>().ok()
    };
    let mode = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&mode, &"mode".into(), &"read".into());
    if let Some(p) = call("requestPermission", Some(&mode)) {
        let state = JsFuture::from(p).await.ok()?.as_string().unwrap_or_default();
        if state != "granted" {
            return None;
        }
    }
    let file = JsFuture::from(call("getFile", None)?).await.ok()?;
    file.dyn_into::<web_sys::File>().ok()
}

/// Offers `text` as a file download named `name`.
pub fn save_text_file(name: &str, text: &str, mime: &str) {
    let parts = js_sys::Array::of1(&text.into());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else { return };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else { return };
    let document = gloo::utils::document();
    if let Ok(a) = document.create_element("a") {
        let _ = a.set_attribute("href", &url);
        let _ = a.set_attribute("download", name);
        if let Some(a) = a.dyn_ref::<HtmlElement>() {
            a.click();
        }
    }
    // The download has started from the URL; it can go after a moment.
    gloo::timers::callback::Timeout::new(60_000, move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    })
    .forget();
}

/// A muted video element kept off the page (for thumbnails and the timeline's frame under the
/// pointer), reading ahead.
pub fn hidden_video() -> Option<HtmlVideoElement> {
    let video: HtmlVideoElement = gloo::utils::document().create_element("video").ok()?.dyn_into().ok()?;
    video.set_muted(true);
    video.set_preload("auto");
    Some(video)
}

/// The 2D drawing context of `canvas`.
pub fn context_2d(canvas: &HtmlCanvasElement) -> Option<web_sys::CanvasRenderingContext2d> {
    canvas.get_context("2d").ok().flatten()?.dyn_into().ok()
}

/// A monotonic clock in milliseconds (sub-millisecond where the browser allows).
pub fn now_ms() -> f64 {
    gloo::utils::window().performance().map_or_else(js_sys::Date::now, |p| p.now())
}

/// The files of a file list (an input's or a drop's), in order.
pub fn files_of(list: Option<web_sys::FileList>) -> Vec<web_sys::File> {
    let Some(list) = list else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// The "Choose a folder" input, shown where the browser can pick folders (`webkitdirectory`).
pub fn folder_input() -> Option<HtmlInputElement> {
    let input: HtmlInputElement = gloo::utils::document().get_element_by_id("folder-input")?.dyn_into().ok()?;
    let can = js_sys::Reflect::has(&input, &"webkitdirectory".into()).unwrap_or(false);
    if let Some(label) = gloo::utils::document().query_selector("label[for=folder-input]").ok().flatten() {
        let _ = if can { label.remove_attribute("hidden") } else { label.set_attribute("hidden", "") };
    }
    can.then_some(input)
}
