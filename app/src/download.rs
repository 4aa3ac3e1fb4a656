//! The finished output: a `File` from the origin-private file system, offered through an
//! object URL. The browser streams it from disk; it is never read into memory.

use reframe_core::ReframeError;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{FileSystemDirectoryHandle, FileSystemFileHandle};

/// An object URL for `path` (`folder/name`) in OPFS.
pub async fn object_url(path: &str) -> Result<String, ReframeError> {
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
    let file: web_sys::File = JsFuture::from(handle.get_file()).await.map_err(|_| fail("read"))?.unchecked_into();
    web_sys::Url::create_object_url_with_blob(&file).map_err(|_| fail("url"))
}
