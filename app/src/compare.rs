//! Before and after: the finished output plays beside the source, in step with it (play, pause,
//! seek and speed follow the source player), so the user sees what the export made. In the
//! editor it takes the cropped preview's place until the next edit (the file no longer matches
//! the plan then); "Exported video" switches back to it.

use crate::dom::Page;
use crate::App;
use gloo::events::EventListener;
use std::cell::RefCell;
use std::rc::Rc;

/// The exported video drifts at most this far (seconds) from the source before it is re-seeked.
const MAX_DRIFT_S: f64 = 0.15;

/// Shows the finished file at `url` beside the source, at the source's moment.
pub fn show(page: &Page, url: &str) {
    let out = &page.result_video;
    out.set_src(url);
    out.set_current_time(page.preview_video.current_time());
    page.show_output.set_disabled(false);
    page.show_output.set_checked(true);
    page.show_output_label.set_hidden(false);
    apply(page);
}

/// The finished file is gone or no longer what the plan shows (another file, or an edit).
pub fn stale(page: &Page) {
    page.show_output.set_checked(false);
    apply(page);
}

/// Forgets the finished file (another file was chosen).
pub fn clear(page: &Page) {
    let out = &page.result_video;
    let _ = out.pause();
    out.remove_attribute("src").ok();
    out.load();
    page.show_output.set_checked(false);
    page.show_output.set_disabled(true);
    page.show_output_label.set_hidden(true);
    apply(page);
}

/// Shows the exported video or the live cropped preview (the editor's, when it is open).
pub fn apply(page: &Page) {
    let output = page.show_output.checked() && page.result_video.get_attribute("src").is_some();
    page.result_video.set_hidden(!output);
    page.crop_preview.set_hidden(output || page.editor.hidden());
    // As tall as the source player beside it.
    let height = format!("{}px", page.stage.client_height().max(120));
    let _ = page.result_video.style().set_property("height", &height);
    if output {
        sync(page, true);
    } else {
        let _ = page.result_video.pause();
    }
}

/// Brings the exported video to the source's moment and play state.
fn sync(page: &Page, force: bool) {
    let (src, out) = (&page.preview_video, &page.result_video);
    if out.hidden() {
        return;
    }
    out.set_playback_rate(src.playback_rate());
    if force || (out.current_time() - src.current_time()).abs() > MAX_DRIFT_S {
        out.set_current_time(src.current_time());
    }
    if src.paused() {
        let _ = out.pause();
    } else if out.paused() {
        let _ = out.play();
    }
}

/// Keeps the exported video in step with the source player.
pub fn wire(app: &Rc<RefCell<App>>) {
    let page = app.borrow().page.clone();
    for kind in ["play", "pause", "seeked", "ratechange"] {
        let p = page.clone();
        EventListener::new(&page.preview_video, kind, move |_| sync(&p, true)).forget();
    }
    let p = page.clone();
    EventListener::new(&page.preview_video, "timeupdate", move |_| sync(&p, false)).forget();
    let p = page.clone();
    EventListener::new(&page.show_output, "change", move |_| apply(&p)).forget();
}
