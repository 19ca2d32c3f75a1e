//! Probes read the machine into a [`Snapshot`]. They never execute what they
//! find (unless `--exec`), never write, and turn every unreadable thing into a
//! [`Note`] or an interpreter `error` rather than a failure.

pub mod caches;
pub mod commands;
pub mod conda;
pub mod config;
pub mod disk;
pub mod exec;
pub mod gpu;
pub mod host;
pub mod identify;
pub mod interpreters;
pub mod locate;
pub mod requested;
pub mod site;
pub mod site_packages;
pub mod version;
pub mod version_files;

use crate::fs::Fs;
use crate::redact;
use crate::snapshot::{Note, Snapshot, User, SCHEMA_VERSION};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Environment variables envdoctor records and reasons about, by exact name.
const ENV_NAMES: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "TMPDIR",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "CONDA_DEFAULT_ENV",
    "CONDA_SHLVL",
    "CONDA_EXE",
    "CONDARC",
    "CONDA_ROOT",
    "CONDA_ENVS_PATH",
    "CONDA_ENVS_DIRS",
    "CONDA_PKGS_DIRS",
    "MAMBA_ROOT_PREFIX",
    "MAMBA_EXE",
    "PYENV_ROOT",
    "PYENV_VERSION",
    "PYENV_DIR",
    "WORKON_HOME",
    "POETRY_VIRTUALENVS_PATH",
    "POETRY_CACHE_DIR",
    "PIPENV_VENV_IN_PROJECT",
    "PIPX_HOME",
    "HATCH_DATA_DIR",
    "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_CONFIG_DIRS",
    "LD_LIBRARY_PATH",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "all_proxy",
    "REQUESTS_CA_BUNDLE",
    "SSL_CERT_FILE",
];

/// Environment variables recorded by prefix (every `PYTHON*`, `PIP_*`, `UV_*`).
const ENV_PREFIXES: &[&str] = &["PYTHON", "PIP_", "UV_"];

/// The PATH a container image gets when nothing sets one (Docker's default).
pub const DEFAULT_ROOT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The directory read as `/`.
    pub root: Option<PathBuf>,
    /// Judge for this user instead of the one running envdoctor.
    pub user: Option<String>,
    /// Extra environment variables (`KEY=VALUE`), applied last.
    pub env: Vec<(String, String)>,
    /// Run each interpreter to confirm the static results.
    pub exec: bool,
    /// An interpreter or environment directory the user named (`--python`).
    pub python: Option<PathBuf>,
    /// Leave site directories unread (`check` reads only its targets' later,
    /// with [`read_site_packages`]).
    pub skip_site_packages: bool,
    /// Discover only `python` (`check --python`, `why --python`).
    pub requested_only: bool,
    /// List each interpreter's standard-library modules (`why`).
    pub stdlib_modules: bool,
    /// Read only the distribution facts some rule or probe reads (`check`,
    /// whose snapshot is never shown): no REQUESTED marker, and INSTALLER
    /// only in the dirs of interpreters whose stdlib carries
    /// `EXTERNALLY-MANAGED` and of conda envs. A rule that comes to read
    /// either elsewhere must change `site_packages::probe`.
    pub rule_facts_only: bool,
}

/// What every probe reads from: the filesystem view, the environment it
/// judges for, and a sink for notes.
pub struct Ctx {
    pub fs: Fs,
    /// The real (unredacted) environment, used for resolution only; the
    /// snapshot gets the redacted copy.
    pub env: BTreeMap<String, String>,
    pub cwd: PathBuf,
    pub user: User,
    pub exec: bool,
    /// See [`Options::rule_facts_only`].
    pub rule_facts_only: bool,
    notes: Mutex<Vec<Note>>,
    /// What [`deepen_in`] needs of each interpreter read shallow (its
    /// prefix as a path, not as shown, and its sys.path layout), by prefix
    /// and executable as shown.
    shallow: Mutex<HashMap<(String, Option<String>), Shallow>>,
    /// [`locate::python_names`] of each directory listed, by real path.
    bin_names: Mutex<HashMap<PathBuf, std::sync::Arc<Vec<std::ffi::OsString>>>>,
    /// [`Ctx::site_listing`] of each site dir listed.
    site_listings: Mutex<HashMap<PathBuf, SiteListing>>,
}

/// What deepening an interpreter read shallow takes.
#[derive(Debug, Clone)]
struct Shallow {
    /// Its prefix as a path (the snapshot holds it as shown).
    prefix: PathBuf,
    /// Its sys.path layout, when it has a sys.path.
    layout: Option<site::Layout>,
}

/// A directory's entries in listing order, with their types.
pub type SiteListing = std::sync::Arc<Vec<(std::ffi::OsString, crate::fs::EntryType)>>;

impl Ctx {
    pub fn new(opts: &Options) -> Result<Ctx, crate::Error> {
        let root = opts.root.clone().unwrap_or_else(|| PathBuf::from("/"));
        if !root.is_dir() {
            return Err(crate::Error::Usage(format!(
                "`--root {}` is not a directory",
                root.display()
            )));
        }
        let root = std::fs::canonicalize(&root).map_err(|e| {
            crate::Error::Usage(format!("cannot read `--root {}`: {e}", root.display()))
        })?;
        let fs = Fs::new(root);
        let host_root = fs.is_host_root();

        // Inside another root, the host's environment says nothing about the
        // image: start from what a container would get, plus `--env`.
        let mut env: BTreeMap<String, String> = BTreeMap::new();
        if host_root {
            for (k, v) in std::env::vars_os() {
                if let (Ok(k), Ok(v)) = (k.into_string(), v.into_string()) {
                    env.insert(k, v);
                }
            }
        } else {
            env.insert("PATH".into(), DEFAULT_ROOT_PATH.into());
        }

        let mut user = host::resolve_user(&fs, opts.user.as_deref(), host_root, &env)?;
        if opts.user.is_some() && user.name.is_none() {
            if let Some((_, h)) = opts.env.iter().rev().find(|(k, _)| k == "HOME") {
                user.home = Some(h.clone());
            }
        }
        if opts.user.is_some() || !host_root {
            // Judge for that user: their HOME, not ours.
            match &user.home {
                Some(h) => env.insert("HOME".into(), h.clone()),
                None => env.remove("HOME"),
            };
            if let Some(n) = &user.name {
                env.insert("USER".into(), n.clone());
            }
        }
        for (k, v) in &opts.env {
            env.insert(k.clone(), v.clone());
        }

        let cwd = if host_root {
            std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"))
        } else {
            PathBuf::from("/")
        };
        Ok(Ctx {
            fs,
            env,
            cwd,
            user,
            exec: opts.exec && host_root,
            rule_facts_only: opts.rule_facts_only,
            notes: Mutex::new(Vec::new()),
            shallow: Mutex::new(HashMap::new()),
            bin_names: Mutex::new(HashMap::new()),
            site_listings: Mutex::new(HashMap::new()),
        })
    }

    /// How deep discovery reads each interpreter's sys.path: `check` (rule
    /// facts only) reads every interpreter shallow and its targets in full
    /// afterwards ([`deepen_in`]). With `--exec` the static reading is what
    /// the runtime one is matched against, so it stays full.
    pub fn discovery_depth(&self) -> site::Depth {
        if self.rule_facts_only && !self.exec {
            site::Depth::Shallow
        } else {
            site::Depth::Full
        }
    }

    /// Keeps what deepening an interpreter read shallow takes.
    pub(crate) fn keep_shallow(
        &self,
        it: &crate::snapshot::Interpreter,
        prefix: PathBuf,
        layout: Option<site::Layout>,
    ) {
        if let Ok(mut m) = self.shallow.lock() {
            m.insert(
                (it.prefix.clone(), it.executable.clone()),
                Shallow { prefix, layout },
            );
        }
    }

    fn shallow_of(&self, it: &crate::snapshot::Interpreter) -> Option<Shallow> {
        let m = self.shallow.lock().ok()?;
        m.get(&(it.prefix.clone(), it.executable.clone())).cloned()
    }

    /// A site dir's listing, listed once per run: sys.path's computation
    /// lists each for its `.pth` files and the site-packages reader for its
    /// distributions (fifty venvs: fifty directories of hundreds of names).
    /// An error is not kept; whoever asks again gets it afresh.
    pub fn site_listing(&self, dir: &Path) -> std::io::Result<SiteListing> {
        if let Some(hit) = self
            .site_listings
            .lock()
            .ok()
            .and_then(|m| m.get(dir).cloned())
        {
            return Ok(hit);
        }
        let listed = std::sync::Arc::new(self.fs.read_dir_typed(dir)?);
        if let Ok(mut m) = self.site_listings.lock() {
            m.insert(dir.to_path_buf(), std::sync::Arc::clone(&listed));
        }
        Ok(listed)
    }

    pub fn var(&self, name: &str) -> Option<&str> {
        self.env
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// `~` for the user being judged.
    pub fn home(&self) -> Option<PathBuf> {
        self.var("HOME").map(PathBuf::from)
    }

    /// A directory from an environment variable, else `~/default`.
    pub fn env_dir_or_home(&self, var: &str, default_under_home: &str) -> Option<PathBuf> {
        match self.var(var) {
            Some(v) => Some(PathBuf::from(v)),
            None => self.home().map(|h| h.join(default_under_home)),
        }
    }

    /// The notes so far, leaving none behind.
    fn take_notes(&self) -> Vec<Note> {
        self.notes
            .lock()
            .map(|mut n| std::mem::take(&mut *n))
            .unwrap_or_default()
    }

    pub fn note(&self, path: &Path, message: impl Into<String>) {
        let note = Note {
            path: crate::fs::display(path),
            message: message.into(),
        };
        if let Ok(mut n) = self.notes.lock() {
            n.push(note);
        }
    }

    fn recorded_env(&self) -> BTreeMap<String, String> {
        self.env
            .iter()
            .filter(|(k, _)| {
                ENV_NAMES.contains(&k.as_str()) || ENV_PREFIXES.iter().any(|p| k.starts_with(p))
            })
            .map(|(k, v)| (k.clone(), redact::env_value(k, v)))
            .collect()
    }
}

/// Reads the whole machine (or root) into a snapshot.
pub fn scan(opts: &Options) -> Result<Snapshot, crate::Error> {
    scan_in(&Ctx::new(opts)?, opts)
}

/// [`scan`] with a context the caller holds (and goes on using: `check`
/// resolves `--python`, scans and reads its targets' site-packages
/// through one, so each path is stat'ed once). The context's notes so far
/// go into the snapshot.
pub fn scan_in(ctx: &Ctx, opts: &Options) -> Result<Snapshot, crate::Error> {
    let requested = match &opts.python {
        Some(p) => {
            let abs = ctx.cwd.join(p);
            if ctx.fs.symlink_metadata(&abs).is_err() {
                return Err(crate::Error::Usage(format!(
                    "`--python {}` does not exist; give the path of an interpreter or environment (`envdoctor scan` lists them)",
                    p.display()
                )));
            }
            Some(crate::fs::normpath(&abs))
        }
        None => None,
    };
    // Independent of each other: side by side (a few milliseconds of a run
    // that otherwise waits on them one by one).
    let ((host, gpu), (commands, conda)) = rayon::join(
        || rayon::join(|| host::probe(ctx), || gpu::host(ctx)),
        || rayon::join(|| commands::probe(ctx), || conda::machine(ctx)),
    );
    let command_pythons: Vec<PathBuf> = commands
        .iter()
        .filter_map(|c| c.interpreter.clone())
        .collect();
    let mut interpreters = interpreters::discover(
        ctx,
        &command_pythons,
        requested.as_deref(),
        opts.requested_only,
        &conda,
    );
    // A broken environment's fix names a working Python of the same
    // version by path: that takes knowing the others (no site-packages).
    if opts.requested_only && interpreters.iter().any(|i| i.error.is_some()) {
        interpreters =
            interpreters::discover(ctx, &command_pythons, requested.as_deref(), false, &conda);
    }
    conda::describe_envs(ctx, &mut interpreters);
    if opts.stdlib_modules {
        for it in &mut interpreters {
            it.stdlib_modules = interpreters::stdlib_modules(ctx, it);
        }
    }
    let commands = commands::link(ctx, commands, &mut interpreters);
    if ctx.exec {
        exec::run_all(ctx, &mut interpreters);
        for it in &mut interpreters {
            it.runtime_sys_path = exec::runtime_sys_path(ctx, it);
        }
    }
    let judge = disk::Judge::new(ctx);
    let ((config, caches), (mounts, mut storage)) = rayon::join(
        || {
            let config = config::probe(ctx, &interpreters);
            let caches = caches::probe(ctx, &judge, &config, &interpreters);
            (config, caches)
        },
        || {
            let mounts = disk::mounts();
            let storage = disk::probe(ctx, &judge, &mounts, &interpreters);
            (mounts, storage)
        },
    );
    for c in caches.iter().filter(|c| c.disabled_by.is_none()) {
        storage.push(disk::storage(
            ctx,
            &judge,
            &mounts,
            "cache",
            &format!("{} cache", c.tool),
            Path::new(&c.path),
            None,
        ));
    }
    let (site_dirs, externally_managed) = if opts.skip_site_packages {
        Default::default()
    } else {
        let all: Vec<usize> = (0..interpreters.len()).collect();
        let read = site_packages::probe(ctx, &interpreters, &all);
        conda::probe_records(ctx, &mut interpreters, &all, &read.0);
        read
    };
    let mut notes = ctx.take_notes();
    notes.sort_by(|a, b| a.path.cmp(&b.path));
    notes.dedup_by(|a, b| a.path == b.path && a.message == b.message);
    Ok(Snapshot {
        schema_version: SCHEMA_VERSION,
        generator: format!("envdoctor {}", env!("CARGO_PKG_VERSION")),
        host,
        env: ctx.recorded_env(),
        commands,
        interpreters,
        config,
        caches,
        storage,
        site_dirs,
        externally_managed,
        conda,
        gpu,
        notes,
    })
}

/// Reads the site dirs of `targets` that `snap` does not hold yet (a
/// snapshot from `scan` already has them all).
pub fn read_site_packages_in(ctx: &Ctx, snap: &mut Snapshot, targets: &[usize]) {
    let (dirs, markers) = site_packages::probe(ctx, &snap.interpreters, targets);
    for d in dirs {
        if snap.site_dir(&d.path).is_none() {
            snap.site_dirs.push(d);
        }
    }
    for m in markers {
        if !snap.externally_managed.contains(&m) {
            snap.externally_managed.push(m);
        }
    }
    conda::probe_records(ctx, &mut snap.interpreters, targets, &snap.site_dirs);
    merge_notes(ctx, snap);
}

/// Reads in full the interpreters of `which` that discovery read shallow:
/// their `.pth` files, startup hooks and console scripts. `check` deepens
/// its targets before reading their site-packages, and the others only
/// when a rule asked what they see.
pub fn deepen_in(ctx: &Ctx, snap: &mut Snapshot, which: &[usize]) {
    use rayon::prelude::*;
    snap.interpreters
        .par_iter_mut()
        .enumerate()
        .filter(|(i, it)| it.shallow && which.contains(i))
        .for_each(|(_, it)| {
            let Some(Shallow { prefix, layout }) = ctx.shallow_of(it) else {
                return;
            };
            if let Some(l) = layout {
                let sp = site::compute(ctx, &l, site::Depth::Full);
                it.sys_path = sp.entries;
                it.startup_hooks = sp.startup_hooks;
            }
            interpreters::read_scripts(ctx, it, &prefix);
            it.shallow = false;
        });
    merge_notes(ctx, snap);
}

fn merge_notes(ctx: &Ctx, snap: &mut Snapshot) {
    let notes = ctx.take_notes();
    snap.notes.extend(notes);
    snap.notes.sort_by(|a, b| a.path.cmp(&b.path));
    snap.notes
        .dedup_by(|a, b| a.path == b.path && a.message == b.message);
}
