//! Check kinds: the Rust half of rules. Each kind is written once and may be
//! used by several rule files with different parameters. A kind is either
//! machine-wide (PATH, environment variables) or runs per environment.

mod environment;

use super::{CheckCtx, Hit};
use crate::snapshot::Interpreter;

pub type MachineFn = fn(&CheckCtx) -> Vec<Hit>;
pub type EnvironmentFn = fn(&CheckCtx, &Interpreter) -> Vec<Hit>;

#[derive(Clone, Copy)]
pub enum Kind {
    Machine(MachineFn),
    Environment(EnvironmentFn),
}

/// Every check kind, by the name rule files use in `check = "..."`.
pub static KINDS: &[(&str, Kind)] = &[
    ("broken-venv", Kind::Environment(environment::broken_venv)),
    (
        "script-bad-interpreter",
        Kind::Environment(environment::script_bad_interpreter),
    ),
    (
        "pip-python-mismatch",
        Kind::Machine(environment::pip_python_mismatch),
    ),
    (
        "python-env-vars",
        Kind::Machine(environment::python_env_vars),
    ),
    (
        "stale-activation",
        Kind::Machine(environment::stale_activation),
    ),
    (
        "exec-mismatch",
        Kind::Environment(environment::exec_mismatch),
    ),
];

pub fn lookup(name: &str) -> Option<Kind> {
    KINDS.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
}
