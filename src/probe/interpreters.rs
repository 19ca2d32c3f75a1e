//! Discovery: every interpreter and environment on the machine, found by
//! reading directories, never by running anything.
//!
//! Sources are tried in priority order ([`Source`]); the first source to find
//! an environment names it, later ones only add themselves to `sources`. One
//! interpreter reached by several paths (`python`, `python3`, `python3.11`,
//! `/bin` vs `/usr/bin`) is one entry. An environment is identified by its
//! prefix and its real executable: a venv and its base share the executable
//! but not the prefix, and they see different sys.paths.

use super::identify::{identify_env_dir, identify_exe, prefix_of, Identity};
use super::locate::{data_home, path_dirs, pyenv_root, python_executables, subdirs};
use super::site::{self, Layout};
use super::version::{self, is_python_name, minor_from_name, read_pyvenv_cfg, shebang, Shebang};
use super::Ctx;
use crate::fs::{display, normpath};
use crate::snapshot::{CondaMachine, Interpreter, Kind, Script};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Where an interpreter was found, in the order sources are consulted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// `--python`: what the user asked about.
    Requested,
    /// `VIRTUAL_ENV`: the activated venv.
    ActiveVenv,
    /// `CONDA_PREFIX`: the activated conda env.
    ActiveConda,
    /// What `python`, `pip` and friends on PATH run.
    PathCommand,
    /// A Python executable in a PATH directory.
    PathDir,
    /// `.venv` / `venv` in the working directory or one of its parents.
    ProjectVenv,
    /// `$PYENV_ROOT/versions/*` (and pyenv-virtualenv's envs).
    Pyenv,
    /// uv-managed Pythons (`~/.local/share/uv/python`).
    UvPython,
    /// `WORKON_HOME` / `~/.virtualenvs` (virtualenvwrapper).
    Workon,
    /// pipenv's `~/.local/share/virtualenvs`.
    Pipenv,
    /// poetry's `~/.cache/pypoetry/virtualenvs`.
    Poetry,
    /// hatch's `~/.local/share/hatch/env/virtual`.
    Hatch,
    /// pipx's `~/.local/share/pipx/venvs`.
    Pipx,
    /// conda: `environments.txt`, `envs_dirs`, well-known install roots.
    Conda,
    /// `/usr/bin`, `/usr/local/bin`, `/opt/*/bin`.
    System,
}

impl Source {
    fn label(self) -> &'static str {
        match self {
            Source::Requested => "--python",
            Source::ActiveVenv => "VIRTUAL_ENV",
            Source::ActiveConda => "CONDA_PREFIX",
            Source::PathCommand => "PATH command",
            Source::PathDir => "PATH",
            Source::ProjectVenv => "project .venv",
            Source::Pyenv => "pyenv",
            Source::UvPython => "uv python",
            Source::Workon => "WORKON_HOME",
            Source::Pipenv => "pipenv",
            Source::Poetry => "poetry",
            Source::Hatch => "hatch",
            Source::Pipx => "pipx",
            Source::Conda => "conda",
            Source::System => "system",
        }
    }
}

/// A place something was found: an executable to inspect, or an environment
/// directory that should have one.
#[derive(Debug, Clone)]
enum Candidate {
    Exe(PathBuf),
    EnvDir(PathBuf),
}

/// Every interpreter and environment the sources find. With
/// `requested_only` (`check --python`), only the requested one: a single
/// environment's check should not pay for reading the whole machine.
pub fn discover(
    ctx: &Ctx,
    commands: &[std::path::PathBuf],
    requested: Option<&Path>,
    requested_only: bool,
    conda: &CondaMachine,
) -> Vec<Interpreter> {
    let mut cands: Vec<(Candidate, Source)> = Vec::new();
    let mut add = |c: Candidate, s: Source| cands.push((c, s));

    if let Some(p) = requested {
        let c = if ctx.fs.is_dir(p) {
            Candidate::EnvDir(p.to_path_buf())
        } else {
            Candidate::Exe(p.to_path_buf())
        };
        add(c, Source::Requested);
        if requested_only {
            return identify_and_inspect(ctx, cands);
        }
    }
    if let Some(v) = ctx.var("VIRTUAL_ENV") {
        add(Candidate::EnvDir(PathBuf::from(v)), Source::ActiveVenv);
    }
    if let Some(v) = ctx.var("CONDA_PREFIX") {
        add(Candidate::EnvDir(PathBuf::from(v)), Source::ActiveConda);
    }
    // The interpreters PATH's commands lead to (through shims and wrappers).
    for i in commands {
        add(Candidate::Exe(i.clone()), Source::PathCommand);
    }
    let pyenv_root = pyenv_root(ctx);
    for dir in path_dirs(ctx) {
        if pyenv_root
            .as_ref()
            .is_some_and(|r| dir.starts_with(r.join("shims")))
        {
            continue; // shims are resolved by the commands probe, never run
        }
        for exe in python_executables(ctx, &dir) {
            add(Candidate::Exe(exe), Source::PathDir);
        }
    }
    for dir in ctx.cwd.ancestors() {
        for name in [".venv", "venv"] {
            let d = dir.join(name);
            if ctx.fs.is_file(&d.join("pyvenv.cfg")) {
                add(Candidate::EnvDir(d), Source::ProjectVenv);
            }
        }
    }
    if let Some(root) = &pyenv_root {
        for v in subdirs(ctx, &root.join("versions")) {
            for env in subdirs(ctx, &v.join("envs")) {
                add(Candidate::EnvDir(env), Source::Pyenv);
            }
            add(Candidate::EnvDir(v), Source::Pyenv);
        }
    }
    let uv_dir = ctx
        .var("UV_PYTHON_INSTALL_DIR")
        .map(PathBuf::from)
        .or_else(|| data_home(ctx).map(|d| d.join("uv/python")));
    if let Some(d) = uv_dir {
        for p in subdirs(ctx, &d) {
            add(Candidate::EnvDir(p), Source::UvPython);
        }
    }
    for (var, default, src) in [
        ("WORKON_HOME", ".virtualenvs", Source::Workon),
        (
            "POETRY_VIRTUALENVS_PATH",
            ".cache/pypoetry/virtualenvs",
            Source::Poetry,
        ),
    ] {
        if let Some(d) = ctx.env_dir_or_home(var, default) {
            for p in subdirs(ctx, &d) {
                add(Candidate::EnvDir(p), src);
            }
        }
    }
    if let Some(data) = data_home(ctx) {
        for p in subdirs(ctx, &data.join("virtualenvs")) {
            add(Candidate::EnvDir(p), Source::Pipenv);
        }
        for project in subdirs(ctx, &data.join("hatch/env/virtual")) {
            for p in subdirs(ctx, &project) {
                add(Candidate::EnvDir(p), Source::Hatch);
            }
        }
        for p in subdirs(ctx, &data.join("pipx/venvs")) {
            add(Candidate::EnvDir(p), Source::Pipx);
        }
    }
    if let Some(home) = ctx.home() {
        for p in subdirs(ctx, &home.join(".local/pipx/venvs")) {
            add(Candidate::EnvDir(p), Source::Pipx);
        }
    }
    for env in super::conda::env_dirs(ctx, conda) {
        add(Candidate::EnvDir(env), Source::Conda);
    }
    let mut system_dirs: Vec<PathBuf> = ["/usr/bin", "/usr/local/bin", "/bin"]
        .iter()
        .map(PathBuf::from)
        .collect();
    for d in subdirs(ctx, Path::new("/opt")) {
        system_dirs.push(d.join("bin"));
    }
    for dir in system_dirs {
        for exe in python_executables(ctx, &dir) {
            add(Candidate::Exe(exe), Source::System);
        }
    }

    identify_and_inspect(ctx, cands)
}

/// Identify cheaply, merge duplicates, then do the reading in parallel.
fn identify_and_inspect(ctx: &Ctx, cands: Vec<(Candidate, Source)>) -> Vec<Interpreter> {
    // Identifying reads links and `pyvenv.cfg`s: done in parallel, then
    // merged in the sources' order. An environment directory reached again
    // (through a symlink) is identified once, as before.
    let canon: Vec<Option<PathBuf>> = cands
        .par_iter()
        .map(|(c, _)| match c {
            Candidate::EnvDir(dir) => {
                Some(ctx.fs.canonicalize(dir).unwrap_or_else(|_| dir.clone()))
            }
            Candidate::Exe(_) => None,
        })
        .collect();
    let mut seen_dirs: HashMap<&Path, ()> = HashMap::new();
    let first_seen: Vec<bool> = canon
        .iter()
        .map(|c| {
            c.as_deref()
                .is_none_or(|c| seen_dirs.insert(c, ()).is_none())
        })
        .collect();
    let idents: Vec<Option<Identity>> = cands
        .par_iter()
        .zip(&first_seen)
        .map(|((c, _), &first)| match c {
            Candidate::Exe(exe) => identify_exe(ctx, exe),
            Candidate::EnvDir(dir) if first => identify_env_dir(ctx, dir),
            Candidate::EnvDir(_) => None,
        })
        .collect();
    let mut order: Vec<(Identity, Vec<(PathBuf, Source)>)> = Vec::new();
    let mut index: HashMap<Identity, usize> = HashMap::new();
    for (((cand, src), canon), (first, ident)) in cands
        .into_iter()
        .zip(canon)
        .zip(first_seen.into_iter().zip(idents))
    {
        if let (Candidate::EnvDir(dir), Some(canon), false) = (&cand, &canon, first) {
            // Same directory reached through a symlink: one env.
            if let Some(i) = index_by_prefix(&order, dir, canon) {
                order[i].1.push((dir.clone(), src));
            }
            continue;
        }
        let Some(ident) = ident else { continue };
        let exe = ident.invoked.clone();
        match index.get(&ident) {
            Some(&i) => order[i].1.push((exe, src)),
            None => {
                index.insert(ident.clone(), order.len());
                order.push((ident, vec![(exe, src)]));
            }
        }
    }

    let judge = ctx.user.uid != Some(0);
    order
        .into_par_iter()
        .map(|(ident, found)| {
            let mut it = inspect(ctx, ident, found);
            if judge {
                it.not_runnable = it
                    .executable
                    .as_deref()
                    .and_then(|e| super::disk::blocked(ctx, Path::new(e)));
            }
            it
        })
        .collect()
}

fn index_by_prefix(
    order: &[(Identity, Vec<(PathBuf, Source)>)],
    dir: &Path,
    canon: &Path,
) -> Option<usize> {
    order
        .iter()
        .position(|(id, _)| id.prefix == dir || id.prefix == canon)
}

fn inspect(ctx: &Ctx, ident: Identity, found: Vec<(PathBuf, Source)>) -> Interpreter {
    let mut aliases: Vec<String> = Vec::new();
    let mut sources: Vec<String> = Vec::new();
    for (p, s) in &found {
        let d = display(p);
        if !aliases.contains(&d) {
            aliases.push(d);
        }
        if !sources.iter().any(|x| x == s.label()) {
            sources.push(s.label().to_string());
        }
    }
    // The best name: the environment's own `bin/python3`, `bin/python`, or
    // what was found first.
    let in_prefix = |p: &&String| Path::new(p).parent() == Some(&ident.prefix.join("bin"));
    let executable = aliases
        .iter()
        .find(|p| in_prefix(p) && p.ends_with("/python3"))
        .or_else(|| {
            aliases
                .iter()
                .find(|p| in_prefix(p) && p.ends_with("/python"))
        })
        .or_else(|| aliases.iter().find(in_prefix))
        .or_else(|| aliases.first())
        .cloned();
    aliases.retain(|a| Some(a) != executable.as_ref());

    let prefix = ident.prefix.clone();
    let is_conda = ctx.fs.is_dir(&prefix.join("conda-meta"));
    let exe_exists = ident.real.is_some();
    let mut it = Interpreter {
        executable: if exe_exists || ident.venv_cfg.is_some() {
            executable
        } else {
            None
        },
        aliases,
        real_executable: ident.real.as_deref().map(display),
        version: None,
        version_source: None,
        implementation: "cpython".into(),
        machine: None,
        pointer_bits: None,
        kind: Kind::Other,
        prefix: display(&prefix),
        base_prefix: None,
        base_executable: None,
        sources,
        pyvenv_cfg: None,
        sys_path: Vec::new(),
        runtime_sys_path: Vec::new(),
        startup_hooks: Vec::new(),
        foreign_scripts: Vec::new(),
        error: ident.error.clone(),
        shallow: false,
        stdlib_modules: Vec::new(),
        not_runnable: None,
        exec: None,
        conda: None,
    };
    if let Some(real) = &ident.real {
        if real
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("pypy"))
        {
            it.implementation = "pypy".into();
        }
        if let Some((machine, bits)) = ctx
            .fs
            .read_head(real, 64)
            .ok()
            .and_then(|h| version::elf_machine(&h))
        {
            it.machine = Some(machine);
            it.pointer_bits = Some(bits);
        }
    }

    // Venv: the base comes from `home` in pyvenv.cfg.
    let mut base_prefix = prefix.clone();
    let mut minor: Option<String> = ident
        .real
        .as_ref()
        .and_then(|r| r.file_name())
        .and_then(|n| minor_from_name(&n.to_string_lossy()));
    if let Some(cfg_path) = &ident.venv_cfg {
        match read_pyvenv_cfg(&ctx.fs, cfg_path) {
            Ok(cfg) => {
                it.kind = venv_kind(ctx, &prefix, cfg.creator.as_deref());
                if let Some(home) = &cfg.home {
                    let home = PathBuf::from(home);
                    match base_of_home(ctx, &home, ident.real.as_deref()) {
                        Ok((base_exe, bprefix)) => {
                            it.base_executable = Some(display(&base_exe));
                            base_prefix = bprefix;
                        }
                        // The missing base explains a dangling bin/python:
                        // say that first.
                        Err(e) => it.error = Some(e),
                    }
                } else {
                    it.error.get_or_insert(format!(
                        "`{}` has no `home` key, so Python cannot find its base interpreter",
                        display(cfg_path)
                    ));
                }
                if minor.is_none() {
                    minor = cfg
                        .version
                        .as_deref()
                        .map(|v| v.split('.').take(2).collect::<Vec<_>>().join("."));
                }
                if let Some(v) = &cfg.version {
                    it.version = Some(v.clone());
                    it.version_source = Some(display(cfg_path));
                }
                it.pyvenv_cfg = Some(cfg);
            }
            Err(e) => {
                it.kind = Kind::Venv;
                it.error
                    .get_or_insert(format!("cannot read `{}`: {e}", display(cfg_path)));
            }
        }
    } else if is_conda {
        it.kind = Kind::Conda;
    } else if let Some(real) = &ident.real {
        it.kind = base_kind(ctx, real);
    }
    it.base_prefix = Some(display(&base_prefix));

    if minor.is_none() {
        minor = version::lib_minors(&ctx.fs, &base_prefix)
            .into_iter()
            .next();
    }
    // The base's own files are the truth for the version: a venv's cfg goes
    // stale when its base is upgraded in place.
    if it.executable.is_some() || is_conda {
        if let Some((v, src)) =
            version::version_from_prefix(&ctx.fs, &base_prefix, minor.as_deref())
        {
            let cfg_minor = it
                .version
                .as_deref()
                .map(|v| v.split('.').take(2).collect::<Vec<_>>().join("."));
            let base_minor = v.split('.').take(2).collect::<Vec<_>>().join(".");
            if let Some(cm) = cfg_minor.filter(|cm| *cm != base_minor) {
                it.error.get_or_insert(format!(
                    "the venv was made for Python {cm} but its base `{}` is now Python {v}",
                    display(&base_prefix)
                ));
            }
            if it.version.as_deref().is_none_or(|old| old.len() <= v.len()) {
                it.version = Some(v);
                it.version_source = Some(src);
            }
        }
    }

    let mut sys_layout = None;
    if let (Some(m), true) = (minor.as_deref(), it.executable.is_some()) {
        let major: u32 = m
            .split('.')
            .next()
            .and_then(|x| x.parse().ok())
            .unwrap_or(3);
        let platlibdir = if !ctx
            .fs
            .is_dir(&base_prefix.join("lib").join(format!("python{m}")))
            && ctx
                .fs
                .is_dir(&base_prefix.join("lib64").join(format!("python{m}")))
        {
            "lib64"
        } else {
            "lib"
        };
        let site_py = base_prefix
            .join(platlibdir)
            .join(format!("python{m}"))
            .join("site.py");
        let debian = ctx
            .fs
            .read_text_limited(&site_py, 256 * 1024)
            .map(|(t, _)| t.contains("dist-packages"))
            .unwrap_or(false);
        if !ctx.fs.is_file(&site_py) && it.error.is_none() && !is_conda {
            it.error = Some(format!(
                "no standard library at `{}`",
                display(site_py.parent().unwrap_or(&base_prefix))
            ));
        }
        let layout = Layout {
            minor: m.to_string(),
            major,
            prefix: prefix.clone(),
            base_prefix: base_prefix.clone(),
            venv_system_site: it
                .pyvenv_cfg
                .as_ref()
                .map(|c| c.include_system_site_packages),
            platlibdir,
            debian,
        };
        let sp = site::compute(ctx, &layout, ctx.discovery_depth());
        it.sys_path = sp.entries;
        it.startup_hooks = sp.startup_hooks;
        sys_layout = Some(layout);
    }
    match ctx.discovery_depth() {
        site::Depth::Shallow => {
            it.shallow = true;
            ctx.keep_shallow(&it, prefix, sys_layout);
        }
        site::Depth::Full => read_scripts(ctx, &mut it, &prefix),
    }
    it
}

/// The console scripts of the environment at `prefix` (a system Python's
/// bin is the distribution's, not pip's).
pub(super) fn read_scripts(ctx: &Ctx, it: &mut Interpreter, prefix: &Path) {
    if it.kind != Kind::System {
        it.foreign_scripts = foreign_scripts(ctx, prefix);
    }
}

/// The base interpreter a venv's `home` names, and the base prefix.
fn base_of_home(ctx: &Ctx, home: &Path, real: Option<&Path>) -> Result<(PathBuf, PathBuf), String> {
    match ctx.fs.metadata(home) {
        Ok(m) if m.is_dir() => {}
        // Closed to this user is not gone: say which.
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(format!(
                "its base interpreter's directory `{}` (pyvenv.cfg `home`) cannot be read by this user: {e}",
                display(home)
            ))
        }
        _ => {
            return Err(format!(
                "its base interpreter's directory `{}` (pyvenv.cfg `home`) no longer exists",
                display(home)
            ))
        }
    }
    // Prefer the file the venv's own python resolves to, when it is in home.
    if let Some(r) = real {
        if r.parent() == Some(home) || ctx.fs.canonicalize(home).ok().as_deref() == r.parent() {
            if let Some(p) = prefix_of(ctx, r) {
                return Ok((r.to_path_buf(), p));
            }
        }
    }
    for n in ["python3", "python"] {
        let exe = home.join(n);
        if let Ok(real) = ctx.fs.canonicalize(&exe) {
            if let Some(p) = prefix_of(ctx, &real) {
                return Ok((exe, p));
            }
        }
    }
    Err(format!(
        "its base interpreter is gone: `{}` (pyvenv.cfg `home`) has no python",
        display(home)
    ))
}

fn venv_kind(ctx: &Ctx, prefix: &Path, creator: Option<&str>) -> Kind {
    let under = |var: &str, default: &str| {
        ctx.env_dir_or_home(var, default)
            .is_some_and(|d| prefix.starts_with(&d))
    };
    let data = data_home(ctx);
    let under_data = |sub: &str| {
        data.as_ref()
            .is_some_and(|d| prefix.starts_with(d.join(sub)))
    };
    if under("POETRY_VIRTUALENVS_PATH", ".cache/pypoetry/virtualenvs") {
        Kind::Poetry
    } else if under_data("virtualenvs") {
        Kind::Pipenv
    } else if under_data("hatch/env/virtual") {
        Kind::Hatch
    } else if under_data("pipx/venvs") || under("PIPX_HOME", ".local/pipx/venvs") {
        Kind::Pipx
    } else if creator == Some("virtualenv") {
        Kind::Virtualenv
    } else {
        Kind::Venv
    }
}

fn base_kind(ctx: &Ctx, real: &Path) -> Kind {
    if pyenv_root(ctx).is_some_and(|r| real.starts_with(r.join("versions"))) {
        return Kind::Pyenv;
    }
    let uv = ctx
        .var("UV_PYTHON_INSTALL_DIR")
        .map(PathBuf::from)
        .or_else(|| data_home(ctx).map(|d| d.join("uv/python")));
    if uv.is_some_and(|u| real.starts_with(u)) {
        return Kind::Uv;
    }
    if ["/usr/", "/bin/", "/opt/", "/sbin/"]
        .iter()
        .any(|p| real.starts_with(p))
    {
        return Kind::System;
    }
    Kind::Other
}

/// Console scripts in `prefix/bin` whose shebang names an interpreter that
/// is missing, or one outside this environment (a moved or copied venv).
fn foreign_scripts(ctx: &Ctx, prefix: &Path) -> Vec<Script> {
    let bin = prefix.join("bin");
    let Ok(names) = ctx.fs.read_dir_names(&bin) else {
        return Vec::new();
    };
    let canon_prefix = ctx
        .fs
        .canonicalize(prefix)
        .unwrap_or_else(|_| prefix.to_path_buf());
    let mut out = Vec::new();
    for n in names.iter().take(5000) {
        let path = bin.join(n);
        let Ok(meta) = ctx.fs.symlink_metadata(&path) else {
            continue;
        };
        // Only executable files are console scripts; CPython installs a
        // `python3.X-gdb.py` gdb extension with `#!/usr/bin/python` that is
        // loaded by gdb, never run.
        use std::os::unix::fs::PermissionsExt;
        let gdb_helper = n.to_string_lossy().ends_with("-gdb.py");
        if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 || gdb_helper {
            continue; // symlinks are interpreters or links to elsewhere
        }
        let Ok(head) = ctx.fs.read_head(&path, 512) else {
            continue;
        };
        let Some(Shebang::Path(interp)) = shebang(&head) else {
            continue;
        };
        let name = interp
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !is_python_name(&name) {
            continue;
        }
        let interp = normpath(&interp);
        let exists = ctx.fs.exists(&interp);
        let inside = interp.starts_with(prefix) || interp.starts_with(&canon_prefix);
        if !exists || !inside {
            out.push(Script {
                path: display(&path),
                interpreter: display(&interp),
                interpreter_exists: exists,
            });
        }
    }
    out
}

/// The top-level modules of `it`'s standard library: `x.py` and packages in
/// the stdlib dir, extension modules in `lib-dynload`, sorted.
pub fn stdlib_modules(ctx: &Ctx, it: &Interpreter) -> Vec<String> {
    use crate::snapshot::Origin;
    let mut out: Vec<String> = Vec::new();
    for e in it.sys_path.iter().filter(|e| e.origin == Origin::Stdlib) {
        let Ok(names) = ctx.fs.read_dir_names(Path::new(&e.path)) else {
            continue;
        };
        for n in names {
            let n = n.to_string_lossy();
            let stem = match n.split_once('.') {
                Some((stem, rest)) if rest == "py" || rest.ends_with("so") => stem,
                Some(_) => continue,
                None if !matches!(
                    n.as_ref(),
                    "site-packages" | "dist-packages" | "__pycache__"
                ) =>
                {
                    if !ctx
                        .fs
                        .is_file(&Path::new(&e.path).join(n.as_ref()).join("__init__.py"))
                    {
                        continue;
                    }
                    n.as_ref()
                }
                None => continue,
            };
            if super::site_packages::is_identifier(stem) && !out.iter().any(|o| o == stem) {
                out.push(stem.to_string());
            }
        }
    }
    out.sort();
    out
}
