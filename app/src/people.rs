//! The people found by an auto job, as buttons: choosing one makes the next export follow them
//! (the stored analysis is reused) and seeks the preview to where they are seen best.

use crate::dom::{self, Page};
use crate::App;
use gloo::events::EventListener;
use reframe_core::summary::JobSummary;
use std::cell::RefCell;
use std::rc::Rc;

/// The people of a finished auto job, as buttons that choose whom the next export follows.
pub fn show(app: &Rc<RefCell<App>>, page: &Page, summary: &JobSummary, chosen: Option<u32>) {
    let Some(analysis) = &summary.analysis else { return };
    page.people_list.set_inner_html("");
    page.people.set_hidden(analysis.people.is_empty());
    let document = gloo::utils::document();
    let mut choices: Vec<(Option<u32>, String, Option<i64>)> =
        vec![(None, "Automatic (most prominent person)".into(), None)];
    for p in &analysis.people {
        let label = format!(
            "Person {} · {}–{}",
            p.track_id,
            dom::human_duration(p.first_us.0 as f64 / 1e6),
            dom::human_duration(p.last_us.0 as f64 / 1e6)
        );
        choices.push((Some(p.track_id), label, Some(p.best_us.0)));
    }
    for (id, label, best_us) in choices {
        let Ok(b) = document.create_element("button") else { continue };
        b.set_class_name(if id == chosen { "person chosen" } else { "person" });
        let _ = b.set_attribute("data-track-id", &id.map(|i| i.to_string()).unwrap_or_default());
        b.set_text_content(Some(&label));
        let a = app.clone();
        EventListener::new(&b, "click", move |_| {
            let mut app = a.borrow_mut();
            app.subject = id;
            if let Some(s) = app.planned.clone() {
                show(&a, &app.page, &s, id);
            }
            if let Some(t) = best_us {
                app.page.preview_video.set_current_time(t as f64 / 1e6);
            }
            let who = id.map(|i| format!("person {i}")).unwrap_or_else(|| "the most prominent person".into());
            app.page.show_note(&format!("Press Start to export again following {who}; the stored analysis is reused."));
        })
        .forget();
        let _ = page.people_list.append_child(&b);
    }
}
