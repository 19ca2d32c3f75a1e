//! TensorFlow knowledge: why pip will not install or upgrade it, and what
//! breaks it at import. The facts live in `rules/knowledge/*.toml`; these
//! checks only compare them with the snapshot.

use super::environment::describe;
use super::packages::{python_cmd, winner};
use crate::knowledge::{self, manylinux_needs, series_of, specifiers, version, Tensorflow};
use crate::rules::{CheckCtx, Fix, Hit, Severity};
use crate::shell::{quote, Cmd};
use crate::snapshot::{Distribution, Interpreter};
use pep440_rs::Version;

/// TensorFlow as one environment has it: installed (the distribution pip
/// sees), or wanted by an installed distribution's requirements.
struct Tf<'a> {
    dist: Option<&'a Distribution>,
    version: Option<Version>,
    /// When not installed: which distribution asks for it.
    wanted_by: Option<String>,
}

type Env<'a> = crate::rules::model::Model<'a>;

fn env<'a>(ctx: &CheckCtx<'a>, it: &Interpreter) -> &'a Env<'a> {
    ctx.model(it)
}

fn dist_version(d: &Distribution) -> Option<Version> {
    d.version.as_deref().and_then(version)
}

/// The first `Requires-Dist` line of `d` outside any extra whose project
/// name (PEP 503 normalised) passes `pred`, as written. Reads the parse the
/// distribution keeps: the TensorFlow rules ask this of every distribution.
fn requirement_named(d: &Distribution, pred: impl Fn(&str) -> bool) -> Option<&str> {
    d.requires_dist
        .iter()
        .zip(d.requirements())
        .find(|(r, q)| q.as_ref().is_some_and(|q| pred(q.name.as_ref())) && !r.contains("extra =="))
        .map(|(r, _)| r.as_str())
}

fn tf<'a>(e: &Env<'a>) -> Option<Tf<'a>> {
    let k = knowledge::tensorflow();
    // The installed variant pip sees; `tensorflow` first when several are.
    if let Some((d, _)) = e.tensorflow(&[]) {
        return Some(Tf {
            dist: Some(d),
            version: dist_version(d),
            wanted_by: None,
        });
    }
    // Which distribution asks for it: one pass per environment, shared by
    // every TensorFlow rule (the model caches it).
    e.tf_wanted_by
        .get_or_init(|| {
            e.installed.iter().find_map(|(name, (d, _))| {
                requirement_named(d, |n| k.is_variant(n))
                    .map(|req| format!("`{name}` (`{}`)", req.trim()))
            })
        })
        .clone()
        .map(|w| Tf {
            dist: None,
            version: None,
            wanted_by: Some(w),
        })
}

/// Computes what [`tf`] caches in the model, before the rules ask.
pub(crate) fn warm(e: &Env) {
    let _ = tf(e);
}

fn minor_of(it: &Interpreter) -> Option<String> {
    it.minor_version().map(|(a, b)| format!("{a}.{b}"))
}

fn range(pythons: &[String]) -> String {
    match (pythons.first(), pythons.last()) {
        (Some(a), Some(b)) if a != b => format!("{a}-{b}"),
        (Some(a), _) => a.clone(),
        _ => "none".into(),
    }
}

fn tf_name(t: &Tf) -> String {
    match t.dist {
        Some(d) => format!(
            "`{}` {}",
            d.name.as_deref().unwrap_or("tensorflow"),
            d.version.as_deref().unwrap_or("?")
        ),
        None => "TensorFlow".into(),
    }
}

pub fn unsupported_python(ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    let e = env(ctx, it);
    let Some(t) = tf(e) else { return Vec::new() };
    let Some(minor) = minor_of(it) else {
        return Vec::new();
    };
    let k = knowledge::tensorflow();
    let py = python_cmd(it);
    let newest_here = k.newest_for_python(&minor);
    let newest = k.newest();
    let python_hint = |row: &knowledge::PythonRow| {
        let want = row.pythons.last().cloned().unwrap_or_default();
        format!(
            "use a Python TensorFlow {} supports ({}): `uv python install {want}` or `pyenv install {want}`, then a new venv",
            row.series,
            range(&row.pythons)
        )
    };
    let mut paths = vec![it.prefix.clone()];
    if let Some(d) = t.dist {
        paths.push(d.path.clone());
    }

    // Installed outside its tested range, or no release at all for this Python.
    if let (Some(v), Some(_)) = (&t.version, t.dist) {
        if let Some(pythons) = k.pythons_of(v) {
            if !pythons.contains(&minor) {
                let fix = match newest_here {
                    Some(row) => Fix::run(
                        format!(
                            "Install the newest TensorFlow tested with Python {minor}, or {}",
                            newest.map(python_hint).unwrap_or_default()
                        ),
                        vec![Cmd::new(&py)
                            .args(["-m", "pip", "install"])
                            .arg(format!("tensorflow=={}.*", row.series))
                            .build()],
                    ),
                    None => Fix::from(format!(
                        "No TensorFlow release supports Python {minor}: {}",
                        newest.map(python_hint).unwrap_or_default()
                    )),
                };
                return vec![Hit {
                    message: format!(
                        "{} in {} was built and tested for Python {}, not {minor}; it may fail to import or crash, and pip cannot reinstall or upgrade it from wheels",
                        tf_name(&t),
                        describe(it),
                        range(pythons)
                    ),
                    paths,
                    fix,
                    severity: Some(Severity::Error),
                    ..Default::default()
                }];
            }
        }
    }

    match (newest_here, newest) {
        // Wanted, but no release has wheels for this Python.
        (None, Some(latest)) => vec![Hit {
            message: format!(
                "{} is {} in {}, but no TensorFlow release has wheels for Python {minor}: `pip install tensorflow` fails with \"No matching distribution found for tensorflow\"",
                tf_name(&t),
                match &t.wanted_by {
                    Some(w) => format!("required by {w}"),
                    None => "installed".into(),
                },
                describe(it)
            ),
            paths,
            fix: format!("TensorFlow needs another Python: {}", python_hint(latest)).into(),
            ..Default::default()
        }],
        // Installed, supported, but upgrades stop at this Python's last series.
        (Some(here), Some(latest)) if here.series != latest.series && t.dist.is_some() => {
            let installed_series = t.version.as_ref().map(series_of);
            let at_ceiling = installed_series.as_deref() == Some(here.series.as_str());
            if !at_ceiling {
                return Vec::new();
            }
            vec![Hit {
                message: format!(
                    "{} is the newest TensorFlow series with wheels for Python {minor} (in {}): `pip install --upgrade tensorflow` keeps installing it, because TensorFlow {} and later need Python {}",
                    here.series,
                    describe(it),
                    next_series(k, &here.series).unwrap_or_else(|| latest.series.clone()),
                    range(&latest.pythons)
                ),
                paths,
                fix: format!(
                    "To get TensorFlow {}, {}; otherwise pin what works here: `tensorflow=={}.*`",
                    latest.series,
                    python_hint(latest),
                    here.series
                )
                .into(),
                severity: Some(Severity::Info),
                ..Default::default()
            }]
        }
        _ => Vec::new(),
    }
}

fn next_series(k: &Tensorflow, series: &str) -> Option<String> {
    let cur = version(series)?;
    k.python
        .iter()
        .filter_map(|r| version(&r.series).map(|v| (v, &r.series)))
        .filter(|(v, _)| *v > cur)
        .min_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, s)| s.clone())
}

/// The installed TensorFlow's constraint on another project (NumPy,
/// protobuf), from the knowledge table, judged against what pip sees.
fn constraint_hit(
    ctx: &CheckCtx,
    it: &Interpreter,
    project: &str,
    table: &[knowledge::Constraint],
) -> Vec<Hit> {
    let e = env(ctx, it);
    let Some(t) = tf(e) else { return Vec::new() };
    let (Some(tf_dist), Some(tfv)) = (t.dist, t.version.as_ref()) else {
        return Vec::new();
    };
    let Some((other, _)) = e.installed.get(project) else {
        return Vec::new();
    };
    let Some(ov) = dist_version(other) else {
        return Vec::new();
    };
    let Some(c) = Tensorflow::constraint(table, tfv) else {
        return Vec::new();
    };
    let Some(spec) = specifiers(&c.works_with) else {
        return Vec::new();
    };
    if spec.contains(&ov) {
        return Vec::new();
    }
    // Whether TensorFlow's own metadata already says so (then pip check
    // reports it too); if not, this is the only place it is caught.
    let declared = tf_dist.requirements().iter().flatten().any(|q| {
        q.name.as_ref() == project
            && matches!(&q.version_or_url,
                    Some(pep508_rs::VersionOrUrl::VersionSpecifier(s)) if !s.contains(&ov))
    });
    let py = python_cmd(it);
    vec![Hit {
        message: format!(
            "{} in {} works with {project} `{}`, but {project} {} is installed: `import tensorflow` fails with \"{}\"{}",
            tf_name(&t),
            describe(it),
            c.works_with,
            other.version.as_deref().unwrap_or("?"),
            c.symptom,
            if declared {
                String::new()
            } else {
                format!(
                    " (TensorFlow {}'s metadata does not say so, so `pip check` is silent)",
                    tf_dist.version.as_deref().unwrap_or("?")
                )
            }
        ),
        paths: vec![tf_dist.path.clone(), other.path.clone()],
        fix: Fix::run(
            format!("Install a {project} this TensorFlow works with"),
            vec![Cmd::new(&py)
                .args(["-m", "pip", "install"])
                .arg(format!("{project}{}", c.works_with))
                .build()],
        ),
        ..Default::default()
    }]
}

pub fn numpy2_incompatible(ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    let mut hits = constraint_hit(ctx, it, "numpy", &knowledge::tensorflow().numpy);
    for h in &mut hits {
        let minor = minor_of(it).unwrap_or_default();
        if let Some(row) = knowledge::tensorflow().newest_for_python(&minor) {
            if version(&row.series) >= version("2.18") {
                h.fix.text.push_str(&format!(
                    " (or upgrade TensorFlow to 2.18 or later, the first built for NumPy 2: `{} -m pip install --upgrade 'tensorflow>=2.18'`)",
                    quote(&python_cmd(it))
                ));
            }
        }
    }
    hits
}

pub fn protobuf_incompatible(ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    constraint_hit(ctx, it, "protobuf", &knowledge::tensorflow().protobuf)
}

pub fn gpu_deprecated(ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    let k = knowledge::tensorflow();
    let e = env(ctx, it);
    let py = python_cmd(it);
    let mut out = Vec::new();
    let removed = &k.gpu.gpu_package_removed;
    if let Some((d, _)) = e.installed.get(k.gpu.gpu_package.as_str()) {
        out.push(Hit {
            message: format!(
                "`{}` {} is installed in {}: the GPU package was folded into `tensorflow` in 2.1 and removed in {removed} (its later releases are stubs that fail to install), so it pins this environment to old TensorFlow and conflicts with `tensorflow` over the same `tensorflow/` files",
                k.gpu.gpu_package,
                d.version.as_deref().unwrap_or("?"),
                describe(it)
            ),
            paths: vec![d.path.clone()],
            fix: Fix::run(
                "Replace it with `tensorflow` (Linux: with its CUDA libraries; plain `tensorflow` on other systems)",
                vec![
                    Cmd::new(&py).args(["-m", "pip", "uninstall", "-y"]).arg(&k.gpu.gpu_package).build(),
                    Cmd::new(&py).args(["-m", "pip", "install", "tensorflow[and-cuda]"]).build(),
                ],
            ),
            ..Default::default()
        });
    }
    for (name, (d, _)) in &e.installed {
        if let Some(req) = requirement_named(d, |n| n == k.gpu.gpu_package) {
            out.push(Hit {
                message: format!(
                    "`{name}` {} in {} requires `{}`, which was removed as a real package in TensorFlow {removed}: installing it fails or resolves to an old release",
                    d.version.as_deref().unwrap_or("?"),
                    describe(it),
                    req.trim()
                ),
                paths: vec![d.path.clone()],
                fix: Fix::run(
                    format!("Upgrade `{name}` to a release that requires `tensorflow` instead, or install it with `--no-deps` next to `tensorflow`"),
                    vec![Cmd::new(&py).args(["-m", "pip", "install", "--upgrade"]).arg(name).build()],
                ),
                ..Default::default()
            });
        }
    }
    // Native Windows after 2.10 is `tensorflow-gpu-unsupported-platform`'s.
    out
}

pub fn pip_too_old_for_wheels(ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    if ctx.snapshot.host.os != "linux" {
        return Vec::new();
    }
    let e = env(ctx, it);
    let Some((pip, _)) = e.installed.get("pip") else {
        return Vec::new();
    };
    let Some(pv) = dist_version(pip) else {
        return Vec::new();
    };
    let k = knowledge::tensorflow();
    // What this environment wants: the newest TensorFlow for its Python, when
    // TensorFlow is installed or required. Without that, which wheels a pip
    // would need is a guess (Python 2.7 packages ship manylinux1), so say nothing.
    let Some(series) = tf(e)
        .and(minor_of(it))
        .and_then(|m| k.newest_for_python(&m).map(|r| r.series.clone()))
    else {
        return Vec::new();
    };
    let Some(tag) = version(&format!("{series}.0"))
        .as_ref()
        .and_then(|v| k.linux_tag(v))
        .map(str::to_string)
    else {
        return Vec::new();
    };
    let what = format!("TensorFlow {series}'s Linux wheels");
    let Some((_, min_pip)) = manylinux_needs(&tag) else {
        return Vec::new();
    };
    if pv >= min_pip {
        return Vec::new();
    }
    let py = python_cmd(it);
    vec![Hit {
        message: format!(
            "pip {pv} in {} cannot install `{tag}` wheels (they need pip {min_pip} or later), which {what} use: pip skips them and reports \"No matching distribution found\" or falls back to an old release or a source build",
            describe(it)
        ),
        paths: vec![pip.path.clone()],
        fix: Fix::run(
            "Upgrade pip in this environment",
            vec![Cmd::new(&py).args(["-m", "pip", "install", "--upgrade", "pip"]).build()],
        ),
        ..Default::default()
    }]
}

pub fn interpreter_not_64bit(_ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    if it.pointer_bits != Some(32) {
        return Vec::new();
    }
    vec![Hit {
        message: format!(
            "{} is a 32-bit interpreter ({}): TensorFlow publishes 64-bit wheels only, so `pip install tensorflow` says \"No matching distribution found\" (PyTorch and many other binary packages are the same)",
            describe(it),
            it.machine.as_deref().unwrap_or("32-bit")
        ),
        paths: it.real_executable.iter().cloned().collect(),
        fix: "Install a 64-bit Python (x86_64 or aarch64) and make a new environment from it".into(),
        ..Default::default()
    }]
}

pub fn glibc_too_old(ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    let Some(libc) = &ctx.snapshot.host.libc else {
        return Vec::new();
    };
    let e = env(ctx, it);
    let py = python_cmd(it);
    let mut out = Vec::new();
    let host = libc
        .version
        .as_deref()
        .and_then(|v| v.split_once('.'))
        .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)));
    // Installed wheels built for a newer glibc than this system has: their
    // extension modules fail with "version `GLIBC_2.X' not found".
    if libc.family == "glibc" {
        if let Some(host) = host {
            for (name, (d, _)) in &e.installed {
                let needs = d
                    .wheel_tags
                    .iter()
                    .filter_map(|t| manylinux_needs(t).map(|(g, _)| g))
                    .min();
                if let Some(need) = needs.filter(|n| *n > host) {
                    out.push(Hit {
                        message: format!(
                            "`{name}` {} in {} is a wheel for glibc {}.{} or later, but this system has glibc {}.{}: its extension modules fail to load with \"version `GLIBC_{}.{}' not found\"",
                            d.version.as_deref().unwrap_or("?"),
                            describe(it),
                            need.0,
                            need.1,
                            host.0,
                            host.1,
                            need.0,
                            need.1
                        ),
                        paths: vec![d.path.clone(), libc.path.clone()],
                        fix: Fix::run(
                            "Reinstall a build for this system (pip then picks an older wheel or builds from source), or use a newer OS image",
                            vec![Cmd::new(&py)
                                .args(["-m", "pip", "install", "--force-reinstall", "--no-cache-dir"])
                                .arg(name)
                                .build()],
                        ),
                        severity: Some(Severity::Error),
                        ..Default::default()
                    });
                }
            }
        }
    }
    // TensorFlow wanted: can its wheels for this Python install here at all?
    let k = knowledge::tensorflow();
    if let (Some(t), Some(minor)) = (tf(e), minor_of(it)) {
        if let Some(row) = k.newest_for_python(&minor) {
            let tag = version(&format!("{}.0", row.series))
                .and_then(|v| k.linux_tag(&v).map(str::to_string));
            if let Some((need, _)) = tag.as_deref().and_then(manylinux_needs) {
                let blocked = match (libc.family.as_str(), host) {
                    ("musl", _) => Some(
                        "this system uses musl libc (Alpine), and manylinux wheels need glibc"
                            .to_string(),
                    ),
                    ("glibc", Some(h)) if need > h => Some(format!(
                        "this system has glibc {}.{} and they need {}.{}",
                        h.0, h.1, need.0, need.1
                    )),
                    _ => None,
                };
                if let Some(why) = blocked {
                    out.push(Hit {
                        message: format!(
                            "{} for Python {minor} (TensorFlow {}) ships `{}` Linux wheels, which pip cannot install here: {why}; pip falls back to an older release or says \"No matching distribution found\"",
                            tf_name(&t),
                            row.series,
                            tag.as_deref().unwrap_or("?")
                        ),
                        paths: vec![libc.path.clone()],
                        fix: "Use a newer glibc-based system or container image (e.g. Debian 12, Ubuntu 22.04 or later) for this environment".into(),
                        severity: Some(Severity::Warning),
                        ..Default::default()
                    });
                }
            }
        }
    }
    out
}

pub fn metadata_version_mismatch(ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    let e = env(ctx, it);
    let all = e.copies();
    let py = python_cmd(it);
    let mut out = Vec::new();
    for f in knowledge::version_files() {
        let Some(cs) = all.get(f.import.as_str()) else {
            continue;
        };
        let Some(w) = winner(cs) else { continue };
        let layer = &e.layers[cs[w].layer];
        let Some(own) = layer
            .dir
            .own_versions
            .iter()
            .find(|o| o.project == f.project)
        else {
            continue;
        };
        let Some(own_v) = own.version.as_deref().and_then(version) else {
            continue;
        };
        // What pip reports: for TensorFlow, any variant's metadata counts.
        let k = knowledge::tensorflow();
        let meta = e.installed.iter().find(|(n, _)| {
            **n == f.project.as_str() || (f.project == "tensorflow" && k.is_variant(n))
        });
        let Some((name, (d, _))) = meta else { continue };
        let Some(meta_v) = dist_version(d) else {
            continue;
        };
        if meta_v == own_v || meta_v.release() == own_v.release() {
            continue;
        }
        // Every distribution writing this package must go, or the next
        // install lands on top of the same mix.
        let mut remove: Vec<&str> = e
            .installed
            .keys()
            .filter(|n| **n == f.project.as_str() || (f.project == "tensorflow" && k.is_variant(n)))
            .copied()
            .collect();
        remove.dedup();
        out.push(Hit {
            message: format!(
                "`pip show {name}` says {meta_v} (`{}`), but `import {}` loads {own_v} from `{}` (`{}`): the files on disk are not the release pip recorded, so upgrades, `pip check` and bug reports all describe the wrong version",
                d.path,
                f.import,
                layer.dir.path,
                own.path
            ),
            paths: vec![d.path.clone(), own.path.clone()],
            fix: Fix::run(
                format!(
                    "Reinstall it cleanly, after removing any other copy `envdoctor why {}` lists",
                    quote(&f.import)
                ),
                vec![
                    Cmd::new(&py).args(["-m", "pip", "uninstall", "-y"]).args(&remove).build(),
                    Cmd::new(&py)
                        .args(["-m", "pip", "install", "--no-cache-dir"])
                        .arg(format!("{name}=={meta_v}"))
                        .build(),
                ],
            ),
            severity: Some(Severity::Error),
            ..Default::default()
        });
    }
    out
}
