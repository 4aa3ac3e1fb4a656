//! The frame under the pointer on the timeline: a hidden copy of the player seeks there and its
//! picture is shown above the timeline with the time, so a user finds a moment without moving
//! the player. One seek at a time; while one is in flight only the latest position waits.

use crate::dom::Page;
use gloo::events::EventListener;
use std::cell::RefCell;
use web_sys::HtmlVideoElement;

/// The preview's width, CSS pixels (its height follows the video's proportions).
const WIDTH_CSS: f64 = 160.0;

struct Scrub {
    page: Page,
    video: HtmlVideoElement,
    /// A seek is in flight, asked at this time (ms).
    asked_at: Option<f64>,
    /// The latest position asked for while a seek was in flight: seconds, and the pointer's x.
    next: Option<(f64, f64)>,
    /// Where the preview sits (the pointer's x over the timeline, CSS pixels) for the seek in flight.
    x: f64,
    /// The pointer is over the timeline (a seek that ends after it left shows nothing).
    wanted: bool,
    _seeked: EventListener,
}

thread_local! {
    static SCRUB: RefCell<Option<Scrub>> = const { RefCell::new(None) };
}

/// Starts the hidden player on the video at `url` (the editor's source).
pub fn open(page: &Page, url: &str) {
    let Some(video) = crate::dom::hidden_video() else { return };
    video.set_src(url);
    let seeked = EventListener::new(&video, "seeked", |_| on_seeked());
    SCRUB.with(|s| {
        *s.borrow_mut() = Some(Scrub {
            page: page.clone(),
            video,
            asked_at: None,
            next: None,
            x: 0.0,
            wanted: false,
            _seeked: seeked,
        })
    });
}

/// Stops the hidden player (another file, or the editor closed).
pub fn close() {
    SCRUB.with(|s| {
        if let Some(scrub) = s.borrow_mut().take() {
            scrub.page.scrub.set_hidden(true);
            let _ = scrub.video.remove_attribute("src");
            scrub.video.load();
        }
    });
}

/// The pointer is over the timeline at `t_s` seconds, `x` CSS pixels from its left edge.
pub fn hover(t_s: f64, x: f64) {
    SCRUB.with(|s| {
        let mut guard = s.borrow_mut();
        let Some(scrub) = guard.as_mut() else { return };
        scrub.wanted = true;
        if scrub.asked_at.is_some() {
            scrub.next = Some((t_s, x));
            return;
        }
        scrub.asked_at = Some(crate::dom::now_ms());
        scrub.x = x;
        scrub.video.set_current_time(t_s);
    });
}

/// The pointer left the timeline.
pub fn hide() {
    SCRUB.with(|s| {
        if let Some(scrub) = s.borrow_mut().as_mut() {
            scrub.next = None;
            scrub.wanted = false;
            scrub.page.scrub.set_hidden(true);
        }
    });
}

/// How long the last preview took from the pointer's move to its picture, ms.
pub fn last_ms() -> Option<f64> {
    LAST_MS.with(|l| *l.borrow())
}

/// What `window.__reframe.scrub` holds.
#[derive(serde::Serialize)]
struct Shown {
    t_s: f64,
    ms: f64,
}

thread_local! {
    static LAST_MS: RefCell<Option<f64>> = const { RefCell::new(None) };
}

fn on_seeked() {
    SCRUB.with(|s| {
        let mut guard = s.borrow_mut();
        let Some(scrub) = guard.as_mut() else { return };
        if let Some(asked) = scrub.asked_at.take() {
            let ms = crate::dom::now_ms() - asked;
            LAST_MS.with(|l| *l.borrow_mut() = Some(ms));
            // For tests and benchmarks: the last preview's time and how long it took.
            crate::dom::expose("scrub", &Shown { t_s: scrub.video.current_time(), ms });
        }
        if scrub.wanted {
            draw(scrub);
        }
        if let Some((t, x)) = scrub.next.take() {
            scrub.asked_at = Some(crate::dom::now_ms());
            scrub.x = x;
            scrub.video.set_current_time(t);
        }
    });
}

fn draw(scrub: &Scrub) {
    let page = &scrub.page;
    let (vw, vh) = (scrub.video.video_width() as f64, scrub.video.video_height() as f64);
    if vw <= 0.0 || vh <= 0.0 {
        return;
    }
    let dpr = gloo::utils::window().device_pixel_ratio().clamp(1.0, 3.0);
    let css_h = (WIDTH_CSS * vh / vw).round();
    let canvas = &page.scrub_frame;
    let (pw, ph) = ((WIDTH_CSS * dpr) as u32, (css_h * dpr) as u32);
    if canvas.width() != pw || canvas.height() != ph {
        canvas.set_width(pw);
        canvas.set_height(ph);
        let _ = canvas.style().set_property("width", &format!("{WIDTH_CSS}px"));
        let _ = canvas.style().set_property("height", &format!("{css_h}px"));
    }
    let Some(ctx) = crate::dom::context_2d(canvas) else { return };
    let _ = ctx.draw_image_with_html_video_element_and_dw_and_dh(&scrub.video, 0.0, 0.0, pw as f64, ph as f64);
    let t = scrub.video.current_time();
    let m = (t / 60.0).floor();
    page.scrub_time.set_text_content(Some(&format!("{}:{:04.1}", m as u64, t - m * 60.0)));
    let width = page.timeline.client_width() as f64;
    let left = (scrub.x - WIDTH_CSS / 2.0).clamp(0.0, (width - WIDTH_CSS).max(0.0));
    let _ = page.scrub.style().set_property("left", &format!("{left:.0}px"));
    page.scrub.set_hidden(false);
}
