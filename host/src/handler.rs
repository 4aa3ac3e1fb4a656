//! The one request handler: route to a folder, resolve the file safely, pick a
//! precompressed variant the browser accepts, answer conditional requests from our ETag,
//! and let tower-http's `ServeFile` stream the bytes (it does Range/206/416,
//! Content-Type, Content-Length and HEAD).

use crate::compress;
use crate::paths::{self, Resolved};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use std::fs::Metadata;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::UNIX_EPOCH;
use tower_http::services::ServeFile;

/// The two served folders, canonicalized once at start-up.
pub struct Roots {
    pub site: PathBuf,
    /// `None` when the models folder does not exist: `/models/*` is then 404.
    pub models: Option<PathBuf>,
    /// The page's Content-Security-Policy, sent with every response.
    pub csp: crate::csp::PagePolicy,
}

/// Site files may change on every build: always revalidate (cheap thanks to the ETag).
const SITE_CACHE: &str = "no-cache";
/// Model files are large and versioned by name: cache for a year, never revalidate.
const MODELS_CACHE: &str = "public, max-age=31536000, immutable";

/// Sent on every response, errors included.
const ALWAYS: [(&str, &str); 5] = [
    // Cross-origin isolation, needed for SharedArrayBuffer / wasm threads.
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-embedder-policy", "require-corp"),
    ("cross-origin-resource-policy", "same-origin"),
    ("x-content-type-options", "nosniff"),
    ("accept-ranges", "bytes"),
];

/// Entry point for every request; adds the headers every response must carry.
pub async fn handle(State(roots): State<Arc<Roots>>, req: Request) -> Response {
    let mut res = serve(&roots, req).await;
    let h = res.headers_mut();
    for (name, value) in ALWAYS {
        h.insert(name, HeaderValue::from_static(value));
    }
    h.insert(header::CONTENT_SECURITY_POLICY, roots.csp.header());
    // Errors and redirects must not be cached; file responses already set their own.
    h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static(SITE_CACHE));
    res
}

async fn serve(roots: &Roots, mut req: Request) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut res = status(StatusCode::METHOD_NOT_ALLOWED);
        res.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return res;
    }
    let Some(path) = paths::clean(req.uri().path()) else {
        return status(StatusCode::BAD_REQUEST);
    };

    // `/models/...` maps to the models folder, everything else to the site folder.
    let (root, segments, cache) = match path.segments.split_first() {
        Some((first, rest)) if first == "models" => match &roots.models {
            Some(models) => (models, rest, MODELS_CACHE),
            None => return status(StatusCode::NOT_FOUND),
        },
        _ => (&roots.site, &path.segments[..], SITE_CACHE),
    };

    let (real, requested, meta) = match paths::resolve(root, segments, path.trailing_slash).await {
        Resolved::File { real, requested, meta } => (real, requested, meta),
        Resolved::NotFound => return status(StatusCode::NOT_FOUND),
        Resolved::AddSlash => return add_slash(req.uri().path()),
    };
    // A precompressed variant (`compress`) when the browser takes its encoding: the bytes sent,
    // their validator and (below) their `Content-Encoding`. Ranges then count in those bytes.
    let accept = req.headers().get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok());
    let (sent, encoding, etag) = match compress::negotiate(accept, &real, &meta).await {
        Some((encoding, variant, vmeta)) => (variant, Some(encoding), etag(&vmeta, encoding.token())),
        None => (real, None, etag(&meta, "")),
    };
    let headers = req.headers_mut();
    if let Some(inm) = headers.get(header::IF_NONE_MATCH) {
        if etag_matches(inm, &etag) {
            let mut res = status(StatusCode::NOT_MODIFIED);
            set_validators(res.headers_mut(), &etag, cache);
            return res;
        }
        // RFC 9110 §13.1.3: with If-None-Match present, If-Modified-Since is ignored.
        headers.remove(header::IF_MODIFIED_SINCE);
    }
    // If-Range: only honour the Range if the client's copy is this exact version.
    // (ServeFile does not implement If-Range; a date validator is treated as stale,
    // which is always safe: the client just gets the full file.)
    if let Some(if_range) = headers.remove(header::IF_RANGE) {
        if if_range.as_bytes() != etag.as_bytes() {
            headers.remove(header::RANGE);
        }
    }

    // The extension of the *requested* name picks the type (a symlink's target may differ).
    let mime = mime_guess::from_path(&requested).first_or_octet_stream();
    let mut res = match ServeFile::new_with_mime(&sent, &mime).try_call(req).await {
        Ok(res) => res.map(Body::new),
        Err(err) => {
            eprintln!("reframe-host: {}: {err}", sent.display());
            return status(StatusCode::INTERNAL_SERVER_ERROR);
        }
    };
    if matches!(res.status(), StatusCode::OK | StatusCode::PARTIAL_CONTENT | StatusCode::NOT_MODIFIED) {
        let h = res.headers_mut();
        set_validators(h, &etag, cache);
        if let Some(encoding) = encoding {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding.token()));
        }
    }
    res
}

/// Strong ETag from size and modification time (like nginx), and the encoding of a
/// precompressed variant; changes on every rebuild.
fn etag(meta: &Metadata, encoding: &str) -> HeaderValue {
    let mtime = meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos());
    let suffix = if encoding.is_empty() { String::new() } else { format!("-{encoding}") };
    HeaderValue::try_from(format!("\"{:x}-{:x}{suffix}\"", meta.len(), mtime)).expect("ascii")
}

/// Weak comparison, as If-None-Match requires: `*` or any listed tag, ignoring `W/`.
fn etag_matches(if_none_match: &HeaderValue, etag: &HeaderValue) -> bool {
    let Ok(list) = if_none_match.to_str() else {
        return false;
    };
    let ours = etag.to_str().unwrap_or_default();
    list.split(',').map(str::trim).any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == ours)
}

fn set_validators(h: &mut HeaderMap, etag: &HeaderValue, cache: &'static str) {
    h.insert(header::ETAG, etag.clone());
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    // Any file may have precompressed variants: caches must key on the encoding asked for.
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
}

/// `/models` -> `./models/`. Relative, and built from the last raw segment only, so it
/// can never become an off-site (`//host`) or scheme (`x:`) redirect.
fn add_slash(raw_path: &str) -> Response {
    let last = raw_path.rsplit('/').next().unwrap_or_default();
    let mut res = status(StatusCode::TEMPORARY_REDIRECT);
    match HeaderValue::try_from(format!("./{last}/")) {
        Ok(location) => res.headers_mut().insert(header::LOCATION, location),
        Err(_) => return status(StatusCode::BAD_REQUEST),
    };
    res
}

fn status(code: StatusCode) -> Response {
    let mut res = Response::new(Body::empty());
    *res.status_mut() = code;
    res
}
