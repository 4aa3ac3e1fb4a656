//! Files in the origin-private file system (OPFS), written and read through synchronous access
//! handles (workers only), so outputs never sit in memory.
//!
//! Layout: `outputs/<name>.mp4` (finished videos) and `jobs/<job id>/seg-<n>.bin` (the encoded
//! frames of each output segment of an unfinished job, back to back).

use crate::js;
use reframe_core::mux::ByteSink;
use reframe_core::ReframeError;
use wasm_bindgen::JsCast;
use web_sys::{
    FileSystemDirectoryHandle, FileSystemFileHandle, FileSystemGetFileOptions, FileSystemReadWriteOptions,
    FileSystemSyncAccessHandle,
};

/// Folder that holds finished outputs.
pub const OUTPUT_DIR: &str = "outputs";
/// Folder that holds the segments of unfinished jobs, one sub-folder per job.
pub const JOBS_DIR: &str = "jobs";

async fn root() -> Result<FileSystemDirectoryHandle, ReframeError> {
    let storage = js::worker_scope().navigator().storage();
    Ok(js::wait(storage.get_directory(), js::storage_error).await?.unchecked_into())
}

/// The folder at `path` (`a/b`), created when `create`.
async fn dir(path: &str, create: bool) -> Result<FileSystemDirectoryHandle, ReframeError> {
    let mut d = root().await?;
    for part in path.split('/').filter(|p| !p.is_empty()) {
        let opts = web_sys::FileSystemGetDirectoryOptions::new();
        opts.set_create(create);
        d = js::wait(d.get_directory_handle_with_options(part, &opts), js::storage_error).await?.unchecked_into();
    }
    Ok(d)
}

fn split(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

/// Free bytes the browser lets this site use, if it says.
pub async fn free_bytes() -> Option<f64> {
    let storage = js::worker_scope().navigator().storage();
    let estimate = js::wait(storage.estimate().ok()?, js::storage_error).await.ok()?;
    let quota = js::get(&estimate, "quota").as_f64()?;
    let usage = js::get(&estimate, "usage").as_f64().unwrap_or(0.0);
    Some(quota - usage)
}

/// An OPFS file open for reading and writing.
pub struct OpfsFile {
    handle: FileSystemSyncAccessHandle,
}

impl OpfsFile {
    async fn open_with(path: &str, create: bool) -> Result<OpfsFile, ReframeError> {
        let (folder, name) = split(path);
        let d = dir(folder, create).await?;
        let opts = FileSystemGetFileOptions::new();
        opts.set_create(create);
        let file: FileSystemFileHandle =
            js::wait(d.get_file_handle_with_options(name, &opts), js::storage_error).await?.unchecked_into();
        let handle: FileSystemSyncAccessHandle =
            js::wait(file.create_sync_access_handle(), js::storage_error).await?.unchecked_into();
        Ok(OpfsFile { handle })
    }

    /// Creates (or empties) the file at `path`, making its folders.
    pub async fn create(path: &str) -> Result<OpfsFile, ReframeError> {
        let f = OpfsFile::open_with(path, true).await?;
        f.handle.truncate_with_f64(0.0).map_err(|e| js::storage_error(&e))?;
        Ok(f)
    }

    /// Opens an existing file.
    pub async fn open(path: &str) -> Result<OpfsFile, ReframeError> {
        OpfsFile::open_with(path, false).await
    }

    pub fn size(&self) -> u64 {
        self.handle.get_size().unwrap_or(0.0) as u64
    }

    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ReframeError> {
        let opts = FileSystemReadWriteOptions::new();
        opts.set_at(offset as f64);
        let read = self.handle.read_with_u8_array_and_options(buf, &opts).map_err(|e| js::storage_error(&e))?;
        if (read as usize) < buf.len() {
            return Err(ReframeError::Storage(format!(
                "a stored file ends early ({read} of {} bytes at {offset})",
                buf.len()
            )));
        }
        Ok(())
    }

    pub fn flush(&self) -> Result<(), ReframeError> {
        self.handle.flush().map_err(|e| js::storage_error(&e))
    }
}

/// A sync access handle locks its file until closed: closing on drop frees it on every path.
impl Drop for OpfsFile {
    fn drop(&mut self) {
        let _ = self.handle.flush();
        self.handle.close();
    }
}

impl ByteSink for OpfsFile {
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), ReframeError> {
        let opts = FileSystemReadWriteOptions::new();
        opts.set_at(offset as f64);
        let view = unsafe { js_sys::Uint8Array::view(data) };
        let written =
            self.handle.write_with_buffer_source_and_options(&view, &opts).map_err(|e| js::storage_error(&e))?;
        if (written as usize) < data.len() {
            return Err(ReframeError::StorageFull);
        }
        Ok(())
    }
}

/// Size of the file at `path`, if it exists.
pub async fn file_size(path: &str) -> Option<u64> {
    let (folder, name) = split(path);
    let d = dir(folder, false).await.ok()?;
    let handle: FileSystemFileHandle =
        js::wait(d.get_file_handle(name), js::storage_error).await.ok()?.unchecked_into();
    let file: web_sys::File = js::wait(handle.get_file(), js::storage_error).await.ok()?.unchecked_into();
    Some(file.size() as u64)
}

/// Deletes a file or a folder (with its contents); missing is fine.
pub async fn remove(path: &str) {
    let (folder, name) = split(path);
    if let Ok(d) = dir(folder, false).await {
        let opts = web_sys::FileSystemRemoveOptions::new();
        opts.set_recursive(true);
        let _ = js::wait(d.remove_entry_with_options(name, &opts), js::storage_error).await;
    }
}

/// The folder of a job's segments, and the path of one segment.
pub fn job_dir(job_id: &str) -> String {
    format!("{JOBS_DIR}/{job_id}")
}

pub fn segment_path(job_id: &str, index: u64) -> String {
    format!("{JOBS_DIR}/{job_id}/seg-{index:06}.bin")
}
