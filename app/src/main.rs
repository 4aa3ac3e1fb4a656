//! The page: choose a file and settings, start a job in the worker, show progress, preview the
//! crop window over the video, offer the result for download. All heavy work is in the worker.
//!
//! Modules: [`dom`] (the page's elements), [`link`] (the worker and its messages),
//! [`preview`] (the fixed crop window drawn over the video), [`editor`] (the planned path over
//! the video, the cropped preview, the timeline and the edits), [`people`] (whom to follow),
//! [`compare`] (the exported file beside the source), [`download`] (the finished file),
//! [`jobs`] (stored jobs: resume, download, delete), [`offline`] (the service worker: offline use,
//! updates), [`notify`] (a notification when a job ends in a background tab), [`storage`] (space
//! used and allowed, persistence), [`queue`] (several videos, one after another).

mod compare;
mod dom;
mod download;
mod editor;
mod jobs;
mod link;
mod notify;
mod offline;
mod people;
mod preview;
mod queue;
mod scrub;
mod storage;

use dom::{Page, PageState};
use gloo::events::EventListener;
use reframe_core::analysis::{Analysis, Edits};
use reframe_core::camera_path::{CameraSettings, Smoothness};
use reframe_core::job::JobListEntry;
use reframe_core::layout::TwoPeople;
use reframe_core::protocol::{FromWorker, SourceInfo, ToWorker};
use reframe_core::queue::{Ended, MoreOutput};
use reframe_core::settings::{format_pins, parse_pins, CropMode, CropPosition, DetectorModel, JobSettings, Profile};
use reframe_core::test_aids::TestAids;
use reframe_core::units::AspectRatio;
use reframe_core::ReframeError;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{File, HtmlInputElement};

/// Everything the page remembers between events.
struct App {
    page: Page,
    worker: link::WorkerLink,
    file: Option<File>,
    preview_url: Option<String>,
    /// Object URLs of the last export's files (revoked at the next Start).
    download_urls: Vec<String>,
    /// Test and benchmark switches from the URL query (`reframe_core::test_aids`), sent with
    /// every job.
    test_aids: TestAids,
    /// The stored job the user asked to resume; the next chosen file resumes it.
    resume: Option<JobListEntry>,
    /// The dropped file's `FileSystemFileHandle` (Chromium), kept with the job for a resume.
    handle: Option<JsValue>,
    /// Stored jobs' file handles, by job id (from the worker's `Jobs` message).
    job_handles: JsValue,
    /// The editor of the last job's analysis (auto mode), from when the analysis exists.
    editor: Option<editor::EditorView>,
    /// What the worker found out about the chosen file.
    source: Option<SourceInfo>,
    /// An analysis file the user chose, sent with the next Start.
    import_json: Option<String>,
    /// The job the worker runs or ran last.
    job_id: Option<String>,
    /// Whether that job analyses the video first (auto mode): its progress has two passes.
    job_auto: bool,
    /// Several videos, run one after another.
    queue: queue::QueueView,
}

/// localStorage key of the cache limit (GB of finished videos to keep).
const CACHE_LIMIT_KEY: &str = "reframe.cache_limit_gb";

fn main() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        if let Some(page) = Page::find() {
            page.show_error("Reframe hit an internal error. Reload the page to start again.", "internal");
        }
    }));
    let Some(page) = Page::find() else { return };
    let test_aids = TestAids::from_query(&gloo::utils::window().location().search().unwrap_or_default());
    let worker = match link::WorkerLink::start() {
        Ok(w) => w,
        Err(e) => {
            page.show_error(&e.to_string(), e.code());
            return;
        }
    };
    let app = Rc::new(RefCell::new(App {
        page,
        worker,
        file: None,
        preview_url: None,
        download_urls: Vec::new(),
        test_aids,
        resume: None,
        handle: None,
        job_handles: JsValue::UNDEFINED,
        editor: None,
        source: None,
        import_json: None,
        job_id: None,
        job_auto: false,
        queue: queue::QueueView::load(),
    }));
    wire(&app);
    let model = app.borrow().page.model.clone();
    offline::start(move || match model.value().as_str() {
        "fast" => DetectorModel::Fast,
        _ => DetectorModel::Quality,
    });
}

/// Attaches every event handler. Listeners live as long as the page, so they are forgotten.
fn wire(app: &Rc<RefCell<App>>) {
    let page = app.borrow().page.clone();

    let a = app.clone();
    app.borrow().worker.on_message(move |msg, raw| on_worker_message(&a, msg, &raw));
    let a = app.clone();
    app.borrow().worker.on_error(move |e| a.borrow().page.show_error(&e.to_string(), e.code()));

    let a = app.clone();
    EventListener::new(&page.file_input, "change", move |_| {
        let input: HtmlInputElement = a.borrow().page.file_input.clone();
        let files = dom::files_of(input.files());
        // Several files, or a queue under way: the queue takes them.
        if queue::take_files(&a, files.clone()) {
            input.set_value("");
            return;
        }
        if let Some(f) = files.into_iter().next() {
            a.borrow_mut().handle = None;
            choose_file(&a, f);
        }
    })
    .forget();

    // A folder (where the browser lets a page pick one): its videos go to the queue.
    if let Some(folder) = dom::folder_input() {
        let input = folder.clone();
        let a = app.clone();
        EventListener::new(&folder, "change", move |_| {
            let files = dom::files_of(input.files());
            input.set_value("");
            queue::take_folder(&a, files);
        })
        .forget();
    }

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
        let transfer = drag.data_transfer();
        let files = dom::files_of(transfer.as_ref().and_then(|d| d.files()));
        if queue::take_files(&a, files.clone()) {
            return;
        }
        let file = files.into_iter().next();
        // Chromium can give a handle to the dropped file; it must be asked for during the drop.
        let handle_promise = transfer.and_then(|d| dom::file_handle_promise(&d));
        if let Some(f) = file {
            a.borrow_mut().handle = None;
            if let Some(p) = handle_promise {
                let a2 = a.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    if let Ok(h) = wasm_bindgen_futures::JsFuture::from(p).await {
                        if h.is_object() {
                            a2.borrow_mut().handle = Some(h);
                        }
                    }
                });
            }
            choose_file(&a, f);
        }
    })
    .forget();

    // Settings that move the crop window redraw the preview; in the editor they re-plan.
    for el in [
        page.ratio.clone().unchecked_into::<web_sys::EventTarget>(),
        page.custom_ratio.clone().into(),
        page.pos_x.clone().into(),
        page.pos_y.clone().into(),
        page.mode.clone().into(),
        page.smoothness.clone().into(),
        page.two_people.clone().into(),
    ] {
        for kind in ["input", "change"] {
            let a = app.clone();
            EventListener::new(&el, kind, move |_| settings_changed(&a)).forget();
        }
    }
    // Pins or a subject typed into the form are edits too.
    for el in [page.pins.clone(), page.subject.clone()] {
        let a = app.clone();
        EventListener::new(&el, "change", move |_| {
            let typed = read_edits(&a.borrow().page);
            match typed {
                Ok(edits) => editor::edit(&a, move |m, _| m.edit(edits)),
                Err(e) => a.borrow().page.show_note(&e.to_string()),
            }
        })
        .forget();
    }
    let a = app.clone();
    EventListener::new(&page.preview_video, "loadedmetadata", move |_| settings_changed(&a)).forget();
    // The settings that choose the analysis: another analysis closes the editor, a stored one
    // opens it again.
    for (el, other_analysis) in [(page.mode.clone(), false), (page.profile.clone(), true), (page.model.clone(), true)] {
        let a = app.clone();
        EventListener::new(&el, "change", move |_| {
            if other_analysis {
                offline::job_ended(); // the footer says whether this detector works offline
            }
            if other_analysis && a.borrow().page.state() != PageState::Running {
                editor::close(&mut a.borrow_mut());
            }
            open_stored(&a);
        })
        .forget();
    }
    editor::wire(app);
    compare::wire(app);
    notify::wire(&page);
    storage::wire();
    queue::wire(app);
    let a = app.clone();
    EventListener::new(&page.import_analysis, "change", move |_| {
        let file = a.borrow().page.import_analysis.files().and_then(|l| l.get(0));
        let Some(file) = file else { return };
        let a = a.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let text = wasm_bindgen_futures::JsFuture::from(file.text()).await.ok().and_then(|t| t.as_string());
            let mut app = a.borrow_mut();
            match text {
                Some(t) => {
                    // The file's edits (format 2) fill the form, unless it holds edits already.
                    let edits = Analysis::from_json(&t).map(|x| x.edits).unwrap_or_default();
                    if !edits.is_empty() && read_edits(&app.page).is_ok_and(|e| e.is_empty()) {
                        app.page.pins.set_value(&format_pins(&edits.pins));
                        app.page.subject.set_value(&edits.subject_track.map(|i| i.to_string()).unwrap_or_default());
                    }
                    app.import_json = Some(t);
                    app.page.mode.set_value("auto");
                    app.page.show_note(&format!(
                        "Analysis file \"{}\" loaded: it is used instead of finding people, if it is of this video.",
                        file.name()
                    ));
                }
                None => app.page.show_error("The analysis file could not be read.", "read"),
            }
        });
    })
    .forget();
    let a = app.clone();
    EventListener::new(&page.export_analysis, "click", move |_| {
        let a = a.borrow();
        if let Some(id) = a.job_id.clone() {
            a.worker.send(&ToWorker::ExportAnalysis { job_id: id });
        }
    })
    .forget();

    let a = app.clone();
    EventListener::new(&page.start, "click", move |_| start(&a)).forget();
    let a = app.clone();
    EventListener::new(&page.cancel, "click", move |_| a.borrow().worker.cancel()).forget();
    // The cache limit, remembered in localStorage.
    if let Some(gb) = dom::local_get(CACHE_LIMIT_KEY) {
        page.cache_limit.set_value(&gb);
    }
    let a = app.clone();
    EventListener::new(&page.cache_limit, "change", move |_| {
        dom::local_set(CACHE_LIMIT_KEY, &a.borrow().page.cache_limit.value());
    })
    .forget();
    let a = app.clone();
    EventListener::new(&page.delete_all, "click", move |_| {
        let a = a.borrow();
        if a.page.state() == PageState::Running {
            return;
        }
        let sure = gloo::utils::window()
            .confirm_with_message(
                "Delete every stored job, finished video and the downloaded detector model from this browser?",
            )
            .unwrap_or(false);
        if sure {
            a.worker.send(&ToWorker::DeleteAll);
        }
    })
    .forget();
}

/// Shows the form as a stored job's settings.
fn apply_settings(page: &Page, s: &JobSettings) {
    let ratio = format!("{}:{}", s.ratio.w, s.ratio.h);
    let known = ["9:16", "1:1", "4:5", "16:9"].contains(&ratio.as_str());
    page.ratio.set_value(if known { &ratio } else { "custom" });
    page.custom_ratio.set_value(if known { "" } else { &ratio });
    page.custom_ratio.set_hidden(known);
    page.mode.set_value(match s.mode {
        CropMode::Auto => "auto",
        CropMode::Fixed => "fixed",
    });
    page.profile.set_value(match s.profile {
        Profile::Fast => "fast",
        Profile::Balanced => "balanced",
        Profile::Quality => "quality",
    });
    page.model.set_value(match s.model {
        DetectorModel::Fast => "fast",
        DetectorModel::Quality => "quality",
    });
    page.smoothness.set_value(match s.smoothness {
        Smoothness::Calm => "calm",
        Smoothness::Balanced => "balanced",
        Smoothness::Responsive => "responsive",
    });
    page.two_people.set_value(match s.two_people {
        TwoPeople::Auto => "auto",
        TwoPeople::One => "one",
        TwoPeople::Split => "split",
    });
    page.pins.set_value(&format_pins(&s.pins));
    page.subject.set_value(&s.subject_track.map(|i| i.to_string()).unwrap_or_default());
    page.pos_x.set_value_as_number(s.position.x * 100.0);
    page.pos_y.set_value_as_number(s.position.y * 100.0);
}

fn on_job_action(app: &Rc<RefCell<App>>, action: jobs::JobAction) {
    if app.borrow().page.state() == PageState::Running {
        return;
    }
    match action {
        jobs::JobAction::Delete(id) => app.borrow().worker.send(&ToWorker::DeleteJob { id }),
        jobs::JobAction::Resume(job) => {
            let handle =
                js_sys::Reflect::get(&app.borrow().job_handles, &job.id.as_str().into()).ok().filter(|h| h.is_object());
            {
                let mut a = app.borrow_mut();
                apply_settings(&a.page, &job.settings);
                a.page.clear_error();
                a.page.show_note(&format!("To resume, choose or drop \"{}\" again.", job.file_name));
                a.resume = Some(job);
            }
            match handle {
                // The file was dropped: reopen it (the browser may ask the user for permission).
                Some(h) => {
                    let app = app.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        match dom::file_from_handle(&h).await {
                            Some(file) => {
                                app.borrow_mut().handle = Some(h);
                                choose_file(&app, file);
                            }
                            None => app.borrow().page.file_input.click(),
                        }
                    });
                }
                // Browsers only hand a file to the page through the user: open the file picker.
                None => app.borrow().page.file_input.click(),
            }
        }
        jobs::JobAction::Download(job) => {
            let Some(path) = job.output_path.clone() else { return };
            let app = app.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match download::object_url(&path).await {
                    Ok(url) => download::save_as(&url, &job.download_name),
                    Err(e) => app.borrow().page.show_error(&e.to_string(), e.code()),
                }
            });
        }
    }
}

fn choose_file(app: &Rc<RefCell<App>>, file: File) {
    let mut a = app.borrow_mut();
    if a.page.state() == PageState::Running {
        return;
    }
    show_file(&mut a, file);
    a.page.start.set_disabled(false);
    a.page.set_state(PageState::Ready);
    if a.resume.is_some() {
        drop(a);
        start(app);
    } else {
        drop(a);
        open_stored(app);
    }
}

/// Makes `file` the page's video: the preview plays it, its name shows, the last job's editor
/// and result go.
fn show_file(a: &mut App, file: File) {
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
    a.source = None;
    editor::close(a);
    compare::clear(&a.page);
    a.page.clear_error();
}

/// Auto mode, a file chosen, no editor yet: asks the worker for this file's stored analysis, so
/// the editor opens before Start (with the edits stored with it).
fn open_stored(app: &Rc<RefCell<App>>) {
    let a = app.borrow();
    let (Some(file), None) = (a.file.as_ref(), a.editor.as_ref()) else { return };
    if a.page.mode.value() != "auto" || a.page.state() == PageState::Running {
        return;
    }
    let Ok(settings) = read_settings(&a) else { return };
    a.worker.start_job(ToWorker::Open { settings, file_name: file.name() }, file, None);
}

fn read_ratio(page: &Page) -> Result<AspectRatio, ReframeError> {
    page.main_ratio().ok_or_else(|| {
        ReframeError::BadRatio(if page.ratio.value() == "custom" {
            page.custom_ratio.value()
        } else {
            page.ratio.value()
        })
    })
}

/// The form's subject and pins: the edits Start exports.
fn read_edits(page: &Page) -> Result<Edits, ReframeError> {
    let pins = parse_pins(&page.pins.value()).map_err(ReframeError::BadPin)?;
    let text = page.subject.value();
    let subject_track = match text.trim() {
        "" => None,
        t => Some(t.parse::<u32>().map_err(|_| ReframeError::BadSubject(t.to_string()))?),
    };
    Ok(Edits { subject_track, pins })
}

/// What the panel asks of the camera planner (ratio, camera style, two people), when valid.
fn read_camera(app: &App) -> Option<CameraSettings> {
    read_settings(app).ok().map(|s| CameraSettings { subject_track: None, ..s.camera() })
}

/// A setting changed: in auto mode with an analysis, the editor re-plans; else the preview shows
/// the fixed crop window.
fn settings_changed(app: &Rc<RefCell<App>>) {
    let camera = {
        let mut a = app.borrow_mut();
        a.page.custom_ratio.set_hidden(a.page.ratio.value() != "custom");
        a.page.sync_more_ratios(false);
        compare::stale(&a.page);
        let auto = a.page.mode.value() == "auto";
        if !auto && a.editor.is_some() {
            editor::close(&mut a);
        }
        if a.editor.is_none() {
            preview::draw(&a.page, read_ratio(&a.page).ok());
            return;
        }
        read_camera(&a)
    };
    if let Some(camera) = camera {
        editor::set_camera(app, camera);
    }
}

fn read_settings(app: &App) -> Result<JobSettings, ReframeError> {
    let page = &app.page;
    let position = CropPosition { x: page.pos_x.value_as_number() / 100.0, y: page.pos_y.value_as_number() / 100.0 };
    let mode = if page.mode.value() == "auto" { CropMode::Auto } else { CropMode::Fixed };
    let profile = match page.profile.value().as_str() {
        "fast" => Profile::Fast,
        "quality" => Profile::Quality,
        _ => Profile::Balanced,
    };
    let model = if page.model.value() == "quality" { DetectorModel::Quality } else { DetectorModel::Fast };
    let smoothness = Smoothness::parse(&page.smoothness.value()).unwrap_or_default();
    let two_people = TwoPeople::parse(&page.two_people.value()).unwrap_or_default();
    let edits = if mode == CropMode::Auto { read_edits(page)? } else { Edits::default() };
    Ok(JobSettings {
        ratio: read_ratio(page)?,
        mode,
        position,
        profile,
        smoothness,
        model,
        subject_track: edits.subject_track,
        two_people,
        pins: edits.pins,
    })
}

fn start(app: &Rc<RefCell<App>>) {
    let mut a = app.borrow_mut();
    let Some(file) = a.file.clone() else {
        a.page.show_error("Choose a video first.", "no_file");
        return;
    };
    // A resumed job keeps its own settings (they are part of its key).
    let resume = a.resume.take();
    let settings = match &resume {
        Some(job) => job.settings.clone(),
        None => match read_settings(&a) {
            Ok(s) => s,
            Err(e) => {
                a.page.show_error(&e.to_string(), e.code());
                return;
            }
        },
    };
    let resume_id = resume.map(|j| j.id);
    // A resumed job is one output: its own ratio.
    let more_ratios = if resume_id.is_some() { Vec::new() } else { a.page.more_ratios() };
    launch(&mut a, &file, settings, more_ratios, resume_id);
}

/// A queued video's turn: the page shows it and runs its job with its own settings.
fn begin_job(app: &Rc<RefCell<App>>, file: File, settings: JobSettings, more_ratios: Vec<AspectRatio>) {
    let mut a = app.borrow_mut();
    a.handle = None;
    a.resume = None;
    show_file(&mut a, file.clone());
    launch(&mut a, &file, settings, more_ratios, None);
}

/// Sends the worker the job of `file` and shows it running.
fn launch(a: &mut App, file: &File, settings: JobSettings, more_ratios: Vec<AspectRatio>, resume_id: Option<String>) {
    for url in a.download_urls.drain(..) {
        let _ = web_sys::Url::revoke_object_url(&url);
    }
    compare::clear(&a.page);
    a.page.clear_error();
    a.page.hide_result();
    a.page.set_state(PageState::Running);
    let keep = a.page.cache_limit.value().parse::<f64>().ok().filter(|gb| *gb >= 0.0).map(|gb| (gb * 1e9) as u64);
    a.job_auto = settings.mode == CropMode::Auto;
    let import_analysis = if settings.mode == CropMode::Auto { a.import_json.take() } else { None };
    // An analysis file is used once; clearing the input lets the user choose the same file again.
    a.page.import_analysis.set_value("");
    let job = ToWorker::Start {
        more_ratios,
        settings,
        file_name: file.name(),
        resume: resume_id.clone(),
        keep_finished_bytes: keep,
        import_analysis,
        // A resumed job is never decode-only: it has an output to finish.
        test_aids: TestAids { decode_only: a.test_aids.decode_only && resume_id.is_none(), ..a.test_aids },
    };
    a.worker.start_job(job, file, a.handle.as_ref());
}

fn on_worker_message(app: &Rc<RefCell<App>>, msg: FromWorker, raw: &JsValue) {
    match msg {
        FromWorker::Ready => {
            let a = app.borrow();
            if a.page.state() == PageState::Loading {
                a.page.set_state(PageState::Ready);
            }
            a.worker.send(&ToWorker::ListJobs);
        }
        FromWorker::Jobs { jobs } => {
            dom::expose("jobs", &jobs);
            app.borrow_mut().job_handles = js_sys::Reflect::get(raw, &"handles".into()).unwrap_or(JsValue::UNDEFINED);
            let a = app.clone();
            jobs::render(&app.borrow().page, &jobs, move |action| on_job_action(&a, action));
            storage::refresh();
        }
        FromWorker::Started { ref job_id, .. } => {
            app.borrow_mut().job_id = Some(job_id.clone());
            dom::expose("started", &msg);
        }
        FromWorker::AnalysisFile { file_name, json } => dom::save_text_file(&file_name, &json, "application/json"),
        FromWorker::Notice { message } => app.borrow().page.show_note(&message),
        FromWorker::Probed { source } => {
            let mut a = app.borrow_mut();
            a.page.show_source(&source);
            dom::expose("source", &source);
            a.source = Some(source);
        }
        // Only the running job posts it (a finished job's comes before its `Started`).
        FromWorker::Analysed { analysis_id, json, .. } => editor::open(app, analysis_id, &json),
        FromWorker::Progress { progress } => {
            dom::expose("progress", &progress);
            let overall = {
                let a = app.borrow();
                a.page.show_progress(&progress, a.job_auto);
                progress.overall(a.job_auto)
            };
            if let Some(f) = overall {
                queue::progress(app, f);
            }
        }
        FromWorker::Done { summary, more } => {
            offline::job_ended();
            notify::job_ended(
                "Reframe: your video is ready",
                &format!("{} ({} frames)", summary.download_name, summary.frames_out),
            );
            dom::expose("summary", &summary);
            // Every output of the export, the main ratio first.
            dom::expose("summaries", &std::iter::once(&summary).chain(&more).collect::<Vec<_>>());
            if summary.analysis.is_some() {
                app.borrow().page.export_analysis.set_hidden(false);
            }
            let ended = Ended::Done {
                output_path: summary.output_path.clone(),
                download_name: summary.download_name.clone(),
                output_bytes: summary.output_bytes,
                more: more
                    .iter()
                    .map(|s| MoreOutput { output_path: s.output_path.clone(), download_name: s.download_name.clone() })
                    .collect(),
            };
            if summary.output_path.is_empty() {
                {
                    let a = app.borrow();
                    a.page.show_result(&summary, None);
                    a.page.set_state(PageState::Done);
                }
                queue::ended(app, ended);
                return;
            }
            let app = app.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match download::object_url(&summary.output_path).await {
                    Ok(url) => {
                        let mut a = app.borrow_mut();
                        a.page.show_result(&summary, Some(&url));
                        compare::show(&a.page, &url);
                        a.download_urls.push(url);
                    }
                    Err(e) => {
                        app.borrow().page.show_error(&e.to_string(), e.code());
                        queue::ended(&app, Ended::Failed(e.to_string()));
                        return;
                    }
                }
                for s in &more {
                    match download::object_url(&s.output_path).await {
                        Ok(url) => {
                            let mut a = app.borrow_mut();
                            a.page.add_more_download(s, &url);
                            a.download_urls.push(url);
                        }
                        Err(e) => app.borrow().page.show_error(&e.to_string(), e.code()),
                    }
                }
                app.borrow().page.set_state(PageState::Done);
                queue::ended(&app, ended);
            });
        }
        FromWorker::Failed { error } => {
            offline::job_ended();
            notify::job_ended("Reframe: the job stopped", &error.message);
            app.borrow().page.show_error(&error.message, &error.code);
            queue::ended(app, Ended::Failed(error.message));
        }
        FromWorker::Cancelled => {
            let a = app.borrow();
            a.page.show_note("Paused. The work done so far is kept: press Start with the same file and settings, or Resume below, to go on.");
            a.page.set_state(PageState::Ready);
            drop(a);
            queue::ended(app, Ended::Stopped);
        }
    }
}
