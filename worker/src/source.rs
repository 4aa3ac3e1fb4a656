//! The input `File`, read by slices with `FileReaderSync` (synchronous, allowed in workers).
//!
//! Never reads the whole file: a window of a few MB is cached, which covers the interleaved
//! audio and video samples the pipeline reads in order.

use reframe_core::demux::ByteSource;
use reframe_core::ReframeError;
use web_sys::{File, FileReaderSync};

const WINDOW: u64 = 4 << 20;

pub struct FileSource {
    file: File,
    reader: FileReaderSync,
    len: u64,
    window_start: u64,
    window: Vec<u8>,
}

impl FileSource {
    pub fn new(file: File) -> Result<FileSource, ReframeError> {
        let reader = FileReaderSync::new().map_err(|e| ReframeError::Read(crate::js::describe(&e).1))?;
        let len = file.size() as u64;
        Ok(FileSource { file, reader, len, window_start: 0, window: Vec::new() })
    }

    fn read_slice(&self, start: u64, end: u64) -> Result<Vec<u8>, ReframeError> {
        let blob = self
            .file
            .slice_with_f64_and_f64(start as f64, end as f64)
            .map_err(|e| ReframeError::Read(crate::js::describe(&e).1))?;
        let buffer = self.reader.read_as_array_buffer(&blob).map_err(|e| {
            let (name, message) = crate::js::describe(&e);
            ReframeError::Read(format!("{name} {message}").trim().to_string())
        })?;
        Ok(js_sys::Uint8Array::new(&buffer).to_vec())
    }
}

impl ByteSource for FileSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), ReframeError> {
        let end = offset + buf.len() as u64;
        if end > self.len {
            return Err(ReframeError::Corrupt("the file ends early".into()));
        }
        let window_end = self.window_start + self.window.len() as u64;
        if offset < self.window_start || end > window_end {
            // Large reads (a moov) go straight through; small ones refill the window.
            if buf.len() as u64 >= WINDOW {
                let data = self.read_slice(offset, end)?;
                buf.copy_from_slice(&data);
                return Ok(());
            }
            let new_end = (offset + WINDOW).min(self.len);
            self.window = self.read_slice(offset, new_end)?;
            self.window_start = offset;
        }
        let start = (offset - self.window_start) as usize;
        buf.copy_from_slice(&self.window[start..start + buf.len()]);
        Ok(())
    }
}
