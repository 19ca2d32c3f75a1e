//! The snapshot: every fact the probes read from a machine, and nothing else.
//!
//! Probes fill it, rules read it, and `scan --format json` writes it out so that
//! `check --snapshot FILE` can run the rules on another desk. It holds facts only:
//! no verdicts, no severities. Paths are as seen from inside the inspected root
//! (with `--root DIR`, `/usr/bin/python3` means `DIR/usr/bin/python3`).
//!
//! Compatibility: readers accept any snapshot whose `schema_version` is not newer
//! than [`SCHEMA_VERSION`]; new fields are added with `#[serde(default)]` so that
//! an older snapshot still loads.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Bumped only when a field changes meaning or disappears.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    pub schema_version: u32,
    /// The envdoctor version that wrote the snapshot.
    #[serde(default)]
    pub generator: String,
    #[serde(default)]
    pub host: Host,
    /// The environment variables that change how Python and its tools behave,
    /// with credentials already redacted.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// What `python`, `python3`, `pip` and `pip3` on PATH run.
    #[serde(default)]
    pub commands: Vec<PathCommand>,
    #[serde(default)]
    pub interpreters: Vec<Interpreter>,
    /// pip, uv, poetry and conda settings that decide caches, indexes and
    /// proxies, each with where it came from (values redacted).
    #[serde(default)]
    pub config: Config,
    /// Every package cache the tools would use, with an ownership audit.
    #[serde(default)]
    pub caches: Vec<CacheDir>,
    /// Where installs write: HOME, TMPDIR, caches and site-packages, with the
    /// filesystem each lives on.
    #[serde(default)]
    pub storage: Vec<Storage>,
    /// Every site directory read (site-packages, dist-packages, the user site,
    /// PYTHONPATH and `.pth`-added directories), once each, keyed by `path`:
    /// interpreters whose `sys_path` lists the same path share it. `scan`
    /// reads those of every interpreter; `check` only those of its targets.
    #[serde(default)]
    pub site_dirs: Vec<SiteDir>,
    /// The `EXTERNALLY-MANAGED` (PEP 668) files found in the standard library
    /// directories of the interpreters whose site dirs were read.
    #[serde(default)]
    pub externally_managed: Vec<String>,
    /// conda's machine-wide configuration: `.condarc` files and
    /// `environments.txt`.
    #[serde(default)]
    pub conda: CondaMachine,
    /// NVIDIA driver, GPUs and system CUDA libraries.
    #[serde(default, skip_serializing_if = "Gpu::is_empty")]
    pub gpu: Gpu,
    /// What the probes could not read: never a finding on its own, but shown.
    #[serde(default)]
    pub notes: Vec<Note>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Host {
    pub os: String,
    pub arch: String,
    /// `PRETTY_NAME` from os-release, when there is one.
    #[serde(default)]
    pub distro: Option<String>,
    /// The root the probes read (`/` unless `--root` was given).
    pub root: String,
    pub cwd: String,
    #[serde(default)]
    pub user: User,
    /// The C library wheels are built against (manylinux needs glibc).
    #[serde(default)]
    pub libc: Option<Libc>,
    /// The running kernel (`platform.release()`, `platform.version()`), for
    /// the `platform_release` and `platform_version` markers. A container
    /// image runs on its host's kernel, so these come from the host even
    /// under `--root`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_release: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_version: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Libc {
    /// `glibc` or `musl`.
    pub family: String,
    /// `2.36`; unknown for musl, which embeds no version string.
    pub version: Option<String>,
    pub path: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct User {
    pub name: Option<String>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    #[serde(default)]
    pub groups: Vec<u32>,
    pub home: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Note {
    pub path: String,
    pub message: String,
}

/// One of `python`, `python3`, `pip`, `pip3` as the shell would find it on PATH.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PathCommand {
    pub name: String,
    /// The first file on PATH with that name, if any.
    pub path: Option<String>,
    /// How it was followed: pyenv shim resolution, shebang, `env` lookup.
    #[serde(default)]
    pub via: Vec<String>,
    /// The interpreter that finally runs, as the path it is invoked by
    /// (not canonicalised: a venv's `bin/python` symlink keeps the venv).
    pub interpreter: Option<String>,
    /// The `executable` of the interpreter entry it runs (identity, not path
    /// equality: `/venv/bin/python3` and `/venv/bin/python` are one entry).
    #[serde(default)]
    pub resolves_to: Option<String>,
    /// Why it could not be followed to an interpreter.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    System,
    Pyenv,
    Uv,
    Venv,
    Virtualenv,
    Conda,
    Poetry,
    Pipenv,
    Hatch,
    Pipx,
    Other,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::System => "system",
            Kind::Pyenv => "pyenv",
            Kind::Uv => "uv",
            Kind::Venv => "venv",
            Kind::Virtualenv => "virtualenv",
            Kind::Conda => "conda",
            Kind::Poetry => "poetry",
            Kind::Pipenv => "pipenv",
            Kind::Hatch => "hatch",
            Kind::Pipx => "pipx",
            Kind::Other => "other",
        }
    }

    /// Environments made from a base interpreter with a `pyvenv.cfg`.
    pub fn is_virtual(self) -> bool {
        matches!(
            self,
            Kind::Venv | Kind::Virtualenv | Kind::Poetry | Kind::Pipenv | Kind::Hatch | Kind::Pipx
        )
    }
}

/// An interpreter together with the environment it runs in. A venv and its
/// base share an executable but are two entries: they see different sys.paths.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Interpreter {
    /// The path it is best known by (the environment's `bin/python`).
    pub executable: Option<String>,
    /// Other paths that reach the same interpreter in the same environment.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The file that finally runs, symlinks resolved.
    pub real_executable: Option<String>,
    /// `3.11.7`, or `3.11` when the patch level could not be read.
    pub version: Option<String>,
    /// Which file the version came from.
    pub version_source: Option<String>,
    #[serde(default = "default_implementation")]
    pub implementation: String,
    /// From the executable's ELF header: `x86_64`, `i686`, `aarch64`, ...
    #[serde(default)]
    pub machine: Option<String>,
    /// 32 or 64, from the ELF header (no 32-bit wheels exist for many projects).
    #[serde(default)]
    pub pointer_bits: Option<u32>,
    pub kind: Kind,
    /// `sys.prefix`.
    pub prefix: String,
    /// `sys.base_prefix` (differs from prefix in a venv).
    pub base_prefix: Option<String>,
    /// For a venv: the interpreter its `pyvenv.cfg` names.
    pub base_executable: Option<String>,
    /// How it was found (first source wins; others are added).
    #[serde(default)]
    pub sources: Vec<String>,
    pub pyvenv_cfg: Option<PyvenvCfg>,
    /// sys.path as site.py would build it, script directory excluded.
    #[serde(default)]
    pub sys_path: Vec<SysPathEntry>,
    /// With `--exec`: sys.path as the interpreter reported it (with the
    /// static `PYTHONPATH` entries in front, since it runs with `-E`). The
    /// package rules follow it when present; `sys_path` stays the static
    /// reading, which exec-mismatch compares.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runtime_sys_path: Vec<SysPathEntry>,
    /// Files that run at startup and may change sys.path (never executed here).
    #[serde(default)]
    pub startup_hooks: Vec<String>,
    /// Console scripts in the environment whose shebang names an interpreter
    /// that is missing or lives in another environment.
    #[serde(default)]
    pub foreign_scripts: Vec<Script>,
    /// Set when the environment is broken; it is still reported.
    pub error: Option<String>,
    /// `check` reads the `.pth` files, startup hooks and console scripts of
    /// its targets only. Set on the others: their `sys_path` holds what
    /// getpath and site.py add before any `.pth` file, and `startup_hooks`
    /// and `foreign_scripts` are empty because they were not read.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shallow: bool,
    /// Top-level modules of its standard library (the stdlib dir and
    /// `lib-dynload`), read by `why` only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stdlib_modules: Vec<String>,
    /// Why the user being judged (`--user`, else whoever runs envdoctor)
    /// cannot run it: a directory on the way they may not search, or no
    /// execute bit for them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_runnable: Option<String>,
    /// What running the interpreter said, with `--exec` only.
    pub exec: Option<ExecResult>,
    /// For a conda environment: its records, history, manager and the
    /// distributions pip put there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conda: Option<CondaEnv>,
}

fn default_implementation() -> String {
    "cpython".to_string()
}

impl Interpreter {
    /// The name users know the environment by: its prefix.
    pub fn display_name(&self) -> &str {
        &self.prefix
    }

    /// `3.11` from `3.11.7`.
    pub fn minor_version(&self) -> Option<(u32, u32)> {
        let v = self.version.as_deref()?;
        let mut it = v.split('.');
        let major = it.next()?.parse().ok()?;
        let minor = it.next()?.parse().ok()?;
        Some((major, minor))
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PyvenvCfg {
    pub path: String,
    pub home: Option<String>,
    pub include_system_site_packages: bool,
    pub version: Option<String>,
    /// The tool that made it, from its own key (`virtualenv`, `uv`) or `venv`.
    pub creator: Option<String>,
    /// `prompt`, when the venv was made with `--prompt` (venv writes it as
    /// a Python repr; the quotes are taken off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SysPathEntry {
    pub path: String,
    pub origin: Origin,
    /// For `pth` entries: the `.pth` file that added it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pth: Option<String>,
    pub exists: bool,
    /// Added by an import line of that `.pth` file, read as data and never
    /// run (`import sys; sys.path.append('/x')`, `site.addsitedir('/x')`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub import_line: bool,
}

/// Why an entry is on sys.path, in the order site.py adds them.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    Pythonpath,
    Stdlib,
    /// A venv's own site-packages.
    VenvSite,
    UserSite,
    /// The prefix's (or a venv's base's) site-packages or dist-packages.
    Site,
    /// A directory line of a `.pth` file.
    Pth,
    /// Added at startup by code envdoctor did not read (seen with `--exec`).
    Runtime,
}

impl Origin {
    pub fn describe(self) -> &'static str {
        match self {
            Origin::Pythonpath => "PYTHONPATH",
            Origin::Stdlib => "standard library",
            Origin::VenvSite => "the venv's site-packages",
            Origin::UserSite => "the user site",
            Origin::Site => "site-packages",
            Origin::Pth => "a .pth file",
            Origin::Runtime => "added at startup (seen with --exec)",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Script {
    pub path: String,
    pub interpreter: String,
    pub interpreter_exists: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExecResult {
    pub version: Option<String>,
    pub prefix: Option<String>,
    pub base_prefix: Option<String>,
    #[serde(default)]
    pub sys_path: Vec<String>,
    pub error: Option<String>,
}

/// One directory on sys.path that is not the standard library, as pip's and
/// importlib's view of it: the distributions installed in it and the
/// top-level import names it provides.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SiteDir {
    pub path: String,
    /// Why it could not be listed (then everything else is empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `*.dist-info`, `*.egg-info` (dir or file), `*.egg-link`, and a `.egg`
    /// entry's own `EGG-INFO`, in directory order.
    #[serde(default)]
    pub distributions: Vec<Distribution>,
    /// Names starting with `~` left by an interrupted uninstall or upgrade
    /// (pip: "Ignoring invalid distribution -ensorflow").
    #[serde(default)]
    pub leftovers: Vec<String>,
    #[serde(default)]
    pub pth_files: Vec<PthFile>,
    /// Top-level import names provided by entries of this directory.
    #[serde(default)]
    pub modules: Vec<Module>,
    /// Files that two or more distributions' RECORDs (or `installed-files.txt`)
    /// both list: the later install overwrote the earlier one's files.
    #[serde(default)]
    pub shared_files: Vec<SharedFiles>,
    /// Versions packages carry in their own files (TensorFlow's `version.h`,
    /// NumPy's `version.py`), for comparing with their metadata.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub own_versions: Vec<OwnVersion>,
    /// What the GPU frameworks here were built with (TensorFlow's
    /// `build_info.py`, PyTorch's `torch/version.py`), read as data.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gpu_builds: Vec<GpuBuild>,
    /// CUDA runtime, cuDNN and cuBLAS libraries shipped in this directory
    /// (NVIDIA's wheels under `nvidia/*/lib`, PyTorch's `torch/lib`),
    /// relative to it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cuda_libs: Vec<String>,
    /// The `modules` (indexes) that are directories not yet looked into:
    /// `check` calls them packages until a rule could tell a package from a
    /// namespace portion, which is only when the name has another copy on
    /// some interpreter's sys.path (then the probe reads the kind). Never
    /// part of a snapshot: a snapshot's kinds are all read.
    #[serde(skip)]
    pub kind_unread: Vec<u32>,
}

/// A GPU framework's own record of its build.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct GpuBuild {
    /// `tensorflow` or `torch`.
    pub framework: String,
    /// The file read.
    pub path: String,
    /// The CUDA it was built with (`12.2`); None for a CPU or ROCm build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cuda: Option<String>,
    /// The cuDNN (TensorFlow records the major only: `8`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cudnn: Option<String>,
    /// A ROCm (AMD) build.
    #[serde(default)]
    pub rocm: bool,
    /// The version the file states (PyTorch: `2.2.1+cu121`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// The machine's NVIDIA GPU facts, read from files (Linux).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Gpu {
    /// The kernel driver's version and the file that says it. None when no
    /// file shows a driver: unknown, not missing (an image at rest holds
    /// none; the NVIDIA container toolkit mounts it at start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<GpuDriver>,
    /// GPU models under `/proc/driver/nvidia/gpus`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<String>,
    /// CUDA libraries in the directories the dynamic loader searches
    /// (`LD_LIBRARY_PATH`, `/etc/ld.so.conf` and its includes, the default
    /// directories), by full path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub system_libs: Vec<String>,
    /// System CUDA toolkits (`/usr/local/cuda*`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub toolkits: Vec<CudaToolkit>,
}

impl Gpu {
    pub fn is_empty(&self) -> bool {
        *self == Gpu::default()
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct GpuDriver {
    /// `535.129.03`; None where a driver is present but says no version
    /// (WSL2's `/usr/lib/wsl/lib/libcuda.so.1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub source: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct CudaToolkit {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// From `cudnn_version.h` in its `include`, when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cudnn: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct OwnVersion {
    /// The project the file belongs to (`tensorflow`).
    pub project: String,
    pub path: String,
    /// None when the file exists but holds no version envdoctor can read.
    pub version: Option<String>,
}

/// An installed distribution, as its metadata directory describes it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Distribution {
    /// The metadata directory or file (`.../numpy-1.26.4.dist-info`).
    pub path: String,
    /// Its place in the directory's own listing (`os.listdir` order), which
    /// decides which of two metadata dirs of one project Python and pip see.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing: Option<u32>,
    pub format: DistFormat,
    /// `Name:` as written in METADATA / PKG-INFO (else from the directory name).
    pub name: Option<String>,
    /// PEP 503 normalised name (`tensorflow-gpu`).
    pub normalized: Option<String>,
    pub version: Option<String>,
    /// `INSTALLER` (`pip`, `uv`, `conda`, `debian`...), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installer: Option<String>,
    /// A `REQUESTED` file exists (installed on purpose, not as a dependency).
    #[serde(default)]
    pub requested: bool,
    /// `Requires-Dist` lines as written (egg-info: from `requires.txt`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires_dist: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_python: Option<String>,
    /// The METADATA / PKG-INFO file read (what conda-meta `files` lists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_file: Option<String>,
    /// The RECORD (egg-info: `installed-files.txt`) file, when it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_file: Option<String>,
    /// How many files RECORD lists.
    #[serde(default)]
    pub record_files: usize,
    /// Top-level import names the distribution owns, from RECORD (else
    /// `top_level.txt`): packages, modules, extension modules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub top_level: Vec<String>,
    /// `direct_url.json`'s `url`, credentials redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct_url: Option<String>,
    /// For editable installs (direct_url `editable`, `.egg-link`,
    /// `__editable__` finders and .pth): where the source tree is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub editable: Option<Editable>,
    /// `Tag:` lines of `WHEEL`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wheel_tags: Vec<String>,
    /// What is wrong with the metadata itself (missing METADATA or RECORD,
    /// unparseable name or version, unreadable, oversized).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// What the rules derive from the fields above, computed once on first
    /// use and shared by every rule (never serialised).
    #[serde(skip)]
    pub memo: DistMemo,
}

/// See [`Distribution::memo`].
#[derive(Debug, Clone, Default)]
pub struct DistMemo {
    requires: std::sync::OnceLock<Box<[Option<std::sync::Arc<crate::requirements::Req>>]>>,
    version: std::sync::OnceLock<Option<pep440_rs::Version>>,
}

impl Distribution {
    /// Each `Requires-Dist` line parsed (`None` where it does not parse), in
    /// the order of [`Distribution::requires_dist`].
    pub fn requirements(&self) -> &[Option<std::sync::Arc<crate::requirements::Req>>] {
        self.memo.requires.get_or_init(|| {
            self.requires_dist
                .iter()
                .map(|r| crate::requirements::parse_cached(r))
                .collect()
        })
    }

    /// Sets what [`Distribution::parsed_version`] answers, for a reader that
    /// parsed [`Distribution::version`] already (a no-op once it answered).
    pub fn remember_parsed_version(&self, v: Option<pep440_rs::Version>) {
        let _ = self.memo.version.set(v);
    }

    /// The `Version:` as a PEP 440 version, when it is one.
    pub fn parsed_version(&self) -> Option<&pep440_rs::Version> {
        self.memo
            .version
            .get_or_init(|| {
                self.version
                    .as_deref()
                    .and_then(|v| <pep440_rs::Version as std::str::FromStr>::from_str(v).ok())
            })
            .as_ref()
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DistFormat {
    #[default]
    DistInfo,
    /// An `*.egg-info` directory.
    EggInfo,
    /// An `*.egg-info` file (distutils' single PKG-INFO file).
    EggInfoFile,
    /// `*.egg-link` (setuptools `develop`): an editable install.
    EggLink,
    /// A `*.egg` directory on sys.path with its `EGG-INFO`.
    Egg,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Editable {
    /// The source directory the install points at.
    pub target: String,
    pub exists: bool,
    /// Where the pointer was read: `direct_url.json`, the `.egg-link`, an
    /// `__editable__` .pth or finder.
    pub source: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PthFile {
    pub path: String,
    /// Directory lines, resolved against the site dir, and whether they exist.
    #[serde(default)]
    pub dirs: Vec<PthDir>,
    /// `import` lines: executed by site.py at startup, never here.
    #[serde(default)]
    pub import_lines: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PthDir {
    pub path: String,
    pub exists: bool,
}

/// A top-level import name found on disk in a site dir.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Module {
    /// The import name (`numpy`, `six`, `_cffi_backend`).
    pub name: String,
    pub kind: ModuleKind,
    /// The directory entry providing it (`six.py`,
    /// `_cffi_backend.cpython-311-x86_64-linux-gnu.so`).
    pub file: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModuleKind {
    /// A directory with `__init__`.
    Package,
    /// A directory without `__init__` (a PEP 420 namespace portion; merged,
    /// never shadowing).
    Namespace,
    /// `name.py` / `name.pyc`.
    Module,
    /// `name.so`, `name.cpython-311-x86_64-linux-gnu.so`, `name.abi3.so`.
    Extension,
}

/// Files listed by the RECORDs of several distributions of one site dir.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SharedFiles {
    /// The `path`s of the distributions involved.
    pub distributions: Vec<String>,
    /// How many files they share (bytecode under `__pycache__` not counted).
    pub count: usize,
    /// How many of them are not a top-level package's `__init__.py` (old
    /// namespace packages share only those).
    pub beyond_init: usize,
    /// The top-level import names the shared files are under.
    pub top_level: Vec<String>,
    /// A few of the shared files.
    pub examples: Vec<String>,
}

impl Snapshot {
    pub fn site_dir(&self, path: &str) -> Option<&SiteDir> {
        self.site_dirs.iter().find(|d| d.path == path)
    }

    /// The interpreter entry whose executable or an alias is `path`.
    pub fn interpreter_by_path(&self, path: &str) -> Option<(usize, &Interpreter)> {
        self.interpreters.iter().enumerate().find(|(_, i)| {
            i.executable.as_deref() == Some(path) || i.aliases.iter().any(|a| a == path)
        })
    }

    /// The interpreter entry a PATH command runs, if it was found.
    pub fn command_target(&self, name: &str) -> Option<(usize, &Interpreter)> {
        let exe = self.command(name)?.resolves_to.as_deref()?;
        self.interpreter_by_path(exe)
    }

    pub fn interpreter_by_prefix(&self, prefix: &str) -> Option<(usize, &Interpreter)> {
        self.interpreters
            .iter()
            .enumerate()
            .find(|(_, i)| i.prefix == prefix)
    }

    pub fn command(&self, name: &str) -> Option<&PathCommand> {
        self.commands.iter().find(|c| c.name == name)
    }

    pub fn env_var(&self, name: &str) -> Option<&str> {
        self.env.get(name).map(String::as_str)
    }
}

/// Configuration read from the tools' own files and the environment.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Config {
    /// Every config file consulted, in the order its tool reads them (a
    /// later file overrides an earlier one), present or not.
    #[serde(default)]
    pub files: Vec<ConfigFile>,
    /// Every setting read, lowest precedence first. Values have credentials
    /// redacted.
    #[serde(default)]
    pub settings: Vec<Setting>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConfigFile {
    /// `pip`, `uv`, `poetry`, `conda`.
    pub tool: String,
    pub path: String,
    /// `global`, `user`, `site` (a venv's own), `env` (`PIP_CONFIG_FILE`), `project`.
    pub role: String,
    pub exists: bool,
    /// For a site config: the environment (prefix) it belongs to.
    #[serde(default)]
    pub environment: Option<String>,
    /// Why the tool does not read it although it may exist (`PIP_CONFIG_FILE`
    /// exists, so pip skips the user files).
    #[serde(default)]
    pub skipped: Option<String>,
    /// Why it could not be read or parsed.
    #[serde(default)]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Setting {
    /// `pip`, `uv`, `poetry`, `conda`, or `proxy` for the `*_proxy` variables.
    pub tool: String,
    /// The option as the tool names it (`cache-dir`, `index-url`,
    /// `https_proxy`), without section.
    pub key: String,
    /// The pip config section (`global`, `install`), when from a pip file.
    #[serde(default)]
    pub section: Option<String>,
    /// Redacted.
    pub value: String,
    /// `/etc/pip.conf`, `PIP_INDEX_URL`, `~/.config/uv/uv.toml`.
    pub source: String,
    /// Set when only one environment reads it (a venv's `pip.conf`).
    #[serde(default)]
    pub environment: Option<String>,
}

/// One file or directory as the judged user sees it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub uid: u32,
    pub gid: u32,
    /// The owner's name from the root's `/etc/passwd`, when it has one.
    #[serde(default)]
    pub owner: Option<String>,
    /// Permission bits (`0o755`).
    pub mode: u32,
    /// `dir`, `file`, `symlink`, `other`.
    pub kind: String,
    /// The user may read it (a directory: list it), from the mode bits,
    /// the owner, the group and the user's groups (uid 0 may always).
    pub readable: bool,
    /// The user may write it (a directory: create and remove entries, which
    /// needs write and search permission).
    pub writable: bool,
}

/// A package cache of one tool.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CacheDir {
    /// `pip`, `uv`, `conda`, `poetry`.
    pub tool: String,
    pub path: String,
    /// Where the location came from (`PIP_CACHE_DIR`, `/etc/pip.conf [global]
    /// cache-dir`, `default: ~/.cache/pip`).
    pub source: String,
    /// What turns the cache off (`PIP_NO_CACHE_DIR`), when something does.
    #[serde(default)]
    pub disabled_by: Option<String>,
    /// Environments whose own config chose this cache; empty when every
    /// environment uses it.
    #[serde(default)]
    pub environments: Vec<String>,
    pub exists: bool,
    /// The cache itself when it exists, else its nearest existing ancestor
    /// (the only path pip's own check looks at).
    #[serde(default)]
    pub nearest: Option<Entry>,
    /// Every directory leading to `nearest` lets the user through.
    #[serde(default)]
    pub reachable: bool,
    #[serde(default)]
    pub audit: Option<Audit>,
}

/// The walk of a whole cache tree.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Audit {
    pub entries: u64,
    /// Bytes in regular files.
    pub bytes: u64,
    /// Why the walk stopped before the end (counts are then lower bounds).
    #[serde(default)]
    pub bounded: Option<String>,
    /// Entries not owned by the judged user, by owner uid.
    #[serde(default)]
    pub owners: BTreeMap<u32, u64>,
    /// Entries owned by another uid than the user's.
    #[serde(default)]
    pub other_owner: Sample,
    /// Entries the user cannot use: a directory it cannot list or create
    /// files in, a file it cannot read.
    #[serde(default)]
    pub blocked: Sample,
    /// How many of `blocked` belong to another uid than the user's.
    #[serde(default)]
    pub blocked_other_owner: u64,
    /// Zero-length or truncated archives (`.whl`, `.conda`).
    #[serde(default)]
    pub corrupt: Vec<Corrupt>,
    #[serde(default)]
    pub corrupt_count: u64,
    /// Wheels pip built locally from sdists (pip's `wheels/`).
    #[serde(default)]
    pub built_wheels: Vec<BuiltWheel>,
}

/// A count and the first few examples.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Sample {
    pub count: u64,
    #[serde(default)]
    pub first: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Corrupt {
    pub path: String,
    pub size: u64,
    /// `empty`, `no end-of-central-directory record`, `central directory past end of file`.
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuiltWheel {
    pub project: String,
    pub version: String,
    pub path: String,
    /// Seconds since the epoch.
    #[serde(default)]
    pub mtime: Option<i64>,
}

/// A place installs write to, and the filesystem under it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Storage {
    /// `home`, `tmp`, `cache`, `site-packages`.
    pub role: String,
    /// What it is (`pip cache`, `TMPDIR`, `/tmp`, `HOME`).
    pub label: String,
    pub path: String,
    /// For site-packages: the environment (prefix).
    #[serde(default)]
    pub environment: Option<String>,
    pub exists: bool,
    /// The path itself when it exists, else its nearest existing ancestor.
    #[serde(default)]
    pub nearest: Option<Entry>,
    #[serde(default)]
    pub mount_point: Option<String>,
    #[serde(default)]
    pub fs_type: Option<String>,
    #[serde(default)]
    pub read_only: bool,
    /// Bytes an unprivileged user may still write (statvfs `f_bavail`).
    #[serde(default)]
    pub free_bytes: Option<u64>,
    #[serde(default)]
    pub total_bytes: Option<u64>,
    /// Identifies the filesystem (device id), to add up needs on one disk.
    #[serde(default)]
    pub device: Option<u64>,
}

impl Config {
    /// The setting `pip install` uses for `key`, in `environment` (its own
    /// `pip.conf` counts) or outside any environment's own config (`None`).
    /// pip's precedence: a `PIP_*` variable, else `[install]` from any file,
    /// else `[global]`; among files the later one wins.
    pub fn pip(&self, key: &str, environment: Option<&str>) -> Option<&Setting> {
        let relevant = |s: &&Setting| {
            s.tool == "pip"
                && s.key == key
                && (s.environment.is_none() || s.environment.as_deref() == environment)
        };
        let in_section = |sec: Option<&str>| {
            self.settings
                .iter()
                .rev()
                .filter(relevant)
                .find(move |s| s.section.as_deref() == sec)
        };
        in_section(None)
            .or_else(|| in_section(Some("install")))
            .or_else(|| in_section(Some("global")))
    }

    /// The last (winning) setting of a tool whose later sources override
    /// earlier ones (uv, poetry, the proxy variables).
    pub fn last(&self, tool: &str, key: &str) -> Option<&Setting> {
        self.settings
            .iter()
            .rev()
            .find(|s| s.tool == tool && s.key == key && s.environment.is_none())
    }
}

/// conda's configuration as read from the machine.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CondaMachine {
    /// The `.condarc` files that exist, in the order conda reads them.
    #[serde(default)]
    pub condarc: Vec<Condarc>,
    /// `~/.conda/environments.txt` files and what they list.
    #[serde(default)]
    pub environments_txt: Vec<EnvironmentsTxt>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Condarc {
    pub path: String,
    #[serde(default)]
    pub envs_dirs: Vec<String>,
    #[serde(default)]
    pub pkgs_dirs: Vec<String>,
    /// Channel names or URLs, credentials redacted.
    #[serde(default)]
    pub channels: Vec<String>,
    /// Why it could not be read or parsed.
    #[serde(default)]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EnvironmentsTxt {
    pub path: String,
    #[serde(default)]
    pub entries: Vec<EnvironmentsTxtEntry>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EnvironmentsTxtEntry {
    /// The line as written.
    pub path: String,
    /// The directory exists.
    pub exists: bool,
    /// It has a `conda-meta/` directory (conda's own test for an env).
    pub is_conda_env: bool,
}

/// A conda environment's own records, as conda-meta and site-packages say.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CondaEnv {
    /// `base` for an install's root, else the directory name.
    pub name: String,
    /// The conda installation this env belongs to (its root prefix).
    #[serde(default)]
    pub install: Option<String>,
    /// The tool that manages it: the one its history names, else the
    /// install's own (conda before mamba before micromamba).
    #[serde(default)]
    pub manager: Option<CondaManager>,
    /// Every manager the owning install has.
    #[serde(default)]
    pub managers: Vec<CondaManager>,
    /// The Python version conda installed (`python` record), if any.
    #[serde(default)]
    pub python_version: Option<String>,
    /// The channel its Python came from, else the channel most of its
    /// records came from (`conda-forge`, `pkgs/main`).
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub records: Vec<CondaRecord>,
    /// `conda-meta/*.json` files that could not be read or parsed (each has
    /// a note): what they own may look pip-installed.
    #[serde(default)]
    pub records_unreadable: usize,
    /// How many files all records list together.
    #[serde(default)]
    pub files_listed: usize,
    #[serde(default)]
    pub history: Vec<CondaTransaction>,
    /// The `history` file exists.
    #[serde(default)]
    pub has_history: bool,
    /// Distributions in the env's site-packages whose RECORD (or egg-info
    /// PKG-INFO) no conda record lists: installed by pip (or another
    /// installer), the way conda itself decides.
    #[serde(default)]
    pub pip_dists: Vec<PipDist>,
    /// The env's own site-packages directories (their contents are in the
    /// snapshot's `site_dirs`).
    #[serde(default)]
    pub site_packages: Vec<String>,
    /// `bin/pip` or `bin/pip3` exists in the env.
    #[serde(default)]
    pub has_pip_script: bool,
    /// `records`, `files_listed` and `pip_dists` were read (`check` reads
    /// them for its targets only).
    #[serde(default)]
    pub records_read: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CondaManager {
    /// `conda`, `mamba` or `micromamba`.
    pub kind: String,
    pub path: String,
    /// How it was found: `install`, `history`, `MAMBA_EXE`, `CONDA_EXE`.
    pub source: String,
}

/// One `conda-meta/*.json` record, without its file list.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CondaRecord {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub build: String,
    /// Short channel name (`conda-forge`, `pkgs/main`), credentials
    /// redacted.
    #[serde(default)]
    pub channel: Option<String>,
    /// The record file.
    pub path: String,
    /// How many files it lists.
    #[serde(default)]
    pub files: usize,
    /// The names of the packages it depends on (conda names, no versions).
    #[serde(default)]
    pub depends: Vec<String>,
    /// The Python distributions (dist-info / egg-info) among its files.
    #[serde(default)]
    pub python_dists: Vec<DistRef>,
    /// Listed files not on disk (stat only; `.pyc` caches ignored), the
    /// first few of them.
    #[serde(default)]
    pub missing_files: Vec<String>,
    #[serde(default)]
    pub missing_count: usize,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct DistRef {
    pub name: String,
    pub version: String,
    /// The dist-info or egg-info path.
    pub path: String,
    /// It is on disk.
    #[serde(default)]
    pub present: bool,
}

/// One `==> date <==` block of `conda-meta/history`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CondaTransaction {
    /// As written (local time of the machine that ran it).
    pub date: String,
    /// Seconds since the epoch, the date read in the host's local time zone
    /// (in UTC inside `--root`, whose zone is not known).
    #[serde(default)]
    pub epoch: Option<i64>,
    #[serde(default)]
    pub cmd: Option<String>,
    /// `conda`, `mamba` or `micromamba`, from the command.
    #[serde(default)]
    pub tool: Option<String>,
    /// `+channel::name-version-build` specs.
    #[serde(default)]
    pub added: Vec<String>,
    #[serde(default)]
    pub removed: Vec<String>,
}

/// A distribution in a conda env that no conda record owns.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PipDist {
    pub name: String,
    pub version: String,
    /// The dist-info or egg-info path.
    pub path: String,
    /// Its `INSTALLER` file (`pip`, `uv`, ...); unreliable on its own.
    #[serde(default)]
    pub installer: Option<String>,
    /// When it was installed: the mtime of `INSTALLER`, else `RECORD`, else
    /// the metadata directory, in seconds since the epoch.
    #[serde(default)]
    pub installed_at: Option<i64>,
    /// The same instant as `YYYY-MM-DD HH:MM:SS`: local time (UTC inside
    /// `--root`), like the history's dates.
    #[serde(default)]
    pub installed_at_local: Option<String>,
    /// conda records that list files this distribution's RECORD also lists
    /// (files pip wrote over conda's), with how many.
    #[serde(default)]
    pub overwrites: Vec<FileOverlap>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileOverlap {
    /// The conda record's package name.
    pub record: String,
    pub files: usize,
    /// One of the shared files, prefix-relative.
    pub example: String,
}
