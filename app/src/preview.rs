//! The fixed crop window drawn over the video preview (the editor draws the planned one),
//! computed with the same geometry the worker uses (`reframe_core::crop`), so what the user sees
//! is what they get.

use crate::dom::Page;
use reframe_core::crop;
use reframe_core::settings::CropPosition;
use reframe_core::units::{AspectRatio, PixelRect, PixelSize};

pub fn draw(page: &Page, ratio: Option<AspectRatio>) {
    let video = &page.preview_video;
    // The element reports the displayed size, rotation metadata applied.
    let source = PixelSize::new(video.video_width(), video.video_height());
    let (Some(ratio), true) = (ratio, source.width > 0 && source.height > 0) else {
        show_window(&page.crop_overlay, None, source);
        show_window(&page.crop_overlay_2, None, source);
        return;
    };
    let size = crop::output_size(source, ratio);
    let position = CropPosition { x: page.pos_x.value_as_number() / 100.0, y: page.pos_y.value_as_number() / 100.0 };
    let r = crop::place(source, size, position);
    show_window(&page.crop_overlay, Some(r), source);
    show_window(&page.crop_overlay_2, None, source);
    fit_stage(page, source);
}

/// Gives the player's stage the video's proportions (the overlays are placed in percent of it).
pub fn fit_stage(page: &Page, source: PixelSize) {
    let style = page.stage.style();
    let _ = style.set_property("aspect-ratio", &format!("{} / {}", source.width, source.height));
    let _ = style.set_property("--aspect", &format!("{:.5}", source.width as f64 / source.height.max(1) as f64));
}

/// Shows `window` (source display pixels) over the preview in `overlay`, or hides it.
pub fn show_window(overlay: &web_sys::HtmlElement, window: Option<PixelRect>, source: PixelSize) {
    let style = overlay.style();
    let Some(r) = window else {
        let _ = style.set_property("display", "none");
        return;
    };
    let pct = |v: u32, of: u32| format!("{:.3}%", v as f64 * 100.0 / of as f64);
    let _ = style.set_property("display", "block");
    let _ = style.set_property("left", &pct(r.x, source.width));
    let _ = style.set_property("top", &pct(r.y, source.height));
    let _ = style.set_property("width", &pct(r.width, source.width));
    let _ = style.set_property("height", &pct(r.height, source.height));
}
