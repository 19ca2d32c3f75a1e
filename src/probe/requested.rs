//! `--python X`: what the user named, resolved statically the way uv's
//! `--python` takes it: an interpreter path, a pyenv shim or any wrapper
//! script (followed, never run), a name looked up on PATH (`python3.12`),
//! or an environment directory (a venv, a conda prefix, a project holding
//! `.venv`). Anything else is refused with what the path is and what would
//! work; a Python that should run but cannot is handed to the check, which
//! reports it (the gate must not pass on it).

use super::commands::{follow, which_in_path};
use super::version::is_python_name;
use super::Ctx;
use crate::fs::{display, normpath};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// What `--python X` resolved to.
#[derive(Debug, Clone)]
pub enum Requested {
    /// An interpreter or environment directory to check.
    Found(PathBuf),
    /// Something that should run Python but does not (a failing pyenv shim,
    /// a dangling link, a script naming a missing interpreter).
    Broken {
        path: String,
        reason: String,
        fix: String,
    },
}

const WHAT_WORKS: &str = "give an interpreter (`/usr/bin/python3`, `.venv/bin/python`), a name on PATH (`python3.12`), or an environment directory (a venv, a conda prefix, a project holding `.venv`); `envdoctor scan` lists what it finds";

fn not_python(what: String) -> crate::Error {
    crate::Error::Usage(format!("--python: {what}; {WHAT_WORKS}"))
}

/// What `--python RAW` names, read through `ctx` (a path, a shim or wrapper
/// followed, a name on PATH, an environment or project directory).
pub fn resolve_in(ctx: &Ctx, raw: &Path) -> Result<Requested, crate::Error> {
    let shown = display(raw);
    let is_bare_name = !shown.contains('/');
    let as_path = normpath(&ctx.cwd.join(raw));
    let path = if is_bare_name && ctx.fs.symlink_metadata(&as_path).is_err() {
        match which_in_path(ctx, &shown, None) {
            Some(p) => p,
            None => {
                return Err(not_python(format!(
                    "`{shown}` is not a path, and no `{shown}` on PATH can be run{}",
                    if ctx.user.uid == Some(0) {
                        String::new()
                    } else {
                        " by this user".into()
                    }
                )))
            }
        }
    } else {
        as_path
    };
    let lmeta = match ctx.fs.symlink_metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(not_python(format!("`{}` does not exist", display(&path))))
        }
        Err(e) => return Ok(broken(&path, format!("cannot read it: {e}"))),
    };
    let meta = match ctx.fs.metadata(&path) {
        Ok(m) => m,
        Err(e) if lmeta.file_type().is_symlink() => {
            let name = file_name(&path);
            if is_python_name(&name) {
                return Ok(broken(
                    &path,
                    format!("it is a symlink that leads nowhere ({e})"),
                ));
            }
            return Err(not_python(format!(
                "`{}` is a symlink that leads nowhere ({e})",
                display(&path)
            )));
        }
        Err(e) => return Ok(broken(&path, format!("cannot read it: {e}"))),
    };
    let ft = meta.file_type();
    if ft.is_dir() {
        return env_dir(ctx, &path);
    }
    if !ft.is_file() {
        let what = if ft.is_char_device() {
            "a character device"
        } else if ft.is_block_device() {
            "a block device"
        } else if ft.is_fifo() {
            "a named pipe (FIFO)"
        } else if ft.is_socket() {
            "a socket"
        } else {
            "not a regular file"
        };
        return Err(not_python(format!(
            "`{}` is {what}, not a Python interpreter",
            display(&path)
        )));
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(not_python(format!(
            "`{}` is a file that nobody may execute, so not an interpreter",
            display(&path)
        )));
    }
    let mut via = Vec::new();
    match follow(ctx, &file_name(&path), &path, &mut via, 0) {
        Ok(exe) => Ok(Requested::Found(exe)),
        Err(e) if e.not_python => Err(not_python(e.message)),
        Err(e) => Ok(broken(&path, e.message)),
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn broken(path: &Path, reason: String) -> Requested {
    let shown = display(path);
    let fix = if reason.contains("pyenv") {
        "Install the pyenv version asked for (`pyenv install VERSION`) or select an installed one (`pyenv versions` lists them, `pyenv shell VERSION` picks one); or check an interpreter by its path: `envdoctor check --python PATH`".to_string()
    } else {
        "Give `--python` an interpreter that exists (`envdoctor scan` lists them), or repair this one".to_string()
    };
    Requested::Broken {
        path: shown,
        reason,
        fix,
    }
}

/// A directory: an environment itself, or a project holding one.
fn env_dir(ctx: &Ctx, dir: &Path) -> Result<Requested, crate::Error> {
    let has = |rel: &str| ctx.fs.symlink_metadata(&dir.join(rel)).is_ok();
    let has_python = ctx
        .fs
        .read_dir_names(&dir.join("bin"))
        .map(|names| names.iter().any(|n| is_python_name(&n.to_string_lossy())))
        .unwrap_or(false);
    if has("pyvenv.cfg") || has("conda-meta") || has_python {
        return Ok(Requested::Found(dir.to_path_buf()));
    }
    for name in [".venv", "venv"] {
        let venv = dir.join(name);
        if ctx.fs.symlink_metadata(&venv.join("pyvenv.cfg")).is_ok() {
            return Ok(Requested::Found(venv));
        }
    }
    if let Err(e) = ctx.fs.read_dir_names(dir) {
        return Ok(broken(dir, format!("cannot read it: {e}")));
    }
    Err(not_python(format!(
        "`{}` is a directory, but not a Python environment (no `pyvenv.cfg`, `conda-meta/` or `bin/python`) nor a project holding `.venv`",
        display(dir)
    )))
}
