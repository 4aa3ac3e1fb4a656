//! Precompressed assets: `reframe-host compress DIR...` writes `NAME.br` (brotli) and `NAME.gz`
//! (gzip) beside each file under the folders where that saves at least a tenth (wasm, JS, CSS,
//! HTML, some weights), and removes variants that no longer pay. The server then sends a
//! variant to a browser that accepts its encoding ([`negotiate`]), unless the variant is older
//! than its file (a rebuild without compressing again).

use std::fs::Metadata;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Files smaller than this are sent as they are (the headers would eat the gain).
const MIN_BYTES: u64 = 1024;
/// A variant must be at most this share of its file to be kept.
const MAX_SHARE: f64 = 0.9;
/// brotli quality (0-11) and window (log2 bytes): 9 gets within a few percent of 11 on our wasm
/// in a fraction of the time; the 16 MB window sees far back in large files.
const BROTLI_QUALITY: u32 = 9;
const BROTLI_WINDOW: u32 = 24;

/// A content encoding the server can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Brotli,
    Gzip,
}

impl Encoding {
    /// Best first.
    const ALL: [Encoding; 2] = [Encoding::Brotli, Encoding::Gzip];

    /// The `Content-Encoding` / `Accept-Encoding` token.
    pub fn token(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Gzip => "gzip",
        }
    }

    /// The variant file's suffix.
    fn suffix(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Gzip => "gz",
        }
    }

    fn variant_of(self, file: &Path) -> PathBuf {
        let mut name = file.as_os_str().to_owned();
        name.push(".");
        name.push(self.suffix());
        PathBuf::from(name)
    }

    fn encode(self, data: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        match self {
            Encoding::Brotli => {
                let params = brotli::enc::BrotliEncoderParams {
                    quality: BROTLI_QUALITY as i32,
                    lgwin: BROTLI_WINDOW as i32,
                    ..Default::default()
                };
                brotli::BrotliCompress(&mut &data[..], &mut out, &params)?;
            }
            Encoding::Gzip => {
                let mut gz = flate2::write::GzEncoder::new(&mut out, flate2::Compression::best());
                gz.write_all(data)?;
                gz.finish()?;
            }
        }
        Ok(out)
    }
}

/// Whether `accept` (an `Accept-Encoding` value) allows `token`: listed (or `*`) without `q=0`.
fn accepts(accept: &str, token: &str) -> bool {
    let mut star = false;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or_default().trim();
        let zero = parts.any(|p| {
            let p = p.trim();
            p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")).and_then(|q| q.trim().parse::<f32>().ok())
                == Some(0.0)
        });
        if name.eq_ignore_ascii_case(token) {
            return !zero;
        }
        if name == "*" {
            star = !zero;
        }
    }
    star
}

/// The best variant of `file` (with `meta`) that `accept` allows and that is not older than
/// the file: its encoding, path and metadata.
pub async fn negotiate(accept: Option<&str>, file: &Path, meta: &Metadata) -> Option<(Encoding, PathBuf, Metadata)> {
    let accept = accept?;
    let modified = meta.modified().ok()?;
    for encoding in Encoding::ALL {
        if !accepts(accept, encoding.token()) {
            continue;
        }
        let path = encoding.variant_of(file);
        if let Ok(vmeta) = tokio::fs::metadata(&path).await {
            if vmeta.is_file() && vmeta.modified().is_ok_and(|m| m >= modified) {
                return Some((encoding, path, vmeta));
            }
        }
    }
    None
}

/// What `compress` did.
#[derive(Debug, Default)]
pub struct Summary {
    pub files: usize,
    pub bytes: u64,
    /// Bytes a browser that takes brotli downloads (each file's smallest form it accepts).
    pub brotli_bytes: u64,
    pub gzip_bytes: u64,
}

/// Writes the variants of every file under `dir` (see the module docs). Each file and encoding
/// is one task; the tasks run on every core, largest file first (the detector's wasm alone takes
/// most of the time).
pub fn compress(dir: &Path, summary: &mut Summary) -> io::Result<()> {
    let mut files = Vec::new();
    collect(dir, &mut files)?;
    files.sort_by_key(|(_, size)| std::cmp::Reverse(*size));
    let tasks: Vec<(usize, Encoding)> =
        (0..files.len()).flat_map(|f| Encoding::ALL.into_iter().map(move |e| (f, e))).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    // The bytes each file is sent as, per encoding (its own size where no variant pays).
    let sent = std::sync::Mutex::new(files.iter().map(|(_, size)| [*size; 2]).collect::<Vec<_>>());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(tasks.len().max(1));
    std::thread::scope(|scope| -> io::Result<()> {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| -> io::Result<()> {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&(f, encoding)) = tasks.get(i) else { return Ok(()) };
                        let (path, size) = &files[f];
                        if let Some(len) = write_variant(path, *size, encoding)? {
                            let slot = if encoding == Encoding::Brotli { 0 } else { 1 };
                            sent.lock().unwrap_or_else(|e| e.into_inner())[f][slot] = len;
                        }
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().map_err(|_| io::Error::other("a compression thread panicked"))??;
        }
        Ok(())
    })?;
    for ((_, size), [br, gz]) in files.iter().zip(sent.into_inner().unwrap_or_else(|e| e.into_inner())) {
        summary.files += 1;
        summary.bytes += size;
        summary.brotli_bytes += br.min(gz);
        summary.gzip_bytes += gz;
    }
    Ok(())
}

/// Every file under `dir` that is not a variant, with its size.
fn collect(dir: &Path, out: &mut Vec<(PathBuf, u64)>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            collect(&path, out)?;
            continue;
        }
        let is_variant = Encoding::ALL.iter().any(|e| path.extension().is_some_and(|x| x == e.suffix()));
        if kind.is_file() && !is_variant {
            out.push((path, entry.metadata()?.len()));
        }
    }
    Ok(())
}

/// Writes `path`'s variant in `encoding` where it pays (answers its size), else removes a stale one.
fn write_variant(path: &Path, size: u64, encoding: Encoding) -> io::Result<Option<u64>> {
    let variant = encoding.variant_of(path);
    let packed = if size >= MIN_BYTES { Some(encoding.encode(&std::fs::read(path)?)?) } else { None };
    match packed.filter(|p| (p.len() as f64) <= size as f64 * MAX_SHARE) {
        Some(p) => {
            std::fs::write(&variant, &p)?;
            Ok(Some(p.len() as u64))
        }
        None => match std::fs::remove_file(&variant) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(None),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_is_read_with_its_weights() {
        assert!(accepts("gzip, deflate, br, zstd", "br"));
        assert!(accepts("gzip, deflate, br, zstd", "gzip"));
        assert!(!accepts("gzip", "br"));
        assert!(!accepts("br;q=0, gzip", "br"));
        assert!(accepts("br;q=0.5", "br"));
        assert!(accepts("*", "br"));
        assert!(!accepts("*, br;q=0", "br"));
        assert!(!accepts("identity", "gzip"));
    }

    #[test]
    fn variants_round_trip_and_are_kept_only_when_they_pay() {
        let dir = std::env::temp_dir().join(format!("reframe-compress-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let text: Vec<u8> = (0..20_000).flat_map(|i: u32| format!("line {} ", i % 97).into_bytes()).collect();
        // xorshift64: bytes no compressor can shrink.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let noise: Vec<u8> = (0..20_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 56) as u8
            })
            .collect();
        std::fs::write(dir.join("sub/app.js"), &text).unwrap();
        std::fs::write(dir.join("noise.bin"), &noise).unwrap();
        std::fs::write(dir.join("noise.bin.br"), b"stale").unwrap();
        std::fs::write(dir.join("tiny.css"), b"body{}").unwrap();
        let mut summary = Summary::default();
        compress(&dir, &mut summary).unwrap();
        assert_eq!(summary.files, 3);
        let br = std::fs::read(dir.join("sub/app.js.br")).unwrap();
        let mut back = Vec::new();
        brotli::BrotliDecompress(&mut &br[..], &mut back).unwrap();
        assert_eq!(back, text);
        let gz = std::fs::read(dir.join("sub/app.js.gz")).unwrap();
        let mut back = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut back).unwrap();
        assert_eq!(back, text);
        assert!(br.len() < text.len() / 5 && gz.len() < text.len() / 5);
        // Noise does not compress: no variant, and the stale one is gone; tiny files stay as they are.
        for gone in ["noise.bin.br", "noise.bin.gz", "tiny.css.br", "tiny.css.gz"] {
            assert!(!dir.join(gone).exists(), "{gone}");
        }
        assert!(summary.brotli_bytes < summary.bytes && summary.brotli_bytes <= summary.gzip_bytes);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
