//! Command-line flags. Hand-parsed: four flags and a subcommand do not justify an argument-parser crate.

use std::net::IpAddr;
use std::path::PathBuf;

pub const USAGE: &str = "usage: reframe-host [--port N] [--addr 127.0.0.1] [--root dist] [--models models]\n       \
                         reframe-host compress DIR... (write .br and .gz variants of the files under DIR)\n       \
                         reframe-host csp DIR (write the Content-Security-Policy into DIR/index.html)\n       \
                         reframe-host offline DIR (write the build's files and version into DIR/sw.js)";

#[derive(Debug)]
pub struct Args {
    /// TCP port; 0 lets the OS pick a free one (the chosen port is printed).
    pub port: u16,
    /// Interface to bind; loopback by default so the dev server is not exposed.
    pub addr: IpAddr,
    /// The trunk-built site, served at `/`.
    pub root: PathBuf,
    /// Model files, served at `/models/`.
    pub models: PathBuf,
}

/// What the command line asked for.
pub enum Parsed {
    Run(Args),
    /// Write the precompressed variants of the files under these folders, then exit.
    Compress(Vec<PathBuf>),
    /// Write the Content-Security-Policy into this folder's `index.html`, then exit.
    Csp(PathBuf),
    /// Write the build's files and version into this folder's service worker, then exit.
    Offline(PathBuf),
    Help,
}

/// Parses `--flag value` and `--flag=value`. Errors are messages for stderr.
pub fn parse(argv: impl Iterator<Item = String>) -> Result<Parsed, String> {
    let mut argv = argv.peekable();
    if argv.peek().is_some_and(|a| a == "compress") {
        let dirs: Vec<PathBuf> = argv.skip(1).map(PathBuf::from).collect();
        if dirs.is_empty() {
            return Err("compress needs at least one folder".into());
        }
        return Ok(Parsed::Compress(dirs));
    }
    for (name, step) in [("csp", Parsed::Csp as fn(PathBuf) -> Parsed), ("offline", Parsed::Offline)] {
        if argv.peek().is_some_and(|a| a == name) {
            let dirs: Vec<PathBuf> = argv.skip(1).map(PathBuf::from).collect();
            return match <[PathBuf; 1]>::try_from(dirs) {
                Ok([dir]) => Ok(step(dir)),
                Err(_) => Err(format!("{name} needs one folder")),
            };
        }
    }
    let mut args = Args {
        port: 8080,
        addr: IpAddr::from([127, 0, 0, 1]),
        root: PathBuf::from("dist"),
        models: PathBuf::from("models"),
    };
    while let Some(arg) = argv.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(Parsed::Help);
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_string(), Some(value.to_string())),
            None => (arg, None),
        };
        let mut value = || inline.clone().or_else(|| argv.next()).ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--port" => args.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--addr" => args.addr = value()?.parse().map_err(|e| format!("--addr: {e}"))?,
            "--root" => args.root = value()?.into(),
            "--models" => args.models = value()?.into(),
            _ => return Err(format!("unknown argument: {flag}")),
        }
    }
    Ok(Parsed::Run(args))
}
