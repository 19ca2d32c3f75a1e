//! conda environments, and pip and conda mixed in one: what pip put in a
//! conda env, what it replaced, what conda did afterwards, which pip the env
//! really gets, the user site leaking in, files conda lists that are gone,
//! and stale `environments.txt` entries.

use super::list_some;
use crate::rules::{CheckCtx, Fix, Hit, Severity};
use crate::shell::{quote, Cmd};
use crate::snapshot::{CondaEnv, CondaRecord, Distribution, Interpreter, Origin, PipDist};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// PEP 503 normalisation (conda names compare the same way).
fn norm(name: &str) -> String {
    crate::requirements::normalize(name)
}

/// The project name a requirement string starts with (`numpy>=1.2; ...`).
fn req_name(req: &str) -> Option<String> {
    let end = req
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(req.len());
    let n = &req[..end];
    (!n.is_empty()).then(|| norm(n))
}

/// `3.11` from a user site `~/.local/lib/python3.11/site-packages`.
fn minor_of_dir(dir: &str) -> String {
    dir.split('/')
        .find_map(|c| c.strip_prefix("python"))
        .unwrap_or("X.Y")
        .to_string()
}

/// "conda env `name` (`/prefix`)".
fn env_label(it: &Interpreter, c: &CondaEnv) -> String {
    format!("conda env `{}` (`{}`)", c.name, it.prefix)
}

fn channel_of(r: &CondaRecord) -> String {
    r.channel
        .clone()
        .unwrap_or_else(|| "unknown channel".into())
}

/// The interpreter to run pip with, as a user would type it.
fn python_of(it: &Interpreter) -> String {
    match &it.executable {
        Some(e) => e.clone(),
        None => format!("{}/bin/python", it.prefix),
    }
}

/// The manager command to give in a fix (`conda`, `mamba`, `micromamba`).
fn manager_cmd(c: &CondaEnv) -> &str {
    c.manager
        .as_ref()
        .map(|m| m.kind.as_str())
        .unwrap_or("conda")
}

fn conda_env(it: &Interpreter) -> Option<&CondaEnv> {
    it.conda.as_ref().filter(|c| c.records_read)
}

/// A conda record that installed the project `name` (by its dist-info, else
/// by its own name when it lists no Python metadata).
fn records_for<'a>(c: &'a CondaEnv, name: &str) -> Vec<&'a CondaRecord> {
    c.records
        .iter()
        .filter(|r| {
            if r.python_dists.is_empty() {
                norm(&r.name) == name
            } else {
                r.python_dists.iter().any(|d| norm(&d.name) == name)
            }
        })
        .collect()
}

pub fn pip_conda_mixed(_ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    let Some(c) = conda_env(it) else {
        return Vec::new();
    };
    if c.pip_dists.is_empty() {
        return Vec::new();
    }
    let names: Vec<String> = c
        .pip_dists
        .iter()
        .map(|d| format!("`{} {}`", d.name, d.version))
        .collect();
    let mut installers: BTreeMap<&str, usize> = BTreeMap::new();
    for d in &c.pip_dists {
        *installers
            .entry(d.installer.as_deref().unwrap_or("unknown installer"))
            .or_default() += 1;
    }
    let by: Vec<String> = installers
        .iter()
        .map(|(k, n)| format!("{n} by {k}"))
        .collect();
    let caveat = if c.records_unreadable > 0 {
        format!(
            " ({} conda record(s) could not be read, so some of these may be conda's)",
            c.records_unreadable
        )
    } else {
        String::new()
    };
    vec![Hit {
        message: format!(
            "The {} has {} distribution(s) that no conda record owns ({}) next to {} conda package(s): {}; conda does not track them (`conda list` shows them as channel `pypi`){caveat}",
            env_label(it, c),
            c.pip_dists.len(),
            by.join(", "),
            c.records.len(),
            list_some(&names, 8)
        ),
        paths: c.pip_dists.iter().map(|d| d.path.clone()).collect(),
        fix: Fix::run(
            "Keep a record that recreates the env with conda packages first and pip last",
            vec![Cmd::new(manager_cmd(c))
                .args(["env", "export", "-p"])
                .arg(&it.prefix)
                .raw("> environment.yml")
                .build()],
        ),
        ..Default::default()
    }]
}

pub fn pip_overrides_conda(_ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    let Some(c) = conda_env(it) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let py = python_of(it);
    let mgr = manager_cmd(c);
    for p in &c.pip_dists {
        let name = norm(&p.name);
        let same = records_for(c, &name);
        for r in &same {
            let conda_dist = r.python_dists.iter().find(|d| norm(&d.name) == name);
            let conda_version = conda_dist.map(|d| d.version.as_str()).unwrap_or(&r.version);
            let both_present = conda_dist.is_some_and(|d| d.present);
            let differ = conda_version != p.version;
            let mut paths = vec![p.path.clone(), r.path.clone()];
            let message = if both_present {
                paths.push(conda_dist.map(|d| d.path.clone()).unwrap_or_default());
                format!(
                    "In the {}, pip's `{} {}` and conda's `{} {}` ({}, build `{}`) are both installed in the same site-packages; their files overwrite each other, so imports get a mix of the two",
                    env_label(it, c),
                    p.name,
                    p.version,
                    r.name,
                    conda_version,
                    channel_of(r),
                    r.build,
                )
            } else {
                format!(
                    "In the {}, pip replaced conda's `{} {}` ({}, build `{}`) with `{} {}` from pip; conda still records {} as installed, and conda packages built against it can fail to load (e.g. `ImportError` of a conda-built shared library)",
                    env_label(it, c),
                    r.name,
                    conda_version,
                    channel_of(r),
                    r.build,
                    p.name,
                    p.version,
                    conda_version
                )
            };
            out.push(Hit {
                message,
                paths,
                fix: Fix::run(
                    "Give the project back to conda",
                    vec![
                        Cmd::new(&py)
                            .args(["-m", "pip", "uninstall", "-y"])
                            .arg(&p.name)
                            .build(),
                        Cmd::new(mgr)
                            .args(["install", "-y", "-p"])
                            .arg(&it.prefix)
                            .arg("--force-reinstall")
                            .arg(&r.name)
                            .build(),
                    ],
                ),
                severity: Some(if differ || both_present {
                    Severity::Error
                } else {
                    Severity::Warning
                }),
                ..Default::default()
            });
        }
        // Files of other conda packages that pip wrote over (opencv-python
        // over conda's py-opencv).
        for o in &p.overwrites {
            if same.iter().any(|r| r.name == o.record) {
                continue;
            }
            let Some(r) = c.records.iter().find(|r| r.name == o.record) else {
                continue;
            };
            out.push(Hit {
                message: format!(
                    "In the {}, pip's `{} {}` wrote over {} file(s) of conda's `{} {}` ({}), e.g. `{}`; both claim them, and whichever was installed last decides what is imported",
                    env_label(it, c),
                    p.name,
                    p.version,
                    o.files,
                    r.name,
                    r.version,
                    channel_of(r),
                    o.example
                ),
                paths: vec![p.path.clone(), r.path.clone()],
                fix: Fix::run(
                    "Keep one of the two: conda's",
                    vec![
                        Cmd::new(&py).args(["-m", "pip", "uninstall", "-y"]).arg(&p.name).build(),
                        Cmd::new(mgr).args(["install", "-y", "-p"]).arg(&it.prefix).arg("--force-reinstall").arg(&r.name).build(),
                    ],
                ),
                severity: Some(Severity::Warning),
                ..Default::default()
            });
        }
    }
    out
}

/// A spec `channel/subdir::name-version-build` -> name.
fn spec_name(spec: &str) -> String {
    let pkg = spec.rsplit("::").next().unwrap_or(spec);
    let mut parts = pkg.rsplitn(3, '-');
    let _build = parts.next();
    let _version = parts.next();
    parts.next().unwrap_or(pkg).to_string()
}

/// Slack for clocks and for conda writing the start of a transaction.
const SAME_MOMENT: i64 = 60;

pub fn conda_after_pip(_ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    let Some(c) = conda_env(it) else {
        return Vec::new();
    };
    // The last transaction that changed packages.
    let Some(t) = c
        .history
        .iter()
        .rev()
        .find(|t| t.epoch.is_some() && (!t.added.is_empty() || !t.removed.is_empty()))
    else {
        return Vec::new();
    };
    let when = t.epoch.unwrap_or_default();
    let mut before: Vec<&PipDist> = c
        .pip_dists
        .iter()
        .filter(|p| p.installed_at.is_some_and(|at| at + SAME_MOMENT < when))
        .collect();
    if before.is_empty() {
        return Vec::new();
    }
    before.sort_by_key(|p| p.installed_at);
    let changed: BTreeSet<String> = t
        .added
        .iter()
        .chain(&t.removed)
        .map(|s| norm(&spec_name(s)))
        .collect();
    let touched: Vec<String> = before
        .iter()
        .filter(|p| changed.contains(&norm(&p.name)))
        .map(|p| format!("`{}`", p.name))
        .collect();
    let listed: Vec<String> = before
        .iter()
        .map(|p| {
            format!(
                "`{} {}` ({})",
                p.name,
                p.version,
                p.installed_at_local.as_deref().unwrap_or("unknown time")
            )
        })
        .collect();
    let cmd = t
        .cmd
        .as_deref()
        .map(|c| format!("`{c}`"))
        .unwrap_or_else(|| "a conda command".into());
    let also = if touched.is_empty() {
        String::new()
    } else {
        format!("; it changed {} itself", touched.join(", "))
    };
    let reinstall: Vec<String> = before
        .iter()
        .map(|p| format!("{}=={}", p.name, p.version))
        .collect();
    vec![Hit {
        message: format!(
            "In the {}, {cmd} ran on {} (+{} -{} packages) after pip had installed {} distribution(s): {}{also}; conda does not see pip's packages and may have overwritten or broken them",
            env_label(it, c),
            t.date,
            t.added.len(),
            t.removed.len(),
            before.len(),
            list_some(&listed, 6),
        ),
        paths: before.iter().map(|p| p.path.clone()).collect(),
        fix: Fix::run(
            "Reinstall pip's packages after conda's change, without touching conda's",
            vec![Cmd::new(&python_of(it))
                .args(["-m", "pip", "install", "--force-reinstall", "--no-deps"])
                .args(&reinstall)
                .build()],
        ),
        ..Default::default()
    }]
}

/// Whether the env has pip of its own: a `bin/pip`, a conda `pip` record, or
/// a pip distribution in its site-packages.
fn has_own_pip(ctx: &CheckCtx, c: &CondaEnv) -> bool {
    c.has_pip_script
        || c.records.iter().any(|r| r.name == "pip")
        || c.pip_dists.iter().any(|d| norm(&d.name) == "pip")
        || c.site_packages.iter().any(|s| {
            ctx.snapshot.site_dir(s).is_some_and(|d| {
                d.distributions
                    .iter()
                    .any(|x| x.normalized.as_deref() == Some("pip"))
            })
        })
}

pub fn conda_env_missing_pip(ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    let Some(c) = it.conda.as_ref() else {
        return Vec::new();
    };
    if c.python_version.is_none() || it.executable.is_none() || !c.records_read {
        return Vec::new(); // no Python: nothing for pip to do here
    }
    if has_own_pip(ctx, c) {
        return Vec::new();
    }
    let snap = ctx.snapshot;
    let Some(cmd) = snap.command("pip").filter(|c| c.path.is_some()) else {
        return Vec::new(); // `pip` fails outright rather than going elsewhere
    };
    let pip_path = cmd.path.clone().unwrap_or_default();
    // The environment pip installs into: its interpreter's entry when the
    // snapshot has it (`check --python` discovers only the one asked about),
    // else the prefix above the interpreter's `bin/`.
    let target = snap.command_target("pip").map(|(_, t)| t);
    let target_prefix: Option<String> = target.map(|t| t.prefix.clone()).or_else(|| {
        let i = Path::new(cmd.interpreter.as_deref()?);
        let bin = i.parent()?;
        (bin.file_name()? == "bin")
            .then(|| bin.parent().map(|p| p.to_string_lossy().into_owned()))?
    });
    if target_prefix.as_deref() == Some(it.prefix.as_str()) {
        return Vec::new();
    }
    let into = match (target, &target_prefix, &cmd.interpreter) {
        (Some(t), _, _) => format!(
            "`{}` (Python {})",
            t.prefix,
            t.version.as_deref().unwrap_or("of unknown version")
        ),
        (None, Some(p), _) => format!("`{p}`"),
        (None, None, Some(i)) => format!("the environment of `{i}`"),
        (None, None, None) => "another environment".into(),
    };
    let active_prefix = snap.env_var("CONDA_PREFIX");
    let active = active_prefix == Some(it.prefix.as_str());
    // `conda activate` takes the active env's `bin` off PATH: a pip found
    // there now says nothing about PATH with this env activated.
    if !active && target_prefix.is_some() && target_prefix.as_deref() == active_prefix {
        return Vec::new();
    }
    let when = if active {
        "with it activated"
    } else {
        "even with it activated"
    };
    vec![Hit {
        message: format!(
            "The {} has Python {} but no pip of its own, so `pip install` {when} runs `{pip_path}`, which installs into {into}; the packages land where this env cannot import them",
            env_label(it, c),
            c.python_version.as_deref().unwrap_or("?"),
        ),
        paths: vec![it.prefix.clone(), pip_path],
        fix: Fix::run(
            format!(
                "Install pip into the env, and use it through the env's Python: `{} -m pip install PACKAGE`",
                quote(&python_of(it))
            ),
            vec![Cmd::new(manager_cmd(c)).args(["install", "-y", "-p"]).arg(&it.prefix).arg("pip").build()],
        ),
        ..Default::default()
    }]
}

pub fn user_site_leaks_into_conda(ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    let Some(c) = it.conda.as_ref() else {
        return Vec::new();
    };
    let snap = ctx.snapshot;
    let Some(user) = it
        .sys_path
        .iter()
        .find(|e| e.origin == Origin::UserSite && e.exists)
    else {
        return Vec::new();
    };
    let Some(user_dir) = snap.site_dir(&user.path) else {
        return Vec::new();
    };
    // What the env has (its own site dirs and conda records) and needs
    // (conda dependencies, Requires-Dist of its distributions).
    let own: Vec<&Distribution> = it
        .sys_path
        .iter()
        .filter(|e| e.origin == Origin::Site && e.path.starts_with(&it.prefix))
        .filter_map(|e| snap.site_dir(&e.path))
        .flat_map(|d| d.distributions.iter())
        .collect();
    let mut has: BTreeMap<String, String> = BTreeMap::new();
    for d in &own {
        if let (Some(n), Some(v)) = (&d.normalized, &d.version) {
            has.insert(n.clone(), v.clone());
        }
    }
    for r in &c.records {
        has.entry(norm(&r.name))
            .or_insert_with(|| r.version.clone());
    }
    let mut needs: BTreeMap<String, String> = BTreeMap::new();
    for d in &own {
        for req in &d.requires_dist {
            // Markers are not evaluated here: a requirement behind one (an
            // extra, an old Python) may not apply, so it does not count.
            if req.contains(';') {
                continue;
            }
            if let Some(n) = req_name(req) {
                needs
                    .entry(n)
                    .or_insert_with(|| d.name.clone().unwrap_or_default());
            }
        }
    }
    for r in &c.records {
        for dep in &r.depends {
            needs.entry(norm(dep)).or_insert_with(|| r.name.clone());
        }
    }
    let mut leaks: Vec<String> = Vec::new();
    let mut paths: Vec<String> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    // As shadowed-package judges it: another version than the env's own is
    // an error (upgrades of the env's copy never take effect).
    let mut differ = false;
    for d in &user_dir.distributions {
        let Some(n) = d.normalized.clone() else {
            continue;
        };
        let version = d.version.as_deref().unwrap_or("?");
        let shown = d.name.clone().unwrap_or_else(|| n.clone());
        if let Some(v) = has.get(&n) {
            if v != version {
                differ = true;
            }
            leaks.push(format!("`{shown} {version}` (the env has {v})"));
        } else if let Some(by) = needs.get(&n) {
            leaks.push(format!("`{shown} {version}` (needed by `{by}`)"));
        } else {
            continue;
        }
        paths.push(d.path.clone());
        names.push(shown);
    }
    if leaks.is_empty() {
        return Vec::new();
    }
    let severity = if differ {
        Severity::Error
    } else if leaks.iter().any(|l| l.contains("the env has")) {
        Severity::Warning
    } else {
        Severity::Info
    };
    vec![Hit {
        message: format!(
            "The user site `{}` is on the sys.path of the {}, before the env's own site-packages (Python adds it to conda envs unless `PYTHONNOUSERSITE` is set), and provides {} distribution(s) the env has or needs, so those are imported from the user site: {}",
            user.path,
            env_label(it, c),
            leaks.len(),
            list_some(&leaks, 6)
        ),
        paths,
        fix: Fix::run(
            format!(
                "Keep the user site out of this env (then reactivate it); or remove the user-site copies, which pip finds first (`{} -m pip uninstall -y {}`), but that removes them for every Python {} of this user outside a venv, since `{}` is shared",
                quote(&python_of(it)),
                crate::shell::join(&names),
                minor_of_dir(&user.path),
                user.path
            ),
            vec![Cmd::new(manager_cmd(c))
                .args(["env", "config", "vars", "set", "-p"])
                .arg(&it.prefix)
                .arg("PYTHONNOUSERSITE=1")
                .build()],
        ),
        severity: Some(severity),
        ..Default::default()
    }]
}

pub fn conda_files_missing(_ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    let Some(c) = conda_env(it) else {
        return Vec::new();
    };
    // Records whose project pip replaced are pip-overrides-conda's finding.
    let replaced: BTreeSet<String> = c.pip_dists.iter().map(|p| norm(&p.name)).collect();
    let broken: Vec<&CondaRecord> = c
        .records
        .iter()
        .filter(|r| r.missing_count > 0)
        .filter(|r| {
            let by_pip = r
                .python_dists
                .iter()
                .any(|d| !d.present && replaced.contains(&norm(&d.name)))
                || (r.python_dists.is_empty() && replaced.contains(&norm(&r.name)));
            !by_pip
        })
        .collect();
    if broken.is_empty() {
        return Vec::new();
    }
    let total: usize = broken.iter().map(|r| r.missing_count).sum();
    let listed: Vec<String> = broken
        .iter()
        .map(|r| {
            format!(
                "`{} {}` ({} of {} files, e.g. `{}`)",
                r.name,
                r.version,
                r.missing_count,
                r.files,
                r.missing_files.first().map(String::as_str).unwrap_or("?")
            )
        })
        .collect();
    let names: Vec<&str> = broken.iter().map(|r| r.name.as_str()).collect();
    vec![Hit {
        message: format!(
            "The {} is missing {total} file(s) that conda installed: {}; the packages are broken while conda still counts them as installed",
            env_label(it, c),
            list_some(&listed, 5)
        ),
        paths: broken.iter().map(|r| r.path.clone()).collect(),
        fix: Fix::run(
            "Reinstall them from conda's package cache",
            vec![Cmd::new(manager_cmd(c))
                .args(["install", "-y", "-p"])
                .arg(&it.prefix)
                .arg("--force-reinstall")
                .args(&names)
                .build()],
        ),
        ..Default::default()
    }]
}

pub fn conda_environments_txt_stale(ctx: &CheckCtx) -> Vec<Hit> {
    let mut out = Vec::new();
    for txt in &ctx.snapshot.conda.environments_txt {
        let stale: Vec<&str> = txt
            .entries
            .iter()
            .filter(|e| !e.is_conda_env)
            .map(|e| e.path.as_str())
            .collect();
        if stale.is_empty() {
            continue;
        }
        let shown: Vec<String> = stale
            .iter()
            .map(|p| {
                let e = txt.entries.iter().find(|e| e.path == *p);
                if e.is_some_and(|e| e.exists) {
                    format!("`{p}` (no `conda-meta`)")
                } else {
                    format!("`{p}`")
                }
            })
            .collect();
        let mut grep = Cmd::new("grep").arg("-vxF");
        for p in &stale {
            grep = grep.arg("-e").arg(p);
        }
        out.push(Hit {
            message: format!(
                "`{}` lists {} conda environment(s) that no longer exist: {}; conda, mamba and editors that read it offer them as environments",
                txt.path,
                stale.len(),
                list_some(&shown, 6)
            ),
            paths: std::iter::once(txt.path.clone())
                .chain(stale.iter().map(|s| s.to_string()))
                .collect(),
            fix: Fix::run(
                "Remove those lines (the file keeps its owner and mode)",
                vec![
                    "tmp=\"$(mktemp)\"".to_string(),
                    grep.arg(&txt.path).raw("> \"$tmp\" || true").build(),
                    Cmd::new("cat").raw("\"$tmp\" >").arg(&txt.path).build(),
                    "rm -f \"$tmp\"".to_string(),
                ],
            ),
            ..Default::default()
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_specs() {
        assert_eq!(norm("Foo_Bar.baz"), "foo-bar-baz");
        assert_eq!(
            req_name("typing_extensions>=4; python_version < '3.11'"),
            Some("typing-extensions".into())
        );
        assert_eq!(
            spec_name("conda-forge/linux-64::python-dateutil-2.8.2-pyhd8ed1ab_0"),
            "python-dateutil"
        );
        assert_eq!(spec_name("numpy-1.26.4-py311_0"), "numpy");
    }
}
