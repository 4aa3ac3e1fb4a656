//! reframe-host: serves the trunk-built site (`dist/`) at `/` and `models/` at `/models/`,
//! with the cross-origin-isolation and caching headers the app needs. See README.md.

mod cli;
mod compress;
mod csp;
mod handler;
mod offline;
mod paths;

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    let args = match cli::parse(std::env::args().skip(1)) {
        Ok(cli::Parsed::Run(args)) => args,
        Ok(cli::Parsed::Compress(dirs)) => return compress(&dirs),
        Ok(cli::Parsed::Csp(dir)) => {
            return match csp::seal(&dir) {
                Ok(policy) => {
                    println!("{}: {policy}", dir.join("index.html").display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("reframe-host: csp {}: {e}", dir.display());
                    ExitCode::FAILURE
                }
            }
        }
        Ok(cli::Parsed::Offline(dir)) => {
            return match offline::seal(&dir) {
                Ok(build) => {
                    println!(
                        "{}: version {}, {} files kept at install, {} when first used",
                        dir.join(offline::SERVICE_WORKER).display(),
                        build.version,
                        build.shell.len(),
                        build.lazy.len()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("reframe-host: offline {}: {e}", dir.display());
                    ExitCode::FAILURE
                }
            }
        }
        Ok(cli::Parsed::Help) => {
            println!("{}", cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("reframe-host: {msg}\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("reframe-host: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// `reframe-host compress DIR...`: prints what it wrote, one line.
fn compress(dirs: &[std::path::PathBuf]) -> ExitCode {
    let mut summary = compress::Summary::default();
    for dir in dirs {
        if let Err(e) = compress::compress(dir, &mut summary) {
            eprintln!("reframe-host: compress {}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
    }
    let mb = |b: u64| b as f64 / 1e6;
    println!(
        "compressed {} files: {:.1} MB as they are, {:.1} MB for browsers that take brotli, {:.1} MB with gzip",
        summary.files,
        mb(summary.bytes),
        mb(summary.brotli_bytes),
        mb(summary.gzip_bytes)
    );
    ExitCode::SUCCESS
}

async fn run(args: cli::Args) -> Result<(), String> {
    // Canonical roots: every served file is checked to lie under one of these.
    let site = std::fs::canonicalize(&args.root)
        .map_err(|e| format!("site folder {}: {e} (run `trunk build` first?)", args.root.display()))?;
    let models = match std::fs::canonicalize(&args.models) {
        Ok(dir) => Some(dir),
        Err(e) => {
            eprintln!("reframe-host: models folder {}: {e}; /models/ will 404", args.models.display());
            None
        }
    };
    // The page's Content-Security-Policy, sent as a header with every response.
    let csp = csp::PagePolicy::new(&site);
    let roots = Arc::new(handler::Roots { site, models, csp });

    let listener = tokio::net::TcpListener::bind(SocketAddr::new(args.addr, args.port))
        .await
        .map_err(|e| format!("bind {}:{}: {e}", args.addr, args.port))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;

    // The one line on stdout; tests and scripts parse the URL from it.
    println!("Serving {} at http://{local}/", args.root.display());
    std::io::stdout().flush().map_err(|e| e.to_string())?;

    let app = axum::Router::new().fallback(handler::handle).with_state(roots);
    axum::serve(listener, app).await.map_err(|e| e.to_string())
}
