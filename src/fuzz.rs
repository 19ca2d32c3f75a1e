//! Entry points for fuzzing every parser of untrusted input, each taking
//! the bytes of one file. The cargo-fuzz targets in `fuzz/` and the stable
//! smoke test (`tests/fuzz_smoke.rs`) call these; nothing else does. Each
//! writes its input where the real parser would find it (a private temp
//! directory) and runs the real code path, rules and renderers included
//! where the parsed facts feed them. A panic, abort or hang here is a bug.
#![doc(hidden)]

use crate::probe::{self, Ctx, Options};
use std::path::{Path, PathBuf};

/// A context of its own per input (notes would pile up in a shared one).
fn ctx() -> Ctx {
    Ctx::new(&Options::default()).expect("a context on /")
}

/// This thread's scratch directory, removed when the thread ends.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh, empty directory of this thread's, under the temp dir.
fn scratch() -> PathBuf {
    thread_local! {
        static DIR: Scratch = {
            static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Scratch(std::env::temp_dir().join(format!("envdoctor-fuzz-{}-{n}", std::process::id())))
        };
    }
    let d = DIR.with(|d| d.0.join("case"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

fn write(p: &Path, data: &[u8]) {
    if let Some(parent) = p.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let _ = std::fs::write(p, data);
}

/// A site dir holding one distribution whose `file` is `data`, read and
/// judged by every package rule through a one-environment snapshot.
fn site_with(file: &str, data: &[u8]) {
    let d = scratch();
    let site = d.join("site-packages");
    let di = site.join("pkg-1.0.dist-info");
    write(
        &di.join("METADATA"),
        b"Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\nRequires-Dist: other>=1\n",
    );
    write(
        &di.join("RECORD"),
        b"pkg/__init__.py,,\npkg-1.0.dist-info/direct_url.json,,\n",
    );
    write(&site.join(file), data);
    let dir = probe::site_packages::read_site_dir(&ctx(), &site, true);
    judge(dir);
}

/// Runs every rule over a snapshot holding `dir` as a venv's site-packages
/// and renders the findings in every format.
fn judge(dir: crate::snapshot::SiteDir) {
    let path = dir.path.clone();
    let snap: crate::snapshot::Snapshot = serde_json::from_value(serde_json::json!({
        "schema_version": crate::snapshot::SCHEMA_VERSION,
        "host": {"os": "linux", "arch": "x86_64", "root": "/", "cwd": "/", "user": {"uid": 0}},
        "interpreters": [{
            "executable": "/v/bin/python", "real_executable": "/usr/bin/python3.12",
            "version": "3.12.1", "kind": "venv", "prefix": "/v",
            "sys_path": [{"path": path, "origin": "venv-site", "exists": true}],
            "pyvenv_cfg": {"path": "/v/pyvenv.cfg", "home": "/usr/bin", "include_system_site_packages": false},
            "error": null, "exec": null, "base_prefix": "/usr", "base_executable": "/usr/bin/python3",
            "version_source": null, "pointer_bits": 64, "machine": "x86_64"
        }],
    }))
    .expect("the fuzz snapshot is valid");
    let mut snap = snap;
    snap.site_dirs.push(dir);
    check_and_render(&snap);
}

fn check_and_render(snap: &crate::snapshot::Snapshot) {
    static CATALOG: std::sync::OnceLock<crate::rules::Catalog> = std::sync::OnceLock::new();
    let catalog = CATALOG.get_or_init(crate::rules::Catalog::builtin);
    let selection = crate::rules::Selection {
        targets: (0..snap.interpreters.len()).collect(),
        how: vec!["--all".into(); snap.interpreters.len()],
        machine: true,
        unresolved: Vec::new(),
    };
    let settings = crate::rules::Settings::default();
    let findings = crate::rules::run(catalog, snap, &selection, &settings);
    let summary = crate::render::Summary::new(snap, &selection, &findings);
    let run = crate::render::Run {
        snapshot: snap,
        catalog,
        settings: &settings,
        selection: &selection,
        findings: &findings,
        suppressed: &[],
        summary: &summary,
        fail_on: None,
    };
    let mut out = Vec::new();
    let _ = crate::render::text::check(&mut out, snap, &selection, &findings, &summary);
    let _ = crate::render::json::check(&mut out, &run);
    let _ = crate::render::sarif::check(&mut out, &run);
    let _ = crate::render::github::check(&mut out, &run);
    let _ = crate::render::junit::check(&mut out, &run);
    let _ = crate::render::markdown::report(&mut out, &run, None);
    let _ = crate::render::text::scan(&mut out, snap, true);
    let _ = crate::redact::text(&String::from_utf8_lossy(&out));
}

pub fn metadata(data: &[u8]) {
    site_with("pkg-1.0.dist-info/METADATA", data);
}

pub fn pkg_info(data: &[u8]) {
    site_with("old-1.0-py3.12.egg-info/PKG-INFO", data);
}

pub fn record(data: &[u8]) {
    site_with("pkg-1.0.dist-info/RECORD", data);
}

pub fn direct_url(data: &[u8]) {
    site_with("pkg-1.0.dist-info/direct_url.json", data);
}

pub fn pth(data: &[u8]) {
    site_with("x.pth", data);
}

pub fn pyvenv_cfg(data: &[u8]) {
    let p = scratch().join("pyvenv.cfg");
    write(&p, data);
    let _ = probe::version::read_pyvenv_cfg(&ctx().fs, &p);
}

pub fn conda_record(data: &[u8]) {
    let prefix = scratch();
    let p = prefix.join("conda-meta/numpy-1.26.4-py312h0.json");
    write(&p, data);
    let _ = probe::conda::load_record(&ctx(), &prefix, &p, true);
}

pub fn conda_history(data: &[u8]) {
    let _ = probe::conda::parse_history(&String::from_utf8_lossy(data), false);
}

pub fn condarc(data: &[u8]) {
    let p = scratch().join(".condarc");
    write(&p, data);
    let _ = probe::conda::read_condarc(&ctx(), &p);
}

pub fn pip_conf(data: &[u8]) {
    let p = scratch().join("pip.conf");
    write(&p, data);
    let _ = probe::config::read_ini(&ctx(), &p);
}

pub fn uv_toml(data: &[u8]) {
    let p = scratch().join("uv.toml");
    write(&p, data);
    let _ = probe::config::read_toml(&ctx(), &p);
}

pub fn requirements(data: &[u8]) {
    let p = scratch().join("requirements.txt");
    write(&p, data);
    let _ = crate::requirements::load(&p);
}

pub fn pyproject(data: &[u8]) {
    let p = scratch().join("pyproject.toml");
    write(&p, data);
    let _ = crate::requirements::load(&p);
}

/// A snapshot file: loaded as `check --snapshot` loads it, then judged by
/// every rule and rendered in every format.
pub fn snapshot(data: &[u8]) {
    let p = scratch().join("snapshot.json");
    write(&p, data);
    if let Ok(snap) = crate::app::load_snapshot(&p) {
        check_and_render(&snap);
    }
}

pub fn wheel_zip(data: &[u8]) {
    let p = scratch().join("x-1.0-py3-none-any.whl");
    write(&p, data);
    let _ = probe::caches::zip_problem(&p, data.len() as u64);
}

/// Every entry point, by name: for the smoke test and the fuzz targets.
pub type Target = fn(&[u8]);

pub const TARGETS: &[(&str, Target)] = &[
    ("metadata", metadata),
    ("pkg_info", pkg_info),
    ("record", record),
    ("direct_url", direct_url),
    ("pth", pth),
    ("pyvenv_cfg", pyvenv_cfg),
    ("conda_record", conda_record),
    ("conda_history", conda_history),
    ("condarc", condarc),
    ("pip_conf", pip_conf),
    ("uv_toml", uv_toml),
    ("requirements", requirements),
    ("pyproject", pyproject),
    ("snapshot", snapshot),
    ("wheel_zip", wheel_zip),
];
