//! The people of the editor's analysis, as buttons: choosing one follows them (an edit, as a click
//! on them in the player is) and seeks the player to where they are seen largest.

use crate::editor;
use crate::App;
use gloo::events::EventListener;
use std::cell::RefCell;
use std::rc::Rc;

/// Lists the people of the open editor's analysis, the followed one marked.
pub fn show(app: &Rc<RefCell<App>>) {
    let a = app.borrow();
    let page = &a.page;
    let Some(view) = a.editor.as_ref() else { return };
    let people = view.model.analysis().people();
    let chosen = view.model.edits().subject_track;
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
        b.set_text_content(Some(&label));
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
