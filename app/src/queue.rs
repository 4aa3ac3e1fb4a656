//! The queue panel: several chosen or dropped videos become a queue (`reframe_core::queue`), each
//! a job with the panel's settings at the time it was added (changeable until it starts: "Use the
//! panel's settings"), run one after another through the same path as Start. A bad file fails
//! alone and the rest go on. The queue is kept in localStorage: after a reload it is listed again,
//! and the files, which a page cannot keep, are asked for again (matched by name and size); the
//! job that was running goes on from its stored work. "Download all" gives the finished videos as
//! one ZIP, streamed from their stored files.

use crate::dom::{human_bytes, local_get, local_set};
use crate::{download, notify, App};
use gloo::events::EventListener;
use reframe_core::queue::{Ended, Entry, EntryId, EntryState, Queue};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{File, HtmlElement};

/// localStorage key of the stored queue (JSON).
const KEY: &str = "reframe.queue";

/// The queue and the files at hand for its entries.
pub struct QueueView {
    model: Queue,
    files: HashMap<EntryId, File>,
}

impl QueueView {
    /// The stored queue (empty on a first visit).
    pub fn load() -> QueueView {
        QueueView { model: Queue::restore(&local_get(KEY).unwrap_or_default()), files: HashMap::new() }
    }

    fn save(&self) {
        local_set(KEY, &self.model.to_json());
    }

    /// Whether a queue is under way (entries that wait, for their turn or their file, or run).
    fn active(&self) -> bool {
        self.model.entries.iter().any(|e| matches!(e.state, EntryState::Waiting | EntryState::Running { .. }))
    }

    fn has_file(&self, id: EntryId) -> bool {
        self.files.contains_key(&id)
    }
}

fn element(id: &str) -> Option<HtmlElement> {
    gloo::utils::document().get_element_by_id(id).and_then(|e| e.dyn_into().ok())
}

/// Files chosen or dropped. Several, or any while a queue is under way, go to the queue (a file
/// the queue waits for after a reload is given back to its entry): answers true. One file with no
/// queue is the page's usual single job: answers false.
pub fn take_files(app: &Rc<RefCell<App>>, files: Vec<File>) -> bool {
    if files.len() < 2 && !app.borrow().queue.active() {
        return false;
    }
    queue_files(app, files);
    true
}

/// A chosen folder: its videos, in the order of their paths, go to the queue (its other files
/// are left out, and the page says how many).
pub fn take_folder(app: &Rc<RefCell<App>>, files: Vec<File>) {
    let path = |f: &File| js_sys::Reflect::get(f, &"webkitRelativePath".into()).ok().and_then(|v| v.as_string());
    let (mut videos, others): (Vec<File>, Vec<File>) =
        files.into_iter().partition(|f| reframe_core::queue::looks_like_video(&f.name()));
    videos.sort_by_key(|f| path(f).unwrap_or_else(|| f.name()));
    let note = match (videos.len(), others.len()) {
        (0, _) => "There is no MP4, MOV, MKV or WebM video in this folder.".to_string(),
        (n, m) => {
            let videos =
                if n == 1 { "1 video of the folder is".to_string() } else { format!("{n} videos of the folder are") };
            let others = match m {
                0 => String::new(),
                1 => " (1 other file left out)".into(),
                m => format!(" ({m} other files left out)"),
            };
            format!("{videos} in the queue{others}.")
        }
    };
    app.borrow().page.show_note(&note);
    if !videos.is_empty() {
        queue_files(app, videos);
    }
}

/// Adds `files` to the queue (a file the queue waits for after a reload is given back to its
/// entry) and starts the next entry if nothing runs.
fn queue_files(app: &Rc<RefCell<App>>, files: Vec<File>) {
    let settings = {
        let a = app.borrow();
        crate::read_settings(&a).map(|s| (s, a.page.more_ratios()))
    };
    let (settings, more) = match settings {
        Ok(s) => s,
        Err(e) => {
            app.borrow().page.show_error(&e.to_string(), e.code());
            return;
        }
    };
    {
        let mut a = app.borrow_mut();
        let q = &mut a.queue;
        // Files given back after a reload: those already made are not queued again.
        let refill = q.model.entries.iter().any(|e| e.state == EntryState::Waiting && !q.files.contains_key(&e.id));
        for file in files {
            let bytes = file.size() as u64;
            let id = match q.model.waiting_for(&file.name(), bytes, |id| q.files.contains_key(&id)) {
                Some(id) => id,
                None if refill && q.model.made(&file.name(), bytes) => continue,
                None => q.model.add(&file.name(), bytes, settings.clone(), more.clone()),
            };
            q.files.insert(id, file);
        }
        q.save();
    }
    render(app);
    run_next(app);
}

/// Starts the next entry whose file is at hand, unless a job runs or the queue is paused.
pub fn run_next(app: &Rc<RefCell<App>>) {
    let entry = {
        let mut a = app.borrow_mut();
        if a.page.state() == crate::dom::PageState::Running {
            return;
        }
        let q = &mut a.queue;
        let Some(id) = q.model.next(|id| q.files.contains_key(&id)) else { return };
        q.model.start(id);
        q.save();
        let entry = q.model.get(id).cloned();
        entry.zip(q.files.get(&id).cloned())
    };
    render(app);
    if let Some((entry, file)) = entry {
        crate::begin_job(app, file, entry.settings, entry.more_ratios);
    }
}

/// The running job's overall progress (0..=1), for its line.
pub fn progress(app: &Rc<RefCell<App>>, overall: f64) {
    let line = {
        let mut a = app.borrow_mut();
        let Some(id) = a.queue.model.running() else { return };
        a.queue.model.progress(id, overall);
        id
    };
    if let Some(text) = element(&format!("queue-state-{}", line.0)) {
        text.set_text_content(Some(&format!("{:.0}%", overall * 100.0)));
    }
}

/// A job ended: the queue's entry, if it was one, says how; the next entry starts (after this
/// event; also after a job that was not the queue's, so videos queued meanwhile get their turn).
pub fn ended(app: &Rc<RefCell<App>>, how: Ended) {
    let finished = {
        let mut a = app.borrow_mut();
        let stopped = how == Ended::Stopped;
        let q = &mut a.queue;
        match q.model.ended(how) {
            Some(id) => {
                // Paused by the user: the stopped job waits again, at its place.
                if stopped && q.model.paused {
                    q.model.retry(id);
                }
                q.save();
                q.model.finished()
            }
            None => false,
        }
    };
    render(app);
    if finished {
        let c = app.borrow().queue.model.counts();
        let failed = if c.failed + c.stopped > 0 { format!(", {} not", c.failed + c.stopped) } else { String::new() };
        notify::job_ended("Reframe: the queue is done", &format!("{} videos made{failed}", c.done));
    }
    let app = app.clone();
    gloo::timers::callback::Timeout::new(0, move || run_next(&app)).forget();
}

/// Wires the panel's own buttons (pause, go on, remove finished) and shows the stored queue.
pub fn wire(app: &Rc<RefCell<App>>) {
    let on = |id: &str, act: fn(&Rc<RefCell<App>>)| {
        let Some(b) = element(id) else { return };
        let app = app.clone();
        EventListener::new(&b, "click", move |_| act(&app)).forget();
    };
    on("queue-pause", |app| {
        let running = {
            let mut a = app.borrow_mut();
            a.queue.model.paused = true;
            a.queue.save();
            a.queue.model.running().is_some()
        };
        if running {
            // Its work so far is kept; it waits again at its place (see `ended`).
            app.borrow().worker.cancel();
        }
        render(app);
    });
    on("queue-resume", |app| {
        {
            let mut a = app.borrow_mut();
            a.queue.model.paused = false;
            a.queue.save();
        }
        render(app);
        run_next(app);
    });
    on("queue-zip", |app| {
        let files = app.borrow().queue.model.outputs();
        let app = app.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let status = element("queue-status");
            let show = |share: f64| {
                if let Some(s) = &status {
                    s.set_text_content(Some(&format!(
                        "Preparing the ZIP: {:.0}% of the videos checked…",
                        share * 100.0
                    )));
                }
            };
            let made = download::save_zip(&files, "reframe-videos.zip", show).await;
            if let Err(e) = made {
                app.borrow().page.show_error(&e.to_string(), e.code());
            }
            render(&app);
        });
    });
    on("queue-clear", |app| {
        {
            let mut a = app.borrow_mut();
            a.queue.model.remove_done();
            a.queue.save();
        }
        render(app);
    });
    render(app);
}

/// What a button of an entry does.
#[derive(Clone, Copy)]
enum Action {
    Up,
    Down,
    Remove,
    Retry,
    Stop,
    UseSettings,
    Download,
}

fn act(app: &Rc<RefCell<App>>, id: EntryId, action: Action) {
    match action {
        Action::Stop => {
            if app.borrow().queue.model.running() == Some(id) {
                app.borrow().worker.cancel();
            }
            return;
        }
        Action::Download => {
            let Some(EntryState::Done { output_path, download_name, .. }) =
                app.borrow().queue.model.get(id).map(|e| e.state.clone())
            else {
                return;
            };
            let app = app.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match download::object_url(&output_path).await {
                    Ok(url) => download::save_as(&url, &download_name),
                    Err(e) => app.borrow().page.show_error(&e.to_string(), e.code()),
                }
            });
            return;
        }
        _ => {}
    }
    let settings = match action {
        Action::UseSettings => {
            let a = app.borrow();
            match crate::read_settings(&a) {
                Ok(s) => Some((s, a.page.more_ratios())),
                Err(e) => {
                    a.page.show_error(&e.to_string(), e.code());
                    return;
                }
            }
        }
        _ => None,
    };
    {
        let mut a = app.borrow_mut();
        let q = &mut a.queue;
        match action {
            Action::Up => q.model.shift(id, -1),
            Action::Down => q.model.shift(id, 1),
            Action::Remove => {
                if q.model.remove(id) {
                    q.files.remove(&id);
                }
            }
            Action::Retry => q.model.retry(id),
            Action::UseSettings => {
                if let Some((s, more)) = settings {
                    q.model.set_settings(id, s, more);
                }
            }
            Action::Stop | Action::Download => {}
        }
        q.save();
    }
    render(app);
    if matches!(action, Action::Retry | Action::UseSettings) {
        run_next(app);
    }
}

fn settings_text(e: &Entry) -> String {
    let mut ratios = vec![format!("{}:{}", e.settings.ratio.w, e.settings.ratio.h)];
    ratios.extend(e.more_ratios.iter().map(|r| format!("{}:{}", r.w, r.h)));
    let mode = match e.settings.mode {
        reframe_core::settings::CropMode::Fixed => "fixed crop",
        reframe_core::settings::CropMode::Auto => "follow people",
    };
    format!("{}, {mode}", ratios.join(" + "))
}

fn state_text(e: &Entry, has_file: bool) -> String {
    match &e.state {
        EntryState::Waiting if !has_file => "waits for its file: choose or drop it again".into(),
        EntryState::Waiting => "waiting".into(),
        EntryState::Running { progress } => format!("{:.0}%", progress * 100.0),
        EntryState::Done { output_bytes, .. } => format!("done ({})", human_bytes(*output_bytes as f64)),
        EntryState::Failed { message } => format!("failed: {message}"),
        EntryState::Stopped => "stopped (its work so far is kept)".into(),
    }
}

/// Draws the panel from the queue.
pub fn render(app: &Rc<RefCell<App>>) {
    let (Some(panel), Some(list), Some(status)) = (element("queue-panel"), element("queue"), element("queue-status"))
    else {
        return;
    };
    let a = app.borrow();
    let q = &a.queue;
    panel.set_hidden(q.model.entries.is_empty());
    let c = q.model.counts();
    let missing = q.model.entries.iter().filter(|e| e.state == EntryState::Waiting && !q.has_file(e.id)).count();
    let mut text = format!(
        "{} of {} done{}{}.",
        c.done,
        q.model.entries.len(),
        if c.failed > 0 { format!(", {} failed", c.failed) } else { String::new() },
        if q.model.paused { ", paused" } else { "" },
    );
    if missing > 0 {
        text.push_str(&format!(
            " {missing} {} for {}: choose or drop {} again to go on (the page cannot keep files across a reload).",
            if missing == 1 { "video waits" } else { "videos wait" },
            if missing == 1 { "its file" } else { "their files" },
            if missing == 1 { "it" } else { "them" },
        ));
    }
    status.set_text_content(Some(&text));
    if let Some(b) = element("queue-pause") {
        b.set_hidden(q.model.paused || q.model.finished());
    }
    if let Some(b) = element("queue-resume") {
        b.set_hidden(!q.model.paused);
    }
    for id in ["queue-clear", "queue-zip"] {
        if let Some(b) = element(id) {
            b.set_hidden(c.done == 0);
        }
    }
    list.set_inner_html("");
    let document = gloo::utils::document();
    let last = q.model.entries.len().saturating_sub(1);
    for (at, e) in q.model.entries.iter().enumerate() {
        let Ok(li) = document.create_element("li") else { continue };
        li.set_class_name("queue-item");
        let state = match e.state {
            EntryState::Waiting => "waiting",
            EntryState::Running { .. } => "running",
            EntryState::Done { .. } => "done",
            EntryState::Failed { .. } => "failed",
            EntryState::Stopped => "stopped",
        };
        let _ = li.set_attribute("data-state", state);
        let _ = li.set_attribute("data-id", &e.id.0.to_string());
        if let Ok(span) = document.create_element("span") {
            span.set_class_name("queue-text");
            span.set_text_content(Some(&format!("{} → {}: ", e.file_name, settings_text(e))));
            if let Ok(st) = document.create_element("span") {
                st.set_id(&format!("queue-state-{}", e.id.0));
                st.set_text_content(Some(&state_text(e, q.has_file(e.id))));
                let _ = span.append_child(&st);
            }
            let _ = li.append_child(&span);
        }
        let mut buttons: Vec<(&str, &str, Action)> = Vec::new();
        match e.state {
            EntryState::Running { .. } => buttons.push(("queue-stop", "Stop", Action::Stop)),
            EntryState::Done { .. } => buttons.push(("queue-download", "Download", Action::Download)),
            EntryState::Failed { .. } | EntryState::Stopped => buttons.push(("queue-retry", "Retry", Action::Retry)),
            EntryState::Waiting => {}
        }
        if matches!(e.state, EntryState::Waiting | EntryState::Failed { .. } | EntryState::Stopped) {
            buttons.push(("queue-settings", "Use the panel's settings", Action::UseSettings));
        }
        if at > 0 {
            buttons.push(("queue-up", "↑", Action::Up));
        }
        if at < last {
            buttons.push(("queue-down", "↓", Action::Down));
        }
        if !matches!(e.state, EntryState::Running { .. }) {
            buttons.push(("queue-remove", "Remove", Action::Remove));
        }
        for (class, label, action) in buttons {
            let Some(b) = document.create_element("button").ok().and_then(|b| b.dyn_into::<HtmlElement>().ok()) else {
                continue;
            };
            b.set_class_name(&format!("secondary {class}"));
            b.set_text_content(Some(label));
            let name = match action {
                Action::Up => format!("Move {} up", e.file_name),
                Action::Down => format!("Move {} down", e.file_name),
                _ => format!("{label}: {}", e.file_name),
            };
            let _ = b.set_attribute("aria-label", &name);
            let (app, id) = (app.clone(), e.id);
            EventListener::new(&b, "click", move |_| act(&app, id, action)).forget();
            let _ = li.append_child(&b);
        }
        let _ = list.append_child(&li);
    }
}
