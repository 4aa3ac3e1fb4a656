//! The people of the editor's analysis, as buttons with a thumbnail of each: choosing one follows
//! them (an edit, as a click on them in the player is) and seeks the player to where they are
//! seen largest. The thumbnails are drawn once per analysis, from a hidden copy of the player
//! seeked to each person's largest box.

use crate::editor;
use crate::App;
use gloo::events::EventListener;
use reframe_core::analysis::PersonSummary;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{HtmlCanvasElement, HtmlVideoElement};

/// Thumbnail size, CSS pixels (people are tall).
const THUMB_W: u32 = 36;
const THUMB_H: u32 = 54;

/// How long one seek of the hidden player may take before its thumbnail is given up.
const SEEK_TIMEOUT_MS: i32 = 5000;

thread_local! {
    /// The thumbnails of one analysis (its id), by track id.
    static THUMBS: RefCell<(String, HashMap<u32, HtmlCanvasElement>)> = RefCell::new(Default::default());
}

/// Lists the people of the open editor's analysis, the followed one marked.
pub fn show(app: &Rc<RefCell<App>>) {
    let a = app.borrow();
    let page = &a.page;
    let Some(view) = a.editor.as_ref() else { return };
    let people = view.model.analysis().people();
    let chosen = view.model.edits().subject_track;
    let fresh = THUMBS.with(|t| t.borrow().0 != view.analysis_id);
    if fresh {
        let canvases = people.iter().filter_map(|p| Some((p.track_id, thumb_canvas()?))).collect();
        THUMBS.with(|t| *t.borrow_mut() = (view.analysis_id.clone(), canvases));
        if let Some(url) = a.preview_url.clone() {
            wasm_bindgen_futures::spawn_local(draw_thumbs(url, view.analysis_id.clone(), people.clone()));
        }
    }
    page.people_list.set_inner_html("");
    page.people.set_hidden(people.is_empty());
    let document = gloo::utils::document();
    let mut choices: Vec<(Option<u32>, String, Option<i64>)> =
        vec![(None, "Automatic (most prominent person)".into(), None)];
    for p in &people {
        let label = format!(
            "Person {} · {}–{}",
            p.track_id,
            crate::dom::human_duration(p.first_us.0 as f64 / 1e6),
            crate::dom::human_duration(p.last_us.0 as f64 / 1e6)
        );
        choices.push((Some(p.track_id), label, Some(p.best_us.0)));
    }
    for (id, label, best_us) in choices {
        let Ok(b) = document.create_element("button") else { continue };
        b.set_class_name(if id == chosen { "person chosen" } else { "person" });
        let _ = b.set_attribute("data-track-id", &id.map(|i| i.to_string()).unwrap_or_default());
        let _ = b.set_attribute("aria-pressed", if id == chosen { "true" } else { "false" });
        if let Some(canvas) = id.and_then(|i| THUMBS.with(|t| t.borrow().1.get(&i).cloned())) {
            let _ = b.append_child(&canvas);
        }
        if let Ok(text) = document.create_element("span") {
            text.set_text_content(Some(&label));
            let _ = b.append_child(&text);
        }
        let a = app.clone();
        EventListener::new(&b, "click", move |_| {
            if let Some(t) = best_us {
                a.borrow().page.preview_video.set_current_time(t as f64 / 1e6);
            }
            editor::edit(&a, |m, _| m.follow(id));
        })
        .forget();
        let _ = page.people_list.append_child(&b);
    }
}

fn thumb_canvas() -> Option<HtmlCanvasElement> {
    let c: HtmlCanvasElement = gloo::utils::document().create_element("canvas").ok()?.dyn_into().ok()?;
    let dpr = gloo::utils::window().device_pixel_ratio().clamp(1.0, 3.0);
    c.set_width((THUMB_W as f64 * dpr) as u32);
    c.set_height((THUMB_H as f64 * dpr) as u32);
    c.set_class_name("thumb");
    let _ = c.set_attribute("aria-hidden", "true");
    Some(c)
}

/// Draws each person's thumbnail from a hidden player of the video at `url`, one seek at a time;
/// stops when another analysis has taken over.
async fn draw_thumbs(url: String, analysis_id: String, people: Vec<PersonSummary>) {
    let Some(video) = crate::dom::hidden_video() else { return };
    let loaded = wait_for(&video, "loadeddata", || video.set_src(&url)).await;
    for p in people.iter().filter(|_| loaded) {
        let current = THUMBS.with(|t| t.borrow().0 == analysis_id);
        if !current {
            break;
        }
        if !wait_for(&video, "seeked", || video.set_current_time(p.best_us.0 as f64 / 1e6)).await {
            continue;
        }
        let Some(canvas) = THUMBS.with(|t| t.borrow().1.get(&p.track_id).cloned()) else { continue };
        draw_person(&video, &canvas, p);
    }
    video.remove_attribute("src").ok();
    video.load();
}

/// The person's largest box (with a little room around it) fitted into `canvas`.
fn draw_person(video: &HtmlVideoElement, canvas: &HtmlCanvasElement, p: &PersonSummary) {
    let Some(ctx) = crate::dom::context_2d(canvas) else { return };
    let (vw, vh) = (video.video_width() as f64, video.video_height() as f64);
    let b = p.best_box;
    let pad = 0.08 * b.height as f64;
    let x0 = (b.x as f64 - pad).max(0.0);
    let y0 = (b.y as f64 - pad).max(0.0);
    let x1 = (b.x as f64 + b.width as f64 + pad).min(vw);
    let y1 = (b.y as f64 + b.height as f64 + pad).min(vh);
    let (sw, sh) = (x1 - x0, y1 - y0);
    if sw <= 1.0 || sh <= 1.0 {
        return;
    }
    let (cw, ch) = (canvas.width() as f64, canvas.height() as f64);
    let scale = (cw / sw).min(ch / sh);
    let (dw, dh) = (sw * scale, sh * scale);
    ctx.clear_rect(0.0, 0.0, cw, ch);
    let _ = ctx.draw_image_with_html_video_element_and_sw_and_sh_and_dx_and_dy_and_dw_and_dh(
        video,
        x0,
        y0,
        sw,
        sh,
        (cw - dw) / 2.0,
        (ch - dh) / 2.0,
        dw,
        dh,
    );
}

/// Runs `start`, then waits for `kind` on `video` (true) or [`SEEK_TIMEOUT_MS`] or an error (false).
async fn wait_for(video: &HtmlVideoElement, kind: &'static str, start: impl FnOnce()) -> bool {
    let target = video.clone();
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let (r1, r2, r3) = (resolve.clone(), resolve.clone(), resolve);
        EventListener::once(&target, kind, move |_| {
            let _ = r1.call1(&JsValue::NULL, &JsValue::TRUE);
        })
        .forget();
        EventListener::once(&target, "error", move |_| {
            let _ = r2.call1(&JsValue::NULL, &JsValue::FALSE);
        })
        .forget();
        let timeout = wasm_bindgen::closure::Closure::once_into_js(move || {
            let _ = r3.call1(&JsValue::NULL, &JsValue::FALSE);
        });
        let _ = gloo::utils::window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(timeout.unchecked_ref(), SEEK_TIMEOUT_MS);
    });
    start();
    wasm_bindgen_futures::JsFuture::from(promise).await.map(|v| v.is_truthy()).unwrap_or(false)
}
