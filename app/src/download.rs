//! The finished output: a `File` from the origin-private file system, offered through an
//! object URL. The browser streams it from disk; it is never read into memory.

use reframe_core::ReframeError;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{FileSystemDirectoryHandle, FileSystemFileHandle};

/// An object URL for `path` (`folder/name`) in OPFS.
pub async fn object_url(path: &str) -> Result<String, ReframeError> {
    let file = opfs_file(path).await?;
    web_sys::Url::create_object_url_with_blob(&file).map_err(|_| ReframeError::OutputUnreadable("url".into()))
}

/// The `File` at `path` (`folder/name`) in OPFS (its bytes stay on disk until read).
pub async fn opfs_file(path: &str) -> Result<web_sys::File, ReframeError> {
    let fail = |what: &str| ReframeError::OutputUnreadable(what.to_string());
    let storage = gloo::utils::window().navigator().storage();
    let root = JsFuture::from(storage.get_directory()).await.map_err(|_| fail("storage"))?;
    let mut dir: FileSystemDirectoryHandle = root.unchecked_into();
    let mut parts: Vec<&str> = path.split('/').collect();
    let name = parts.pop().ok_or_else(|| fail("name"))?;
    for folder in parts {
        dir = JsFuture::from(dir.get_directory_handle(folder)).await.map_err(|_| fail("folder"))?.unchecked_into();
    }
    let handle: FileSystemFileHandle =
        JsFuture::from(dir.get_file_handle(name)).await.map_err(|_| fail("file"))?.unchecked_into();
    Ok(JsFuture::from(handle.get_file()).await.map_err(|_| fail("read"))?.unchecked_into())
}

/// Offers the finished files at `paths` (OPFS) as one ZIP named `zip_name`, each under its
/// download name. The archive is a `Blob` of the ZIP headers (`reframe_core::zip`) and the files
/// themselves, so it is never built in memory: the browser's download reads the files from disk.
/// Each file is read once, in pieces, for its CRC-32; `on_progress` gets the share read.
pub async fn save_zip(
    files: &[(String, String)],
    zip_name: &str,
    on_progress: impl Fn(f64),
) -> Result<(), ReframeError> {
    let fail = |what: &str| ReframeError::OutputUnreadable(what.to_string());
    let mut opened = Vec::new();
    for (path, _) in files {
        opened.push(opfs_file(path).await?);
    }
    let total: f64 = opened.iter().map(|f| f.size()).sum::<f64>().max(1.0);
    let mut read = 0.0;
    let mut members = Vec::new();
    let mut names = std::collections::HashSet::new();
    for (file, (_, name)) in opened.iter().zip(files) {
        let mut hasher = crc32fast::Hasher::new();
        let size = file.size();
        let mut at = 0.0;
        while at < size {
            let end = (at + CRC_PIECE).min(size);
            let piece = file.slice_with_f64_and_f64(at, end).map_err(|_| fail("slice"))?;
            let buf = JsFuture::from(piece.array_buffer()).await.map_err(|_| fail("read"))?;
            hasher.update(&js_sys::Uint8Array::new(&buf).to_vec());
            read += end - at;
            on_progress(read / total);
            at = end;
        }
        members.push(reframe_core::zip::Member {
            name: unique_name(&mut names, name),
            size: size as u64,
            crc32: hasher.finalize(),
        });
    }
    let headers = reframe_core::zip::headers(&members);
    let parts = js_sys::Array::new();
    for (local, file) in headers.locals.iter().zip(&opened) {
        parts.push(&js_sys::Uint8Array::from(&local[..]));
        parts.push(file);
    }
    parts.push(&js_sys::Uint8Array::from(&headers.end[..]));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/zip");
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(|_| fail("zip"))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| fail("url"))?;
    save_as(&url, zip_name);
    // The download holds the blob from here; the URL goes after a while.
    gloo::timers::callback::Timeout::new(60_000, move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    })
    .forget();
    Ok(())
}

/// Bytes read at a time for a CRC-32.
const CRC_PIECE: f64 = 8.0 * 1024.0 * 1024.0;

/// `name`, or `name (2)`, … when the archive has it already.
fn unique_name(taken: &mut std::collections::HashSet<String>, name: &str) -> String {
    let (stem, ext) = name.rsplit_once('.').map_or((name, ""), |(s, e)| (s, e));
    let mut candidate = name.to_string();
    let mut n = 2;
    while !taken.insert(candidate.clone()) {
        candidate = if ext.is_empty() { format!("{stem} ({n})") } else { format!("{stem} ({n}).{ext}") };
        n += 1;
    }
    candidate
}

/// Saves the file behind `url` as `name` (a click on a temporary download link).
pub fn save_as(url: &str, name: &str) {
    let document = gloo::utils::document();
    if let Ok(a) = document.create_element("a") {
        let _ = a.set_attribute("href", url);
        let _ = a.set_attribute("download", name);
        if let Some(a) = a.dyn_ref::<web_sys::HtmlElement>() {
            a.click();
        }
    }
}
