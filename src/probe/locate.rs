//! Where Python things live: PATH's directories, pyenv's and XDG's roots,
//! the interpreters in a directory, an environment root's subdirectories.
//! The lowest probe layer: it reads directory listings and nothing else.

use super::version::is_python_name;
use super::Ctx;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub fn pyenv_root(ctx: &Ctx) -> Option<PathBuf> {
    ctx.env_dir_or_home("PYENV_ROOT", ".pyenv")
}

pub fn data_home(ctx: &Ctx) -> Option<PathBuf> {
    ctx.env_dir_or_home("XDG_DATA_HOME", ".local/share")
}

pub fn path_dirs(ctx: &Ctx) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for p in ctx.var("PATH").unwrap_or("").split(':') {
        if p.is_empty() {
            continue;
        }
        let p = PathBuf::from(p);
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// The names in a directory of programs that may be Python's: `python*`,
/// `pypy*`, `pip*`. `/usr/bin` holds a thousand names and is on PATH, among
/// the system directories and often also reached as `/bin`: the commands
/// probe and discovery ask it several times, so each directory (by its real
/// path) is listed once per run.
pub fn python_names(ctx: &Ctx, dir: &Path) -> Arc<Vec<OsString>> {
    let key = ctx
        .fs
        .canonicalize(dir)
        .unwrap_or_else(|_| dir.to_path_buf());
    if let Some(hit) = ctx.bin_names.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return hit;
    }
    let wanted =
        |n: &[u8]| n.starts_with(b"python") || n.starts_with(b"pypy") || n.starts_with(b"pip");
    let names = Arc::new(ctx.fs.read_dir_names_where(dir, wanted).unwrap_or_default());
    if let Ok(mut m) = ctx.bin_names.lock() {
        m.insert(key, Arc::clone(&names));
    }
    names
}

pub fn python_executables(ctx: &Ctx, dir: &Path) -> Vec<PathBuf> {
    python_names(ctx, dir)
        .iter()
        .filter_map(|n| {
            let s = n.to_str()?;
            if !is_python_name(s) {
                return None;
            }
            let p = dir.join(s);
            ctx.fs.is_executable_file(&p).then_some(p)
        })
        .collect()
}

pub fn subdirs(ctx: &Ctx, dir: &Path) -> Vec<PathBuf> {
    let Ok(names) = ctx.fs.read_dir_names(dir) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = names
        .into_iter()
        .map(|n| dir.join(n))
        .filter(|p| ctx.fs.is_dir(p))
        .collect();
    // Real directories first: when a symlink and its target are both listed,
    // the environment is named by its real path.
    dirs.sort_by_key(|p| {
        ctx.fs
            .symlink_metadata(p)
            .map(|m| m.file_type().is_symlink())
            .unwrap_or(true)
    });
    dirs
}
