//! The Content-Security-Policy: the page may load and connect to nothing but its own origin.
//! `reframe-host csp DIR` writes it into `DIR/index.html` as a `<meta>` tag, for any static host;
//! the one script that is not a file (trunk's inline module script that starts the page) is
//! allowed by its sha256. This server also sends the policy as a header on every response (read
//! from that tag, again whenever the page changes: [`PagePolicy`]), where `frame-ancestors`
//! counts too (a meta tag cannot carry it).

use axum::http::HeaderValue;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// Marks the tag this module writes, so a second run replaces it.
const META_START: &str = "<meta http-equiv=\"Content-Security-Policy\" content=\"";

/// The policy for a page whose inline scripts have these `'sha256-…'` sources.
/// - `'wasm-unsafe-eval'`: compiling WebAssembly (page, workers).
/// - `blob:`: the exported videos the page plays and offers for download are object URLs.
/// - `data:` images: none today, harmless for canvas snapshots.
pub fn policy(inline_script_hashes: &[String]) -> String {
    let hashes: String = inline_script_hashes.iter().map(|h| format!(" '{h}'")).collect();
    [
        "default-src 'self'".to_string(),
        format!("script-src 'self' 'wasm-unsafe-eval'{hashes}"),
        "style-src 'self'".into(),
        "img-src 'self' blob: data:".into(),
        "media-src 'self' blob:".into(),
        "connect-src 'self' blob:".into(),
        "worker-src 'self'".into(),
        "object-src 'none'".into(),
        "base-uri 'none'".into(),
        "form-action 'none'".into(),
    ]
    .join("; ")
}

/// What the server sends: the page's policy, and no framing by other sites.
pub fn header_value(page_policy: &str) -> String {
    format!("{page_policy}; frame-ancestors 'none'")
}

/// The header the server sends: the policy of the site's `index.html`, read again whenever the
/// file changes (a rebuild while serving brings a new start-up script and so a new hash).
pub struct PagePolicy {
    page: PathBuf,
    cached: Mutex<Option<(SystemTime, HeaderValue)>>,
}

impl PagePolicy {
    pub fn new(site: &Path) -> PagePolicy {
        PagePolicy { page: site.join("index.html"), cached: Mutex::new(None) }
    }

    pub fn header(&self) -> HeaderValue {
        let modified = std::fs::metadata(&self.page).and_then(|m| m.modified()).ok();
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        if let (Some((at, value)), Some(now)) = (cached.as_ref(), modified) {
            if *at == now {
                return value.clone();
            }
        }
        let html = std::fs::read_to_string(&self.page).unwrap_or_default();
        // The policy is ASCII by construction (base64 hashes, fixed text).
        let value = HeaderValue::try_from(header_value(&of_page(&html))).expect("an ASCII policy");
        if let Some(now) = modified {
            *cached = Some((now, value.clone()));
        }
        value
    }
}

/// `'sha256-…'` of each inline `<script>` (one without `src`) of `html`.
fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else { break };
        let tag = &after[..open_end];
        let body_start = open_end + 1;
        let Some(close) = after[body_start..].find("</script>") else { break };
        let body = &after[body_start..body_start + close];
        if !tag.contains(" src=") {
            let digest = Sha256::digest(body.as_bytes());
            hashes.push(format!("sha256-{}", base64::engine::general_purpose::STANDARD.encode(digest)));
        }
        rest = &after[body_start + close..];
    }
    hashes
}

/// The page with its policy tag (replacing an earlier one), as the first element of `<head>`.
pub fn seal_html(html: &str) -> Result<String, String> {
    let html = remove_tag(html);
    let tag = format!("{META_START}{}\">", policy(&inline_script_hashes(&html)));
    let head = html.find("<head>").ok_or("the page has no <head>")? + "<head>".len();
    Ok(format!("{}\n  {tag}{}", &html[..head], &html[head..]))
}

fn remove_tag(html: &str) -> String {
    match html.find(META_START) {
        Some(start) => {
            let end = html[start..].find('>').map_or(html.len(), |e| start + e + 1);
            let before = html[..start].trim_end_matches([' ', '\n']);
            format!("{before}{}", &html[end..])
        }
        None => html.to_string(),
    }
}

/// The page's policy: its tag's, or (a page never sealed) the one its inline scripts need.
pub fn of_page(html: &str) -> String {
    read(html).unwrap_or_else(|| policy(&inline_script_hashes(html)))
}

/// The policy in a sealed page's tag.
pub fn read(html: &str) -> Option<String> {
    let start = html.find(META_START)? + META_START.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_string())
}

/// `reframe-host csp DIR`: seals `DIR/index.html`; answers its policy.
pub fn seal(dir: &Path) -> io::Result<String> {
    let path = dir.join("index.html");
    let html = std::fs::read_to_string(&path)?;
    let sealed = seal_html(&html).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    std::fs::write(&path, &sealed)?;
    Ok(read(&sealed).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "<!doctype html>\n<html><head>\n<meta charset=\"utf-8\">\n<script type=\"module\">\nimport init from './app.js';\n</script>\n<script src=\"x.js\"></script>\n</head><body></body></html>";

    #[test]
    fn the_inline_script_is_allowed_by_its_hash_and_nothing_else_is_inline() {
        let sealed = seal_html(PAGE).unwrap();
        let policy = read(&sealed).unwrap();
        // sha256 of "\nimport init from './app.js';\n", base64 (as `openssl dgst -binary | base64` gives).
        let digest = Sha256::digest(b"\nimport init from './app.js';\n");
        let expected = base64::engine::general_purpose::STANDARD.encode(digest);
        assert!(policy.contains(&format!("script-src 'self' 'wasm-unsafe-eval' 'sha256-{expected}';")), "{policy}");
        assert_eq!(policy.matches("sha256-").count(), 1, "the script with src= needs no hash");
        assert!(policy.starts_with("default-src 'self';"));
        assert!(!policy.contains("unsafe-inline") && !policy.contains("frame-ancestors"));
        // The tag comes first in <head>, before the script it governs.
        assert!(sealed.find(META_START).unwrap() < sealed.find("<script").unwrap());
        // Sealing again replaces the tag instead of adding one.
        let again = seal_html(&sealed).unwrap();
        assert_eq!(again.matches(META_START).count(), 1);
        assert_eq!(again, sealed);
        assert!(header_value(&policy).ends_with("; frame-ancestors 'none'"));
        assert!(seal_html("<html></html>").is_err());
    }
}
