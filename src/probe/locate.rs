//! Where Python things live: PATH's directories, pyenv's and XDG's roots,
//! the interpreters in a directory, an environment root's subdirectories.
//! The lowest probe layer: it reads directory listings and nothing else.

use super::version::is_python_name;
use super::Ctx;
use std::path::{Path, PathBuf};

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

pub fn python_executables(ctx: &Ctx, dir: &Path) -> Vec<PathBuf> {
    // `/usr/bin` holds thousands of names: only python-ish ones are kept.
    let pythonish = |n: &[u8]| n.starts_with(b"python") || n.starts_with(b"pypy");
    let Ok(names) = ctx.fs.read_dir_names_where(dir, pythonish) else {
        return Vec::new();
    };
    names
        .into_iter()
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
