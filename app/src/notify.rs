//! "Tell me when it is done": a system notification when a job ends while the tab is in the
//! background. The browser asks the user's permission when the box is ticked (a click: browsers
//! refuse to ask otherwise); the choice is remembered in localStorage.

use crate::dom::Page;
use gloo::events::EventListener;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{HtmlInputElement, Notification, NotificationOptions, NotificationPermission};

/// localStorage key: "1" when the user wants notifications.
const KEY: &str = "reframe.notify";
/// The page's checkbox.
const BOX_ID: &str = "notify";

fn checkbox() -> Option<HtmlInputElement> {
    gloo::utils::document().get_element_by_id(BOX_ID).and_then(|e| e.dyn_into().ok())
}

/// Whether this browser has notifications at all (not in every context: an insecure origin, some
/// embedded views).
fn supported() -> bool {
    js_sys::Reflect::has(&gloo::utils::window(), &"Notification".into()).unwrap_or(false)
}

/// Shows the box (ticked as remembered, if the permission still stands) and asks for the
/// permission when it is ticked.
pub fn wire(page: &Page) {
    let Some(input) = checkbox() else { return };
    if !supported() {
        if let Some(label) = input.parent_element() {
            let _ = label.set_attribute("hidden", "");
        }
        return;
    }
    let remembered = crate::dom::local_get(KEY).as_deref() == Some("1");
    input.set_checked(remembered && Notification::permission() == NotificationPermission::Granted);
    let (input2, page) = (input.clone(), page.clone());
    EventListener::new(&input, "change", move |_| {
        let input = input2.clone();
        crate::dom::local_set(KEY, "0");
        if !input.checked() {
            return;
        }
        let Ok(asked) = Notification::request_permission() else {
            input.set_checked(false);
            page.show_note("This browser did not let Reframe ask to show notifications.");
            return;
        };
        let page = page.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let answer = JsFuture::from(asked).await.ok().and_then(|v| v.as_string());
            let granted = answer.as_deref() == Some("granted");
            input.set_checked(granted);
            if granted {
                crate::dom::local_set(KEY, "1");
            } else {
                page.show_note(
                    "Notifications are blocked for this page: allow them in the browser's site settings to be told \
                     when a job is done.",
                );
            }
        });
    })
    .forget();
}

/// A notification that a job ended, if the user asked for them and the tab is not in sight.
/// Clicking it brings the tab back.
pub fn job_ended(title: &str, body: &str) {
    let wanted = checkbox().is_some_and(|b| b.checked());
    if !wanted || !supported() || !gloo::utils::document().hidden() {
        return;
    }
    if Notification::permission() != NotificationPermission::Granted {
        return;
    }
    let options = NotificationOptions::new();
    options.set_body(body);
    options.set_icon("icons/icon-192.png");
    // One notification per tab at a time: a newer one replaces it.
    options.set_tag("reframe-job");
    if let Ok(n) = Notification::new_with_options(title, &options) {
        let n2 = n.clone();
        EventListener::once(&n, "click", move |_| {
            let _ = gloo::utils::window().focus();
            n2.close();
        })
        .forget();
    }
}
