//! Integration tests: spawn the real binary on a free port against a temporary
//! folder and talk raw HTTP/1.1 over a TcpStream (so paths like `/../x` reach the
//! server unnormalized, and no HTTP-client crate is needed).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const SECRET: &str = "SECRET-OUTSIDE-ROOT";

/// A running server plus its fixture folder; both cleaned up on drop.
struct Server {
    child: Child,
    addr: String,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn model_bytes() -> Vec<u8> {
    (0..1000u32).map(|i| (i % 251) as u8).collect()
}

/// Layout:  <tmp>/Cargo.toml, <tmp>/secret.txt (must never be served)
///          <tmp>/dist/{index.html, app.wasm, app.js, style.css, data.json, sub/index.html}
///          <tmp>/models/{model.bin, weights.onnx}
fn fixture() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "reframe-host-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let write = |rel: &str, data: &[u8]| {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    };
    write("Cargo.toml", SECRET.as_bytes());
    write("secret.txt", SECRET.as_bytes());
    write("dist/index.html", b"<!doctype html><title>reframe</title>");
    write("dist/app.wasm", b"\0asm\x01\0\0\0");
    write("dist/app.js", b"export const x = 1;");
    write("dist/style.css", b"body{}");
    write("dist/data.json", b"{}");
    write("dist/sub/index.html", b"sub index");
    write("models/model.bin", &model_bytes());
    write("models/weights.onnx", b"onnx");
    #[cfg(unix)]
    {
        use std::os::unix::fs::symlink;
        symlink("../secret.txt", dir.join("dist/escape.txt")).unwrap();
        symlink(dir.join("secret.txt"), dir.join("models/escape.bin")).unwrap();
        symlink("app.js", dir.join("dist/alias.js")).unwrap();
    }
    dir
}

fn start() -> Server {
    let dir = fixture();
    let mut child = Command::new(env!("CARGO_BIN_EXE_reframe-host"))
        .args(["--port", "0", "--root"])
        .arg(dir.join("dist"))
        .arg("--models")
        .arg(dir.join("models"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn reframe-host");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    // "Serving <root> at http://127.0.0.1:<port>/"
    let url = line.trim().rsplit(" at ").next().unwrap();
    assert!(line.starts_with("Serving "), "unexpected banner: {line:?}");
    let addr = url.strip_prefix("http://").unwrap().trim_end_matches('/').to_string();
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    Server { child, addr, dir }
}

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

impl Server {
    fn req(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Resp {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n", self.addr);
        for (k, v) in headers {
            head += &format!("{k}: {v}\r\n");
        }
        head += "\r\n";
        s.write_all(head.as_bytes()).unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("end of headers");
        let text = String::from_utf8(raw[..split].to_vec()).unwrap();
        let mut lines = text.split("\r\n");
        let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        Resp { status, headers, body: raw[split + 4..].to_vec() }
    }

    fn get(&self, path: &str) -> Resp {
        self.req("GET", path, &[])
    }
}

#[test]
fn serves_index_and_content_types() {
    let srv = start();
    let r = srv.get("/");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"<!doctype html><title>reframe</title>");
    assert_eq!(r.header("content-type"), Some("text/html"));
    for (path, mime) in [
        ("/app.wasm", "application/wasm"),
        ("/app.js", "text/javascript"),
        ("/style.css", "text/css"),
        ("/data.json", "application/json"),
        ("/models/model.bin", "application/octet-stream"),
        ("/models/weights.onnx", "application/octet-stream"),
    ] {
        let r = srv.get(path);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("content-type"), Some(mime), "{path}");
    }
    assert_eq!(srv.get("/sub/").body, b"sub index");
    assert_eq!(srv.get("/models/model.bin").body, model_bytes());
}

#[test]
fn missing_file_and_directory_redirect() {
    let srv = start();
    assert_eq!(srv.get("/nope.js").status, 404);
    assert_eq!(srv.get("/models/nope.bin").status, 404);
    let r = srv.get("/sub");
    assert_eq!(r.status, 307);
    assert_eq!(r.header("location"), Some("./sub/"));
    // The models folder has no index.html.
    assert_eq!(srv.get("/models/").status, 404);
}

#[test]
fn isolation_headers_on_every_response() {
    let srv = start();
    for path in ["/", "/app.wasm", "/models/model.bin", "/nope", "/../Cargo.toml"] {
        let r = srv.get(path);
        assert_eq!(r.header("cross-origin-opener-policy"), Some("same-origin"), "{path}");
        assert_eq!(r.header("cross-origin-embedder-policy"), Some("require-corp"), "{path}");
        assert_eq!(r.header("cross-origin-resource-policy"), Some("same-origin"), "{path}");
        assert_eq!(r.header("accept-ranges"), Some("bytes"), "{path}");
    }
}

#[test]
fn range_requests() {
    let srv = start();
    let all = model_bytes();
    let cases: [(&str, &str, &[u8]); 3] = [
        ("bytes=10-19", "bytes 10-19/1000", &all[10..20]),
        ("bytes=990-", "bytes 990-999/1000", &all[990..]),
        ("bytes=-5", "bytes 995-999/1000", &all[995..]),
    ];
    for (range, content_range, bytes) in cases {
        let r = srv.req("GET", "/models/model.bin", &[("Range", range)]);
        assert_eq!(r.status, 206, "{range}");
        assert_eq!(r.header("content-range"), Some(content_range), "{range}");
        assert_eq!(r.header("content-length"), Some(bytes.len().to_string().as_str()));
        assert_eq!(r.body, bytes, "{range}");
    }
    let r = srv.req("GET", "/models/model.bin", &[("Range", "bytes=5000-")]);
    assert_eq!(r.status, 416);
    assert_eq!(r.header("content-range"), Some("bytes */1000"));
    // Works on site files too.
    let r = srv.req("GET", "/app.wasm", &[("Range", "bytes=0-3")]);
    assert_eq!((r.status, r.body.as_slice()), (206, &b"\0asm"[..]));
}

#[test]
fn if_range_with_stale_etag_sends_whole_file() {
    let srv = start();
    let etag = srv.get("/models/model.bin").header("etag").unwrap().to_string();
    let r = srv.req("GET", "/models/model.bin", &[("Range", "bytes=0-9"), ("If-Range", &etag)]);
    assert_eq!(r.status, 206);
    let r = srv.req("GET", "/models/model.bin", &[("Range", "bytes=0-9"), ("If-Range", "\"old\"")]);
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), 1000);
}

#[test]
fn cache_headers() {
    let srv = start();
    let m = srv.get("/models/model.bin");
    assert_eq!(m.header("cache-control"), Some("public, max-age=31536000, immutable"));
    assert!(m.header("etag").is_some());
    for path in ["/", "/app.wasm"] {
        let s = srv.get(path);
        assert_eq!(s.header("cache-control"), Some("no-cache"), "{path}");
        assert!(s.header("etag").is_some(), "{path}");
        assert!(s.header("last-modified").is_some(), "{path}");
    }
    // A 404 under /models/ must not be cached as immutable.
    assert_eq!(srv.get("/models/nope").header("cache-control"), Some("no-cache"));
}

#[test]
fn if_none_match_gives_304() {
    let srv = start();
    for path in ["/models/model.bin", "/app.wasm", "/"] {
        let etag = srv.get(path).header("etag").unwrap().to_string();
        let r = srv.req("GET", path, &[("If-None-Match", &etag)]);
        assert_eq!(r.status, 304, "{path}");
        assert!(r.body.is_empty());
        assert_eq!(r.header("etag"), Some(etag.as_str()));
        assert!(r.header("cache-control").is_some());
        let weak = format!("\"x\", W/{etag}");
        assert_eq!(srv.req("GET", path, &[("If-None-Match", &weak)]).status, 304);
        assert_eq!(srv.req("GET", path, &[("If-None-Match", "\"other\"")]).status, 200);
    }
}

#[test]
fn traversal_is_refused() {
    let srv = start();
    for path in [
        "/../Cargo.toml",
        "/%2e%2e/Cargo.toml",
        "/%2E%2E/Cargo.toml",
        "/..%2fCargo.toml",
        "/%2e%2e%2fCargo.toml",
        "/sub/../../Cargo.toml",
        "/models/../../etc/passwd",
        "/models/../../Cargo.toml",
        "/models/%2e%2e/Cargo.toml",
        "/models/../secret.txt",
        "/..%5cCargo.toml",
        "/%5c..%5cCargo.toml",
        "/%00Cargo.toml",
        "//etc/passwd",
        "/%2fetc%2fpasswd",
        "/./index.html",
        "/escape.txt",
        "/models/escape.bin",
    ] {
        let r = srv.get(path);
        assert!(matches!(r.status, 400 | 404), "{path}: {}", r.status);
        assert!(!String::from_utf8_lossy(&r.body).contains(SECRET), "{path}");
    }
    // A raw backslash in the request line is rejected by the HTTP parser or by us.
    let r = srv.get("/..\\Cargo.toml");
    assert!(matches!(r.status, 400 | 404), "backslash: {}", r.status);
}

#[cfg(unix)]
#[test]
fn symlink_inside_root_is_served() {
    let srv = start();
    let r = srv.get("/alias.js");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/javascript"));
    assert_eq!(r.body, b"export const x = 1;");
}

#[test]
fn head_and_methods() {
    let srv = start();
    let r = srv.req("HEAD", "/models/model.bin", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some("1000"));
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    assert!(r.body.is_empty());
    let r = srv.req("HEAD", "/app.wasm", &[]);
    assert_eq!((r.status, r.header("content-type")), (200, Some("application/wasm")));
    for method in ["POST", "PUT", "DELETE", "OPTIONS"] {
        let r = srv.req(method, "/index.html", &[("Content-Length", "0")]);
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("allow"), Some("GET, HEAD"));
    }
}

#[test]
fn bad_arguments_exit_with_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_reframe-host")).arg("--bogus").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: reframe-host"));
    let missing = Path::new("/nonexistent-reframe-dist");
    let out =
        Command::new(env!("CARGO_BIN_EXE_reframe-host")).args(["--port", "0", "--root"]).arg(missing).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn precompressed_variants_go_to_browsers_that_take_them() {
    let s = start();
    let dist = s.dir.join("dist");
    // Stand-ins for what `reframe-host compress` writes (the server only picks files).
    std::fs::write(dist.join("app.js.br"), b"BROTLI").unwrap();
    std::fs::write(dist.join("app.js.gz"), b"GZIP").unwrap();
    // A variant older than its file (a rebuild without compressing again) is never sent.
    std::fs::write(dist.join("style.css.gz"), b"STALE").unwrap();
    let old = std::time::SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options().write(true).open(dist.join("style.css.gz")).unwrap().set_modified(old).unwrap();

    let br = s.req("GET", "/app.js", &[("Accept-Encoding", "gzip, deflate, br, zstd")]);
    assert_eq!(br.status, 200);
    assert_eq!(br.body, b"BROTLI");
    assert_eq!(br.header("content-encoding"), Some("br"));
    assert!(br.header("content-type").unwrap().contains("javascript"), "type of the file asked for");
    assert_eq!(br.header("vary"), Some("accept-encoding"));
    let gz = s.req("GET", "/app.js", &[("Accept-Encoding", "gzip")]);
    assert_eq!((gz.body.as_slice(), gz.header("content-encoding")), (&b"GZIP"[..], Some("gzip")));
    assert_ne!(gz.header("etag"), br.header("etag"), "each encoding has its own validator");
    let plain = s.req("GET", "/app.js", &[("Accept-Encoding", "br;q=0, gzip;q=0")]);
    assert_eq!((plain.body.as_slice(), plain.header("content-encoding")), (&b"export const x = 1;"[..], None));
    assert_eq!(s.get("/app.js").body, b"export const x = 1;", "no Accept-Encoding: the file itself");
    // The variant's own validator gives 304; the plain file's does not match it.
    let etag = br.header("etag").unwrap().to_string();
    let again = s.req("GET", "/app.js", &[("Accept-Encoding", "br"), ("If-None-Match", &etag)]);
    assert_eq!(again.status, 304);
    let stale = s.req("GET", "/style.css", &[("Accept-Encoding", "gzip")]);
    assert_eq!((stale.body.as_slice(), stale.header("content-encoding")), (&b"body{}"[..], None));
}

#[test]
fn compress_writes_variants_that_decode_to_the_files() {
    let dir = fixture();
    let big: Vec<u8> = (0..50_000u32).flat_map(|i| format!("fn f{}() {{}}\n", i % 300).into_bytes()).collect();
    std::fs::write(dir.join("dist/big.js"), &big).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_reframe-host")).arg("compress").arg(dir.join("dist")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("compressed "),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let gz = std::fs::read(dir.join("dist/big.js.gz")).unwrap();
    let unzipped = Command::new("gzip").args(["-dc"]).arg(dir.join("dist/big.js.gz")).output().unwrap();
    assert_eq!(unzipped.stdout, big, "gzip -d gives the file back");
    assert!(gz.len() < big.len() / 10);
    assert!(std::fs::metadata(dir.join("dist/big.js.br")).unwrap().len() < gz.len() as u64);
    assert!(!dir.join("dist/app.js.br").exists(), "files under 1 KB are left as they are");
    let none = Command::new(env!("CARGO_BIN_EXE_reframe-host")).arg("compress").output().unwrap();
    assert_eq!(none.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_pages_content_security_policy_comes_with_every_response() {
    let dir = fixture();
    let page = "<!doctype html><html><head><script type=\"module\">import './app.js';</script></head></html>";
    std::fs::write(dir.join("dist/index.html"), page).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_reframe-host")).arg("csp").arg(dir.join("dist")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let sealed = std::fs::read_to_string(dir.join("dist/index.html")).unwrap();
    assert!(sealed.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'self';"), "{sealed}");
    std::fs::remove_dir_all(&dir).unwrap();

    let s = start();
    for path in ["/", "/app.wasm", "/models/model.bin", "/missing"] {
        let r = s.get(path);
        let csp = r.header("content-security-policy").unwrap_or_else(|| panic!("{path}: no policy"));
        assert!(csp.starts_with("default-src 'self'; script-src 'self' 'wasm-unsafe-eval';"), "{path}: {csp}");
        assert!(csp.ends_with("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"));
    }
    // A rebuild while the server runs: the new page's start-up script is allowed at once.
    let before = s.get("/").header("content-security-policy").unwrap().to_string();
    let page = "<html><head><script type=\"module\">import './new.js';</script></head></html>";
    std::fs::write(s.dir.join("dist/index.html"), page).unwrap();
    let later = std::time::SystemTime::now() + Duration::from_secs(5);
    std::fs::File::options().write(true).open(s.dir.join("dist/index.html")).unwrap().set_modified(later).unwrap();
    let after = s.get("/").header("content-security-policy").unwrap().to_string();
    assert!(!before.contains("sha256-") && after.contains("'sha256-"), "{before} -> {after}");
}
