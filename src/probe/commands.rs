//! What `python`, `python3`, `pip` and `pip3` typed in a shell would run.
//!
//! Followed statically: PATH lookup, pyenv shims (resolved the way pyenv
//! does: `PYENV_VERSION`, the nearest `.python-version`, then
//! `$PYENV_ROOT/version`), shebang lines, `#!/usr/bin/env NAME`, and pip's
//! `/bin/sh` trampoline. Shims are never executed.

use super::identify::identify_exe;
use super::locate::{path_dirs, pyenv_root, python_names};
use super::version::{is_python_name, shebang, version_key, Shebang};
use super::Ctx;
use crate::fs::{display, normpath};
use crate::snapshot::{Interpreter, PathCommand};
use std::path::{Path, PathBuf};

/// Always looked up; `pythonX.Y` and `pipX.Y` are added when PATH has a
/// `pipX.Y` (see [`probe`]).
pub const COMMANDS: &[&str] = &["python", "python3", "pip", "pip3"];

#[derive(Debug, Clone)]
pub struct CommandProbe {
    pub name: String,
    pub path: Option<PathBuf>,
    pub via: Vec<String>,
    pub interpreter: Option<PathBuf>,
    pub error: Option<String>,
}

/// Why a command or path does not lead to a Python interpreter.
#[derive(Debug, Clone)]
pub struct Unfollowed {
    pub message: String,
    /// It is something else (a `bash` script, a binary not named python):
    /// not a broken Python but no Python at all.
    pub not_python: bool,
}

impl Unfollowed {
    fn broken(message: String) -> Unfollowed {
        Unfollowed {
            message,
            not_python: false,
        }
    }
    fn other(message: String) -> Unfollowed {
        Unfollowed {
            message,
            not_python: true,
        }
    }
}

pub fn probe(ctx: &Ctx) -> Vec<CommandProbe> {
    let names: Vec<String> = COMMANDS.iter().map(|s| s.to_string()).collect();
    // `pipX.Y` beside `pythonX.Y`: each such pair is judged too.
    let mut minors: Vec<String> = Vec::new();
    for dir in path_dirs(ctx) {
        for n in python_names(ctx, &dir).iter() {
            let n = n.to_string_lossy();
            if let Some(m) = n.strip_prefix("pip").filter(|m| is_minor(m)) {
                if !minors.iter().any(|x| x == m) {
                    minors.push(m.to_string());
                }
            }
        }
    }
    minors.sort_by_key(|m| version_key(m));
    let mut out: Vec<CommandProbe> = names.iter().map(|n| probe_one(ctx, n)).collect();
    for m in minors {
        let pair = [
            probe_one(ctx, &format!("python{m}")),
            probe_one(ctx, &format!("pip{m}")),
        ];
        // A pair where nothing runs (pyenv's shims for versions not
        // selected) has nothing to compare; it is not listed.
        if pair.iter().any(|c| c.interpreter.is_some()) {
            out.extend(pair);
        }
    }
    out
}

/// `3.12`: a major and a minor version, nothing else.
fn is_minor(s: &str) -> bool {
    let mut parts = s.split('.');
    let (Some(a), Some(b), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    [a, b]
        .iter()
        .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|c| c.is_ascii_digit()))
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
        Err(e) => c.error = Some(e.message),
    }
    c
}

/// The first `name` in PATH that the judged user can run, optionally
/// skipping one directory. Directories the user may not search and files
/// they may not execute are passed over, as the kernel passes them over.
pub fn which_in_path(ctx: &Ctx, name: &str, skip: Option<&Path>) -> Option<PathBuf> {
    let judge = ctx.user.uid != Some(0);
    path_dirs(ctx)
        .into_iter()
        .filter(|d| Some(d.as_path()) != skip)
        .map(|d| d.join(name))
        .find(|p| {
            ctx.fs.is_executable_file(p) && (!judge || super::disk::blocked(ctx, p).is_none())
        })
}

/// The pyenv root a shim belongs to: it lies under `$PYENV_ROOT/shims`, or
/// its text is pyenv's shim (`exec "<root>/libexec/pyenv" exec ...`).
fn pyenv_shim_root(ctx: &Ctx, path: &Path, head: &[u8]) -> Option<PathBuf> {
    if let Some(root) = pyenv_root(ctx).filter(|r| path.starts_with(r.join("shims"))) {
        return Some(root);
    }
    let text = String::from_utf8_lossy(head);
    if !text.contains("/libexec/pyenv\" exec ") {
        return None;
    }
    text.lines()
        .find_map(|l| l.trim().strip_prefix("export PYENV_ROOT=\""))
        .and_then(|r| r.strip_suffix('"'))
        .map(PathBuf::from)
        .or_else(|| path.parent()?.parent().map(Path::to_path_buf))
}

/// Follows `path` (run as `name`) through pyenv shims, shebangs and
/// `env NAME` to the Python interpreter it starts, reading only.
pub fn follow(
    ctx: &Ctx,
    name: &str,
    path: &Path,
    via: &mut Vec<String>,
    depth: usize,
) -> Result<PathBuf, Unfollowed> {
    if depth > 6 {
        return Err(Unfollowed::broken(
            "too many indirections (shim, shebang, env) to follow".into(),
        ));
    }
    let head = ctx
        .fs
        .read_head(path, 1024)
        .map_err(|e| Unfollowed::broken(format!("cannot read `{}`: {e}", display(path))))?;
    if let Some(root) = pyenv_shim_root(ctx, path, &head) {
        let target = resolve_pyenv_shim(ctx, &root, name, via).map_err(Unfollowed::broken)?;
        return follow(ctx, name, &target, via, depth + 1);
    }
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
            let elf = head.starts_with(b"\x7fELF");
            // Named like Python: taken as one (hand-made images may hold a
            // stand-in file; identification reports a missing stdlib).
            if is_python_name(name) || is_python_name(&n) {
                Ok(path.to_path_buf())
            } else if elf {
                Err(Unfollowed::other(format!(
                    "`{}` is a program, but not a Python interpreter",
                    display(path)
                )))
            } else {
                Err(Unfollowed::other(format!(
                    "`{}` is neither a program nor a script (no ELF header, no `#!` line)",
                    display(path)
                )))
            }
        }
        Some(Shebang::Path(interp)) => {
            let n = interp
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !is_python_name(&n) {
                return Err(Unfollowed::other(format!(
                    "`{}` is a `{}` script; envdoctor does not run it to see what it starts",
                    display(path),
                    display(&interp)
                )));
            }
            via.push(format!(
                "shebang of `{}`: `{}`",
                display(path),
                display(&interp)
            ));
            if !ctx.fs.exists(&interp) {
                return Err(Unfollowed::broken(format!(
                    "`{}` names `{}`, which does not exist",
                    display(path),
                    display(&interp)
                )));
            }
            Ok(normpath(&interp))
        }
        Some(Shebang::Env(prog)) => {
            via.push(format!("`{}` runs `env {prog}`", display(path)));
            let Some(next) = which_in_path(ctx, &prog, None) else {
                let message = format!("`{prog}` (from `{}`) is not on PATH", display(path));
                return Err(if is_python_name(&prog) {
                    Unfollowed::broken(message)
                } else {
                    Unfollowed::other(message)
                });
            };
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
    // pyenv's own message adds where the command does exist.
    let mut elsewhere: Vec<String> = ctx
        .fs
        .read_dir_names(&root.join("versions"))
        .unwrap_or_default()
        .into_iter()
        .filter_map(|v| v.into_string().ok())
        .filter(|v| {
            ctx.fs
                .is_executable_file(&root.join("versions").join(v).join("bin").join(name))
        })
        .collect();
    elsewhere.sort_by_key(|v| version_key(v));
    let exists = if elsewhere.is_empty() {
        String::new()
    } else {
        format!(
            "; it exists in pyenv version(s) {}",
            elsewhere
                .iter()
                .map(|v| format!(
                    "`{v}` (`{}`)",
                    display(&root.join("versions").join(v).join("bin").join(name))
                ))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    Err(format!(
        "pyenv: `{name}` is not in pyenv version(s) {} (set by {origin}), so the shim fails{exists}",
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
