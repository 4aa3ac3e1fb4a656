//! The editor on the page: over the preview, the planned crop window and the people's boxes of
//! the moment shown; beside it, the live cropped preview; under it, a toolbar and the timeline.
//! Clicking a person follows them, dragging the crop window pins a framing at that moment; each
//! edit re-plans at once in `reframe_core::editor` (no detection), is written into the form (so
//! Start exports it) and is stored with the analysis (so a reload and an exported analysis keep it).
//!
//! This module only draws and turns pointer and key events into the model's calls.

use crate::dom::{self, Page};
use crate::App;
use gloo::events::{EventListener, EventListenerOptions};
use reframe_core::analysis::{Analysis, Edits, SHOWN_MIN_SCORE};
use reframe_core::camera_path::CameraSettings;
use reframe_core::crop::CropPathEntry;
use reframe_core::editor::Editor;
use reframe_core::protocol::ToWorker;
use reframe_core::settings::format_pins;
use reframe_core::timeline::{self, CameraState, Column};
use reframe_core::units::{PixelRect, PixelSize, TimestampUs};
use serde::Serialize;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::JsCast;
use web_sys::{KeyboardEvent, PointerEvent};

/// A pointer that moves less than this (CSS pixels) between press and release is a click.
const CLICK_SLOP_PX: f64 = 4.0;

/// The editor of the analysis of the job the page runs or ran last.
pub struct EditorView {
    pub model: Editor,
    pub analysis_id: String,
    duration_us: i64,
    /// One frame's duration, for stepping with the arrow keys.
    frame_us: i64,
    /// The timeline's columns, made again on each re-plan or resize.
    columns: Vec<Column>,
    /// Milliseconds the last re-plan took (shown to tests and benchmarks).
    last_plan_ms: f64,
    /// The edits the worker has stored with the analysis (sent again only when they change:
    /// storing rewrites the whole analysis).
    stored: Edits,
}

/// A press on the player, until it is released.
struct Press {
    pointer: i32,
    client: (f64, f64),
    /// The (first) window's top-left when pressed, if the press was on it.
    window: Option<(f64, f64)>,
    /// The window's top-left while dragged (source pixels).
    dragged: Option<(f64, f64)>,
}

/// What tests and tools read as `window.__reframe.editor`.
#[derive(Serialize)]
struct Exposed<'a> {
    analysis_id: &'a str,
    edits: &'a Edits,
    can_undo: bool,
    can_redo: bool,
    last_plan_ms: f64,
    /// How long the last timeline hover took to show its frame, ms.
    last_scrub_ms: Option<f64>,
    /// The window(s) at the moment shown.
    now: CropPathEntry,
}

/// Opens the editor on a job's analysis (`FromWorker::Analysed`). The running job's own pins and
/// subject (the form's) are the starting edits; when it has none, edits stored with the analysis
/// are restored into the form, for the next export.
pub fn open(app: &Rc<RefCell<App>>, analysis_id: String, json: &str) {
    let mut a = app.borrow_mut();
    let analysis = match Analysis::from_json(json) {
        Ok(x) => x,
        Err(e) => {
            a.page.show_note(&format!("The editor could not read the analysis: {e}"));
            return;
        }
    };
    let Some(camera) = crate::read_camera(&a) else { return };
    let form = crate::read_edits(&a.page).unwrap_or_default();
    let restored = form.is_empty() && !analysis.edits.is_empty();
    let edits = if restored { analysis.edits.clone() } else { form };
    let stored = analysis.edits.clone();
    let (duration_us, frames) = a.source.as_ref().map(|s| (s.duration_us, s.frames)).unwrap_or((0, 0));
    let duration_us = duration_us.max(analysis.detections.last().map_or(0, |d| d.timestamp_us.0)).max(1);
    let t0 = dom::now_ms();
    let model = Editor::new(analysis, camera, edits);
    let view = EditorView {
        model,
        analysis_id,
        duration_us,
        frame_us: if frames > 0 { duration_us / frames as i64 } else { 33_333 },
        columns: Vec::new(),
        last_plan_ms: dom::now_ms() - t0,
        stored,
    };
    a.editor = Some(view);
    if restored {
        write_form(&a.page, a.editor.as_ref().map(|v| v.model.edits()).unwrap_or(&Edits::default()));
        a.page.show_note("Your earlier edits of this video were restored: press Start to export with them.");
    }
    if let Some(v) = a.editor.as_ref() {
        crate::preview::fit_stage(&a.page, v.model.plan().source);
    }
    if let Some(url) = a.preview_url.clone() {
        crate::scrub::open(&a.page, &url);
    }
    a.page.editor.set_hidden(false);
    crate::compare::apply(&a.page);
    a.page.preview_video.set_controls(false);
    let _ = a.page.stage.class_list().add_1("editing");
    drop(a);
    crate::people::show(app);
    changed(app);
}

/// Closes the editor (another file, or fixed crop chosen).
pub fn close(app: &mut App) {
    app.editor = None;
    crate::scrub::close();
    app.page.editor.set_hidden(true);
    crate::compare::apply(&app.page);
    app.page.preview_video.set_controls(true);
    let _ = app.page.stage.class_list().remove_1("editing");
    app.page.boxes.set_inner_html("");
    app.page.people.set_hidden(true);
}

/// New panel settings (ratio, camera style, two people): re-plans and redraws.
pub fn set_camera(app: &Rc<RefCell<App>>, camera: CameraSettings) {
    {
        let mut a = app.borrow_mut();
        let Some(view) = a.editor.as_mut() else { return };
        let t0 = dom::now_ms();
        view.model.set_camera(camera);
        view.last_plan_ms = dom::now_ms() - t0;
        view.columns.clear();
    }
    redraw(app);
}

/// Applies one edit through `f` (which returns whether anything changed); then the form, the
/// stored analysis, the people list and the drawing follow.
pub fn edit(app: &Rc<RefCell<App>>, f: impl FnOnce(&mut Editor, TimestampUs) -> bool) {
    {
        let mut a = app.borrow_mut();
        let t = now(&a.page);
        let Some(view) = a.editor.as_mut() else { return };
        let t0 = dom::now_ms();
        if !f(&mut view.model, t) {
            return;
        }
        view.last_plan_ms = dom::now_ms() - t0;
        view.columns.clear();
    }
    changed(app);
}

/// After an edit: the form holds the edits, the worker stores them, everything is drawn again.
fn changed(app: &Rc<RefCell<App>>) {
    {
        let mut guard = app.borrow_mut();
        let a = &mut *guard;
        let Some(view) = a.editor.as_mut() else { return };
        write_form(&a.page, view.model.edits());
        // The exported file no longer shows this plan: the cropped preview takes its place.
        crate::compare::stale(&a.page);
        if view.model.edits() != &view.stored {
            view.stored = view.model.edits().clone();
            a.worker.send(&ToWorker::SaveEdits { analysis_id: view.analysis_id.clone(), edits: view.stored.clone() });
        }
    }
    crate::people::show(app);
    redraw(app);
}

/// The form's pins and subject fields show `edits` (they are what Start exports).
fn write_form(page: &Page, edits: &Edits) {
    page.pins.set_value(&format_pins(&edits.pins));
    page.subject.set_value(&edits.subject_track.map(|i| i.to_string()).unwrap_or_default());
}

/// The moment the player shows.
fn now(page: &Page) -> TimestampUs {
    TimestampUs((page.preview_video.current_time() * 1e6).round() as i64)
}

/// Draws everything at the moment the player shows.
pub fn render(app: &mut App) {
    let App { page, editor, .. } = app;
    let Some(view) = editor.as_mut() else { return };
    let t = now(page);
    let w = view.model.windows_at(t);
    draw_windows(page, view, &w);
    draw_boxes(page, view, t);
    draw_timeline(page, view, t);
    page.undo.set_disabled(!view.model.can_undo());
    page.redo.set_disabled(!view.model.can_redo());
    let (from, to) = view.model.shot_at(t);
    let to = to.unwrap_or(TimestampUs(i64::MAX));
    page.reset_shot.set_disabled(!view.model.edits().pins.iter().any(|p| p.t_us >= from && p.t_us < to));
    page.time.set_text_content(Some(&format!(
        "{} / {}",
        clock(t.0 as f64 / 1e6),
        clock(view.duration_us as f64 / 1e6)
    )));
    page.play.set_text_content(Some(if page.preview_video.paused() { "Play" } else { "Pause" }));
    let _ = page.play.set_attribute("aria-label", if page.preview_video.paused() { "Play" } else { "Pause" });
    dom::expose(
        "editor",
        &Exposed {
            analysis_id: &view.analysis_id,
            edits: view.model.edits(),
            can_undo: view.model.can_undo(),
            can_redo: view.model.can_redo(),
            last_plan_ms: view.last_plan_ms,
            last_scrub_ms: crate::scrub::last_ms(),
            now: w,
        },
    );
}

/// Minutes, seconds and tenths.
fn clock(s: f64) -> String {
    let s = s.max(0.0);
    let m = (s / 60.0).floor();
    format!("{}:{:04.1}", m as u64, s - m * 60.0)
}

/// The crop window(s) over the player and the cropped preview beside it.
fn draw_windows(page: &Page, view: &EditorView, w: &CropPathEntry) {
    let source = view.model.plan().source;
    crate::preview::show_window(&page.crop_overlay, Some(w.rect()), source);
    crate::preview::show_window(&page.crop_overlay_2, w.second, source);
    draw_crop_preview(page, view, w);
}

/// The cropped preview: what the output shows at this moment, drawn from the player's picture
/// at the canvas's display size (the export crops the decoded frame at full resolution).
fn draw_crop_preview(page: &Page, view: &EditorView, w: &CropPathEntry) {
    let plan = view.model.plan();
    let out = plan.split.map(|l| l.output()).unwrap_or(plan.crop);
    let canvas = &page.crop_preview;
    let stage_h = page.stage.client_height().max(120) as f64;
    let css_h = stage_h;
    let css_w = css_h * out.width as f64 / out.height.max(1) as f64;
    let dpr = gloo::utils::window().device_pixel_ratio().max(1.0);
    let (pw, ph) = ((css_w * dpr).round() as u32, (css_h * dpr).round() as u32);
    if canvas.width() != pw || canvas.height() != ph {
        canvas.set_width(pw);
        canvas.set_height(ph);
        let _ = canvas.style().set_property("width", &format!("{css_w:.0}px"));
        let _ = canvas.style().set_property("height", &format!("{css_h:.0}px"));
    }
    let Some(ctx) = dom::context_2d(canvas) else { return };
    let video = &page.preview_video;
    let draw = |from: PixelRect, to: (f64, f64, f64, f64)| {
        let _ = ctx.draw_image_with_html_video_element_and_sw_and_sh_and_dx_and_dy_and_dw_and_dh(
            video,
            from.x as f64,
            from.y as f64,
            from.width as f64,
            from.height as f64,
            to.0,
            to.1,
            to.2,
            to.3,
        );
    };
    let (cw, ch) = (pw as f64, ph as f64);
    match (w.second, plan.split) {
        (Some(second), Some(layout)) => {
            let scale = cw / out.width as f64;
            for (k, r) in [(0, w.rect()), (1, second)] {
                let p = layout.part_rect(k);
                let to = (p.x as f64 * scale, p.y as f64 * scale, p.width as f64 * scale, p.height as f64 * scale);
                draw(r, to);
            }
        }
        _ => draw(w.rect(), (0.0, 0.0, cw, ch)),
    }
}

/// The tracked people of the nearest analysed frame, labelled with their number; the person the
/// camera follows at this moment in yellow.
fn draw_boxes(page: &Page, view: &EditorView, t: TimestampUs) {
    page.boxes.set_inner_html("");
    if !page.show_boxes.checked() {
        return;
    }
    let plan = view.model.plan();
    let source = plan.source;
    let followed = plan.part_at(t).map(|p| (p.subject_track, p.second.as_ref().and_then(|h| h.subject_track)));
    let pct = |v: f32, of: u32| format!("{:.3}%", v as f64 * 100.0 / of.max(1) as f64);
    let document = gloo::utils::document();
    for (id, b) in view.model.people_at(t).into_iter().filter(|(_, b)| b.score >= SHOWN_MIN_SCORE) {
        let Ok(div) = document.create_element("div") else { continue };
        let is_subject = followed.is_some_and(|(a, b)| a == Some(id) || b == Some(id));
        if is_subject {
            div.set_class_name("subject");
        }
        let _ = div.set_attribute("data-track-id", &id.to_string());
        // Through the CSS object model: the page's Content-Security-Policy refuses style attributes.
        if let Some(el) = div.dyn_ref::<web_sys::HtmlElement>() {
            let style = el.style();
            for (name, value) in [
                ("left", pct(b.x, source.width)),
                ("top", pct(b.y, source.height)),
                ("width", pct(b.width, source.width)),
                ("height", pct(b.height, source.height)),
            ] {
                let _ = style.set_property(name, &value);
            }
        }
        if let Ok(label) = document.create_element("span") {
            label.set_text_content(Some(&id.to_string()));
            let _ = div.append_child(&label);
        }
        let _ = page.boxes.append_child(&div);
    }
}

/// Colours of the timeline.
const PEOPLE_COLOUR: &str = "#3ddc84";
const SPLIT_COLOUR: &str = "#2b5e47";
const STILL_COLOUR: &str = "#4a7bd8";
const MOVING_COLOUR: &str = "#ff9f43";
const ABSENT_COLOUR: &str = "#5b6170";
const CUT_COLOUR: &str = "#ffffff";
const PIN_COLOUR: &str = "#ffd54a";
const PLAYHEAD_COLOUR: &str = "#ff4d4f";

/// The timeline: people seen (bars), the camera (strip), cuts, pins and the playhead.
fn draw_timeline(page: &Page, view: &mut EditorView, t: TimestampUs) {
    let canvas = &page.timeline;
    let dpr = gloo::utils::window().device_pixel_ratio().max(1.0);
    let css_w = canvas.client_width().max(100) as f64;
    let css_h = canvas.client_height().max(40) as f64;
    let (pw, ph) = ((css_w * dpr).round() as u32, (css_h * dpr).round() as u32);
    if canvas.width() != pw || canvas.height() != ph {
        canvas.set_width(pw);
        canvas.set_height(ph);
    }
    let Some(ctx) = dom::context_2d(canvas) else { return };
    let (w, h) = (pw as f64, ph as f64);
    // One column per 2 device pixels; made again only when the plan or the width changed.
    let n = ((w / 2.0) as usize).max(1);
    if view.columns.len() != n {
        view.columns = timeline::columns(view.model.analysis(), view.model.plan(), view.duration_us, n);
    }
    let columns = &view.columns;
    ctx.clear_rect(0.0, 0.0, w, h);
    let strip_h = (h * 0.2).round();
    let bars_h = h - strip_h - 2.0 * dpr;
    // Bar heights are relative to the most people seen at once in the video.
    let most = columns.iter().map(|c| c.people).max().unwrap_or(0).max(1) as f64;
    let col_w = w / n as f64;
    for (i, c) in columns.iter().enumerate() {
        let x = i as f64 * col_w;
        if c.split {
            ctx.set_fill_style_str(SPLIT_COLOUR);
            ctx.fill_rect(x, 0.0, col_w + 0.5, bars_h);
        }
        if c.people > 0 {
            let bh = bars_h * c.people as f64 / most;
            ctx.set_fill_style_str(PEOPLE_COLOUR);
            ctx.fill_rect(x, bars_h - bh, col_w + 0.5, bh);
        }
        ctx.set_fill_style_str(match c.camera {
            CameraState::Still => STILL_COLOUR,
            CameraState::Moving => MOVING_COLOUR,
            CameraState::NoSubject => ABSENT_COLOUR,
        });
        ctx.fill_rect(x, h - strip_h, col_w + 0.5, strip_h);
    }
    let x_of = |us: i64| us as f64 / view.duration_us.max(1) as f64 * w;
    ctx.set_fill_style_str(CUT_COLOUR);
    for cut in &view.model.analysis().cuts_us {
        ctx.fill_rect(x_of(cut.0).floor(), 0.0, dpr, h);
    }
    ctx.set_fill_style_str(PIN_COLOUR);
    for pin in &view.model.edits().pins {
        let x = x_of(pin.t_us.0);
        let s = 5.0 * dpr;
        ctx.begin_path();
        ctx.move_to(x - s, 0.0);
        ctx.line_to(x + s, 0.0);
        ctx.line_to(x, 1.6 * s);
        ctx.close_path();
        ctx.fill();
        ctx.fill_rect(x - dpr / 2.0, 0.0, dpr, h);
    }
    ctx.set_fill_style_str(PLAYHEAD_COLOUR);
    ctx.fill_rect(x_of(t.0) - dpr, 0.0, 2.0 * dpr, h);
}

/// Draws everything again (what the event handlers call).
pub fn redraw(app: &Rc<RefCell<App>>) {
    render(&mut app.borrow_mut());
}

/// Source display pixels under a pointer at client (`x`, `y`), from the stage's box.
fn source_point(page: &Page, source: PixelSize, x: f64, y: f64) -> (f64, f64) {
    let r = page.stage.get_bounding_client_rect();
    let sx = (x - r.left()) / r.width().max(1.0) * source.width as f64;
    let sy = (y - r.top()) / r.height().max(1.0) * source.height as f64;
    (sx, sy)
}

/// Seeks the player to `t` (clamped to the video).
fn seek(app: &Rc<RefCell<App>>, t_us: i64) {
    let a = app.borrow();
    let Some(view) = a.editor.as_ref() else { return };
    let t = t_us.clamp(0, view.duration_us);
    a.page.preview_video.set_current_time(t as f64 / 1e6);
}

/// The timeline position under a pointer at client `x`, as a time.
fn timeline_time(app: &App, x: f64) -> Option<i64> {
    let view = app.editor.as_ref()?;
    let r = app.page.timeline.get_bounding_client_rect();
    let u = ((x - r.left()) / r.width().max(1.0)).clamp(0.0, 1.0);
    Some((u * view.duration_us as f64).round() as i64)
}

/// Attaches the editor's event handlers (once, at start).
pub fn wire(app: &Rc<RefCell<App>>) {
    let page = app.borrow().page.clone();
    let press: Rc<RefCell<Option<Press>>> = Rc::new(RefCell::new(None));

    // The player: press on the window and drag to pin; click a person to follow them.
    let (a, p) = (app.clone(), press.clone());
    EventListener::new(&page.stage, "pointerdown", move |e| {
        let e: &PointerEvent = e.unchecked_ref();
        let app = a.borrow();
        let Some(view) = app.editor.as_ref() else { return };
        e.prevent_default();
        let _ = app.page.preview_video.pause();
        let w = view.model.windows_at(now(&app.page));
        let (sx, sy) = source_point(&app.page, view.model.plan().source, e.client_x(), e.client_y());
        let inside = |r: PixelRect| {
            sx >= r.x as f64 && sx <= (r.x + r.width) as f64 && sy >= r.y as f64 && sy <= (r.y + r.height) as f64
        };
        let window = inside(w.rect()).then_some((w.x as f64, w.y as f64));
        let _ = app.page.stage.set_pointer_capture(e.pointer_id());
        *p.borrow_mut() =
            Some(Press { pointer: e.pointer_id(), client: (e.client_x(), e.client_y()), window, dragged: None });
    })
    .forget();
    let (a, p) = (app.clone(), press.clone());
    EventListener::new(&page.stage, "pointermove", move |e| {
        let e: &PointerEvent = e.unchecked_ref();
        let mut guard = p.borrow_mut();
        let Some(press) = guard.as_mut().filter(|x| x.pointer == e.pointer_id()) else { return };
        let Some(start) = press.window else { return };
        let (dx, dy) = (e.client_x() - press.client.0, e.client_y() - press.client.1);
        if press.dragged.is_none() && dx.hypot(dy) < CLICK_SLOP_PX {
            return;
        }
        let app = a.borrow();
        let Some(view) = app.editor.as_ref() else { return };
        let plan = view.model.plan();
        let r = app.page.stage.get_bounding_client_rect();
        let scale = plan.source.width as f64 / r.width().max(1.0);
        let t = now(&app.page);
        let size = plan.window_at(t);
        let max_x = plan.source.width.saturating_sub(size.width) as f64;
        let max_y = plan.source.height.saturating_sub(size.height) as f64;
        let pos = ((start.0 + dx * scale).clamp(0.0, max_x), (start.1 + dy * scale).clamp(0.0, max_y));
        press.dragged = Some(pos);
        let _ = app.page.stage.class_list().add_1("dragging");
        // Drawn where the pointer holds it until released (then the pin re-plans the path).
        let mut w = view.model.windows_at(t);
        w.x = pos.0.round() as u32;
        w.y = pos.1.round() as u32;
        draw_windows(&app.page, view, &w);
    })
    .forget();
    let (a, p) = (app.clone(), press.clone());
    EventListener::new(&page.stage, "pointerup", move |e| {
        let e: &PointerEvent = e.unchecked_ref();
        let Some(press) = p.borrow_mut().take().filter(|x| x.pointer == e.pointer_id()) else { return };
        let _ = a.borrow().page.stage.class_list().remove_1("dragging");
        match press.dragged {
            Some((x, y)) => edit(&a, |m, t| m.pin(t, x, y)),
            None => {
                let hit = {
                    let app = a.borrow();
                    let Some(view) = app.editor.as_ref() else { return };
                    let (sx, sy) = source_point(&app.page, view.model.plan().source, press.client.0, press.client.1);
                    view.model.person_at(now(&app.page), sx, sy)
                };
                match hit {
                    Some(id) => edit(&a, |m, _| m.follow(Some(id))),
                    // A click on the picture, not on a person: play or pause.
                    None => toggle_play(&a),
                }
            }
        }
    })
    .forget();
    let p = press.clone();
    let a = app.clone();
    EventListener::new(&page.stage, "pointercancel", move |_| {
        *p.borrow_mut() = None;
        let _ = a.borrow().page.stage.class_list().remove_1("dragging");
        redraw(&a);
    })
    .forget();

    // The timeline: press or drag to seek; arrows step a frame, Shift+arrows a second.
    let dragging = Rc::new(RefCell::new(false));
    let (a, d) = (app.clone(), dragging.clone());
    EventListener::new(&page.timeline, "pointerdown", move |e| {
        let e: &PointerEvent = e.unchecked_ref();
        let t = timeline_time(&a.borrow(), e.client_x());
        if let Some(t) = t {
            let _ = a.borrow().page.timeline.set_pointer_capture(e.pointer_id());
            *d.borrow_mut() = true;
            seek(&a, t);
        }
    })
    .forget();
    let (a, d) = (app.clone(), dragging.clone());
    EventListener::new(&page.timeline, "pointermove", move |e| {
        let e: &PointerEvent = e.unchecked_ref();
        let t = timeline_time(&a.borrow(), e.client_x());
        let Some(t) = t else { return };
        if *d.borrow() {
            // Dragging moves the player itself.
            crate::scrub::hide();
            seek(&a, t);
        } else {
            let left = a.borrow().page.timeline.get_bounding_client_rect().left();
            crate::scrub::hover(t as f64 / 1e6, e.client_x() - left);
        }
    })
    .forget();
    EventListener::new(&page.timeline, "pointerleave", |_| crate::scrub::hide()).forget();
    for kind in ["pointerup", "pointercancel"] {
        let d = dragging.clone();
        EventListener::new(&page.timeline, kind, move |_| *d.borrow_mut() = false).forget();
    }
    let a = app.clone();
    let options = EventListenerOptions::enable_prevent_default();
    EventListener::new_with_options(&page.timeline, "keydown", options, move |e| {
        let e: &KeyboardEvent = e.unchecked_ref();
        let (t, step, end) = {
            let app = a.borrow();
            let Some(view) = app.editor.as_ref() else { return };
            let step = if e.shift_key() { 1_000_000 } else { view.frame_us };
            (now(&app.page).0, step, view.duration_us)
        };
        let to = match e.key().as_str() {
            "ArrowLeft" => t - step,
            "ArrowRight" => t + step,
            "Home" => 0,
            "End" => end,
            " " => {
                e.prevent_default();
                toggle_play(&a);
                return;
            }
            _ => return,
        };
        e.prevent_default();
        seek(&a, to);
    })
    .forget();

    // Toolbar.
    let a = app.clone();
    EventListener::new(&page.play, "click", move |_| toggle_play(&a)).forget();
    let a = app.clone();
    EventListener::new(&page.undo, "click", move |_| edit(&a, |m, _| m.undo())).forget();
    let a = app.clone();
    EventListener::new(&page.redo, "click", move |_| edit(&a, |m, _| m.redo())).forget();
    let a = app.clone();
    EventListener::new(&page.reset_shot, "click", move |_| edit(&a, |m, t| m.reset_shot(t))).forget();
    let a = app.clone();
    EventListener::new(&page.show_boxes, "change", move |_| redraw(&a)).forget();
    // Ctrl+Z / Ctrl+Shift+Z (Cmd on a Mac), except while typing in a field.
    let a = app.clone();
    let options = EventListenerOptions::enable_prevent_default();
    EventListener::new_with_options(&gloo::utils::document(), "keydown", options, move |e| {
        let e: &KeyboardEvent = e.unchecked_ref();
        if !(e.ctrl_key() || e.meta_key()) || a.borrow().editor.is_none() {
            return;
        }
        let typing = e.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()).is_some();
        if typing {
            return;
        }
        match (e.key().to_ascii_lowercase().as_str(), e.shift_key()) {
            ("z", false) => edit(&a, |m, _| m.undo()),
            ("z", true) | ("y", _) => edit(&a, |m, _| m.redo()),
            _ => return,
        }
        e.prevent_default();
    })
    .forget();

    // The player's time: drawn on seeks, pauses and, while playing, every animation frame.
    for kind in ["seeked", "seeking", "timeupdate", "pause", "loadeddata"] {
        let a = app.clone();
        EventListener::new(&page.preview_video, kind, move |_| redraw(&a)).forget();
    }
    let a = app.clone();
    EventListener::new(&page.preview_video, "play", move |_| animate(&a)).forget();
    let a = app.clone();
    EventListener::new(&gloo::utils::window(), "resize", move |_| redraw(&a)).forget();
}

fn toggle_play(app: &Rc<RefCell<App>>) {
    let video = app.borrow().page.preview_video.clone();
    if video.paused() {
        let _ = video.play();
    } else {
        let _ = video.pause();
    }
}

/// Redraws on every animation frame while the player plays.
fn animate(app: &Rc<RefCell<App>>) {
    type Frame = Rc<RefCell<Option<Closure<dyn FnMut()>>>>;
    let frame: Frame = Rc::new(RefCell::new(None));
    let (a, f) = (app.clone(), frame.clone());
    *frame.borrow_mut() = Some(Closure::new(move || {
        redraw(&a);
        let playing = !a.borrow().page.preview_video.paused() && a.borrow().editor.is_some();
        if playing {
            if let Some(cb) = f.borrow().as_ref() {
                let _ = gloo::utils::window().request_animation_frame(cb.as_ref().unchecked_ref());
            }
        } else {
            // Frees the closure (and its cycle through `f`) once playing stops, outside its call.
            let f = f.clone();
            gloo::timers::callback::Timeout::new(0, move || drop(f.borrow_mut().take())).forget();
        }
    }));
    let first = frame.borrow();
    if let Some(cb) = first.as_ref() {
        let _ = gloo::utils::window().request_animation_frame(cb.as_ref().unchecked_ref());
    }
}
