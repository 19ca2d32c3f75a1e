//! What environment an executable or a directory is: its prefix, its real
//! executable, its venv config, or why it is broken. Read from the disk
//! alone (getpath's landmarks), shared by the interpreter and the command
//! probes.

use super::version::{self, is_python_name, minor_from_name};
use super::Ctx;
use crate::fs::{display, normpath};
use std::path::{Path, PathBuf};

/// What makes two findings of an interpreter the same environment.
#[derive(Debug, Clone)]
pub struct Identity {
    pub prefix: PathBuf,
    pub real: Option<PathBuf>,
    /// The path it was found by (not part of identity).
    pub(super) invoked: PathBuf,
    /// A venv's config, when the prefix is a venv.
    pub(super) venv_cfg: Option<PathBuf>,
    /// Why this environment is broken, when it is.
    pub(super) error: Option<String>,
}

impl std::hash::Hash for Identity {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.prefix.hash(state);
        self.real.hash(state);
    }
}
impl PartialEq for Identity {
    fn eq(&self, other: &Self) -> bool {
        self.prefix == other.prefix && self.real == other.real
    }
}
impl Eq for Identity {}

/// The venv a path to `bin/python` belongs to: `pyvenv.cfg` beside the
/// executable or one directory up, as getpath looks for it.
fn venv_cfg_for(ctx: &Ctx, exe: &Path) -> Option<PathBuf> {
    let bin = exe.parent()?;
    for d in [bin, bin.parent()?] {
        let cfg = d.join("pyvenv.cfg");
        // Present at all (even a FIFO or garbage): it is a venv, maybe broken.
        if ctx.fs.symlink_metadata(&cfg).is_ok() {
            return Some(cfg);
        }
    }
    None
}

/// Identity of an executable found somewhere: resolves its venv or prefix.
pub fn identify_exe(ctx: &Ctx, exe: &Path) -> Option<Identity> {
    let exe = normpath(exe);
    if ctx.fs.symlink_metadata(&exe).is_err() {
        return None;
    }
    let real = ctx.fs.canonicalize(&exe).ok();
    if let Some(cfg) = venv_cfg_for(ctx, &exe) {
        let prefix = cfg.parent().unwrap_or(Path::new("/")).to_path_buf();
        let error = real.is_none().then(|| dangling(ctx, &exe));
        return Some(Identity {
            prefix,
            real,
            invoked: exe,
            venv_cfg: Some(cfg),
            error,
        });
    }
    let Some(real) = real else {
        // A dangling python outside any venv is not an environment; say so.
        ctx.note(&exe, dangling(ctx, &exe));
        return None;
    };
    let prefix = prefix_of(ctx, &real)?;
    Some(Identity {
        prefix,
        real: Some(real),
        invoked: exe,
        venv_cfg: None,
        error: None,
    })
}

/// Why a path to python does not resolve: the last link of its chain that
/// points at nothing (`bin/python3 -> python3.12 -> /gone/bin/python3.12`).
fn dangling(ctx: &Ctx, exe: &Path) -> String {
    let mut cur = exe.to_path_buf();
    for _ in 0..40 {
        match ctx.fs.read_link(&cur) {
            Ok(t) => {
                let next = normpath(&cur.parent().unwrap_or(Path::new("/")).join(&t));
                if ctx.fs.symlink_metadata(&next).is_err() {
                    return format!(
                        "`{}` leads to `{}`, which does not exist",
                        display(exe),
                        display(&next)
                    );
                }
                cur = next;
            }
            Err(_) => break,
        }
    }
    format!("`{}` cannot be resolved (a symlink loop?)", display(exe))
}

/// getpath's landmark search: the directory above `bin/` whose
/// `lib/pythonX.Y/os.py` exists (or `conda-meta/` for a conda env).
pub fn prefix_of(ctx: &Ctx, real: &Path) -> Option<PathBuf> {
    let name = real.file_name()?.to_string_lossy().into_owned();
    let minor = minor_from_name(&name);
    let mut dir = real.parent();
    while let Some(d) = dir {
        if let Some(m) = &minor {
            for lib in ["lib", "lib64"] {
                if ctx
                    .fs
                    .is_file(&d.join(lib).join(format!("python{m}")).join("os.py"))
                {
                    return Some(d.to_path_buf());
                }
            }
        } else if !version::lib_minors(&ctx.fs, d).is_empty() {
            return Some(d.to_path_buf());
        }
        if ctx.fs.is_dir(&d.join("conda-meta")) {
            return Some(d.to_path_buf());
        }
        dir = d.parent();
    }
    // No stdlib found: the parent of bin/ is the best guess, and inspect()
    // will report the missing stdlib.
    real.parent()?.parent().map(Path::to_path_buf)
}

/// An environment directory: its `bin/python3` (or `bin/python`), or a
/// broken-environment identity when it has none.
pub fn identify_env_dir(ctx: &Ctx, dir: &Path) -> Option<Identity> {
    let dir = normpath(dir);
    if !ctx.fs.is_dir(&dir) {
        if ctx.fs.symlink_metadata(&dir).is_ok() || ctx.fs.is_file(&dir) {
            ctx.note(&dir, "listed as an environment but is not a directory");
        }
        // Not there, or there but closed to this user: say which.
        let error = match ctx.fs.metadata(&dir) {
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                format!("cannot read `{}`: {e}", display(&dir))
            }
            _ => format!("`{}` does not exist", display(&dir)),
        };
        return Some(Identity {
            prefix: dir.clone(),
            real: None,
            invoked: dir.join("bin/python"),
            venv_cfg: None,
            error: Some(error),
        });
    }
    // Opening a directory takes the read permission listing does, without
    // listing it.
    if let Err(e) = ctx.fs.open_dir(&dir) {
        // Listed where environments live but unreadable: report it broken.
        return Some(Identity {
            prefix: dir.clone(),
            real: None,
            invoked: dir.join("bin/python"),
            venv_cfg: None,
            error: Some(format!("cannot read `{}`: {e}", display(&dir))),
        });
    }
    let bin = dir.join("bin");
    let mut names: Vec<String> = vec!["python3".into(), "python".into()];
    // uv and pyenv trees sometimes only have `python3.X`.
    for n in super::locate::python_names(ctx, &bin).iter() {
        let n = n.to_string_lossy().into_owned();
        if is_python_name(&n) && !names.contains(&n) {
            names.push(n);
        }
    }
    let cfg = ctx.fs.symlink_metadata(&dir.join("pyvenv.cfg")).is_ok();
    for n in &names {
        let exe = bin.join(n);
        if ctx.fs.symlink_metadata(&exe).is_ok() && (cfg || ctx.fs.exists(&exe)) {
            if let Some(mut id) = identify_exe(ctx, &exe) {
                if id.venv_cfg.is_none() && ctx.fs.is_dir(&dir.join("conda-meta")) {
                    id.prefix = dir.clone();
                }
                return Some(id);
            }
        }
    }
    let is_conda = ctx.fs.is_dir(&dir.join("conda-meta"));
    if !cfg && !is_conda {
        return None; // a directory that is not an environment at all
    }
    Some(Identity {
        prefix: dir.clone(),
        real: None,
        invoked: bin.join("python"),
        venv_cfg: cfg.then(|| dir.join("pyvenv.cfg")),
        error: (!is_conda).then(|| format!("`{}` has no Python executable", display(&bin))),
    })
}
