//! envdoctor: probes read the machine into a snapshot of facts; rules turn
//! the facts into findings; renderers print them. Data flows one way.

pub mod app;
pub mod cli;
pub mod config;
pub mod fs;
pub mod knowledge;
pub mod probe;
pub mod redact;
pub mod render;
pub mod requirements;
pub mod rules;
pub mod shell;
pub mod snapshot;

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
