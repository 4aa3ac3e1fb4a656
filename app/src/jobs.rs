//! The list of stored jobs (finished and unfinished) with Resume, Download and Delete, and the
//! "delete all stored data" action. The worker owns the storage; this module only shows its
//! `Jobs` message; the caller sends `Start` with `resume`, `DeleteJob` and `DeleteAll`.

use crate::dom::{human_bytes, Page};
use reframe_core::job::{JobListEntry, JobStage};
use reframe_core::settings::CropMode;
use wasm_bindgen::JsCast;
use web_sys::{Document, HtmlElement};

/// What the user clicked in the list.
#[derive(Clone)]
pub enum JobAction {
    Resume(JobListEntry),
    Download(JobListEntry),
    Delete(String),
}

fn stage_text(j: &JobListEntry) -> String {
    match j.stage {
        JobStage::Done => "finished".to_string(),
        JobStage::Analysing => format!("stopped while finding people, {:.0}% done", j.progress * 100.0),
        JobStage::Encoding | JobStage::Finishing => format!("stopped while encoding, {:.0}% done", j.progress * 100.0),
    }
}

fn button(document: &Document, class: &str, label: &str) -> Option<HtmlElement> {
    let b: HtmlElement = document.create_element("button").ok()?.dyn_into().ok()?;
    b.set_class_name(class);
    b.set_text_content(Some(label));
    Some(b)
}

/// Shows `jobs`; `on_action` is called with the clicked action.
pub fn render(page: &Page, jobs: &[JobListEntry], on_action: impl Fn(JobAction) + Clone + 'static) {
    let document = gloo::utils::document();
    page.jobs_list.set_inner_html("");
    page.jobs_panel.set_hidden(jobs.is_empty());
    for j in jobs {
        let Ok(li) = document.create_element("li") else { continue };
        li.set_class_name("job");
        let _ = li.set_attribute("data-job-id", &j.id);
        let _ = li.set_attribute(
            "data-stage",
            match j.stage {
                JobStage::Done => "done",
                JobStage::Analysing => "analysing",
                JobStage::Encoding => "encoding",
                JobStage::Finishing => "finishing",
            },
        );
        let mode = match j.settings.mode {
            CropMode::Fixed => "fixed crop",
            CropMode::Auto => "follow people",
        };
        let text = format!(
            "{} → {}:{}, {mode}: {} ({} stored)",
            j.file_name,
            j.settings.ratio.w,
            j.settings.ratio.h,
            stage_text(j),
            human_bytes(j.stored_bytes as f64)
        );
        if let Ok(span) = document.create_element("span") {
            span.set_class_name("job-text");
            span.set_text_content(Some(&text));
            let _ = li.append_child(&span);
        }
        let mut actions: Vec<(HtmlElement, JobAction)> = Vec::new();
        if j.stage == JobStage::Done {
            if let Some(b) = button(&document, "job-download", "Download") {
                actions.push((b, JobAction::Download(j.clone())));
            }
        } else if j.resumable {
            if let Some(b) = button(&document, "job-resume", "Resume") {
                actions.push((b, JobAction::Resume(j.clone())));
            }
        }
        if let Some(b) = button(&document, "job-delete", "Delete") {
            actions.push((b, JobAction::Delete(j.id.clone())));
        }
        for (b, action) in actions {
            let _ = li.append_child(&b);
            let on_action = on_action.clone();
            gloo::events::EventListener::new(&b, "click", move |_| on_action(action.clone())).forget();
        }
        let _ = page.jobs_list.append_child(&li);
    }
}
