//! envdoctor: probes read the machine into a snapshot of facts; rules turn
//! the facts into findings; renderers print them. Data flows one way.

pub mod app;
pub mod cli;
pub mod config;
pub(crate) mod embedded;
pub mod fs;
pub mod fuzz;
pub mod knowledge;
pub mod markers;
pub mod probe;
pub mod redact;
pub mod render;
pub mod requirements;
pub mod rules;
pub mod shell;
pub mod snapshot;
pub mod units;

/// envdoctor's own failures: they exit 2 with a message saying what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),
    /// A configuration file (or a rule file it names) is invalid.
    #[error("{0}")]
    Config(String),
    #[error("cannot use snapshot `{path}`: {message}")]
    Snapshot { path: String, message: String },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

thread_local! {
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs a third-party parser on untrusted input: a panic in it becomes an
/// `Err` (the input is refused) and prints nothing, since its message
/// would quote the input (and any secret in it) on stderr.
pub fn quiet_panics<T>(f: impl FnOnce() -> T) -> std::thread::Result<T> {
    QUIET.with(|q| q.set(true));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    QUIET.with(|q| q.set(false));
    r
}

/// The panic hook `main` installs: silent inside [`quiet_panics`], else
/// one redacted line that says what to do.
pub fn panic_hook(info: &std::panic::PanicHookInfo) {
    if QUIET.with(|q| q.get()) {
        return;
    }
    let what = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_default();
    let at = info
        .location()
        .map(|l| format!(" at {}:{}", l.file(), l.line()))
        .unwrap_or_default();
    let msg = redact::text(&format!("{what}{at}"));
    eprintln!(
        "envdoctor: internal error: {}; please report it with the command that was run",
        render::clean(&msg)
    );
}
