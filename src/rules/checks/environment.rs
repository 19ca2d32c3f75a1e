//! Environment-level checks: broken venvs, scripts with dead shebangs, what
//! PATH runs, Python's environment variables, stale activations.

use super::{get_python, list_some, python_of_minor, recreate_venv, ticked};
use crate::rules::{CheckCtx, Fix, Hit, Severity};
use crate::shell::{quote, Cmd};
use crate::snapshot::{Interpreter, Snapshot};
use std::collections::BTreeMap;

/// "`/prefix` (Python 3.11.7, pyenv)"
pub fn describe(it: &Interpreter) -> String {
    format!(
        "`{}` (Python {}, {})",
        it.prefix,
        it.version.as_deref().unwrap_or("unknown version"),
        it.kind.as_str()
    )
}

fn minor_of(it: &Interpreter) -> Option<String> {
    it.minor_version().map(|(a, b)| format!("{a}.{b}"))
}

pub fn broken_venv(ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    let is_venv = it.kind.is_virtual() || it.pyvenv_cfg.is_some();
    let Some(error) = it.error.as_ref().filter(|_| is_venv) else {
        return Vec::new();
    };
    let minor = minor_of(it)
        .or_else(|| it.pyvenv_cfg.as_ref().and_then(|c| c.version.clone()))
        .map(|v| v.split('.').take(2).collect::<Vec<_>>().join("."));
    let mut paths = vec![it.prefix.clone()];
    if let Some(c) = &it.pyvenv_cfg {
        paths.push(c.path.clone());
    }
    let site = minor
        .as_deref()
        .map(|m| format!("`{}/lib/python{m}/site-packages`", it.prefix))
        .unwrap_or_else(|| format!("`{}/lib`", it.prefix));
    // Its console scripts fail for the same reason: said here, not twice.
    let scripts = if it.foreign_scripts.is_empty() {
        String::new()
    } else {
        format!(
            "; its {} console script(s) fail with it (\"bad interpreter: No such file or directory\")",
            it.foreign_scripts.len()
        )
    };
    let keep = "(its old packages are listed in";
    let fix = match minor.as_deref().map(|m| (m, python_of_minor(ctx.snapshot, m))) {
        Some((m, Some(python))) => Fix::run(
            format!("Recreate it in place from the Python {m} at `{python}`, keeping its settings {keep} {site}), then reinstall your requirements into it"),
            vec![recreate_venv(python, it)],
        ),
        Some((m, None)) => Fix::run(
            format!("envdoctor found no other Python {m} on this machine (PATH, pyenv, uv, conda, system dirs): install one (or with `pyenv install {m}`), then recreate the venv from it with `PYTHON -m venv --clear` {keep} {site})"),
            get_python(m),
        ),
        None => Fix::from(format!(
            "Recreate it from a Python that exists with `PYTHON -m venv --clear` {keep} {site})"
        )),
    };
    vec![Hit {
        message: format!(
            "The virtual environment `{}` cannot start: {error}{scripts}",
            it.prefix
        ),
        paths,
        fix,
        ..Default::default()
    }]
}

/// The gate never passes unread: what the run meant to check and could
/// not (a deleted active venv, a pyenv shim that fails, no Python on PATH,
/// an interpreter the judged user cannot run) is an error naming it.
pub fn check_target_unreadable(ctx: &CheckCtx) -> Vec<Hit> {
    let mut out: Vec<Hit> = ctx
        .selection
        .unresolved
        .iter()
        .map(|u| Hit {
            message: format!(
                "Nothing was checked: {} cannot be read: {}",
                u.what, u.reason
            ),
            paths: u.paths.clone(),
            fix: u.fix.clone().into(),
            ..Default::default()
        })
        .collect();
    for &i in &ctx.selection.targets {
        let Some(it) = ctx.snapshot.interpreters.get(i) else {
            continue;
        };
        let how = ctx.selection.how_of(i);
        // Under `--all` every environment on the machine is a target; a
        // stale one is reported by the rules about it, not as unread.
        if how == "--all" {
            continue;
        }
        let exe = it.executable.as_deref().unwrap_or(&it.prefix);
        if let Some(why) = &it.not_runnable {
            out.push(Hit {
                message: format!(
                    "The environment to check, {} (selected by {how}), cannot be run by this user: {why}; what it would import was not judged",
                    describe(it)
                ),
                paths: vec![exe.to_string()],
                fix: format!(
                    "Check an interpreter this user can run (`envdoctor check --python PATH`), or run the check as a user who can run `{exe}`"
                )
                .into(),
                environment: Some(it.prefix.clone()),
                ..Default::default()
            });
            continue;
        }
        // A broken venv is broken-venv's finding (with its recreate fix).
        let is_venv = it.kind.is_virtual() || it.pyvenv_cfg.is_some();
        if let Some(error) = it.error.as_ref().filter(|_| !is_venv) {
            out.push(Hit {
                message: format!(
                    "Nothing was checked: the environment `{}` (selected by {how}) cannot be read: {error}",
                    it.prefix
                ),
                paths: vec![it.prefix.clone()],
                fix: Fix::from(match how {
                    "VIRTUAL_ENV" => "Deactivate it (`deactivate`, or open a new shell), then activate the environment you mean, or check one by path: `envdoctor check --python PATH`",
                    "CONDA_PREFIX" => "Deactivate it (`conda deactivate`, or open a new shell), then activate the environment you mean, or check one by path: `envdoctor check --python PATH`",
                    _ => "Repair or reinstall it, or check another interpreter by path: `envdoctor check --python PATH` (`envdoctor scan` lists them)",
                }),
                environment: Some(it.prefix.clone()),
                ..Default::default()
            });
        }
    }
    out
}

pub fn script_bad_interpreter(_ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    // A venv that cannot start is broken-venv's finding, scripts included.
    if it.error.is_some() && (it.kind.is_virtual() || it.pyvenv_cfg.is_some()) {
        return Vec::new();
    }
    // Group by the interpreter named: one finding per dead or foreign target.
    let mut by_interp: BTreeMap<(&str, bool), Vec<&str>> = BTreeMap::new();
    for s in &it.foreign_scripts {
        by_interp
            .entry((s.interpreter.as_str(), s.interpreter_exists))
            .or_default()
            .push(s.path.as_str());
    }
    let own = it.executable.as_deref().filter(|_| it.error.is_none());
    by_interp
        .into_iter()
        .map(|((interp, exists), scripts)| {
            let names: Vec<&str> = scripts
                .iter()
                .map(|p| p.rsplit('/').next().unwrap_or(p))
                .collect();
            let shown = list_some(&ticked(&names), 6);
            let moved_from = interp
                .strip_suffix(interp.rsplit('/').next().unwrap_or(""))
                .and_then(|bin| bin.strip_suffix("/bin/"))
                .filter(|old| *old != it.prefix);
            let (message, severity) = if exists {
                (
                    format!(
                        "{} console script(s) in `{}/bin` run `{interp}`, another environment's interpreter, so they see that environment's packages: {shown}",
                        names.len(),
                        it.prefix
                    ),
                    Some(Severity::Warning),
                )
            } else {
                (
                    format!(
                        "{} console script(s) in `{}/bin` name `{interp}`, which does not exist; running them fails with \"bad interpreter: No such file or directory\": {shown}",
                        names.len(),
                        it.prefix
                    ),
                    None,
                )
            };
            let base = it.base_executable.as_deref();
            let fix = match (moved_from, own, base) {
                (Some(old), Some(own), Some(base)) if it.kind.is_virtual() => Fix::run(
                    format!(
                        "The venv was moved or copied from `{old}`, and venvs cannot be moved: recreate it in place from its base `{base}`, with the packages it has now (the list goes to a fresh temporary file)"
                    ),
                    vec![
                        "req=\"$(mktemp)\"".to_string(),
                        Cmd::new(own).args(["-m", "pip", "freeze"]).raw("> \"$req\"").build(),
                        recreate_venv(base, it),
                        Cmd::new(&format!("{}/bin/python", it.prefix))
                            .args(["-m", "pip", "install", "-r"])
                            .raw("\"$req\"")
                            .build(),
                        "rm -f \"$req\"".to_string(),
                    ],
                ),
                (_, Some(own), _) => Fix::from(format!(
                    "Reinstall the packages that own these scripts with the environment's own interpreter: `{} -m pip install --force-reinstall --no-deps PACKAGE`",
                    quote(own)
                )),
                _ => Fix::from("Reinstall the packages that own these scripts with the environment's own interpreter (`PYTHON -m pip install --force-reinstall --no-deps PACKAGE`)"),
            };
            let mut paths: Vec<String> = scripts.iter().map(|s| s.to_string()).collect();
            paths.push(interp.to_string());
            Hit {
                message,
                paths,
                fix,
                severity,
                ..Default::default()
            }
        })
        .collect()
}

pub fn pip_python_mismatch(ctx: &CheckCtx) -> Vec<Hit> {
    let snap = ctx.snapshot;
    let on_path = |name: &str| snap.command(name).and_then(|c| c.path.as_ref()).is_some();
    // Each pip with the python a user types beside it: `pip`/`python`
    // (`python3` where there is no `python`), `pip3`/`python3`, and every
    // `pipX.Y`/`pythonX.Y` on PATH.
    let mut pairs: Vec<(String, String)> = vec![
        (
            "pip".into(),
            if on_path("python") {
                "python"
            } else {
                "python3"
            }
            .into(),
        ),
        ("pip3".into(), "python3".into()),
    ];
    for c in &snap.commands {
        if let Some(minor) = c.name.strip_prefix("pip").filter(|m| m.contains('.')) {
            pairs.push((c.name.clone(), format!("python{minor}")));
        }
    }
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (pip, py) in &pairs {
        let (Some((pi, pip_it)), Some((yi, py_it))) =
            (snap.command_target(pip), snap.command_target(py))
        else {
            continue;
        };
        if pip_it.prefix == py_it.prefix && pip_it.real_executable == py_it.real_executable {
            continue;
        }
        // The same two environments through other names: said once.
        if !seen.insert((pi, yi)) {
            continue;
        }
        let (Some(pip_cmd), Some(py_cmd)) = (snap.command(pip), snap.command(py)) else {
            continue;
        };
        let mut paths: Vec<String> = Vec::new();
        paths.extend(pip_cmd.path.clone());
        paths.extend(pip_cmd.interpreter.clone());
        paths.extend(py_cmd.path.clone());
        paths.extend(py_cmd.interpreter.clone());
        paths.dedup();
        let py_exe = py_it.executable.as_deref().unwrap_or(py);
        out.push(Hit {
            message: format!(
                "`{pip}` on PATH installs into {} but `{py}` on PATH runs {}: packages installed with `{pip} install` cannot be imported by `{py}`",
                describe(pip_it),
                describe(py_it)
            ),
            paths,
            fix: format!(
                "Install with the interpreter you run: `{} -m pip install PACKAGE` (and `hash -r` if PATH changed in this shell)",
                quote(py_exe)
            )
            .into(),
            environment: Some(py_it.prefix.clone()),
            ..Default::default()
        });
    }
    out
}

pub fn python_env_vars(ctx: &CheckCtx) -> Vec<Hit> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    let n = snap.interpreters.len();
    if let Some(pp) = snap.env_var("PYTHONPATH").filter(|v| !v.is_empty()) {
        let entries: Vec<&str> = pp.split(':').filter(|e| !e.is_empty()).collect();
        out.push(Hit {
            message: format!(
                "`PYTHONPATH` is set ({}); its entries come before the standard library's site-packages in every one of the {n} interpreter(s) found, so modules there shadow what is installed in any environment",
                list_some(&ticked(&entries), 4)
            ),
            paths: entries.iter().map(|s| s.to_string()).collect(),
            fix: "Unset it unless you rely on it (`unset PYTHONPATH`, and remove it from your shell profile); install the code into the environment instead (`python -m pip install -e <dir>`)".into(),
            severity: Some(Severity::Info),
            ..Default::default()
        });
    }
    if let Some(home) = snap.env_var("PYTHONHOME").filter(|v| !v.is_empty()) {
        out.push(Hit {
            message: format!(
                "`PYTHONHOME` is set to `{home}`: every interpreter looks for its standard library there instead of its own prefix; any Python other than the one it was meant for fails to start with \"Fatal Python error: init_fs_encoding\" or \"No module named 'encodings'\""
            ),
            paths: vec![home.to_string()],
            fix: "`unset PYTHONHOME` and remove it from your shell profile; it is almost never needed".into(),
            ..Default::default()
        });
    }
    if snap
        .env_var("PYTHONNOUSERSITE")
        .is_some_and(|v| !v.is_empty())
    {
        out.push(Hit {
            message: "`PYTHONNOUSERSITE` is set: the user site (`~/.local/lib/pythonX.Y/site-packages`) is left off sys.path, so packages installed with `pip install --user` are invisible".into(),
            paths: Vec::new(),
            fix: "Nothing to do if intended (it keeps `~/.local` out of conda envs and CI); otherwise `unset PYTHONNOUSERSITE`".into(),
            severity: Some(Severity::Info),
            ..Default::default()
        });
    }
    if let Some(ub) = snap.env_var("PYTHONUSERBASE").filter(|v| !v.is_empty()) {
        out.push(Hit {
            message: format!(
                "`PYTHONUSERBASE` is set to `{ub}`: `pip install --user` installs there and the user site is read from there instead of `~/.local`"
            ),
            paths: vec![ub.to_string()],
            fix: "Nothing to do if intended; otherwise `unset PYTHONUSERBASE`".into(),
            severity: Some(Severity::Info),
            ..Default::default()
        });
    }
    out
}

/// The environment that `python3` (else `python`) on PATH runs.
pub fn path_python(snap: &Snapshot) -> Option<(&'static str, &Interpreter)> {
    for name in ["python3", "python"] {
        if let Some((_, it)) = snap.command_target(name) {
            return Some((name, it));
        }
    }
    None
}

pub fn stale_activation(ctx: &CheckCtx) -> Vec<Hit> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    let on_path = path_python(snap);
    let venv = snap.env_var("VIRTUAL_ENV").filter(|v| !v.is_empty());
    let conda = snap.env_var("CONDA_PREFIX").filter(|v| !v.is_empty());
    type Reactivate = fn(&str) -> Vec<String>;
    let venv_again: Reactivate = |v| {
        vec![
            "deactivate".into(),
            Cmd::new("source").arg(format!("{v}/bin/activate")).build(),
        ]
    };
    let conda_again: Reactivate = |v| {
        vec![
            "conda deactivate".into(),
            Cmd::new("conda").arg("activate").arg(v).build(),
        ]
    };
    for (var, value, deactivate, reactivate) in [
        ("VIRTUAL_ENV", venv, "deactivate", venv_again),
        ("CONDA_PREFIX", conda, "conda deactivate", conda_again),
    ] {
        let Some(value) = value else { continue };
        let value = value.trim_end_matches('/');
        let exists = snap.interpreter_by_prefix(value).is_some_and(|(_, i)| {
            i.error.is_none() || !i.error.as_deref().unwrap_or("").contains("does not exist")
        });
        // When it was what `check` meant to judge, check-target-unreadable
        // reports it as the error it is; one finding for one cause.
        let judged = ctx.selection.how.iter().any(|h| h == var)
            || ctx.selection.unresolved.iter().any(|u| u.how == var);
        if !exists && judged {
            continue;
        }
        if !exists {
            out.push(Hit {
                message: format!(
                    "`{var}` is `{value}`, which is not an environment on this machine (deleted or moved after it was activated)"
                ),
                paths: vec![value.to_string()],
                fix: Fix::run(
                    "Drop the stale activation (or open a new shell)",
                    vec![deactivate.to_string()],
                ),
                ..Default::default()
            });
            continue;
        }
        match on_path {
            Some((name, it)) if it.prefix != value => {
                // conda base activated under a venv is the "both" case below.
                if var == "CONDA_PREFIX" && venv.is_some() {
                    continue;
                }
                out.push(Hit {
                    message: format!(
                        "`{var}` says `{value}` is active, but `{name}` on PATH runs {}: PATH was changed after activation, so installs and imports go to another environment",
                        describe(it)
                    ),
                    paths: vec![value.to_string()],
                    fix: Fix::run("Activate it again", reactivate(value)),
                    environment: Some(value.to_string()),
                    ..Default::default()
                });
            }
            _ => {}
        }
    }
    if let (Some(v), Some(c)) = (venv, conda) {
        let winner = on_path
            .map(|(n, it)| format!("; `{n}` on PATH runs {}", describe(it)))
            .unwrap_or_default();
        out.push(Hit {
            message: format!(
                "Both a venv (`VIRTUAL_ENV={v}`) and a conda env (`CONDA_PREFIX={c}`) are active{winner}; `pip` and `conda` now act on different environments"
            ),
            paths: vec![v.to_string(), c.to_string()],
            fix: "Use one at a time: `conda deactivate` before activating the venv (and `conda config --set auto_activate_base false` if base activates itself)".into(),
            ..Default::default()
        });
    }
    out
}

/// `--exec` only: where the interpreter's own answer differs from the
/// static reading. Usually a `.pth` import line or `sitecustomize` that
/// changes sys.path at startup, or a version file that went stale.
pub fn exec_mismatch(_ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    let Some(exec) = &it.exec else {
        return Vec::new();
    };
    let exe = it.executable.as_deref().unwrap_or(&it.prefix);
    if let Some(e) = &exec.error {
        return vec![Hit {
            message: format!("`{exe}` could not be run to confirm the static results: {e}"),
            paths: vec![exe.to_string()],
            fix: Fix::run(
                "Run it by hand to see why",
                vec![Cmd::new(exe)
                    .args(["-c", "import sys; print(sys.version)"])
                    .build()],
            ),
            severity: Some(Severity::Warning),
            ..Default::default()
        }];
    }
    let mut out = Vec::new();
    if let (Some(real), Some(stat)) = (&exec.version, &it.version) {
        if real != stat {
            out.push(Hit {
                message: format!(
                    "`{exe}` reports Python {real}, but its files say {stat} (from `{}`): the version file is stale, usually after an in-place upgrade of the base interpreter",
                    it.version_source.as_deref().unwrap_or("?")
                ),
                paths: it.version_source.iter().cloned().collect(),
                fix: if it.pyvenv_cfg.is_some() {
                    Fix::run(
                        "Bring the venv's pyvenv.cfg up to date with its base",
                        vec![Cmd::new(exe).args(["-m", "venv", "--upgrade"]).arg(&it.prefix).build()],
                    )
                } else {
                    Fix::from(format!(
                        "The version file `{}` is stale; reinstall this Python from its source",
                        it.version_source.as_deref().unwrap_or("?")
                    ))
                },
                severity: Some(Severity::Warning),
                ..Default::default()
            });
        }
    }
    // The interpreter ran with `-E` (no PYTHONPATH): compare without it.
    let stat: Vec<&str> = it
        .sys_path
        .iter()
        .filter(|e| e.origin != crate::snapshot::Origin::Pythonpath)
        .map(|e| e.path.as_str())
        .collect();
    let real: Vec<&str> = exec.sys_path.iter().map(String::as_str).collect();
    if stat != real {
        let added: Vec<&str> = real.iter().filter(|p| !stat.contains(p)).copied().collect();
        let missing: Vec<&str> = stat.iter().filter(|p| !real.contains(p)).copied().collect();
        let mut what = Vec::new();
        if !added.is_empty() {
            what.push(format!(
                "added at startup: {}",
                list_some(&ticked(&added), 4)
            ));
        }
        if !missing.is_empty() {
            what.push(format!(
                "expected but absent: {}",
                list_some(&ticked(&missing), 4)
            ));
        }
        if what.is_empty() {
            what.push("same entries in another order".into());
        }
        let hooks = if it.startup_hooks.is_empty() {
            String::new()
        } else {
            format!(
                "; code that runs at startup: {}",
                it.startup_hooks
                    .iter()
                    .map(|h| format!("`{h}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        out.push(Hit {
            message: format!(
                "The sys.path `{exe}` really uses differs from the one its files describe ({}){hooks}; findings about shadowing in this environment follow the static order",
                what.join("; ")
            ),
            paths: added.iter().chain(missing.iter()).map(|s| s.to_string()).collect(),
            fix: Fix::run(
                "Look at what changes sys.path at startup: the `.pth` files and `sitecustomize.py` listed by `envdoctor scan -v`, and what the interpreter imports first",
                vec![Cmd::new(exe).args(["-X", "importtime", "-c", "pass"]).raw("2>&1 | head").build()],
            ),
            severity: Some(Severity::Info),
            ..Default::default()
        });
    }
    out
}
