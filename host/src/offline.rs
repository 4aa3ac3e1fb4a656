//! The offline copy: `reframe-host offline DIR` writes into the service worker `DIR/sw.js` (from
//! `www/sw.js`) which files make up this build, each with its sha256, and the build's version (a
//! hash of them all). The service worker keeps the files of one version in a cache named after
//! it, and takes from the network only the bytes of its own version, so a page never mixes the
//! JavaScript of one release with the wasm of another.
//!
//! Three kinds of files:
//! - the shell (the page, its script and wasm, the pipeline worker, styles, manifest, icons): kept
//!   when the service worker installs, so the page opens without a network after the first visit;
//! - the detector worker (`reframe-detect-worker*`, 25 MB of wasm): kept when auto mode first
//!   fetches it, since a fixed-crop user never needs it (issue 20's light first load);
//! - the models (`models/`): not listed: the pipeline worker keeps each weight file in its own
//!   cache by its checksum (`worker/src/detect.rs`), across versions.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::io;
use std::path::Path;

/// The service worker's file name in the site folder.
pub const SERVICE_WORKER: &str = "sw.js";
/// The one line of `sw.js` this step rewrites.
const BUILD_LINE: &str = "const BUILD = ";

/// What a build is made of, as the service worker reads it.
#[derive(Debug, PartialEq)]
pub struct Build {
    pub version: String,
    /// Path (relative to the site, `/`-separated) and lowercase hex sha256.
    pub shell: Vec<(String, String)>,
    pub lazy: Vec<(String, String)>,
}

impl Build {
    /// The files under `dir` (sorted), less the service worker itself, the precompressed
    /// variants and the models.
    pub fn of_site(dir: &Path) -> io::Result<Build> {
        let mut files = Vec::new();
        collect(dir, "", &mut files)?;
        files.sort();
        let mut all = Sha256::new();
        let (mut shell, mut lazy) = (Vec::new(), Vec::new());
        for path in files {
            let sha = hex(&Sha256::digest(std::fs::read(dir.join(&path))?));
            all.update(format!("{path} {sha}\n"));
            if path.starts_with("reframe-detect-worker") {
                lazy.push((path, sha));
            } else {
                shell.push((path, sha));
            }
        }
        Ok(Build { version: hex(&all.finalize())[..16].to_string(), shell, lazy })
    }

    /// The `const BUILD = {...};` line.
    pub fn line(&self) -> String {
        let map = |files: &[(String, String)]| -> Map<String, Value> {
            files.iter().map(|(p, s)| (p.clone(), Value::String(s.clone()))).collect()
        };
        let value = json!({ "version": self.version, "shell": map(&self.shell), "lazy": map(&self.lazy) });
        format!("{BUILD_LINE}{value};")
    }
}

fn collect(dir: &Path, prefix: &str, out: &mut Vec<String>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = format!("{prefix}{name}");
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if path != "models" {
                collect(&entry.path(), &format!("{path}/"), out)?;
            }
        } else if path != SERVICE_WORKER && !name.ends_with(".br") && !name.ends_with(".gz") {
            out.push(path);
        }
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `sw.js` with its build line replaced.
pub fn with_build(script: &str, build: &Build) -> Result<String, String> {
    let start = script.find(BUILD_LINE).ok_or("sw.js has no `const BUILD = ` line")?;
    let end = script[start..].find('\n').map_or(script.len(), |e| start + e);
    Ok(format!("{}{}{}", &script[..start], build.line(), &script[end..]))
}

/// `reframe-host offline DIR`: writes the build into `DIR/sw.js`; answers it.
pub fn seal(dir: &Path) -> io::Result<Build> {
    let path = dir.join(SERVICE_WORKER);
    let script = std::fs::read_to_string(&path)?;
    let build = Build::of_site(dir)?;
    let sealed = with_build(&script, &build).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    std::fs::write(&path, sealed)?;
    Ok(build)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_lists_every_file_by_its_hash_and_its_version_follows_them() {
        let dir = std::env::temp_dir().join(format!("reframe-offline-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("icons")).unwrap();
        std::fs::create_dir_all(dir.join("models/centernet")).unwrap();
        let write = |p: &str, b: &str| std::fs::write(dir.join(p), b).unwrap();
        write("index.html", "<html></html>");
        write("index.html.br", "x");
        write("app-1.wasm", "wasm");
        write("icons/icon-192.png", "png");
        write("reframe-detect-worker_bg.wasm", "detector");
        write("models/centernet/centernet_person.bpk", "weights");
        write("sw.js", "// kept\nconst BUILD = {\"version\":\"dev\",\"shell\":{},\"lazy\":{}};\nself.x = 1;\n");

        let build = seal(&dir).unwrap();
        let paths = |f: &[(String, String)]| f.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
        assert_eq!(paths(&build.shell), ["app-1.wasm", "icons/icon-192.png", "index.html"]);
        assert_eq!(paths(&build.lazy), ["reframe-detect-worker_bg.wasm"]);
        // sha256("wasm")
        assert_eq!(build.shell[0].1, "336154bf67f765f8f75d16a0accee61b5ee5f6a75b2a2905703df913bd550f3e");
        let script = std::fs::read_to_string(dir.join("sw.js")).unwrap();
        assert!(script.starts_with("// kept\nconst BUILD = {") && script.ends_with("};\nself.x = 1;\n"), "{script}");
        assert!(script.contains(&format!("\"version\":\"{}\"", build.version)));
        assert_eq!(build.version.len(), 16);

        // Sealing again (sw.js itself is not listed) gives the same version; any change moves it.
        assert_eq!(seal(&dir).unwrap(), build);
        write("reframe-detect-worker_bg.wasm", "detector 2");
        assert_ne!(seal(&dir).unwrap().version, build.version);
        let _ = std::fs::remove_dir_all(&dir);
        assert!(with_build("self.x = 1;", &build).is_err());
    }
}
