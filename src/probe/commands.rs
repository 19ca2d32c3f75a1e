//! What `python`, `python3`, `pip` and `pip3` typed in a shell would run.
//!
//! Followed statically: PATH lookup, pyenv shims (resolved the way pyenv
//! does: `PYENV_VERSION`, the nearest `.python-version`, then
//! `$PYENV_ROOT/version`), shebang lines, `#!/usr/bin/env NAME`, and pip's
//! `/bin/sh` trampoline. Shims are never executed.

use super::interpreters::{identify_exe, path_dirs, pyenv_root};
use super::version::{is_python_name, shebang, version_key, Shebang};
use super::Ctx;
use crate::fs::{display, normpath};
use crate::snapshot::{Interpreter, PathCommand};
use std::path::{Path, PathBuf};

pub const COMMANDS: &[&str] = &["python", "python3", "pip", "pip3"];

#[derive(Debug, Clone)]
pub struct CommandProbe {
    pub name: String,
    pub path: Option<PathBuf>,
    pub via: Vec<String>,
    pub interpreter: Option<PathBuf>,
    pub error: Option<String>,
}

pub fn probe(ctx: &Ctx) -> Vec<CommandProbe> {
    COMMANDS.iter().map(|n| probe_one(ctx, n)).collect()
}

fn probe_one(ctx: &Ctx, name: &str) -> CommandProbe {
    let mut c = CommandProbe {
        name: name.to_string(),
        path: None,
        via: Vec::new(),
        interpreter: None,
        error: None,
    };
    let Some(found) = which_in_path(ctx, name, None) else {
        return c;
    };
    c.path = Some(found.clone());
    match follow(ctx, name, &found, &mut c.via, 0) {
        Ok(i) => c.interpreter = Some(i),
        Err(e) => c.error = Some(e),
    }
    c
}

/// The first executable `name` in PATH, optionally skipping one directory.
fn which_in_path(ctx: &Ctx, name: &str, skip: Option<&Path>) -> Option<PathBuf> {
    path_dirs(ctx)
        .into_iter()
        .filter(|d| Some(d.as_path()) != skip)
        .map(|d| d.join(name))
        .find(|p| ctx.fs.is_executable_file(p))
}

fn follow(
    ctx: &Ctx,
    name: &str,
    path: &Path,
    via: &mut Vec<String>,
    depth: usize,
) -> Result<PathBuf, String> {
    if depth > 6 {
        return Err("too many indirections (shim, shebang, env) to follow".into());
    }
    let root = pyenv_root(ctx);
    if let Some(root) = root.as_ref().filter(|r| path.starts_with(r.join("shims"))) {
        let target = resolve_pyenv_shim(ctx, root, name, via)?;
        return follow(ctx, name, &target, via, depth + 1);
    }
    let head = ctx
        .fs
        .read_head(path, 1024)
        .map_err(|e| format!("cannot read `{}`: {e}", display(path)))?;
    match shebang(&head) {
        None => {
            // A binary: it is the interpreter when it is named like one.
            let resolved = ctx
                .fs
                .canonicalize(path)
                .unwrap_or_else(|_| path.to_path_buf());
            let n = resolved
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if is_python_name(name) || is_python_name(&n) {
                Ok(path.to_path_buf())
            } else {
                Err(format!(
                    "`{}` is a binary, not a Python script",
                    display(path)
                ))
            }
        }
        Some(Shebang::Path(interp)) => {
            let n = interp
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !is_python_name(&n) {
                return Err(format!(
                    "`{}` is a `{}` script; envdoctor does not run it to see what it starts",
                    display(path),
                    display(&interp)
                ));
            }
            via.push(format!(
                "shebang of `{}`: `{}`",
                display(path),
                display(&interp)
            ));
            if !ctx.fs.exists(&interp) {
                return Err(format!(
                    "`{}` names `{}`, which does not exist",
                    display(path),
                    display(&interp)
                ));
            }
            Ok(normpath(&interp))
        }
        Some(Shebang::Env(prog)) => {
            via.push(format!("`{}` runs `env {prog}`", display(path)));
            let next = which_in_path(ctx, &prog, None)
                .ok_or_else(|| format!("`{prog}` (from `{}`) is not on PATH", display(path)))?;
            follow(ctx, &prog, &next, via, depth + 1)
        }
    }
}

/// Where pyenv's version for the shell comes from, first match wins.
fn pyenv_versions(ctx: &Ctx, root: &Path) -> (Vec<String>, String) {
    if let Some(v) = ctx.var("PYENV_VERSION") {
        return (split_versions(v), "PYENV_VERSION".into());
    }
    let start = ctx
        .var("PYENV_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| ctx.cwd.clone());
    for dir in start.ancestors() {
        let f = dir.join(".python-version");
        if let Ok(text) = ctx.fs.read_text(&f) {
            return (split_versions(&strip_comments(&text)), display(&f));
        }
    }
    let f = root.join("version");
    if let Ok(text) = ctx.fs.read_text(&f) {
        let v = split_versions(&strip_comments(&text));
        if !v.is_empty() {
            return (v, display(&f));
        }
    }
    (vec!["system".into()], "default".into())
}

fn strip_comments(text: &str) -> String {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

fn split_versions(s: &str) -> Vec<String> {
    s.split(|c: char| c == ':' || c.is_whitespace())
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

fn resolve_pyenv_shim(
    ctx: &Ctx,
    root: &Path,
    name: &str,
    via: &mut Vec<String>,
) -> Result<PathBuf, String> {
    let (versions, origin) = pyenv_versions(ctx, root);
    for v in &versions {
        if v == "system" {
            let shims = root.join("shims");
            if let Some(p) = which_in_path(ctx, name, Some(&shims)) {
                via.push(format!("pyenv shim: version `system` (from {origin})"));
                return Ok(p);
            }
            continue;
        }
        let Some(dir) = pyenv_version_dir(ctx, root, v) else {
            return Err(format!(
                "pyenv version `{v}` (set by {origin}) is not installed, so the `{name}` shim fails"
            ));
        };
        let exe = dir.join("bin").join(name);
        if ctx.fs.is_executable_file(&exe) {
            via.push(format!("pyenv shim: version `{v}` (from {origin})"));
            return Ok(exe);
        }
    }
    Err(format!(
        "pyenv: `{name}` is not in pyenv version(s) {} (set by {origin})",
        versions.join(", ")
    ))
}

/// `$PYENV_ROOT/versions/V`, or the newest installed version with prefix `V`
/// (pyenv accepts `3.11` for the latest 3.11.x).
fn pyenv_version_dir(ctx: &Ctx, root: &Path, v: &str) -> Option<PathBuf> {
    let versions = root.join("versions");
    let exact = versions.join(v);
    if ctx.fs.is_dir(&exact) {
        return Some(exact);
    }
    let names = ctx.fs.read_dir_names(&versions).ok()?;
    names
        .into_iter()
        .filter_map(|n| n.into_string().ok())
        .filter(|n| n.starts_with(&format!("{v}.")))
        .max_by_key(|n| version_key(n))
        .map(|n| versions.join(n))
}

/// Ties each command to the interpreter entry it runs, adding the path it is
/// reached by to that entry's aliases.
pub fn link(
    ctx: &Ctx,
    probes: Vec<CommandProbe>,
    interpreters: &mut [Interpreter],
) -> Vec<PathCommand> {
    probes
        .into_iter()
        .map(|c| {
            let mut resolves_to = None;
            if let Some(i) = &c.interpreter {
                if let Some(id) = identify_exe(ctx, i) {
                    let prefix = display(&id.prefix);
                    let real = id.real.as_deref().map(display);
                    if let Some(entry) = interpreters
                        .iter_mut()
                        .find(|e| e.prefix == prefix && e.real_executable == real)
                    {
                        let p = display(i);
                        if entry.executable.as_deref() != Some(&p) && !entry.aliases.contains(&p) {
                            entry.aliases.push(p);
                        }
                        resolves_to = entry.executable.clone();
                    }
                }
            }
            PathCommand {
                name: c.name,
                path: c.path.as_deref().map(display),
                via: c.via,
                interpreter: c.interpreter.as_deref().map(display),
                resolves_to,
                error: c.error,
            }
        })
        .collect()
}
