//! Output storage in the origin-private file system (OPFS), written through a synchronous access
//! handle (workers only), so the output never sits in memory.

use crate::js;
use reframe_core::mux::ByteSink;
use reframe_core::ReframeError;
use wasm_bindgen::JsCast;
use web_sys::{FileSystemDirectoryHandle, FileSystemFileHandle, FileSystemGetFileOptions, FileSystemReadWriteOptions, FileSystemSyncAccessHandle};

/// Folder in OPFS that holds finished and running outputs.
pub const OUTPUT_DIR: &str = "outputs";

async fn output_dir() -> Result<FileSystemDirectoryHandle, ReframeError> {
    let storage = js::worker_scope().navigator().storage();
    let root: FileSystemDirectoryHandle = js::wait(storage.get_directory(), js::storage_error).await?.unchecked_into();
    let opts = web_sys::FileSystemGetDirectoryOptions::new();
    opts.set_create(true);
    let dir = js::wait(root.get_directory_handle_with_options(OUTPUT_DIR, &opts), js::storage_error).await?;
    Ok(dir.unchecked_into())
}

/// Free bytes the browser lets this site use, if it says.
pub async fn free_bytes() -> Option<f64> {
    let storage = js::worker_scope().navigator().storage();
    let estimate = js::wait(storage.estimate().ok()?, js::storage_error).await.ok()?;
    let quota = js::get(&estimate, "quota").as_f64()?;
    let usage = js::get(&estimate, "usage").as_f64().unwrap_or(0.0);
    Some(quota - usage)
}

/// An output file being written.
pub struct OpfsFile {
    handle: FileSystemSyncAccessHandle,
}

impl OpfsFile {
    /// Creates (or truncates) `name` in the outputs folder.
    pub async fn create(name: &str) -> Result<OpfsFile, ReframeError> {
        let dir = output_dir().await?;
        let opts = FileSystemGetFileOptions::new();
        opts.set_create(true);
        let file: FileSystemFileHandle =
            js::wait(dir.get_file_handle_with_options(name, &opts), js::storage_error).await?.unchecked_into();
        let handle: FileSystemSyncAccessHandle =
            js::wait(file.create_sync_access_handle(), js::storage_error).await?.unchecked_into();
        handle.truncate_with_f64(0.0).map_err(|e| js::storage_error(&e))?;
        Ok(OpfsFile { handle })
    }

    pub fn flush(&self) -> Result<(), ReframeError> {
        self.handle.flush().map_err(|e| js::storage_error(&e))
    }

    pub fn close(self) {
        let _ = self.handle.flush();
        self.handle.close();
    }
}

impl ByteSink for OpfsFile {
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), ReframeError> {
        let opts = FileSystemReadWriteOptions::new();
        opts.set_at(offset as f64);
        let view = unsafe { js_sys::Uint8Array::view(data) };
        let written = self
            .handle
            .write_with_buffer_source_and_options(&view, &opts)
            .map_err(|e| js::storage_error(&e))?;
        if (written as usize) < data.len() {
            return Err(ReframeError::StorageFull);
        }
        Ok(())
    }
}

/// Deletes an output (used when a job fails or is cancelled, so no half file is left).
pub async fn remove(name: &str) {
    if let Ok(dir) = output_dir().await {
        let _ = js::wait(dir.remove_entry(name), js::storage_error).await;
    }
}
