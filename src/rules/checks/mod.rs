//! Check kinds: the Rust half of rules. Each kind is written once and may be
//! used by several rule files with different parameters. A kind is either
//! machine-wide (PATH, environment variables) or runs per environment.

mod caches;
mod conda;
pub mod environment;
mod gpu;
pub mod packages;
mod requirements;
pub(crate) mod tensorflow;

use super::{CheckCtx, Hit};
use crate::shell::Cmd;
use crate::snapshot::{Interpreter, Snapshot};

pub type MachineFn = fn(&CheckCtx) -> Vec<Hit>;
pub type EnvironmentFn = fn(&CheckCtx, &Interpreter) -> Vec<Hit>;

#[derive(Clone, Copy)]
pub enum Kind {
    /// About what the run selected; runs whatever was selected.
    Target(MachineFn),
    Machine(MachineFn),
    Environment(EnvironmentFn),
}

/// The per-environment kinds that judge conda environments only (JUnit
/// marks them skipped elsewhere).
pub const CONDA_ENV_KINDS: &[&str] = &[
    "pip-conda-mixed",
    "pip-overrides-conda",
    "conda-after-pip",
    "conda-env-missing-pip",
    "user-site-leaks-into-conda",
    "conda-files-missing",
];

/// Every check kind, by the name rule files use in `check = "..."`.
pub static KINDS: &[(&str, Kind)] = &[
    (
        "gpu-driver-too-old",
        Kind::Environment(gpu::gpu_driver_too_old),
    ),
    (
        "cuda-libraries-missing",
        Kind::Environment(gpu::cuda_libraries_missing),
    ),
    (
        "cuda-libraries-mismatched",
        Kind::Environment(gpu::cuda_libraries_mismatched),
    ),
    (
        "tensorflow-gpu-unsupported-platform",
        Kind::Environment(gpu::tensorflow_gpu_unsupported_platform),
    ),
    (
        "gpu-present-cpu-only-framework",
        Kind::Environment(gpu::gpu_present_cpu_only_framework),
    ),
    ("pip-conda-mixed", Kind::Environment(conda::pip_conda_mixed)),
    (
        "pip-overrides-conda",
        Kind::Environment(conda::pip_overrides_conda),
    ),
    ("conda-after-pip", Kind::Environment(conda::conda_after_pip)),
    (
        "conda-env-missing-pip",
        Kind::Environment(conda::conda_env_missing_pip),
    ),
    (
        "user-site-leaks-into-conda",
        Kind::Environment(conda::user_site_leaks_into_conda),
    ),
    (
        "conda-files-missing",
        Kind::Environment(conda::conda_files_missing),
    ),
    (
        "conda-environments-txt-stale",
        Kind::Machine(conda::conda_environments_txt_stale),
    ),
    ("broken-venv", Kind::Environment(environment::broken_venv)),
    (
        "check-target-unreadable",
        Kind::Target(environment::check_target_unreadable),
    ),
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
    (
        "cache-not-writable",
        Kind::Machine(caches::cache_not_writable),
    ),
    (
        "cache-owned-by-other-user",
        Kind::Machine(caches::cache_owned_by_other_user),
    ),
    ("home-unusable", Kind::Machine(caches::home_unusable)),
    (
        "cache-readonly-filesystem",
        Kind::Machine(caches::cache_readonly_filesystem),
    ),
    ("low-disk-space", Kind::Machine(caches::low_disk_space)),
    ("cache-large", Kind::Machine(caches::cache_large)),
    (
        "site-packages-not-writable",
        Kind::Environment(caches::site_packages_not_writable),
    ),
    (
        "cache-stale-built-wheels",
        Kind::Machine(caches::cache_stale_built_wheels),
    ),
    (
        "cache-corrupt-entries",
        Kind::Machine(caches::cache_corrupt_entries),
    ),
    (
        "proxy-misconfigured",
        Kind::Machine(caches::proxy_misconfigured),
    ),
    (
        "shadowed-package",
        Kind::Environment(packages::shadowed_package),
    ),
    (
        "overlapping-distributions",
        Kind::Environment(packages::overlapping_distributions),
    ),
    (
        "tensorflow-variants-mixed",
        Kind::Environment(packages::tensorflow_variants_mixed),
    ),
    (
        "duplicate-distribution",
        Kind::Environment(packages::duplicate_distribution),
    ),
    (
        "invalid-distribution-leftover",
        Kind::Environment(packages::invalid_distribution_leftover),
    ),
    (
        "site-packages-unreadable",
        Kind::Environment(packages::site_packages_unreadable),
    ),
    (
        "broken-distribution-metadata",
        Kind::Environment(packages::broken_distribution_metadata),
    ),
    (
        "dangling-editable",
        Kind::Environment(packages::dangling_editable),
    ),
    (
        "missing-dependency",
        Kind::Environment(packages::missing_dependency),
    ),
    (
        "incompatible-dependency",
        Kind::Environment(packages::incompatible_dependency),
    ),
    (
        "requires-python-mismatch",
        Kind::Environment(packages::requires_python_mismatch),
    ),
    (
        "pip-into-system-python",
        Kind::Environment(packages::pip_into_system_python),
    ),
    (
        "tensorflow-unsupported-python",
        Kind::Environment(tensorflow::unsupported_python),
    ),
    (
        "tensorflow-numpy2-incompatible",
        Kind::Environment(tensorflow::numpy2_incompatible),
    ),
    (
        "tensorflow-protobuf-incompatible",
        Kind::Environment(tensorflow::protobuf_incompatible),
    ),
    (
        "tensorflow-gpu-deprecated",
        Kind::Environment(tensorflow::gpu_deprecated),
    ),
    (
        "pip-too-old-for-wheels",
        Kind::Environment(tensorflow::pip_too_old_for_wheels),
    ),
    (
        "interpreter-not-64bit",
        Kind::Environment(tensorflow::interpreter_not_64bit),
    ),
    (
        "glibc-too-old",
        Kind::Environment(tensorflow::glibc_too_old),
    ),
    (
        "metadata-version-mismatch",
        Kind::Environment(tensorflow::metadata_version_mismatch),
    ),
    (
        "requirements-drift",
        Kind::Environment(requirements::requirements_drift),
    ),
];

/// "`a`, `b`, `c` and 3 more": the first `max` items, then a count.
pub(crate) fn list_some<S: AsRef<str>>(items: &[S], max: usize) -> String {
    let mut s = items
        .iter()
        .take(max)
        .map(|i| i.as_ref())
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > max {
        s.push_str(&format!(" and {} more", items.len() - max));
    }
    s
}

/// Names in backticks, for [`list_some`].
pub(crate) fn ticked<S: AsRef<str>>(items: &[S]) -> Vec<String> {
    items.iter().map(|i| format!("`{}`", i.as_ref())).collect()
}

pub fn lookup(name: &str) -> Option<Kind> {
    KINDS.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
}

/// A Python `minor` (`3.10`) that discovery found and that runs, named by
/// its absolute path: not a venv (a venv's base could be the broken one),
/// pyenv's, uv's and conda's before the system's, the newest patch first.
pub(crate) fn python_of_minor<'a>(snap: &'a Snapshot, minor: &str) -> Option<&'a str> {
    use crate::snapshot::Kind;
    let rank = |k: Kind| match k {
        Kind::Pyenv => 0,
        Kind::Uv => 1,
        Kind::Conda => 2,
        Kind::System => 3,
        _ => 4,
    };
    let mut found: Vec<&Interpreter> = snap
        .interpreters
        .iter()
        .filter(|i| i.error.is_none() && !i.kind.is_virtual() && i.pyvenv_cfg.is_none())
        .filter(|i| i.executable.is_some() && i.not_runnable.is_none())
        .filter(|i| {
            i.minor_version()
                .is_some_and(|(a, b)| format!("{a}.{b}") == minor)
        })
        .collect();
    let patch = |i: &Interpreter| -> Vec<u32> {
        i.version
            .as_deref()
            .unwrap_or("")
            .split('.')
            .map(|p| p.parse().unwrap_or(0))
            .collect()
    };
    found.sort_by_key(|i| (rank(i.kind), std::cmp::Reverse(patch(i))));
    found.first().and_then(|i| i.executable.as_deref())
}

/// `PYTHON -m venv --clear [--system-site-packages] [--prompt P] PREFIX`:
/// recreates `it` in place, keeping what its `pyvenv.cfg` said.
pub(crate) fn recreate_venv(python: &str, it: &Interpreter) -> String {
    let mut c = Cmd::new(python).args(["-m", "venv", "--clear"]);
    if let Some(cfg) = &it.pyvenv_cfg {
        if cfg.include_system_site_packages {
            c = c.arg("--system-site-packages");
        }
        if let Some(p) = &cfg.prompt {
            c = c.arg("--prompt").arg(p);
        }
    }
    c.arg(&it.prefix).build()
}

/// How to get a Python `minor` when none is on the machine.
pub(crate) fn get_python(minor: &str) -> Vec<String> {
    vec![Cmd::new("uv").args(["python", "install", minor]).build()]
}
