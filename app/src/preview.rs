//! The crop window drawn over the video preview, computed with the same geometry the worker
//! uses (`reframe_core::crop`), so what the user sees is what they get.

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
    let _ = page.preview_video.parent_element().map(|p| {
        p.unchecked_into::<web_sys::HtmlElement>()
            .style()
            .set_property("aspect-ratio", &format!("{} / {}", source.width, source.height))
    });
}

/// People boxes below this score are not drawn (the analysis keeps boxes down to 0.1 for the
/// tracker to confirm; drawn, they clutter a crowd).
const SHOWN_MIN_SCORE: f32 = 0.3;

/// Draws a finished auto job's planned crop window and the people found at time `t_us` of the
/// preview: the crop of that frame (the same rectangles the worker cropped; two on a split-screen
/// frame) and the boxes of the nearest analysed frame within 0.3 s, from [`SHOWN_MIN_SCORE`].
pub fn draw_planned(page: &Page, summary: &JobSummary, t_us: i64) {
    let video = &page.preview_video;
    let source = PixelSize::new(video.video_width(), video.video_height());
    let path = &summary.crop_path;
    if path.is_empty() || source.width == 0 || source.height == 0 {
        return;
    }
    let i = path.partition_point(|c| c.timestamp_us.0 <= t_us).saturating_sub(1);
    let c = path[i];
    let pct = |v: f32, of: u32| format!("{:.3}%", v as f64 * 100.0 / of as f64);
    show_window(&page.crop_overlay, Some(c.rect()), source);
    show_window(&page.crop_overlay_2, c.second, source);

    page.boxes.set_inner_html("");
    let Some(analysis) = &summary.analysis else { return };
    let nearest = analysis.detections.iter().min_by_key(|d| (d.timestamp_us.0 - t_us).abs());
    let Some(d) = nearest.filter(|d| (d.timestamp_us.0 - t_us).abs() <= 300_000) else { return };
    let document = gloo::utils::document();
    for b in d.boxes.iter().filter(|b| b.score >= SHOWN_MIN_SCORE) {
        let Ok(div) = document.create_element("div") else { continue };
        let _ = div.set_attribute(
            "style",
            &format!(
                "left:{};top:{};width:{};height:{}",
                pct(b.x, source.width),
                pct(b.y, source.height),
                pct(b.width, source.width),
                pct(b.height, source.height)
            ),
        );
        let _ = page.boxes.append_child(&div);
    }
}

/// Shows `window` (source display pixels) over the preview in `overlay`, or hides it.
fn show_window(overlay: &web_sys::HtmlElement, window: Option<PixelRect>, source: PixelSize) {
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

/// Removes the boxes of people (the preview shows the settings' static crop again).
pub fn clear_planned(page: &Page) {
    page.boxes.set_inner_html("");
}

use reframe_core::summary::JobSummary;
use wasm_bindgen::JsCast;
