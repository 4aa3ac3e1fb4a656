//! Turning a request path into a file that is guaranteed to lie inside a served folder.
//!
//! Two layers of defence:
//! 1. Lexical: the percent-decoded path may only contain plain names (no `..`, `.`,
//!    backslashes, NUL, drive prefixes or absolute components).
//! 2. Physical: the joined path is canonicalized (resolving symlinks) and must still
//!    start with the canonical root, so a symlink pointing outside is refused too.

use percent_encoding::percent_decode_str;
use std::fs::Metadata;
use std::path::{Component, Path, PathBuf};

/// A percent-decoded request path split into its non-empty segments.
pub struct CleanPath {
    pub segments: Vec<String>,
    /// The path ended in `/`, i.e. the client asked for a directory (index.html).
    pub trailing_slash: bool,
}

/// Decodes and checks `raw` (the URI path, still %-encoded). `None` means "bad request".
pub fn clean(raw: &str) -> Option<CleanPath> {
    let decoded = percent_decode_str(raw).decode_utf8().ok()?;
    if decoded.contains(['\\', '\0']) {
        return None;
    }
    let mut segments = Vec::new();
    for segment in decoded.split('/').filter(|s| !s.is_empty()) {
        // Exactly one ordinary name: rejects "..", ".", "C:" and anything else the
        // platform would interpret specially when joined onto the root.
        let mut parts = Path::new(segment).components();
        match (parts.next(), parts.next()) {
            (Some(Component::Normal(_)), None) => segments.push(segment.to_string()),
            _ => return None,
        }
    }
    Some(CleanPath { segments, trailing_slash: decoded.ends_with('/') })
}

// One short-lived value per request: the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Resolved {
    /// A regular file inside the root. `real` is canonical (serve this), `requested`
    /// is the path as asked for (its extension picks the Content-Type).
    File {
        real: PathBuf,
        requested: PathBuf,
        meta: Metadata,
    },
    /// A directory asked for without the trailing slash: redirect so relative URLs work.
    AddSlash,
    NotFound,
}

/// Finds `segments` under `root` (which must already be canonical).
pub async fn resolve(root: &Path, segments: &[String], trailing_slash: bool) -> Resolved {
    let mut requested = root.to_path_buf();
    requested.extend(segments);
    let Some((mut real, mut meta)) = inside(root, &requested).await else {
        return Resolved::NotFound;
    };
    if meta.is_dir() {
        if !trailing_slash {
            return Resolved::AddSlash;
        }
        requested.push("index.html");
        let Some(found) = inside(root, &requested).await else {
            return Resolved::NotFound;
        };
        (real, meta) = found;
    }
    if !meta.is_file() {
        return Resolved::NotFound;
    }
    Resolved::File { real, requested, meta }
}

/// Canonicalizes `path` and returns it with its metadata only if it exists and is inside `root`.
async fn inside(root: &Path, path: &Path) -> Option<(PathBuf, Metadata)> {
    let real = tokio::fs::canonicalize(path).await.ok()?;
    if !real.starts_with(root) {
        return None;
    }
    let meta = tokio::fs::metadata(&real).await.ok()?;
    Some((real, meta))
}
