//! `zkpor`: zero-knowledge proofs of an exchange's liabilities.

mod cli;
mod devtools;
mod progress;
mod table;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    if !args.is_service() {
        end_quietly_on_closed_output();
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(args.default_log_level()));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match cli::run(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// A report piped into a reader that stops early (`zkpor exchange check DIR
/// | head`) ends the process quietly, as other Unix tools do, instead of
/// panicking on the broken pipe: the default action of SIGPIPE, which Rust
/// programs ignore unless told. Services keep ignoring it, so that a peer
/// that goes away is an error they handle.
fn end_quietly_on_closed_output() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to its default before any other
    // thread starts; no handler is installed.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
