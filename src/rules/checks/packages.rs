//! Package checks: what is installed where, which copy `import` loads, and
//! what is broken or conflicting. They read `site_dirs` through the target
//! interpreter's sys.path, so a directory shared by several interpreters is
//! judged for each one with its own order and its own markers.

use super::environment::describe;
use super::list_some;
use crate::requirements::Req;
use crate::rules::{CheckCtx, Fix, Hit, Severity};
use crate::shell::{quote, Cmd};
use crate::snapshot::{
    DistFormat, Distribution, Interpreter, ModuleKind, Origin, SiteDir, Snapshot, SysPathEntry,
};
use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, MarkerEnvironment, MarkerEnvironmentBuilder, Requirement};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::str::FromStr;

/// A site dir as one interpreter sees it: its place on sys.path and why.
#[derive(Clone, Copy)]
pub struct Layer<'a> {
    pub entry: &'a SysPathEntry,
    pub dir: &'a SiteDir,
}

/// The interpreter's non-stdlib sys.path entries that were read, in order.
pub fn layers<'a>(snap: &'a Snapshot, it: &'a Interpreter) -> Vec<Layer<'a>> {
    let by_path: HashMap<&str, &SiteDir> = snap
        .site_dirs
        .iter()
        .map(|d| (d.path.as_str(), d))
        .collect();
    // With `--exec`, what the interpreter really had on sys.path.
    let entries = if it.runtime_sys_path.is_empty() {
        &it.sys_path
    } else {
        &it.runtime_sys_path
    };
    entries
        .iter()
        .filter(|e| e.origin != Origin::Stdlib)
        .filter_map(|e| {
            by_path
                .get(e.path.as_str())
                .map(|dir| Layer { entry: e, dir })
        })
        .collect()
}

/// The python to name in fixes: the environment's own, by absolute path.
pub fn python_cmd(it: &Interpreter) -> String {
    it.executable
        .clone()
        .unwrap_or_else(|| format!("{}/bin/python", it.prefix))
}

/// A directory a Linux distribution's package manager fills
/// (`/usr/lib/python3/dist-packages`, Fedora's `/usr/lib/python3.12/site-packages`);
/// `/usr/local` is pip's.
fn distro_dir(path: &str) -> bool {
    path.starts_with("/usr/lib/python") || path.starts_with("/usr/lib64/python")
}

/// Whose files a sys.path directory holds, for a fix that would change
/// them: the environment's own, shared with other interpreters (the user
/// site), or someone else's (another environment reached through
/// PYTHONPATH or a `.pth` line, a venv's base, the distribution's).
pub enum Reach {
    Own,
    Shared(String),
    Foreign(String),
}

impl Reach {
    /// What a fix text adds: who else the change reaches.
    pub fn note(&self) -> String {
        match self {
            Reach::Shared(who) => format!(" ({who})"),
            _ => String::new(),
        }
    }
}

pub fn reach(ctx: &CheckCtx, it: &Interpreter, e: &SysPathEntry) -> Reach {
    // Who else sees the directory: asked only where the text says it (other
    // interpreters may have been read shallow, see `Models::others_seeing`).
    let also = || {
        let others = ctx.models.others_seeing(it, &e.path);
        if others.is_empty() {
            String::new()
        } else {
            format!("; here that is also {}", list_some(&others, 4))
        }
    };
    match e.origin {
        Origin::VenvSite => Reach::Own,
        Origin::Site if distro_dir(&e.path) => Reach::Foreign(format!(
            "`{}` belongs to the distribution's package manager (apt, dnf): change it with that, not with pip or rm",
            e.path
        )),
        Origin::Site if it.kind.is_virtual() || it.pyvenv_cfg.is_some() => Reach::Foreign(format!(
            "`{}` is the base Python's site-packages, which every venv made from it with `--system-site-packages` shares{}",
            e.path,
            also()
        )),
        Origin::Site => Reach::Own,
        Origin::UserSite => Reach::Shared(format!(
            "`{}` is the user site, shared by every Python {} this user runs outside a venv{}",
            e.path,
            it.minor_version()
                .map(|(a, b)| format!("{a}.{b}"))
                .unwrap_or_else(|| "X.Y".into()),
            also()
        )),
        Origin::Pythonpath => Reach::Foreign(format!(
            "`{}` is on sys.path only through `PYTHONPATH`{}",
            e.path,
            also()
        )),
        Origin::Pth => Reach::Foreign(format!(
            "`{}` is added by `{}`{}",
            e.path,
            e.pth.as_deref().unwrap_or("a .pth file"),
            also()
        )),
        Origin::Stdlib => Reach::Foreign(format!("`{}` is the standard library", e.path)),
        Origin::Runtime => Reach::Foreign(format!(
            "`{}` is put on sys.path at startup by code envdoctor did not run (seen with --exec)",
            e.path
        )),
    }
}

/// Projects that Debian and Ubuntu split out of a package's requirements on
/// purpose (made optional), and the distribution package that provides
/// them. Source: packages.debian.org (python3-gi Recommends/Suggests
/// python3-gi-cairo; pycairo is packaged as python3-cairo).
const DISTRO_PACKAGES: &[(&str, &str)] = &[
    ("pycairo", "python3-cairo"),
    ("pygobject", "python3-gi"),
    ("dbus-python", "python3-dbus"),
    ("pyyaml", "python3-yaml"),
    ("pillow", "python3-pil"),
];

/// A requirement of a distribution-packaged project: the distribution's
/// package provides it, when it is wanted at all.
fn os_package_fix(name: &str) -> Fix {
    let n = name.to_ascii_lowercase().replace('_', "-");
    match DISTRO_PACKAGES.iter().find(|(p, _)| *p == n) {
        Some((_, pkg)) => Fix::run(
            format!("The requirement is optional in the distribution's packaging; if you need it, install the distribution's package `{pkg}` (Debian/Ubuntu)"),
            vec![Cmd::new("sudo").args(["apt-get", "install"]).arg(pkg).build()],
        ),
        None => Fix::from(format!(
            "The requirement is optional in the distribution's packaging; if you need it, install it with the package manager (Debian/Ubuntu: `apt-cache search {}` finds the package)",
            quote(&n)
        )),
    }
}

/// The fix for a shadowing copy: never a removal in a directory this
/// environment does not own, and a PYTHONPATH entry goes from PYTHONPATH.
fn shadow_fix(
    ctx: &CheckCtx,
    it: &Interpreter,
    we: &SysPathEntry,
    w: &Copy,
    l: &Copy,
    wdist: Option<&&Distribution>,
) -> Fix {
    let snap = ctx.snapshot;
    let py = python_cmd(it);
    let loser = l
        .owners
        .first()
        .and_then(|d| d.name.as_deref())
        .unwrap_or(l.name);
    match (we.origin, wdist) {
        (Origin::Pythonpath, _) => {
            let rest: Vec<&str> = snap
                .env_var("PYTHONPATH")
                .unwrap_or("")
                .split(':')
                .filter(|p| !p.is_empty() && p.trim_end_matches('/') != we.path.trim_end_matches('/'))
                .collect();
            let cmd = if rest.is_empty() {
                "unset PYTHONPATH".to_string()
            } else {
                format!("export PYTHONPATH={}", quote(&rest.join(":")))
            };
            Fix::run(
                format!(
                    "Take `{}` out of `PYTHONPATH` (here and in your shell profile); nothing installed in the environment can win while it is there. {}",
                    we.path,
                    match reach(ctx, it, we) {
                        Reach::Foreign(why) => format!("{why}: its files are left alone"),
                        _ => String::new(),
                    }
                ),
                vec![cmd],
            )
        }
        (Origin::UserSite, Some(d)) => {
            // Inside a venv, pip will not uninstall outside it: the base
            // interpreter removes the user-site copy (the first it finds).
            let base = if it.kind.is_virtual() || it.pyvenv_cfg.is_some() {
                it.base_executable.clone().unwrap_or_else(|| py.clone())
            } else {
                py.clone()
            };
            let mut c = Cmd::new(&base).args(["-m", "pip", "uninstall", "-y"]);
            if externally_managed_base(snap, it) {
                c = c.arg("--break-system-packages");
            }
            Fix::run(
                format!(
                    "Remove the user-site copy, the first one pip finds{}{}",
                    reach(ctx, it, we).note(),
                    if it.kind == crate::snapshot::Kind::Conda {
                        "; or keep `~/.local` out of conda envs with `export PYTHONNOUSERSITE=1`"
                    } else {
                        ""
                    }
                ),
                vec![c.arg(d.name.as_deref().unwrap_or(w.name)).build()],
            )
        }
        (Origin::Pth, _) => Fix::run(
            format!(
                "Remove the line adding `{}` from `{}` (its files are left alone), or uninstall the other copy",
                we.path,
                we.pth.as_deref().unwrap_or("the .pth file"),
            ),
            vec![Cmd::new(&py).args(["-m", "pip", "uninstall", "-y"]).arg(loser).build()],
        ),
        (_, Some(d)) => match reach(ctx, it, we) {
            Reach::Foreign(why) => Fix::from(format!(
                "{why}; remove the copy you do not want with the tool that owns its directory"
            )),
            r => {
                let mut c = Cmd::new(&py).args(["-m", "pip", "uninstall", "-y"]);
                if externally_managed_base(snap, it) {
                    c = c.arg("--break-system-packages");
                }
                Fix::run(
                    format!("Keep one copy: uninstall the first one on sys.path{}", r.note()),
                    vec![c.arg(d.name.as_deref().unwrap_or(w.name)).build()],
                )
            }
        },
        (_, None) => match reach(ctx, it, we) {
            Reach::Foreign(why) => Fix::from(format!(
                "A copy no distribution owns shadows the installed one; {why}, so remove `{}/{}` with whatever put it there",
                we.path, w.file
            )),
            r => Fix::run(
                format!("Delete the stray copy no distribution owns{}", r.note()),
                vec![Cmd::new("rm").arg("-rf").arg("--").arg(format!("{}/{}", we.path, w.file)).build()],
            ),
        },
    }
}

/// The interpreter's base carries `EXTERNALLY-MANAGED` (PEP 668).
fn externally_managed_base(snap: &Snapshot, it: &Interpreter) -> bool {
    !(it.kind.is_virtual() || it.pyvenv_cfg.is_some())
        && snap
            .externally_managed
            .iter()
            .any(|m| m.starts_with(it.base_prefix.as_deref().unwrap_or(&it.prefix)))
}

pub fn version_of(d: &Distribution) -> &str {
    d.version.as_deref().unwrap_or("(unknown version)")
}

/// "`tensorflow` 2.15.0"
pub fn dist_label(d: &Distribution) -> String {
    format!("`{}` {}", d.name.as_deref().unwrap_or("?"), version_of(d))
}

/// The distributions pip would see (`importlib.metadata`): the first of each
/// normalised name along sys.path. Editable `.egg-link`s count like pip's
/// legacy resolver counts them.
pub fn installed<'a>(layers: &[Layer<'a>]) -> BTreeMap<&'a str, (&'a Distribution, usize)> {
    installed_by_name(layers).into_iter().collect()
}

/// [`installed`], hashed: the first copy of each name found with one hash
/// probe per distribution. (Collected from it, the ordered map is built in
/// one sorted pass, not by an insert that compares names at every level.)
pub fn installed_by_name<'a>(
    layers: &[Layer<'a>],
) -> rustc_hash::FxHashMap<&'a str, (&'a Distribution, usize)> {
    use std::collections::hash_map::Entry;
    let mut out: rustc_hash::FxHashMap<&str, (&Distribution, usize)> = Default::default();
    out.reserve(layers.iter().map(|l| l.dir.distributions.len()).sum());
    // Within a layer the copy listed first wins, as in [`in_listing_order`]
    // (unknown listing: last, stored order kept); found without sorting the
    // layer, which read every distribution at each comparison.
    let rank = |d: &Distribution| d.listing.unwrap_or(u32::MAX);
    for (i, l) in layers.iter().enumerate() {
        for d in &l.dir.distributions {
            let Some(n) = d.normalized.as_deref() else {
                continue;
            };
            match out.entry(n) {
                Entry::Vacant(v) => {
                    v.insert((d, i));
                }
                Entry::Occupied(mut o) => {
                    let (seen, layer) = *o.get();
                    if layer == i && rank(d) < rank(seen) {
                        o.insert((d, i));
                    }
                }
            }
        }
    }
    out
}

/// A site dir's distributions in the order its directory lists them (what
/// `importlib.metadata` walks), sorted order where that is not known (a
/// snapshot of an older envdoctor).
pub fn in_listing_order(dir: &SiteDir) -> Vec<&Distribution> {
    let mut v: Vec<&Distribution> = dir.distributions.iter().collect();
    v.sort_by_key(|d| d.listing.unwrap_or(u32::MAX));
    v
}

/// The index of the layer that holds `d` (what pip sees of its name).
fn r_layer(inst: &BTreeMap<&str, (&Distribution, usize)>, d: &Distribution) -> usize {
    d.normalized
        .as_deref()
        .and_then(|n| inst.get(n))
        .map(|x| x.1)
        .unwrap_or(0)
}

/// The marker environment of the target interpreter, from the snapshot.
pub fn marker_env(snap: &Snapshot, it: &Interpreter) -> Option<MarkerEnvironment> {
    let full = it.version.as_deref()?;
    let (major, minor) = it.minor_version()?;
    let short = format!("{major}.{minor}");
    let full = if full.split('.').count() >= 3 {
        full.to_string()
    } else {
        format!("{short}.0")
    };
    let os = snap.host.os.as_str();
    let (sys_platform, platform_system, os_name) = match os {
        "macos" => ("darwin", "Darwin", "posix"),
        "windows" => ("win32", "Windows", "nt"),
        "linux" | "" => ("linux", "Linux", "posix"),
        other => (other, other, "posix"),
    };
    let arch = match snap.host.arch.as_str() {
        "" => "x86_64",
        a => a,
    };
    let (impl_name, platform_impl) = match it.implementation.as_str() {
        "pypy" => ("pypy", "PyPy"),
        _ => ("cpython", "CPython"),
    };
    MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
        implementation_name: impl_name,
        implementation_version: &full,
        os_name,
        platform_machine: arch,
        platform_python_implementation: platform_impl,
        platform_release: snap.host.kernel_release.as_deref().unwrap_or(""),
        platform_system,
        platform_version: snap.host.kernel_version.as_deref().unwrap_or(""),
        python_full_version: &full,
        python_version: &short,
        sys_platform,
    })
    .ok()
}

fn params_strs(ctx: &CheckCtx, key: &str) -> Vec<String> {
    ctx.rule
        .params
        .get(key)
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn file_name(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

// ---------------------------------------------------------------------------
// Import resolution

/// One provider of a top-level import name in one sys.path entry.
pub struct Copy<'a> {
    pub layer: usize,
    pub name: &'a str,
    pub kind: ModuleKind,
    pub file: &'a str,
    /// The distributions in that directory whose RECORD owns the name.
    pub owners: Vec<&'a Distribution>,
}

/// Whether a file in a site dir can be imported by this interpreter: an
/// extension module tagged for another Python version cannot.
fn importable_by(file: &str, kind: ModuleKind, it: &Interpreter) -> bool {
    if kind != ModuleKind::Extension {
        return true;
    }
    let Some((major, minor)) = it.minor_version() else {
        return true;
    };
    // name.cpython-311-x86_64-linux-gnu.so / name.abi3.so / name.so
    let parts: Vec<&str> = file.split('.').collect();
    if parts.len() < 3 {
        return true;
    }
    let tag = parts[parts.len() - 2];
    if tag == "abi3" {
        return major == 3;
    }
    match tag.strip_prefix("cpython-") {
        Some(rest) => {
            let num = rest.split('-').next().unwrap_or("");
            num == format!("{major}{minor}") || num == format!("{major}{minor}d")
        }
        None => !tag.starts_with("pypy") || it.implementation == "pypy",
    }
}

/// Every importable copy of each top-level name, in sys.path order. Within
/// one directory a package beats an extension module beats a `.py` (as
/// importlib's FileFinder looks); namespace portions are kept apart because
/// they merge instead of shadowing.
pub fn copies<'a>(layers: &[Layer<'a>], it: &Interpreter) -> BTreeMap<&'a str, Vec<Copy<'a>>> {
    // Hashed, then ordered in one sort: inserting each name into the
    // B-tree compared names at every level (a third of its time at 10,000
    // distributions).
    let mut out: rustc_hash::FxHashMap<&str, Vec<Copy>> = Default::default();
    for (i, l) in layers.iter().enumerate() {
        let mut best: rustc_hash::FxHashMap<&str, (u8, &crate::snapshot::Module)> =
            Default::default();
        best.reserve(l.dir.modules.len());
        for m in &l.dir.modules {
            if !importable_by(&m.file, m.kind, it) {
                continue;
            }
            let rank = match m.kind {
                ModuleKind::Package => 0,
                ModuleKind::Extension => 1,
                ModuleKind::Module => 2,
                ModuleKind::Namespace => 3,
            };
            match best.get(m.name.as_str()) {
                Some((r, _)) if *r <= rank => {}
                _ => {
                    best.insert(&m.name, (rank, m));
                }
            }
        }
        // Who owns each top-level name, indexed once per directory: the
        // scan of every distribution per module was quadratic (4 s at
        // 10,000 distributions).
        let mut owners_of: rustc_hash::FxHashMap<&str, Vec<&Distribution>> = Default::default();
        for d in &l.dir.distributions {
            for t in &d.top_level {
                owners_of.entry(t.as_str()).or_default().push(d);
            }
        }
        for (name, (_, m)) in best {
            // Each name once per layer: its owners move, not copied.
            let owners = owners_of.remove(name).unwrap_or_default();
            // Most names have one copy: room for one, not the default four.
            out.entry(name)
                .or_insert_with(|| Vec::with_capacity(1))
                .push(Copy {
                    layer: i,
                    name,
                    kind: m.kind,
                    file: &m.file,
                    owners,
                });
        }
    }
    out.into_iter().collect()
}

/// Which copy `import name` loads: the first regular package or module; a
/// namespace package only when there is nothing else.
pub fn winner(cs: &[Copy]) -> Option<usize> {
    cs.iter()
        .position(|c| c.kind != ModuleKind::Namespace)
        .or(if cs.is_empty() { None } else { Some(0) })
}

/// Why entry `w` comes before entry `l` on this interpreter's sys.path.
pub fn why_first(it: &Interpreter, w: &SysPathEntry, l: &SysPathEntry) -> String {
    let conda = it.kind == crate::snapshot::Kind::Conda;
    match w.origin {
        Origin::Pythonpath => "`PYTHONPATH` entries come before every site directory".into(),
        Origin::UserSite if l.origin == Origin::Site && !conda && !it.kind.is_virtual() => {
            "site.py puts the user site before the interpreter's own site-packages".into()
        }
        Origin::UserSite if conda => {
            "site.py puts the user site (`~/.local`) before a conda env's own site-packages".into()
        }
        Origin::UserSite => {
            "site.py puts the user site before the base interpreter's site-packages".into()
        }
        Origin::Pth => format!(
            "`{}` adds `{}` to sys.path right after its own site directory",
            w.pth.as_deref().unwrap_or("a .pth file"),
            w.path
        ),
        Origin::VenvSite => "a venv's own site-packages comes first".into(),
        Origin::Runtime => format!(
            "code that runs at startup put `{}` on sys.path before `{}` (seen with --exec)",
            w.path, l.path
        ),
        Origin::Site | Origin::Stdlib => format!(
            "`{}` comes before `{}` in this interpreter's site directories",
            w.path, l.path
        ),
    }
}

pub fn shadowed_package(ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    let ignore = params_strs(ctx, "ignore_names");
    let model = ctx.model(it);
    let layers = &model.layers;
    let all = model.copies();
    // One finding per (winning dir + distribution, shadowed dir + distribution):
    // setuptools shadows setuptools as `setuptools`, `pkg_resources` and
    // `_distutils_hack` at once.
    type Key = (usize, Option<String>, usize, Option<String>);
    let mut groups: BTreeMap<Key, Vec<(&Copy, &Copy)>> = BTreeMap::new();
    for (name, cs) in all {
        if ignore.iter().any(|i| {
            i.strip_suffix('*')
                .map_or(*name == i.as_str(), |p| name.starts_with(p))
        }) {
            continue;
        }
        let Some(wi) = winner(cs) else { continue };
        let w = &cs[wi];
        for l in cs.iter().skip(wi + 1) {
            if l.kind == ModuleKind::Namespace {
                continue;
            }
            let (we, le) = (layers[w.layer].entry, layers[l.layer].entry);
            // A venv's own copy over what it inherits (user site, base) is
            // what system-site venvs are for.
            if we.origin == Origin::VenvSite && matches!(le.origin, Origin::Site | Origin::UserSite)
            {
                continue;
            }
            // The user site over a conda env's own packages is
            // `user-site-leaks-into-conda`, with the conda-specific fix.
            if we.origin == Origin::UserSite && it.conda.is_some() {
                continue;
            }
            let key = (
                w.layer,
                w.owners.first().map(|d| d.path.clone()),
                l.layer,
                l.owners.first().map(|d| d.path.clone()),
            );
            groups.entry(key).or_default().push((w, l));
        }
    }
    let mut out = Vec::new();
    for (_, pairs) in groups {
        let (w, l) = pairs[0];
        let (we, le) = (layers[w.layer].entry, layers[l.layer].entry);
        let wv = w.owners.first().and_then(|d| d.version.as_deref());
        let lv = l.owners.first().and_then(|d| d.version.as_deref());
        let differ = matches!((wv, lv), (Some(a), Some(b)) if a != b);
        let severity = if differ {
            Severity::Error
        } else {
            Severity::Warning
        };
        let consequence = if differ {
            "; the versions differ, and `pip install`/`pip list` act on the first copy they find, so upgrading the shadowed one never takes effect"
        } else {
            ""
        };
        let label = |c: &Copy| match c.owners.first() {
            Some(d) => dist_label(d),
            None => "a copy no distribution owns".to_string(),
        };
        let imports: Vec<String> = pairs
            .iter()
            .map(|(w, _)| format!("`import {}`", w.name))
            .collect();
        let message = format!(
            "{} in {} loads {} from `{}/{}` ({}), shadowing {} in `{}/{}` ({}): {}{consequence}",
            list_some(&imports, 6),
            describe(it),
            label(w),
            we.path,
            w.file,
            we.origin.describe(),
            label(l),
            le.path,
            l.file,
            le.origin.describe(),
            why_first(it, we, le),
        );
        let wdist = w.owners.first();
        let fix = shadow_fix(ctx, it, we, w, l, wdist);
        out.push(Hit {
            message,
            paths: vec![
                format!("{}/{}", we.path, w.file),
                format!("{}/{}", le.path, l.file),
            ],
            fix,
            severity: Some(severity),
            ..Default::default()
        });
    }
    out
}

// ---------------------------------------------------------------------------
// Files overwritten by another distribution

fn find_dist<'a>(dir: &'a SiteDir, path: &str) -> Option<&'a Distribution> {
    dir.distributions.iter().find(|d| d.path == path)
}

fn is_tf_variant(d: &Distribution) -> bool {
    d.normalized
        .as_deref()
        .is_some_and(|n| crate::knowledge::tensorflow().is_variant(n))
}

/// In a conda env whose records were read: the distribution is conda's
/// (no conda record lists files of the ones in `pip_dists`).
fn conda_owned(it: &Interpreter, d: &Distribution) -> bool {
    it.conda
        .as_ref()
        .filter(|c| c.records_read)
        .is_some_and(|c| !c.pip_dists.iter().any(|p| p.path == d.path))
}

pub fn overlapping_distributions(ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    let py = python_cmd(it);
    let mut out = Vec::new();
    for l in ctx.model(it).layers.iter().copied() {
        for s in &l.dir.shared_files {
            if s.beyond_init == 0 {
                continue;
            }
            let dists: Vec<&Distribution> = s
                .distributions
                .iter()
                .filter_map(|p| find_dist(l.dir, p))
                .collect();
            if dists.len() < 2 || dists.iter().all(|d| is_tf_variant(d)) {
                continue;
            }
            // pip over a conda package is `pip-overrides-conda`: its fix goes
            // through conda, where reinstalling with pip would be wrong.
            if dists.iter().any(|d| conda_owned(it, d)) {
                continue;
            }
            let same_version = dists.windows(2).all(|w| w[0].version == w[1].version);
            let labels: Vec<String> = dists.iter().map(|d| dist_label(d)).collect();
            let tops: Vec<String> = s.top_level.iter().map(|t| format!("`{t}/`")).collect();
            let names: Vec<&str> = dists.iter().filter_map(|d| d.name.as_deref()).collect();
            out.push(Hit {
                message: format!(
                    "{} in `{}` write the same {} file(s) under {} (e.g. `{}`): whichever was installed last overwrote the other's files, so the installed code matches neither's metadata; uninstalling one will break the other",
                    labels.join(" and "),
                    l.dir.path,
                    s.count,
                    if tops.is_empty() { "the site directory".to_string() } else { tops.join(", ") },
                    s.examples.first().map(String::as_str).unwrap_or("?"),
                ),
                paths: s.distributions.clone(),
                fix: match reach(ctx, it, l.entry) {
                    Reach::Foreign(why) => Fix::from(format!("{why}; uninstall all but one of them with the Python that owns that directory")),
                    r => Fix::run(
                        format!("Keep one of them: uninstall all, then reinstall the one you want{}", r.note()),
                        vec![
                            Cmd::new(&py).args(["-m", "pip", "uninstall", "-y"]).args(&names).build(),
                            Cmd::new(&py)
                                .args(["-m", "pip", "install", "--force-reinstall", "--no-deps"])
                                .arg(format!("{}=={}", names.first().copied().unwrap_or("?"), version_of(dists[0])))
                                .build(),
                        ],
                    ),
                },
                severity: Some(if same_version { Severity::Warning } else { Severity::Error }),
                ..Default::default()
            });
        }
    }
    out
}

pub fn tensorflow_variants_mixed(ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    let py = python_cmd(it);
    let mut out = Vec::new();
    for l in ctx.model(it).layers.iter().copied() {
        let tf: Vec<&Distribution> = l
            .dir
            .distributions
            .iter()
            .filter(|d| is_tf_variant(d))
            .collect();
        let mut names: Vec<&str> = tf.iter().filter_map(|d| d.normalized.as_deref()).collect();
        names.sort();
        names.dedup();
        if names.len() < 2 {
            continue;
        }
        let same_version = tf.windows(2).all(|w| w[0].version == w[1].version);
        let is_shim_pair =
            names.len() == 2 && crate::knowledge::tensorflow().is_shim_pair(names[0], names[1]);
        if same_version && is_shim_pair {
            continue;
        }
        let labels: Vec<String> = tf.iter().map(|d| dist_label(d)).collect();
        let overlap = l
            .dir
            .shared_files
            .iter()
            .filter(|s| {
                s.distributions
                    .iter()
                    .any(|p| tf.iter().any(|d| &d.path == p))
            })
            .map(|s| s.count)
            .sum::<usize>();
        let keep = tf
            .iter()
            .max_by(|a, b| {
                let va = a.version.as_deref().and_then(|v| Version::from_str(v).ok());
                let vb = b.version.as_deref().and_then(|v| Version::from_str(v).ok());
                va.cmp(&vb)
            })
            .and_then(|d| d.name.as_deref())
            .unwrap_or("tensorflow");
        let all: Vec<&str> = tf.iter().filter_map(|d| d.name.as_deref()).collect();
        let keep_version = tf
            .iter()
            .find(|d| d.name.as_deref() == Some(keep))
            .map(|d| version_of(d))
            .unwrap_or("");
        out.push(Hit {
            message: format!(
                "Several TensorFlow distributions are installed in `{}` of {}: {}; they all write the `tensorflow/` package{}, so `tf.__version__`, `pip show` and the native libraries can disagree (\"NotFoundError\" loading kernels, import errors about mismatched versions)",
                l.dir.path,
                describe(it),
                labels.join(", "),
                if overlap > 0 {
                    format!(" ({overlap} file(s) listed by more than one of their RECORDs)")
                } else {
                    String::new()
                }
            ),
            paths: tf.iter().map(|d| d.path.clone()).collect(),
            fix: match reach(ctx, it, l.entry) {
                Reach::Foreign(why) => Fix::from(format!("{why}; uninstall every variant but one with the Python that owns that directory")),
                r => Fix::run(
                    format!("Uninstall every variant, then install one{}", r.note()),
                    vec![
                        Cmd::new(&py).args(["-m", "pip", "uninstall", "-y"]).args(&all).build(),
                        Cmd::new(&py).args(["-m", "pip", "install"]).arg(format!("{keep}=={keep_version}")).build(),
                    ],
                ),
            },
            severity: Some(if same_version { Severity::Warning } else { Severity::Error }),
            ..Default::default()
        });
    }
    out
}

// ---------------------------------------------------------------------------
// Broken installs

pub fn duplicate_distribution(ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    let py = python_cmd(it);
    let mut out = Vec::new();
    for l in ctx.model(it).layers.iter().copied() {
        // Nearly always no name comes twice: find that out with one hash
        // set before grouping (a vector per name) in listing order.
        let mut names: rustc_hash::FxHashSet<&str> = Default::default();
        names.reserve(l.dir.distributions.len());
        let twice = l
            .dir
            .distributions
            .iter()
            .filter(|d| d.format != DistFormat::Egg)
            .filter_map(|d| d.normalized.as_deref())
            .any(|n| !names.insert(n));
        if !twice {
            continue;
        }
        let mut by_name: BTreeMap<&str, Vec<&Distribution>> = BTreeMap::new();
        for d in in_listing_order(l.dir) {
            if d.format == DistFormat::Egg {
                continue;
            }
            if let Some(n) = d.normalized.as_deref() {
                by_name.entry(n).or_default().push(d);
            }
        }
        for (name, ds) in by_name {
            if ds.len() < 2 {
                continue;
            }
            // Debian ships some projects with both a dist-info and an
            // egg-info of the same version (python3-cryptography): the two
            // agree, so nothing misreports.
            let same_version = ds.windows(2).all(|w| w[0].version == w[1].version);
            let same_format = ds.windows(2).all(|w| w[0].format == w[1].format);
            if same_version && !same_format {
                continue;
            }
            let newest = ds
                .iter()
                .max_by_key(|d| d.version.as_deref().and_then(|v| Version::from_str(v).ok()))
                .copied()
                .unwrap_or(ds[0]);
            let stale: Vec<&str> = ds
                .iter()
                .filter(|d| d.path != newest.path)
                .map(|d| d.path.as_str())
                .collect();
            let listing: Vec<String> = ds
                .iter()
                .map(|d| format!("`{}` ({})", file_name(&d.path), version_of(d)))
                .collect();
            // `ds` is in listing order: the first is what Python and pip see.
            let seen = ds[0];
            let dead: Vec<String> = ds[1..]
                .iter()
                .map(|d| format!("`{}`", file_name(&d.path)))
                .collect();
            out.push(Hit {
                message: format!(
                    "`{name}` is installed {} times in `{}` of {}: {}; `importlib.metadata` and pip use `{}` ({}), the first the directory lists, and ignore {}; uninstall removes only one",
                    ds.len(),
                    l.dir.path,
                    describe(it),
                    listing.join(", "),
                    file_name(&seen.path),
                    version_of(seen),
                    dead.join(", ")
                ),
                paths: ds.iter().map(|d| d.path.clone()).collect(),
                fix: match reach(ctx, it, l.entry) {
                    Reach::Foreign(why) => Fix::from(format!("{why}; remove the stale metadata with the tool that owns that directory")),
                    r => Fix::run(
                        format!("Remove the stale metadata and reinstall the one you want{}", r.note()),
                        vec![
                            Cmd::new("rm").arg("-rf").arg("--").args(&stale).build(),
                            Cmd::new(&py)
                                .args(["-m", "pip", "install", "--force-reinstall", "--no-deps"])
                                .arg(format!("{}=={}", newest.name.as_deref().unwrap_or(name), version_of(newest)))
                                .build(),
                        ],
                    ),
                },
                ..Default::default()
            });
        }
    }
    out
}

pub fn invalid_distribution_leftover(ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    let mut out = Vec::new();
    for l in ctx.model(it).layers.iter().copied() {
        if l.dir.leftovers.is_empty() {
            continue;
        }
        let shown: Vec<String> = l.dir.leftovers.iter().map(|n| format!("`{n}`")).collect();
        let pip_name = l.dir.leftovers[0]
            .trim_start_matches('~')
            .split(['-', '.'])
            .next()
            .unwrap_or("");
        out.push(Hit {
            message: format!(
                "`{}` holds {} leftover(s) of an interrupted uninstall or upgrade: {}; pip (24) prints \"WARNING: Ignoring invalid distribution ~{} ({})\" on every run (pip before 21.3: \"-{}\"), and uv warns about them too",
                l.dir.path,
                l.dir.leftovers.len(),
                list_some(&shown, 6),
                pip_name,
                l.dir.path,
                pip_name
            ),
            paths: l
                .dir
                .leftovers
                .iter()
                .map(|n| format!("{}/{}", l.dir.path, n))
                .collect(),
            fix: Fix::run(
                format!(
                    "Delete them (nothing imports them), then reinstall the package whose uninstall was interrupted{}",
                    reach(ctx, it, l.entry).note()
                ),
                vec![Cmd::new("rm")
                    .arg("-rf")
                    .arg("--")
                    .args(l.dir.leftovers.iter().map(|n| format!("{}/{}", l.dir.path, n)))
                    .build()],
            ),
            ..Default::default()
        });
    }
    out
}

pub fn site_packages_unreadable(ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    ctx.model(it)
        .layers
        .iter()
        .filter_map(|l| {
            let e = l.dir.error.as_ref()?;
            Some(Hit {
                message: format!(
                    "`{}` ({}) on the sys.path of {} {e}: what is installed there is unknown to envdoctor and to Python's import system, so no dependency of this environment is called missing",
                    l.dir.path,
                    l.entry.origin.describe(),
                    describe(it)
                ),
                paths: vec![l.dir.path.clone()],
                fix: Fix::run(
                    "See why it cannot be listed (owner, mode), then give this user read and search access, or check as the user who owns it",
                    vec![Cmd::new("ls").arg("-ld").arg(&l.dir.path).build()],
                ),
                ..Default::default()
            })
        })
        .collect()
}

pub fn broken_distribution_metadata(ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    let py = python_cmd(it);
    let mut out = Vec::new();
    for l in ctx.model(it).layers.iter().copied() {
        for d in &l.dir.distributions {
            // A Requires-Dist that does not parse: pip reports "Error
            // parsing dependencies of X" and uv calls the metadata broken;
            // the dependency rules cannot judge what it asks for.
            let unparsed: Vec<(String, String)> = d
                .requires_dist
                .iter()
                // The parse the dependency pass made: the error text is
                // parsed again only for the rare line that fails.
                .zip(d.requirements())
                .filter(|(_, q)| q.is_none())
                .filter_map(|(r, _)| {
                    crate::requirements::parse(r)
                        .err()
                        .map(|e| (crate::requirements::quoted_line(r), e))
                })
                .collect();
            if let (Some((line, why)), Some(n)) = (unparsed.first(), d.name.as_deref()) {
                out.push(Hit {
                    message: format!(
                        "{} in {} declares {} Requires-Dist line(s) that cannot be parsed, e.g. `{line}` ({why}); pip prints \"Error parsing dependencies of {n}\", uv calls the metadata broken, and what it requires is not checked",
                        dist_label(d),
                        describe(it),
                        unparsed.len()
                    ),
                    paths: vec![d.metadata_file.clone().unwrap_or_else(|| d.path.clone())],
                    fix: Fix::run(
                        "Reinstall it (a release whose metadata parses), or report the line to its maintainers",
                        vec![Cmd::new(&py)
                            .args(["-m", "pip", "install", "--force-reinstall", "--no-deps"])
                            .arg(n)
                            .build()],
                    ),
                    ..Default::default()
                });
            }
            if d.problems.is_empty() {
                continue;
            }
            let only_record = d.problems.iter().all(|p| p.contains("RECORD"));
            let name = d
                .name
                .as_deref()
                .filter(|_| d.normalized.is_some())
                .map(str::to_string);
            let reinstall = |spec: String| {
                Cmd::new(&py)
                    .args(["-m", "pip", "install", "--force-reinstall", "--no-deps"])
                    .arg(spec)
                    .build()
            };
            let rm = Cmd::new("rm").arg("-rf").arg("--").arg(&d.path).build();
            let fix = match (reach(ctx, it, l.entry), &name, only_record) {
                (Reach::Foreign(why), _, _) => Fix::from(format!(
                    "{why}; repair it with the tool that owns that directory"
                )),
                // pip's own hint (`--force-reinstall`) fails the same way
                // ("Cannot uninstall ..., RECORD file not found"): the
                // metadata goes first, then the reinstall writes over it.
                (r, Some(n), true) => Fix::run(
                    format!(
                        "pip cannot uninstall it without RECORD: remove its metadata, then reinstall over its files{}",
                        r.note()
                    ),
                    vec![rm.clone(), reinstall(format!("{n}=={}", version_of(d)))],
                ),
                (r, Some(n), false) => Fix::run(
                    format!("Remove the broken metadata and reinstall{}", r.note()),
                    vec![rm, reinstall(n.clone())],
                ),
                (r, None, _) => Fix::run(
                    format!(
                        "Remove it (it does not name an installable project){}",
                        r.note()
                    ),
                    vec![rm],
                ),
            };
            out.push(Hit {
                message: format!(
                    "`{}` in {} has broken metadata: {}; pip, uv and `importlib.metadata` skip or fail on it",
                    d.path,
                    describe(it),
                    d.problems.join("; ")
                ),
                paths: vec![d.path.clone()],
                fix,
                severity: Some(if only_record {
                    Severity::Warning
                } else {
                    Severity::Error
                }),
                ..Default::default()
            });
        }
    }
    out
}

pub fn dangling_editable(ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    let py = python_cmd(it);
    let mut out = Vec::new();
    for l in ctx.model(it).layers.iter().copied() {
        for d in &l.dir.distributions {
            let Some(e) = d.editable.as_ref().filter(|e| !e.exists) else {
                continue;
            };
            let name = d.name.as_deref().unwrap_or("<package>");
            out.push(Hit {
                message: format!(
                    "{} is an editable install in {} whose source directory `{}` no longer exists (named by `{}`); `import` fails with ModuleNotFoundError while pip still lists it",
                    dist_label(d),
                    describe(it),
                    e.target,
                    e.source
                ),
                paths: vec![d.path.clone(), e.target.clone()],
                fix: Fix::run(
                    format!(
                        "Reinstall it from where the source lives now (`{} -m pip install -e DIR`), or remove it",
                        quote(&py)
                    ),
                    vec![Cmd::new(&py).args(["-m", "pip", "uninstall", "-y"]).arg(name).build()],
                ),
                ..Default::default()
            });
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Dependencies, as pip check sees them

struct Resolved<'a> {
    dist: &'a Distribution,
    /// Parsed at read time; `None` for a line that does not parse.
    reqs: &'a [Option<std::sync::Arc<Req>>],
}

impl<'a> Resolved<'a> {
    fn reqs(&self) -> impl Iterator<Item = &'a Req> {
        self.reqs.iter().flatten().map(|q| &**q)
    }
}

fn requirements<'a>(installed: &BTreeMap<&'a str, (&'a Distribution, usize)>) -> Vec<Resolved<'a>> {
    installed
        .values()
        .map(|(d, _)| Resolved {
            dist: d,
            reqs: d.requirements(),
        })
        .collect()
}

/// Extras of each distribution that an installed distribution asks for
/// (`requests[socks]`), followed transitively as pip's resolver does: an
/// extra's own requirements may ask for extras of other projects (`b[x]`
/// requiring `c[y]`) or of the same one (`e[x]` requiring `e[y]`). Only
/// requested extras' requirements count.
fn requested_extras(
    resolved: &[Resolved],
    env: &MarkerEnvironment,
) -> HashMap<String, Vec<ExtraName>> {
    let mut out: HashMap<String, Vec<ExtraName>> = HashMap::new();
    // Each round can only add extras; there are finitely many.
    loop {
        let mut changed = false;
        for r in resolved {
            let own = r
                .dist
                .normalized
                .as_deref()
                .and_then(|n| out.get(n))
                .cloned()
                .unwrap_or_default();
            for q in r.reqs() {
                if q.extras.is_empty() || !q.applies(env, &own) {
                    continue;
                }
                let e = out.entry(q.name.to_string()).or_default();
                for x in &q.extras {
                    if !e.contains(x) {
                        e.push(x.clone());
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            return out;
        }
    }
}

/// One pass over the environment's requirements: (missing, incompatible),
/// as `pip check` reports them. `parallel`: the distributions judged in
/// chunks on every core, in order (only outside the model's cell: see
/// [`crate::rules::model::Models`]).
fn dependency_pass(ctx: &CheckCtx, it: &Interpreter, parallel: bool) -> (Vec<Hit>, Vec<Hit>) {
    let Some(env) = marker_env(ctx.snapshot, it) else {
        return Default::default();
    };
    let model = ctx.model(it);
    let layers = &model.layers;
    let inst = &model.installed;
    let by_name = &model.by_name;
    let resolved = requirements(inst);
    let extras = requested_extras(&resolved, &env);
    let py = python_cmd(it);
    let managed = externally_managed(ctx.snapshot, it).is_some();
    // A directory that could not be listed is not empty: no "not
    // installed" verdict rests on it (site-packages-unreadable says why).
    let unread = layers.iter().any(|l| l.dir.error.is_some());
    let judge = |chunk: &[Resolved]| -> (Vec<Hit>, Vec<Hit>) {
        let mut missing = Vec::new();
        let mut incompatible = Vec::new();
        let mut verdicts: rustc_hash::FxHashMap<*const crate::requirements::Req, bool> =
            Default::default();
        for r in chunk {
            // In an OS-managed Python, what the OS packages require of each
            // other is the package manager's business (Debian makes some
            // requirements optional); report it, but as information.
            let os_owned = !by_pip(r.dist) && (managed || distro_dir(&r.dist.path));
            let severity = os_owned.then_some(Severity::Info);
            let how = |spec: String| -> Fix {
                if os_owned {
                    os_package_fix(q_name_only(&spec))
                } else if managed {
                    Fix::from(format!("This Python belongs to the OS package manager: install the requirement with it (Debian/Ubuntu: `apt-cache search {}` finds the package), or work in a venv", quote(q_name_only(&spec))))
                } else {
                    Fix::run(
                        "Install it",
                        vec![Cmd::new(&py)
                            .args(["-m", "pip", "install"])
                            .arg(&spec)
                            .build()],
                    )
                }
            };
            let Some(own) = r.dist.normalized.as_deref() else {
                continue;
            };
            let own_extras = extras.get(own).map(Vec::as_slice).unwrap_or(&[]);
            // Formatted only for a distribution with something to report.
            let who = || {
                format!(
                    "{} {}",
                    r.dist.name.as_deref().unwrap_or(own),
                    version_of(r.dist)
                )
            };
            for q in r.reqs() {
                // Requirement lines are shared (`parse_cached`) and their
                // markers repeat across distributions (`sys_platform ==
                // "win32"`): without extras of its own, each is judged once.
                let applies = if q.unconditional() {
                    true
                } else if own_extras.is_empty() {
                    *verdicts
                        .entry(std::ptr::from_ref(q))
                        .or_insert_with(|| q.applies(&env, &[]))
                } else {
                    q.applies(&env, own_extras)
                };
                if !applies {
                    continue;
                }
                let dep: &str = q.name.as_ref();
                match by_name.get(dep) {
                None if !unread => missing.push(Hit {
                    message: format!(
                        "{who} requires {}, which is not installed in `{}` (no directory on its sys.path holds it; {who} is in `{}`)",
                        q.name,
                        it.prefix,
                        layers[r_layer(inst, r.dist)].dir.path,
                        who = who(),
                    ),
                    paths: vec![r.dist.path.clone()],
                    fix: how(req_spec(q)),
                    severity,
                    ..Default::default()
                }),
                Some((d, _)) => {
                    let Some(pep508_rs::VersionOrUrl::VersionSpecifier(spec)) = &q.version_or_url
                    else {
                        continue;
                    };
                    let Some(v) = d.parsed_version() else {
                        continue;
                    };
                    if spec.contains(v) {
                        continue;
                    }
                    incompatible.push(Hit {
                        message: format!(
                            "{} has requirement {}, but you have {} {} in `{}`",
                            who(),
                            req_spec(q),
                            d.name.as_deref().unwrap_or(dep),
                            version_of(d),
                            layers[by_name.get(dep).map(|x| x.1).unwrap_or(0)].dir.path
                        ),
                        paths: vec![r.dist.path.clone(), d.path.clone()],
                        fix: if managed || os_owned {
                            how(req_spec(q))
                        } else {
                            Fix::run(
                                format!(
                                    "Install a version it accepts (or a {} that accepts {} {})",
                                    r.dist.name.as_deref().unwrap_or(own),
                                    d.name.as_deref().unwrap_or(dep),
                                    version_of(d)
                                ),
                                vec![Cmd::new(&py)
                                    .args(["-m", "pip", "install"])
                                    .arg(req_spec(q))
                                    .build()],
                            )
                        },
                        severity,
                        ..Default::default()
                    });
                }
                _ => {}
            }
            }
        }
        (missing, incompatible)
    };
    if !parallel {
        return judge(&resolved);
    }
    use rayon::prelude::*;
    let parts: Vec<(Vec<Hit>, Vec<Hit>)> = resolved.par_chunks(256).map(judge).collect();
    let (mut missing, mut incompatible) = (Vec::new(), Vec::new());
    for (m, i) in parts {
        missing.extend(m);
        incompatible.extend(i);
    }
    (missing, incompatible)
}

fn q_name_only(spec: &str) -> &str {
    spec.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .next()
        .unwrap_or(spec)
}

/// `numpy<2,>=1.23.5` as pip prints a requirement (no marker).
fn req_spec(q: &Requirement) -> String {
    let mut s = q.name.to_string();
    if !q.extras.is_empty() {
        s.push('[');
        s.push_str(
            &q.extras
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
        );
        s.push(']');
    }
    if let Some(pep508_rs::VersionOrUrl::VersionSpecifier(spec)) = &q.version_or_url {
        s.push_str(&spec.to_string());
    }
    s
}

/// The dependency pass of `it`, run once and shared by both rules (and
/// warmed before them: [`crate::rules::evaluate`]).
pub(crate) fn dependency_problems<'a>(
    ctx: &CheckCtx<'a>,
    it: &Interpreter,
) -> &'a (Vec<Hit>, Vec<Hit>) {
    ctx.model(it)
        .deps
        .get_or_init(|| dependency_pass(ctx, it, false))
}

/// Runs the dependency pass of `it` on every core, before the rules ask
/// (outside the model's cell, which a rayon worker must not wait on).
pub(crate) fn warm_dependencies(ctx: &CheckCtx, it: &Interpreter) {
    let model = ctx.model(it);
    if model.deps.get().is_none() {
        let _ = model.deps.set(dependency_pass(ctx, it, true));
    }
}

pub fn missing_dependency(ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    dependency_problems(ctx, it).0.clone()
}

pub fn incompatible_dependency(ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    dependency_problems(ctx, it).1.clone()
}

pub fn requires_python_mismatch(ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    let Some(full) = it.version.as_deref() else {
        return Vec::new();
    };
    // With only `3.11` known, a distribution is judged wrong only when no
    // 3.11.x could satisfy it (checked at both ends).
    let candidates: Vec<Version> = if full.split('.').count() >= 3 {
        Version::from_str(full).ok().into_iter().collect()
    } else {
        [format!("{full}.0"), format!("{full}.99")]
            .iter()
            .filter_map(|v| Version::from_str(v).ok())
            .collect()
    };
    if candidates.is_empty() {
        return Vec::new();
    }
    let py = python_cmd(it);
    let mut out = Vec::new();
    // Whether each distinct Requires-Python is unmet (unparseable: not
    // judged). A few strings (`>=3.8`) stand for most distributions.
    let mut unmet: rustc_hash::FxHashMap<&str, bool> = Default::default();
    for (d, _) in ctx.model(it).installed.values() {
        let Some(rp) = d.requires_python.as_deref() else {
            continue;
        };
        let judged = *unmet.entry(rp).or_insert_with(|| {
            VersionSpecifiers::from_str(rp)
                .is_ok_and(|spec| !candidates.iter().any(|v| spec.contains(v)))
        });
        if !judged {
            continue;
        }
        let name = d.name.as_deref().unwrap_or("?");
        out.push(Hit {
            message: format!(
                "{} requires Python `{rp}` but {} is Python {full}; it was installed by another interpreter or with `--ignore-requires-python`, and may fail at import",
                dist_label(d),
                describe(it)
            ),
            paths: vec![d.path.clone()],
            fix: Fix::run(
                format!("Install a release that supports this Python (pip picks one whose Requires-Python matches), or use a Python that satisfies `{rp}`"),
                vec![Cmd::new(&py).args(["-m", "pip", "install", "--force-reinstall"]).arg(name).build()],
            ),
            ..Default::default()
        });
    }
    out
}

/// The `EXTERNALLY-MANAGED` marker of a non-venv interpreter, if it has one.
pub fn externally_managed(snap: &Snapshot, it: &Interpreter) -> Option<String> {
    if it.kind.is_virtual() || it.pyvenv_cfg.is_some() || it.kind == crate::snapshot::Kind::Conda {
        return None;
    }
    it.sys_path
        .iter()
        .filter(|e| e.origin == Origin::Stdlib)
        .map(|e| format!("{}/EXTERNALLY-MANAGED", e.path))
        .find(|m| snap.externally_managed.contains(m))
}

fn by_pip(d: &Distribution) -> bool {
    matches!(d.installer.as_deref(), Some("pip") | Some("uv"))
}

pub fn pip_into_system_python(ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    let Some(marker) = externally_managed(ctx.snapshot, it) else {
        return Vec::new();
    };
    let py = python_cmd(it);
    let mut out = Vec::new();
    for l in ctx.model(it).layers.iter().copied() {
        if l.entry.origin != Origin::Site {
            continue;
        }
        let pip: Vec<&Distribution> = l.dir.distributions.iter().filter(|d| by_pip(d)).collect();
        if pip.is_empty() {
            continue;
        }
        let labels: Vec<String> = pip.iter().map(|d| dist_label(d)).collect();
        let names: BTreeSet<&str> = pip.iter().filter_map(|d| d.name.as_deref()).collect();
        out.push(Hit {
            message: format!(
                "{} distribution(s) in `{}` were installed by pip into {}, whose standard library carries `EXTERNALLY-MANAGED` (PEP 668): {}; they can break the distribution's own tools and are overwritten or orphaned by the next system package upgrade",
                pip.len(),
                l.dir.path,
                describe(it),
                list_some(&labels, 8)
            ),
            paths: vec![l.dir.path.clone(), marker.clone()],
            fix: Fix::run(
                format!(
                    "Move them into a venv (`{} -m venv \"$HOME/.venvs/tools\"`, then install there; `pipx` for applications), then remove them here",
                    quote(&py)
                ),
                vec![Cmd::new(&py)
                    .args(["-m", "pip", "uninstall", "--break-system-packages", "-y"])
                    .args(names)
                    .build()],
            ),
            ..Default::default()
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{run, Catalog, Selection, Settings};

    /// One PYTHONPATH directory seen by a 2.7 and a 3.11: markers and
    /// Requires-Python are judged for each target, not for the machine.
    #[test]
    fn markers_are_evaluated_for_each_target() {
        let it = |v: &str| {
            serde_json::json!({
                "executable": format!("/py{v}/bin/python"), "real_executable": null,
                "version": v, "version_source": null, "kind": "pyenv",
                "prefix": format!("/py{v}"), "base_prefix": null, "base_executable": null,
                "pyvenv_cfg": null, "error": null, "exec": null,
                "sys_path": [{"path": "/pp", "origin": "pythonpath", "exists": true}]
            })
        };
        let snap: Snapshot = serde_json::from_value(serde_json::json!({
            "schema_version": 1,
            "host": {"os": "linux", "arch": "x86_64", "root": "/", "cwd": "/"},
            "interpreters": [it("2.7.18"), it("3.11.7")],
            "site_dirs": [{"path": "/pp", "distributions": [{
                "path": "/pp/app-1.0.dist-info", "format": "dist-info",
                "name": "app", "normalized": "app", "version": "1.0",
                "requires_python": ">=3.8",
                "requires_dist": [
                    "enum34 ; python_version < \"3\"",
                    "pywin32 ; sys_platform == \"win32\"",
                    "pytest ; extra == \"test\""
                ]
            }]}]
        }))
        .unwrap();
        let catalog = Catalog::builtin();
        let rules_for = |i: usize| -> Vec<String> {
            let sel = Selection {
                targets: vec![i],
                how: vec!["--python".into()],
                ..Default::default()
            };
            run(&catalog, &snap, &sel, &Settings::default())
                .into_iter()
                .map(|f| format!("{}: {}", f.rule, f.message))
                .collect()
        };
        let py2 = rules_for(0);
        assert_eq!(py2.len(), 2, "{py2:#?}");
        assert!(
            py2[0].starts_with("missing-dependency: app 1.0 requires enum34")
                || py2[1].starts_with("missing-dependency: app 1.0 requires enum34"),
            "{py2:#?}"
        );
        assert!(
            py2.iter()
                .any(|f| f.starts_with("requires-python-mismatch")),
            "{py2:#?}"
        );
        assert!(rules_for(1).is_empty(), "{:#?}", rules_for(1));
    }

    /// The dependency pass judged in chunks on both cores reports what one
    /// pass in order does, in the same order.
    #[test]
    fn dependency_pass_in_chunks_keeps_the_order() {
        let dists: Vec<serde_json::Value> = (0..1000)
            .map(|i| {
                serde_json::json!({
                    "path": format!("/sp/p{i:04}-1.0.dist-info"), "format": "dist-info",
                    "name": format!("p{i:04}"), "normalized": format!("p{i:04}"),
                    "version": "1.0",
                    "requires_dist": [format!("gone{i}"), format!("p{:04}>=2", (i + 1) % 1000)]
                })
            })
            .collect();
        let snap: Snapshot = serde_json::from_value(serde_json::json!({
            "schema_version": 1,
            "host": {"os": "linux", "arch": "x86_64", "root": "/", "cwd": "/"},
            "interpreters": [{
                "executable": "/v/bin/python", "real_executable": null,
                "version": "3.11.7", "version_source": null, "kind": "venv",
                "prefix": "/v", "base_prefix": null, "base_executable": null,
                "pyvenv_cfg": null, "error": null, "exec": null,
                "sys_path": [{"path": "/sp", "origin": "site", "exists": true}]
            }],
            "site_dirs": [{"path": "/sp", "distributions": dists}]
        }))
        .unwrap();
        let sel = Selection {
            targets: vec![0],
            how: vec!["--python".into()],
            ..Default::default()
        };
        let models = crate::rules::model::Models::new(&snap);
        let catalog = Catalog::builtin();
        let rule = catalog
            .rules
            .iter()
            .find(|r| r.check == "missing-dependency")
            .unwrap();
        let requirements = Vec::new();
        let ctx = CheckCtx {
            snapshot: &snap,
            rule,
            selection: &sel,
            requirements: &requirements,
            models: &models,
        };
        let it = &snap.interpreters[0];
        let text = |hits: &[Hit]| hits.iter().map(|h| h.message.clone()).collect::<Vec<_>>();
        let (m1, i1) = dependency_pass(&ctx, it, false);
        let (m2, i2) = dependency_pass(&ctx, it, true);
        assert_eq!((m1.len(), i1.len()), (1000, 1000));
        assert_eq!(text(&m1), text(&m2));
        assert_eq!(text(&i1), text(&i2));
        assert!(
            m2[0].message.starts_with("p0000 1.0 requires gone0,"),
            "{}",
            m2[0].message
        );
        assert!(m2[999].message.starts_with("p0999 1.0 requires gone999,"));
    }

    #[test]
    fn extension_tags_match_the_interpreter() {
        let it: Interpreter = serde_json::from_value(serde_json::json!({
            "executable": null, "real_executable": null, "version": "3.11.7",
            "version_source": null, "kind": "system", "prefix": "/usr",
            "base_prefix": null, "base_executable": null, "pyvenv_cfg": null,
            "error": null, "exec": null
        }))
        .unwrap();
        assert!(importable_by(
            "_x.cpython-311-x86_64-linux-gnu.so",
            ModuleKind::Extension,
            &it
        ));
        assert!(!importable_by(
            "_x.cpython-39-x86_64-linux-gnu.so",
            ModuleKind::Extension,
            &it
        ));
        assert!(importable_by("_x.abi3.so", ModuleKind::Extension, &it));
        assert!(importable_by("_x.so", ModuleKind::Extension, &it));
    }
}
