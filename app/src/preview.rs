//! The crop window drawn over the video preview, computed with the same geometry the worker
//! uses (`reframe_core::crop`), so what the user sees is what they get.

use crate::dom::Page;
use reframe_core::crop;
use reframe_core::protocol::CropPosition;
use reframe_core::units::{AspectRatio, PixelSize};

pub fn draw(page: &Page, ratio: Option<AspectRatio>) {
    let video = &page.preview_video;
    // The element reports the displayed size, rotation metadata applied.
    let source = PixelSize::new(video.video_width(), video.video_height());
    let style = page.crop_overlay.style();
    let (Some(ratio), true) = (ratio, source.width > 0 && source.height > 0) else {
        let _ = style.set_property("display", "none");
        return;
    };
    let size = crop::output_size(source, ratio);
    let position = CropPosition { x: page.pos_x.value_as_number() / 100.0, y: page.pos_y.value_as_number() / 100.0 };
    let r = crop::place(source, size, position);
    let pct = |v: u32, of: u32| format!("{:.3}%", v as f64 * 100.0 / of as f64);
    let _ = style.set_property("display", "block");
    let _ = style.set_property("left", &pct(r.x, source.width));
    let _ = style.set_property("top", &pct(r.y, source.height));
    let _ = style.set_property("width", &pct(r.width, source.width));
    let _ = style.set_property("height", &pct(r.height, source.height));
    let _ = page.preview_video.parent_element().map(|p| {
        p.unchecked_into::<web_sys::HtmlElement>()
            .style()
            .set_property("aspect-ratio", &format!("{} / {}", source.width, source.height))
    });
}

use wasm_bindgen::JsCast;
