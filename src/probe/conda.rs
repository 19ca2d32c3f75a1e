//! conda environments: where they are (`environments.txt`, `envs_dirs` from
//! the `.condarc` files, the usual install roots), what conda installed in
//! them (`conda-meta/*.json` records and the `history` log), which tool
//! manages them, and which of their Python distributions pip put there.
//!
//! "Installed by pip" is decided the way conda decides it for `conda list`:
//! a distribution in site-packages whose `RECORD` (or egg-info `PKG-INFO`) is
//! listed in no record's `files`. The `INSTALLER` file is not used for that:
//! many conda packages say `pip` in it (pypa/pip#9949). Records can list
//! tens of thousands of files, so they are indexed once per environment.

use super::locate::subdirs;
use super::Ctx;
use crate::fs::display;
use crate::redact;
use crate::snapshot::{
    CondaEnv, CondaMachine, CondaManager, CondaRecord, CondaTransaction, Condarc, DistFormat,
    DistRef, EnvironmentsTxt, EnvironmentsTxtEntry, FileOverlap, Interpreter, Kind, Origin,
    PipDist, SiteDir,
};
use rayon::prelude::*;
use regex::Regex;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A conda record bigger than this is not one conda wrote (the largest real
/// ones, with `paths_data` for thousands of files, are a few MiB).
const MAX_RECORD: u64 = 64 << 20;
/// `conda-meta/history` of a long-lived env grows by every transaction.
const MAX_HISTORY: u64 = 16 << 20;
/// A wheel's RECORD.
const MAX_DIST_RECORD: u64 = 16 << 20;
/// Records per env read at most (a real env has hundreds).
const MAX_RECORDS: usize = 20_000;
/// Missing files kept per record as examples (all are counted).
const MISSING_EXAMPLES: usize = 5;

/// The tools that manage conda environments, in the order one is preferred
/// when the history does not say which was used.
const TOOLS: &[(&str, &[&str])] = &[
    ("conda", &["condabin/conda", "bin/conda"]),
    ("mamba", &["condabin/mamba", "bin/mamba"]),
    ("micromamba", &["bin/micromamba"]),
];

/// Install roots conda's and mamba's installers use by default, under `~`.
const HOME_ROOTS: &[&str] = &[
    "anaconda3",
    "miniconda3",
    "miniforge3",
    "mambaforge",
    "micromamba",
    "micromamba-root",
    ".conda",
    "anaconda",
    "miniconda",
    "opt/anaconda3",
    "opt/miniconda3",
    ".local/share/mamba",
];

/// System-wide install roots.
const SYSTEM_ROOTS: &[&str] = &[
    "/opt/conda",
    "/opt/anaconda3",
    "/opt/miniconda3",
    "/opt/miniforge3",
    "/opt/mambaforge",
    "/opt/micromamba",
    "/usr/local/anaconda3",
    "/usr/local/miniconda3",
    "/usr/local/miniforge3",
];

// ---------------------------------------------------------------------------
// Machine-wide: .condarc and environments.txt

/// The `.condarc` files conda reads, lowest precedence first (conda's
/// `SEARCH_PATH`), and the `environments.txt` files.
pub fn machine(ctx: &Ctx) -> CondaMachine {
    let mut files: Vec<PathBuf> = vec![
        "/etc/conda/.condarc".into(),
        "/etc/conda/condarc".into(),
        "/var/lib/conda/.condarc".into(),
        "/var/lib/conda/condarc".into(),
    ];
    files.extend(condarc_d(ctx, Path::new("/etc/conda/condarc.d")));
    // `$CONDA_ROOT/.condarc`: the root of the conda that runs. Which one
    // runs is not known statically, so every install root found counts.
    let mut roots: Vec<PathBuf> = ctx
        .var("CONDA_ROOT")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    roots.extend(install_roots(ctx));
    for r in roots {
        files.push(r.join(".condarc"));
        files.push(r.join("condarc"));
    }
    if let Some(xdg) = ctx.env_dir_or_home("XDG_CONFIG_HOME", ".config") {
        files.push(xdg.join("conda/.condarc"));
        files.push(xdg.join("conda/condarc"));
        files.extend(condarc_d(ctx, &xdg.join("conda/condarc.d")));
    }
    if let Some(home) = ctx.home() {
        files.push(home.join(".conda/.condarc"));
        files.push(home.join(".conda/condarc"));
        files.push(home.join(".condarc"));
    }
    if let Some(v) = ctx.var("CONDA_PREFIX") {
        files.push(Path::new(v).join(".condarc"));
    }
    if let Some(v) = ctx.var("CONDARC") {
        files.push(PathBuf::from(v));
    }
    let mut seen = Vec::new();
    let mut condarc = Vec::new();
    for f in files {
        if seen.contains(&f) || !ctx.fs.is_file(&f) {
            continue;
        }
        seen.push(f.clone());
        condarc.push(read_condarc(ctx, &f));
    }

    let mut environments_txt = Vec::new();
    if let Some(home) = ctx.home() {
        let txt = home.join(".conda/environments.txt");
        if ctx.fs.symlink_metadata(&txt).is_ok() {
            environments_txt.push(read_environments_txt(ctx, &txt));
        }
    }
    CondaMachine {
        condarc,
        environments_txt,
    }
}

fn condarc_d(ctx: &Ctx, dir: &Path) -> Vec<PathBuf> {
    let Ok(names) = ctx.fs.read_dir_names(dir) else {
        return Vec::new();
    };
    names
        .into_iter()
        .filter(|n| {
            let n = n.to_string_lossy();
            n.ends_with(".yml") || n.ends_with(".yaml")
        })
        .map(|n| dir.join(n))
        .collect()
}

#[derive(Deserialize, Default)]
struct RawCondarc {
    #[serde(default)]
    envs_dirs: Option<StrList>,
    /// Older name for `envs_dirs`.
    #[serde(default)]
    envs_path: Option<StrList>,
    #[serde(default)]
    pkgs_dirs: Option<StrList>,
    #[serde(default)]
    channels: Option<StrList>,
}

/// A YAML list of strings, or one string (conda accepts both).
#[derive(Deserialize)]
#[serde(untagged)]
enum StrList {
    One(String),
    Many(Vec<serde_yaml_ng::Value>),
}

impl StrList {
    fn into_vec(self) -> Vec<String> {
        match self {
            StrList::One(s) => vec![s],
            StrList::Many(v) => v
                .into_iter()
                .filter_map(|x| match x {
                    serde_yaml_ng::Value::String(s) => Some(s),
                    _ => None,
                })
                .collect(),
        }
    }
}

pub(crate) fn read_condarc(ctx: &Ctx, path: &Path) -> Condarc {
    let mut rc = Condarc {
        path: display(path),
        ..Default::default()
    };
    let text = match ctx.fs.read_text(path) {
        Ok(t) => t,
        Err(e) => {
            rc.error = Some(format!("cannot read it: {e}"));
            ctx.note(path, format!("cannot read this .condarc: {e}"));
            return rc;
        }
    };
    if text.trim().is_empty() {
        return rc;
    }
    let raw: RawCondarc = match serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&text) {
        // Keys of other types (a list at the top) are not a condarc conda
        // can use either; conda ignores unknown keys, so do we.
        Ok(v @ serde_yaml_ng::Value::Mapping(_)) => {
            serde_yaml_ng::from_value(v).unwrap_or_else(|e| {
                let msg = format!("part of this .condarc is not what conda expects: {e}");
                ctx.note(path, msg.clone());
                rc.error = Some(msg);
                RawCondarc::default()
            })
        }
        Ok(serde_yaml_ng::Value::Null) => RawCondarc::default(),
        Ok(_) => {
            let msg = "this .condarc is not a YAML mapping".to_string();
            ctx.note(path, msg.clone());
            rc.error = Some(msg);
            return rc;
        }
        Err(e) => {
            let msg = format!("this .condarc is not valid YAML: {e}");
            ctx.note(path, msg.clone());
            rc.error = Some(msg);
            return rc;
        }
    };
    let home = ctx.home();
    let expand = |s: String| -> String {
        match (s.strip_prefix("~/"), &home) {
            (Some(rest), Some(h)) => display(&h.join(rest)),
            _ => s,
        }
    };
    rc.envs_dirs = raw
        .envs_dirs
        .or(raw.envs_path)
        .map(StrList::into_vec)
        .unwrap_or_default()
        .into_iter()
        .map(expand)
        .collect();
    rc.pkgs_dirs = raw
        .pkgs_dirs
        .map(StrList::into_vec)
        .unwrap_or_default()
        .into_iter()
        .map(expand)
        .collect();
    rc.channels = raw
        .channels
        .map(StrList::into_vec)
        .unwrap_or_default()
        .iter()
        .map(|c| redact_channel(c))
        .collect();
    rc
}

fn read_environments_txt(ctx: &Ctx, path: &Path) -> EnvironmentsTxt {
    let mut out = EnvironmentsTxt {
        path: display(path),
        entries: Vec::new(),
    };
    let text = match ctx.fs.read_text_limited(path, crate::fs::MAX_TEXT) {
        Ok((t, truncated)) => {
            if truncated {
                ctx.note(path, "longer than 1 MiB; only the start was read");
            }
            t
        }
        Err(e) => {
            ctx.note(path, format!("cannot read it: {e}"));
            return out;
        }
    };
    for line in text.lines() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let p = Path::new(l);
        if !p.is_absolute() {
            continue;
        }
        let exists = ctx.fs.is_dir(p);
        out.entries.push(EnvironmentsTxtEntry {
            path: l.to_string(),
            exists,
            is_conda_env: exists && ctx.fs.is_dir(&p.join("conda-meta")),
        });
    }
    out
}

/// `https://user:pw@host/t/TOKEN/conda-forge/linux-64` keeps its host and
/// channel but neither credential.
fn redact_channel(c: &str) -> String {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r"/t/[^/]+").expect("static regex"));
    re.replace_all(&redact::urls(c), "/t/***").into_owned()
}

/// The channel as `conda list` shows it: `conda-forge`, `pkgs/main`,
/// `bioconda`, or the redacted URL for a custom server.
pub fn short_channel(c: &str) -> String {
    let c = redact_channel(c);
    let Some(rest) = c.split("://").nth(1) else {
        // `conda-forge/linux-64` or `defaults`
        return strip_subdir(&c).to_string();
    };
    let path = rest.split_once('/').map(|x| x.1).unwrap_or("");
    let path = path.trim_end_matches('/');
    let path = strip_subdir(path);
    let path = path.strip_prefix("t/***/").unwrap_or(path);
    if rest.starts_with("conda.anaconda.org/") || rest.starts_with("repo.anaconda.com/") {
        path.to_string()
    } else {
        c.trim_end_matches('/').to_string()
    }
}

fn strip_subdir(c: &str) -> &str {
    const SUBDIRS: &[&str] = &[
        "noarch",
        "linux-64",
        "linux-aarch64",
        "linux-ppc64le",
        "linux-s390x",
        "linux-32",
        "osx-64",
        "osx-arm64",
        "win-64",
        "win-32",
        "win-arm64",
    ];
    match c.rsplit_once('/') {
        Some((head, sub)) if SUBDIRS.contains(&sub) => head,
        _ => c,
    }
}

// ---------------------------------------------------------------------------
// Discovery

/// Every directory that is, or is listed as, a conda environment:
/// `environments.txt` (entries that are gone too: discovery reports them),
/// `envs_dirs` from `.condarc` and `CONDA_ENVS_PATH`, and the usual install
/// roots with their `envs/`.
pub fn env_dirs(ctx: &Ctx, machine: &CondaMachine) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = Vec::new();
    let mut envs: Vec<PathBuf> = Vec::new();
    for txt in &machine.environments_txt {
        for e in &txt.entries {
            // A stale entry is reported by its own rule, not as a broken env.
            if e.is_conda_env {
                envs.push(PathBuf::from(&e.path));
            }
        }
    }
    for var in ["CONDA_ROOT", "MAMBA_ROOT_PREFIX"] {
        if let Some(v) = ctx.var(var) {
            roots.push(PathBuf::from(v));
        }
    }
    roots.extend(install_roots(ctx));
    let mut envs_dirs: Vec<PathBuf> = Vec::new();
    for var in ["CONDA_ENVS_PATH", "CONDA_ENVS_DIRS"] {
        if let Some(v) = ctx.var(var) {
            envs_dirs.extend(v.split(':').filter(|s| !s.is_empty()).map(PathBuf::from));
        }
    }
    for rc in &machine.condarc {
        envs_dirs.extend(rc.envs_dirs.iter().map(PathBuf::from));
    }
    if let Some(home) = ctx.home() {
        envs_dirs.push(home.join(".conda/envs"));
    }
    for d in envs_dirs {
        for e in subdirs(ctx, &d) {
            if ctx.fs.is_dir(&e.join("conda-meta")) {
                envs.push(e);
            }
        }
    }
    for r in roots {
        if ctx.fs.is_dir(&r.join("conda-meta")) {
            envs.push(r.clone());
        }
        for e in subdirs(ctx, &r.join("envs")) {
            if ctx.fs.is_dir(&e.join("conda-meta")) {
                envs.push(e);
            }
        }
    }
    envs
}

/// Where conda installs usually are: the installers' defaults under `~` and
/// system-wide, and the roots of `CONDA_EXE` / `MAMBA_EXE`. Only those that
/// exist.
fn install_roots(ctx: &Ctx) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Some(home) = ctx.home() {
        roots.extend(HOME_ROOTS.iter().map(|n| home.join(n)));
    }
    roots.extend(SYSTEM_ROOTS.iter().map(PathBuf::from));
    for var in ["CONDA_EXE", "MAMBA_EXE"] {
        if let Some(exe) = ctx.var(var) {
            // <root>/bin/conda or <root>/condabin/conda
            if let Some(root) = Path::new(exe).parent().and_then(Path::parent) {
                roots.push(root.to_path_buf());
            }
        }
    }
    roots.retain(|r| ctx.fs.is_dir(r));
    roots
}

// ---------------------------------------------------------------------------
// Per environment

/// Describes every conda environment among `interpreters`: its install and
/// manager, history, Python version and channel. Cheap: the records' file
/// lists are read by [`probe_records`], for the environments checked.
pub fn describe_envs(ctx: &Ctx, interpreters: &mut [Interpreter]) {
    interpreters
        .par_iter_mut()
        .filter(|it| it.kind == Kind::Conda)
        .for_each(|it| {
            let prefix = PathBuf::from(&it.prefix);
            if ctx.fs.is_dir(&prefix.join("conda-meta")) {
                it.conda = Some(describe_env(ctx, &prefix));
            }
        });
}

fn describe_env(ctx: &Ctx, prefix: &Path) -> CondaEnv {
    let meta = prefix.join("conda-meta");
    let history_path = meta.join("history");
    let has_history = ctx.fs.symlink_metadata(&history_path).is_ok();
    let history = if has_history {
        read_history(ctx, &history_path)
    } else {
        Vec::new()
    };
    // The newest `python-X.Y.Z-*.json` record says which Python and channel.
    let python = ctx
        .fs
        .read_dir_names(&meta)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|n| {
            let n = n.to_str()?.to_string();
            let rest = n.strip_prefix("python-")?;
            rest.starts_with(|c: char| c.is_ascii_digit())
                .then(|| meta.join(&n))
        })
        .filter_map(|p| load_record(ctx, prefix, &p, false))
        .max_by_key(|l| super::version::version_key(&l.record.version));
    let (install, managers) = owning_install(ctx, prefix, &history);
    let manager = pick_manager(&managers, &history);
    let name = if install.as_deref() == Some(prefix) {
        "base".to_string()
    } else {
        prefix
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    CondaEnv {
        name,
        install: install.as_deref().map(display),
        manager,
        managers,
        python_version: python.as_ref().map(|l| l.record.version.clone()),
        channel: python
            .and_then(|l| l.record.channel)
            .or_else(|| history_channel(&history)),
        has_history,
        history,
        has_pip_script: ["bin/pip", "bin/pip3"]
            .iter()
            .any(|p| ctx.fs.symlink_metadata(&prefix.join(p)).is_ok()),
        ..Default::default()
    }
}

/// Reads the records of the conda environments among `targets` (all their
/// files indexed once), stats the files they list, and finds the
/// distributions of the env's site-packages (already read into
/// `site_dirs`) that no record owns.
pub fn probe_records(
    ctx: &Ctx,
    interpreters: &mut [Interpreter],
    targets: &[usize],
    site_dirs: &[SiteDir],
) {
    interpreters
        .par_iter_mut()
        .enumerate()
        .filter(|(i, it)| targets.contains(i) && it.conda.is_some())
        .for_each(|(_, it)| {
            let prefix = PathBuf::from(&it.prefix);
            let own_sites: Vec<&SiteDir> = it
                .sys_path
                .iter()
                .filter(|e| e.origin == Origin::Site && Path::new(&e.path).starts_with(&prefix))
                .filter_map(|e| site_dirs.iter().find(|d| d.path == e.path))
                .collect();
            if let Some(env) = it.conda.as_mut() {
                if !env.records_read {
                    read_records(ctx, &prefix, env, &own_sites);
                }
            }
        });
}

fn read_records(ctx: &Ctx, prefix: &Path, env: &mut CondaEnv, sites: &[&SiteDir]) {
    let meta = prefix.join("conda-meta");
    let names = ctx.fs.read_dir_names(&meta).unwrap_or_else(|e| {
        ctx.note(&meta, format!("cannot list it: {e}"));
        Vec::new()
    });
    let json: Vec<PathBuf> = names
        .iter()
        .filter(|n| n.to_string_lossy().ends_with(".json"))
        .take(MAX_RECORDS)
        .map(|n| meta.join(n))
        .collect();
    let mut loaded: Vec<Loaded> = json
        .par_iter()
        .filter_map(|p| load_record(ctx, prefix, p, true))
        .collect();
    env.records_unreadable = json.len() - loaded.len();
    loaded.sort_by(|a, b| a.record.name.cmp(&b.record.name));

    // The index: every file any record lists, to the record listing it.
    let files_listed: usize = loaded.iter().map(|l| l.files.len()).sum();
    let mut index: HashMap<&str, u32> = HashMap::with_capacity(files_listed);
    for (i, l) in loaded.iter().enumerate() {
        for f in &l.files {
            index.insert(f.as_str(), i as u32);
        }
    }

    let mut pip_dists: Vec<PipDist> = sites
        .iter()
        .flat_map(|s| pip_dists_in(ctx, prefix, s, &index, &loaded))
        .collect();
    pip_dists.sort_by(|a, b| a.name.cmp(&b.name));

    let mut records: Vec<CondaRecord> = loaded.into_iter().map(|l| l.record).collect();
    for r in &mut records {
        for d in &mut r.python_dists {
            d.present = ctx.fs.symlink_metadata(&prefix.join(&d.path)).is_ok();
            d.path = display(&prefix.join(&d.path));
        }
    }
    if env.channel.is_none() {
        env.channel = most_common_channel(&records);
    }
    env.records = records;
    env.files_listed = files_listed;
    env.pip_dists = pip_dists;
    env.site_packages = sites.iter().map(|s| s.path.clone()).collect();
    env.records_read = true;
}

#[derive(Deserialize)]
struct RawRecord {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    build: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    schannel: Option<String>,
    #[serde(default)]
    files: Option<Vec<String>>,
    #[serde(default)]
    depends: Option<Vec<String>>,
}

/// A record with its file list, before the list is indexed and dropped.
pub(crate) struct Loaded {
    record: CondaRecord,
    files: Vec<String>,
}

pub(crate) fn load_record(
    ctx: &Ctx,
    prefix: &Path,
    path: &Path,
    stat_files: bool,
) -> Option<Loaded> {
    let bytes = match ctx.fs.read_head(path, MAX_RECORD + 1) {
        Ok(b) => b,
        Err(e) => {
            ctx.note(path, format!("cannot read this conda record: {e}"));
            return None;
        }
    };
    if bytes.len() as u64 > MAX_RECORD {
        ctx.note(
            path,
            "conda record larger than 64 MiB; not read (conda never writes one that big)",
        );
        return None;
    }
    let raw: RawRecord = match serde_json::from_slice(&bytes) {
        Ok(r) => r,
        Err(e) => {
            ctx.note(path, format!("not a conda record conda can read: {e}"));
            return None;
        }
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (fname, fversion, fbuild) = split_record_name(&file_name);
    let name = raw.name.unwrap_or(fname);
    let version = raw.version.unwrap_or(fversion);
    let build = raw.build.unwrap_or(fbuild);
    let channel = raw
        .channel
        .as_deref()
        .or(raw.schannel.as_deref())
        .filter(|c| !c.is_empty())
        .map(short_channel);
    let files = raw.files.unwrap_or_default();
    let python_dists = files.iter().filter_map(|f| python_dist_of_file(f)).fold(
        Vec::<DistRef>::new(),
        |mut acc, d| {
            if !acc.iter().any(|x| x.path == d.path) {
                acc.push(d);
            }
            acc
        },
    );
    let missing: Vec<String> = files
        .iter()
        .filter(|_| stat_files)
        .filter(|f| !f.ends_with(".pyc"))
        .filter(|f| ctx.fs.symlink_metadata(&prefix.join(f)).is_err())
        .cloned()
        .collect();
    let depends = raw
        .depends
        .unwrap_or_default()
        .iter()
        .filter_map(|d| d.split_whitespace().next().map(str::to_string))
        .collect();
    Some(Loaded {
        record: CondaRecord {
            name,
            version,
            build,
            channel,
            path: display(path),
            files: files.len(),
            depends,
            python_dists,
            missing_count: missing.len(),
            missing_files: missing.into_iter().take(MISSING_EXAMPLES).collect(),
        },
        files,
    })
}

/// `numpy-1.26.4-py311h64a7726_0.json` -> (numpy, 1.26.4, py311h64a7726_0).
fn split_record_name(file: &str) -> (String, String, String) {
    let stem = file.strip_suffix(".json").unwrap_or(file);
    let mut parts = stem.rsplitn(3, '-');
    let build = parts.next().unwrap_or("").to_string();
    let version = parts.next().unwrap_or("").to_string();
    let name = parts.next().unwrap_or(stem).to_string();
    (name, version, build)
}

/// A record file that is the metadata directory of a Python distribution:
/// `lib/python3.11/site-packages/numpy-1.26.4.dist-info/RECORD`.
fn python_dist_of_file(f: &str) -> Option<DistRef> {
    let (dir_path, rest) = split_meta_dir(f)?;
    let _ = rest;
    let dir_name = dir_path.rsplit('/').next()?;
    let (name, version) = parse_dist_dir(dir_name)?;
    Some(DistRef {
        name,
        version,
        path: dir_path.to_string(),
        present: false,
    })
}

/// Splits `.../site-packages/X.dist-info/FILE` into the directory path and
/// the rest; also accepts a bare `X.egg-info` file.
fn split_meta_dir(f: &str) -> Option<(&str, &str)> {
    let i = f.find("/site-packages/")? + "/site-packages/".len();
    let after = &f[i..];
    let (first, rest) = after.split_once('/').unwrap_or((after, ""));
    if first.ends_with(".dist-info") || first.ends_with(".egg-info") {
        Some((&f[..i + first.len()], rest))
    } else {
        None
    }
}

/// `numpy-1.26.4.dist-info` -> (numpy, 1.26.4); `pip-24.0-py3.10.egg-info`
/// -> (pip, 24.0).
pub fn parse_dist_dir(dir: &str) -> Option<(String, String)> {
    let stem = dir
        .strip_suffix(".dist-info")
        .or_else(|| dir.strip_suffix(".egg-info"))?;
    // egg-info names carry `-pyX.Y` (and sometimes a platform) after the
    // version.
    let stem = match stem.find("-py") {
        Some(i)
            if stem[i + 3..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit()) =>
        {
            &stem[..i]
        }
        _ => stem,
    };
    let (name, version) = stem.split_once('-')?;
    if name.is_empty() || version.is_empty() {
        return None;
    }
    Some((name.to_string(), version.to_string()))
}

/// Distributions of one of the env's site dirs that no record owns: their
/// anchor file (RECORD, else METADATA; PKG-INFO for egg-info; the egg-info or
/// egg-link file itself) is in no record's `files`.
fn pip_dists_in(
    ctx: &Ctx,
    prefix: &Path,
    site: &SiteDir,
    index: &HashMap<&str, u32>,
    loaded: &[Loaded],
) -> Vec<PipDist> {
    let rel = |p: &str| -> Option<String> { Path::new(p).strip_prefix(prefix).ok().map(display) };
    site.distributions
        .par_iter()
        .filter(|d| d.format != DistFormat::Egg)
        .filter_map(|d| {
            let anchors: Vec<&str> = match d.format {
                DistFormat::DistInfo | DistFormat::EggInfo => d
                    .record_file
                    .iter()
                    .chain(d.metadata_file.iter())
                    .map(String::as_str)
                    .collect(),
                _ => vec![d.path.as_str()],
            };
            let owned = anchors
                .iter()
                .filter_map(|a| rel(a))
                .any(|a| index.contains_key(a.as_str()));
            // A dist-info whose RECORD and METADATA are both gone cannot be
            // judged. `INSTALLER` saying `conda` is conda's own mark (the
            // other way round it is unreliable: conda packages often say pip).
            if owned || anchors.is_empty() || d.installer.as_deref() == Some("conda") {
                return None;
            }
            let dir = PathBuf::from(&d.path);
            let installed_at = ["INSTALLER", "RECORD"]
                .iter()
                .map(|f| dir.join(f))
                .chain(std::iter::once(dir.clone()))
                .find_map(|p| ctx.fs.symlink_metadata(&p).ok())
                .and_then(|m| {
                    use std::os::unix::fs::MetadataExt;
                    Some(m.mtime()).filter(|t| *t > 0)
                });
            let overwrites = match (d.format, &d.record_file) {
                (DistFormat::DistInfo, Some(r)) => overlaps(
                    ctx,
                    Path::new(&site.path),
                    prefix,
                    Path::new(r),
                    index,
                    loaded,
                ),
                _ => Vec::new(),
            };
            let file_name = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let from_dir = parse_dist_dir(&file_name);
            Some(PipDist {
                name: d
                    .name
                    .clone()
                    .or_else(|| from_dir.as_ref().map(|x| x.0.clone()))
                    .unwrap_or(file_name),
                version: d
                    .version
                    .clone()
                    .or_else(|| from_dir.map(|x| x.1))
                    .unwrap_or_default(),
                path: d.path.clone(),
                installer: d.installer.clone(),
                installed_at,
                installed_at_local: installed_at.map(|t| format_time(t, ctx.fs.is_host_root())),
                overwrites,
            })
        })
        .collect()
}

/// conda records that list files this RECORD lists too.
fn overlaps(
    ctx: &Ctx,
    site: &Path,
    prefix: &Path,
    record: &Path,
    index: &HashMap<&str, u32>,
    loaded: &[Loaded],
) -> Vec<FileOverlap> {
    let Ok(bytes) = ctx.fs.read_head(record, MAX_DIST_RECORD) else {
        return Vec::new();
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes.as_slice());
    let mut by_record: BTreeMap<u32, (usize, String)> = BTreeMap::new();
    for row in rdr.byte_records() {
        let Ok(row) = row else { continue };
        let Some(p) = row.get(0) else { continue };
        let p = crate::fs::lossy(p);
        if p.ends_with(".pyc") {
            continue;
        }
        // RECORD paths are relative to the site dir (`../../../bin/x`).
        let full = crate::fs::normpath(&site.join(&*p));
        let Ok(rel) = full.strip_prefix(prefix) else {
            continue;
        };
        let rel = display(rel);
        if let Some(&i) = index.get(rel.as_str()) {
            let e = by_record.entry(i).or_insert((0, rel.clone()));
            e.0 += 1;
        }
    }
    by_record
        .into_iter()
        .map(|(i, (files, example))| FileOverlap {
            record: loaded[i as usize].record.name.clone(),
            files,
            example,
        })
        .collect()
}

fn most_common_channel(records: &[CondaRecord]) -> Option<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in records {
        if let Some(c) = &r.channel {
            *counts.entry(c.as_str()).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(c, _)| c.to_string())
}

/// The channel of the last `+channel::python-...` line, else of most lines.
fn history_channel(history: &[CondaTransaction]) -> Option<String> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for t in history {
        for a in &t.added {
            if let Some((ch, pkg)) = a.split_once("::") {
                let ch = short_channel(ch);
                if pkg.starts_with("python-") && pkg[7..].starts_with(|c: char| c.is_ascii_digit())
                {
                    return Some(ch);
                }
                *counts.entry(ch).or_default() += 1;
            }
        }
    }
    counts.into_iter().max_by_key(|(_, n)| *n).map(|(c, _)| c)
}

// ---------------------------------------------------------------------------
// History

fn read_history(ctx: &Ctx, path: &Path) -> Vec<CondaTransaction> {
    let text = match ctx.fs.read_text_limited(path, MAX_HISTORY) {
        Ok((t, truncated)) => {
            if truncated {
                ctx.note(
                    path,
                    "conda history longer than 16 MiB; only the start was read",
                );
            }
            t
        }
        Err(e) => {
            ctx.note(path, format!("cannot read the conda history: {e}"));
            return Vec::new();
        }
    };
    let use_local = ctx.fs.is_host_root();
    parse_history(&text, use_local)
}

pub fn parse_history(text: &str, local_time: bool) -> Vec<CondaTransaction> {
    let mut out: Vec<CondaTransaction> = Vec::new();
    for line in text.lines() {
        let l = line.trim_end();
        if let Some(date) = l.strip_prefix("==> ").and_then(|r| r.strip_suffix(" <==")) {
            out.push(CondaTransaction {
                date: date.to_string(),
                epoch: parse_date(date, local_time),
                ..Default::default()
            });
            continue;
        }
        let Some(t) = out.last_mut() else { continue };
        if let Some(cmd) = l.strip_prefix("# cmd:") {
            let cmd = redact_channel(cmd.trim());
            t.tool = tool_of_cmd(&cmd).map(|(k, _)| k.to_string());
            t.cmd = Some(cmd);
        } else if let Some(spec) = l.strip_prefix('+') {
            t.added.push(redact_channel(spec.trim()));
        } else if let Some(spec) = l.strip_prefix('-') {
            t.removed.push(redact_channel(spec.trim()));
        }
    }
    out
}

/// The tool a `# cmd:` line ran and its path as written:
/// `/opt/conda/bin/conda install x` -> (conda, /opt/conda/bin/conda). Paths
/// may contain spaces, so the tool is found by name, not by splitting.
fn tool_of_cmd(cmd: &str) -> Option<(&'static str, String)> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(
            r"^(?P<path>(?:.*?[/\\])?(?P<tool>micromamba|mamba|conda)(?:-script\.py|\.exe|\.bat)?)(?:\s|$)",
        )
        .expect("static regex")
    });
    if let Some(c) = re.captures(cmd) {
        let tool = match &c["tool"] {
            "micromamba" => "micromamba",
            "mamba" => "mamba",
            _ => "conda",
        };
        return Some((tool, c["path"].to_string()));
    }
    // `python -m conda` and `.../site-packages/conda/__main__.py`
    if cmd.contains("/conda/__main__.py") || cmd.contains("-m conda ") {
        return Some(("conda", String::new()));
    }
    if cmd.contains("/mamba/__main__.py") || cmd.contains("-m mamba ") {
        return Some(("mamba", String::new()));
    }
    None
}

/// `2024-01-05 10:00:00` to seconds since the epoch; conda writes local
/// time, so on the host the local time zone applies (UTC inside `--root`).
fn parse_date(s: &str, local_time: bool) -> Option<i64> {
    let (d, t) = s.trim().split_once(' ')?;
    let mut dp = d.split('-').map(|x| x.parse::<i64>());
    let (y, mo, da) = (dp.next()?.ok()?, dp.next()?.ok()?, dp.next()?.ok()?);
    let mut tp = t.split(':').map(|x| x.parse::<i64>());
    let (h, mi, se) = (tp.next()?.ok()?, tp.next()?.ok()?, tp.next()?.ok()?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&da) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    if local_time {
        // SAFETY: `tm` is a plain C struct fully initialised here; mktime
        // only reads and normalises it.
        let mut tm: libc::tm = unsafe { std::mem::zeroed() };
        tm.tm_year = (y - 1900) as i32;
        tm.tm_mon = (mo - 1) as i32;
        tm.tm_mday = da as i32;
        tm.tm_hour = h as i32;
        tm.tm_min = mi as i32;
        tm.tm_sec = se as i32;
        tm.tm_isdst = -1;
        let t = unsafe { libc::mktime(&mut tm) };
        if t != -1 {
            return Some(t);
        }
    }
    Some(days_from_civil(y, mo, da) * 86_400 + h * 3600 + mi * 60 + se)
}

/// Howard Hinnant's days-from-civil.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Seconds since the epoch as `YYYY-MM-DD HH:MM:SS`, in local time on the
/// host (as conda writes its history) and in UTC inside `--root` (as
/// [`parse_date`] reads it there), so that both sides of a comparison match.
fn format_time(t: i64, local: bool) -> String {
    // SAFETY: localtime_r/gmtime_r write into the zeroed struct we own.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let tt: libc::time_t = t as libc::time_t;
    let ok = unsafe {
        if local {
            !libc::localtime_r(&tt, &mut tm).is_null()
        } else {
            !libc::gmtime_r(&tt, &mut tm).is_null()
        }
    };
    if !ok {
        return t.to_string();
    }
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec
    )
}

// ---------------------------------------------------------------------------
// Manager

/// The managers a prefix holds itself. `bin/conda` alone is not enough (an
/// env may carry a stray entry point): conda counts when the prefix has
/// `condabin/` or a `conda` record; mamba likewise, or beside such a conda;
/// micromamba is a single static binary with no record.
fn managers_at(ctx: &Ctx, prefix: &Path, source: &str) -> Vec<CondaManager> {
    let records: Vec<String> = ctx
        .fs
        .read_dir_names(&prefix.join("conda-meta"))
        .map(|v| {
            v.into_iter()
                .map(|n| n.to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let has_record = |tool: &str| {
        records.iter().any(|r| {
            r.strip_prefix(tool)
                .and_then(|x| x.strip_prefix('-'))
                .is_some_and(|x| x.starts_with(|c: char| c.is_ascii_digit()))
        })
    };
    let mut out: Vec<CondaManager> = Vec::new();
    for (kind, paths) in TOOLS {
        for p in *paths {
            let full = prefix.join(p);
            if ctx.fs.symlink_metadata(&full).is_err() {
                continue;
            }
            // mamba's entry point beside a conda that counts is that
            // install's mamba (miniforge ships both).
            let counts = *kind == "micromamba"
                || p.starts_with("condabin/")
                || has_record(kind)
                || (*kind == "mamba" && out.iter().any(|m| m.kind == "conda"));
            if counts {
                out.push(CondaManager {
                    kind: kind.to_string(),
                    path: display(&full),
                    source: source.to_string(),
                });
                break;
            }
        }
    }
    out
}

/// The conda installation an env belongs to and the managers it has:
/// `<root>/envs/<name>` belongs to `<root>`; a prefix with its own manager
/// is an install; otherwise the history's `# cmd:` line names the tool that
/// made it; finally `MAMBA_EXE` / `CONDA_EXE` for envs under their roots.
fn owning_install(
    ctx: &Ctx,
    prefix: &Path,
    history: &[CondaTransaction],
) -> (Option<PathBuf>, Vec<CondaManager>) {
    if let Some(parent) = prefix.parent() {
        if parent.file_name().is_some_and(|n| n == "envs") {
            if let Some(root) = parent.parent() {
                let m = managers_at(ctx, root, "install");
                if !m.is_empty() {
                    return (Some(root.to_path_buf()), m);
                }
            }
        }
    }
    let own = managers_at(ctx, prefix, "install");
    if !own.is_empty() {
        return (Some(prefix.to_path_buf()), own);
    }
    for t in history.iter().rev() {
        let Some(cmd) = &t.cmd else { continue };
        let Some((kind, path)) = tool_of_cmd(cmd) else {
            continue;
        };
        let path = Path::new(&path);
        if !path.is_absolute() || ctx.fs.symlink_metadata(path).is_err() {
            continue;
        }
        // <install>/bin/conda or <install>/condabin/conda
        let install = path.parent().and_then(Path::parent).map(Path::to_path_buf);
        let mut m = install
            .as_ref()
            .map(|i| managers_at(ctx, i, "history"))
            .unwrap_or_default();
        if !m.iter().any(|x| x.kind == kind) {
            m.push(CondaManager {
                kind: kind.to_string(),
                path: display(path),
                source: "history".into(),
            });
        }
        return (install, m);
    }
    for (var, kind) in [("MAMBA_EXE", "micromamba"), ("CONDA_EXE", "conda")] {
        let Some(exe) = ctx.var(var) else { continue };
        let exe = Path::new(exe);
        let root_var = if kind == "micromamba" {
            ctx.var("MAMBA_ROOT_PREFIX").map(PathBuf::from)
        } else {
            exe.parent().and_then(Path::parent).map(Path::to_path_buf)
        };
        let Some(root) = root_var else { continue };
        if prefix.starts_with(&root) && ctx.fs.symlink_metadata(exe).is_ok() {
            let name = exe
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let kind = if name.starts_with("micromamba") {
                "micromamba"
            } else if name.starts_with("mamba") {
                "mamba"
            } else {
                "conda"
            };
            return (
                Some(root),
                vec![CondaManager {
                    kind: kind.into(),
                    path: display(exe),
                    source: var.into(),
                }],
            );
        }
    }
    (None, Vec::new())
}

/// The manager the history last used, when the install has it (or it was
/// only known from the history), else the install's preferred one.
fn pick_manager(managers: &[CondaManager], history: &[CondaTransaction]) -> Option<CondaManager> {
    if let Some(tool) = history.iter().rev().find_map(|t| t.tool.as_deref()) {
        if let Some(m) = managers.iter().find(|m| m.kind == tool) {
            return Some(m.clone());
        }
    }
    managers.first().cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dist_dir_names() {
        assert_eq!(
            parse_dist_dir("numpy-1.26.4.dist-info"),
            Some(("numpy".into(), "1.26.4".into()))
        );
        assert_eq!(
            parse_dist_dir("pip-24.0-py3.10.egg-info"),
            Some(("pip".into(), "24.0".into()))
        );
        assert_eq!(parse_dist_dir("foo.dist-info"), None);
    }

    #[test]
    fn channels_are_short_and_redacted() {
        assert_eq!(
            short_channel("https://conda.anaconda.org/conda-forge/osx-arm64"),
            "conda-forge"
        );
        assert_eq!(
            short_channel("https://repo.anaconda.com/pkgs/main/linux-64"),
            "pkgs/main"
        );
        assert_eq!(short_channel("defaults/osx-arm64"), "defaults");
        let s = short_channel("https://conda.anaconda.org/t/sekrit-123/private/linux-64");
        assert_eq!(s, "private");
        let s = short_channel("https://bob:hunter2@conda.example.com/chan/noarch");
        assert!(
            !s.contains("hunter2") && s.contains("conda.example.com"),
            "{s}"
        );
    }

    #[test]
    fn condarc_values_as_conda_accepts_them() {
        let raw: RawCondarc = serde_yaml_ng::from_str(
            "envs_path: /a\npkgs_dirs:\n  - ~/pkgs\n  - 3\nchannels: [conda-forge]\nauto_activate_base: false\n",
        )
        .unwrap();
        assert_eq!(raw.envs_path.unwrap().into_vec(), vec!["/a"]);
        assert_eq!(raw.pkgs_dirs.unwrap().into_vec(), vec!["~/pkgs"]);
        assert_eq!(raw.channels.unwrap().into_vec(), vec!["conda-forge"]);
    }

    #[test]
    fn history_transactions_and_tools() {
        let h = "==> 2024-01-15 10:00:00 <==\n# cmd: /Users/Some One/miniconda3/bin/conda create -n x python=3.9 -c https://conda.anaconda.org/t/tk-42/private\n+defaults::python-3.9.18-h1_0\n# update specs: ['python']\n==> 2024-06-20 14:30:00 <==\n# cmd: micromamba install numpy\n-defaults::python-3.9.18-h1_0\n+conda-forge/linux-64::numpy-1.26.4-py39_0\n==> garbage <==\n";
        let t = parse_history(h, false);
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].tool.as_deref(), Some("conda"));
        assert!(!t[0].cmd.as_deref().unwrap().contains("tk-42"));
        assert_eq!(t[0].added, vec!["defaults::python-3.9.18-h1_0"]);
        assert_eq!(t[0].epoch, Some(1_705_312_800));
        assert_eq!(t[1].tool.as_deref(), Some("micromamba"));
        assert_eq!(t[1].removed.len(), 1);
        assert_eq!(t[2].epoch, None);
        assert_eq!(
            tool_of_cmd("/Users/Some One/miniconda3/bin/conda create -n x")
                .unwrap()
                .1,
            "/Users/Some One/miniconda3/bin/conda"
        );
    }

    #[test]
    fn record_file_names() {
        assert_eq!(
            split_record_name("python-dateutil-2.8.2-pyhd8ed1ab_0.json"),
            (
                "python-dateutil".into(),
                "2.8.2".into(),
                "pyhd8ed1ab_0".into()
            )
        );
        let d =
            python_dist_of_file("lib/python3.12/site-packages/pygments-2.17.2.dist-info/RECORD")
                .unwrap();
        assert_eq!(d.name, "pygments");
        assert_eq!(
            d.path,
            "lib/python3.12/site-packages/pygments-2.17.2.dist-info"
        );
        assert!(python_dist_of_file("lib/python3.12/site-packages/pygments/__init__.py").is_none());
    }
}
