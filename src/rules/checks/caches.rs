//! Caches, configuration and permissions, judged for the user who will run
//! pip (the snapshot's `host.user`): who owns the cache and what is inside
//! it, HOME, free space, read-only mounts, where pip may install, proxies.
//! Everything here reads the snapshot only.

use crate::rules::{CheckCtx, Hit, Severity};
use crate::snapshot::{CacheDir, Entry, Interpreter, Kind, Setting, Snapshot, Storage};
use std::collections::BTreeMap;
use std::path::Path;

/// How the user is named in messages and in `chown USER:`.
use crate::rules::Fix;
use crate::shell::{quote, Cmd};

fn user_name(snap: &Snapshot) -> String {
    let u = &snap.host.user;
    match (&u.name, u.uid) {
        (Some(n), _) => n.clone(),
        (None, Some(uid)) => uid.to_string(),
        (None, None) => "the current user".into(),
    }
}

fn user_label(snap: &Snapshot) -> String {
    let u = &snap.host.user;
    match (&u.name, u.uid) {
        (Some(n), Some(uid)) => format!("`{n}` (uid {uid})"),
        (Some(n), None) => format!("`{n}`"),
        (None, Some(uid)) => format!("uid {uid}"),
        (None, None) => "the current user".into(),
    }
}

/// `sudo chown -R USER: DIR`, or `USER` alone for a uid without a passwd
/// entry (whose login group `chown` could not find).
fn chown(snap: &Snapshot, dir: &str) -> String {
    let u = &snap.host.user;
    let owner = match (&u.name, u.uid) {
        (Some(n), _) => format!("{n}:"),
        (None, Some(uid)) => uid.to_string(),
        (None, None) => "\"$(id -un):\"".to_string(),
    };
    let c = Cmd::new("sudo").args(["chown", "-R"]);
    if u.name.is_none() && u.uid.is_none() {
        return c.raw("\"$(id -un):\"").arg(dir).build();
    }
    c.arg(owner).arg(dir).build()
}

/// `VAR` pointed at a fresh directory of this user's (`mktemp -d`).
fn fresh_cache_dir(var: &'static str) -> Vec<String> {
    vec![format!("dir=\"$(mktemp -d)\" && export {var}=\"$dir\"")]
}

/// The judged user's HOME, when set.
fn home_dir(snap: &Snapshot) -> Option<&str> {
    snap.env_var("HOME")
        .or(snap.host.user.home.as_deref())
        .filter(|h| !h.is_empty())
}

/// HOME at a fresh directory of this user's; left as it was if mktemp fails.
const FRESH_HOME: &str = "home=\"$(mktemp -d)\" && export HOME=\"$home\"";

fn is_root(snap: &Snapshot) -> bool {
    snap.host.user.uid == Some(0)
}

/// "`alice` (uid 1000)"
fn owner(e: &Entry) -> String {
    match &e.owner {
        Some(n) => format!("`{n}` (uid {})", e.uid),
        None => format!("uid {}", e.uid),
    }
}

fn describe_entry(e: &Entry) -> String {
    format!("owned by {}, mode {:04o}", owner(e), e.mode)
}

fn bytes(n: u64) -> String {
    crate::units::bytes_si(n)
}

fn param_u64(ctx: &CheckCtx, key: &str, default: u64) -> u64 {
    ctx.rule
        .params
        .get(key)
        .and_then(|v| v.as_integer())
        .and_then(|v| u64::try_from(v).ok())
        .unwrap_or(default)
}

fn list_paths(entries: &[Entry], max: usize) -> String {
    entries
        .iter()
        .take(max)
        .map(|e| format!("`{}` ({})", e.path, describe_entry(e)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The caches a tool really uses: not the disabled ones, and for conda only
/// the first package cache the user may write (conda reads the others but
/// writes there).
fn used_caches(snap: &Snapshot) -> Vec<&CacheDir> {
    let mut out = Vec::new();
    let mut conda_done = false;
    for c in &snap.caches {
        if c.disabled_by.is_some() {
            continue;
        }
        if c.tool == "conda" {
            // conda tries each in turn and writes to the first that takes a
            // file: a read-only one is skipped too.
            let read_only = cache_storage(snap, c).is_some_and(|s| s.read_only);
            if conda_done || !passes_top(snap, c) || read_only {
                continue;
            }
            conda_done = true;
        }
        out.push(c);
    }
    out
}

/// The storage facts (filesystem, free space) of a cache.
fn cache_storage<'a>(snap: &'a Snapshot, c: &CacheDir) -> Option<&'a Storage> {
    snap.storage
        .iter()
        .find(|s| s.role == "cache" && s.path == c.path)
}

/// Storage entries of the caches that are used (see [`used_caches`]); for
/// conda, when none is usable, all of them (the failure is then conda's).
fn used_cache_storage(snap: &Snapshot) -> Vec<&Storage> {
    let used = used_caches(snap);
    let conda_used = used.iter().any(|c| c.tool == "conda");
    snap.caches
        .iter()
        .filter(|c| c.disabled_by.is_none())
        .filter(|c| used.iter().any(|u| std::ptr::eq(*u, *c)) || (c.tool == "conda" && !conda_used))
        .filter_map(|c| cache_storage(snap, c))
        .collect()
}

/// Whether the tool's own check of the cache directory passes. pip's
/// `check_path_owner`: the first existing ancestor must be writable (for
/// root: owned by uid 0, the `sudo` without `-H` case).
fn passes_top(snap: &Snapshot, c: &CacheDir) -> bool {
    let Some(n) = &c.nearest else { return false };
    if !c.reachable {
        return false;
    }
    if n.kind != "dir" {
        return false;
    }
    if is_root(snap) && c.tool == "pip" {
        return n.uid == 0;
    }
    n.kind == "dir" && n.writable
}

fn no_cache_fix(tool: &str) -> &'static str {
    match tool {
        "pip" => "or do without the cache: `pip install --no-cache-dir ...` / `export PIP_NO_CACHE_DIR=1`",
        "uv" => "or do without the cache: `uv pip install --no-cache ...` / `export UV_NO_CACHE=1`",
        "poetry" => "or give poetry a cache it owns: `export POETRY_CACHE_DIR=$HOME/.cache/pypoetry`",
        _ => "or give conda a package cache it owns: `conda config --add pkgs_dirs ~/.conda/pkgs`",
    }
}

/// The directory to hand back to the user: the cache, or for a missing one
/// the nearest existing directory when it lies inside HOME.
fn chown_target<'a>(snap: &Snapshot, c: &'a CacheDir) -> Option<&'a str> {
    if c.exists {
        return Some(&c.path);
    }
    let n = c.nearest.as_ref()?;
    let home = snap.host.user.home.as_deref().or(snap.env_var("HOME"))?;
    (n.path.starts_with(home) && n.path.len() > 1).then_some(n.path.as_str())
}

pub fn cache_not_writable(ctx: &CheckCtx) -> Vec<Hit> {
    let snap = ctx.snapshot;
    let user = user_name(snap);
    let who = user_label(snap);
    let mut out = Vec::new();
    // conda: a problem only when no package cache is writable at all.
    let conda: Vec<&CacheDir> = snap
        .caches
        .iter()
        .filter(|c| c.tool == "conda" && c.disabled_by.is_none())
        .collect();
    if !conda.is_empty() && !conda.iter().any(|c| passes_top(snap, c)) {
        out.push(Hit {
            message: format!(
                "None of conda's package caches is writable by {who} ({}): `conda install` fails with \"NotWritableError: The current user does not have write permissions to a required path\"",
                conda.iter().map(|c| format!("`{}`", c.path)).collect::<Vec<_>>().join(", ")
            ),
            paths: conda.iter().map(|c| c.path.clone()).collect(),
            fix: match home_dir(snap) {
                Some(h) => {
                    let own = format!("{}/.conda/pkgs", h.trim_end_matches('/'));
                    Fix::run(
                        format!("Give conda a package cache {user} owns (or hand `{}` back: `{}`)", conda[0].path, chown(snap, &conda[0].path)),
                        vec![
                            Cmd::new("mkdir").arg("-p").arg(&own).build(),
                            Cmd::new("conda").args(["config", "--add", "pkgs_dirs"]).arg(&own).build(),
                        ],
                    )
                }
                None => Fix::run(format!("Hand the cache back to {user}"), vec![chown(snap, &conda[0].path)]),
            },
            severity: Some(Severity::Error),
            ..Default::default()
        });
    }
    for c in snap
        .caches
        .iter()
        .filter(|c| c.disabled_by.is_none() && c.tool != "conda")
    {
        let Some(n) = &c.nearest else { continue };
        // Under a HOME that is itself unusable: home-unusable says it once.
        let under_broken_home = home_dir(snap)
            .is_some_and(|h| Path::new(&c.path).starts_with(h) && home_problem(snap).is_some());
        if under_broken_home {
            continue;
        }
        if !passes_top(snap, c) {
            let (what, severity) = match c.tool.as_str() {
                "pip" => (
                    format!(
                        "pip prints \"WARNING: The directory '{}' or its parent directory is not owned or is not writable by the current user. The cache has been disabled.\" and downloads and builds every package again on each install",
                        c.path
                    ),
                    Severity::Warning,
                ),
                "uv" => (
                    format!(
                        "uv stops with \"Failed to initialize cache at `{}`\" (Permission denied)",
                        c.path
                    ),
                    Severity::Error,
                ),
                _ => (
                    format!("{} cannot write its cache and fails with Permission denied", c.tool),
                    Severity::Warning,
                ),
            };
            let place = if n.kind != "dir" {
                format!("`{}` is a {}, not a directory", n.path, n.kind)
            } else if c.exists {
                format!("`{}` is {}", c.path, describe_entry(n))
            } else if !c.reachable || !n.readable {
                format!(
                    "{who} cannot reach `{}`: `{}` on the way is {}",
                    c.path,
                    n.path,
                    describe_entry(n)
                )
            } else {
                format!(
                    "`{}` does not exist and its nearest existing parent `{}` is {}",
                    c.path,
                    n.path,
                    describe_entry(n)
                )
            };
            let sudo_h = if is_root(snap) && c.tool == "pip" && n.uid != 0 {
                " (pip run as root with another user's HOME: `sudo` without `-H`)"
            } else {
                ""
            };
            let fix = if is_root(snap) && c.tool == "pip" && n.uid != 0 {
                Fix::from(format!(
                    "Run pip as root with root's HOME: `sudo -H pip install ...`; {}",
                    no_cache_fix("pip")
                ))
            } else {
                match chown_target(snap, c) {
                    Some(dir) => Fix::run(
                        format!("Give it back to `{user}` ({})", no_cache_fix(&c.tool)),
                        vec![chown(snap, dir)],
                    ),
                    None => Fix::run(
                        format!(
                            "Point the cache at a fresh directory `{user}` owns, in this shell and your profile ({})",
                            no_cache_fix(&c.tool)
                        ),
                        fresh_cache_dir(cache_var(&c.tool)),
                    ),
                }
            };
            out.push(Hit {
                message: format!(
                    "The {} cache ({}) is not usable by {who}: {place}{sudo_h}; {what}",
                    c.tool,
                    source_phrase(c)
                ),
                paths: vec![c.path.clone(), n.path.clone()],
                fix,
                severity: Some(severity),
                environment: env_of(c),
            });
            continue;
        }
        // Inside a cache the user owns: entries of its own whose mode shuts
        // it out (umask 0077 from another account, chmod). Entries of other
        // owners are `cache-owned-by-other-user`.
        let Some(a) = &c.audit else { continue };
        let own = a.blocked.count.saturating_sub(a.blocked_other_owner);
        if own == 0 {
            continue;
        }
        let mine: Vec<Entry> = a
            .blocked
            .first
            .iter()
            .filter(|e| Some(e.uid) == snap.host.user.uid)
            .cloned()
            .collect();
        let (what, severity) = consequence(c, &mine);
        out.push(Hit {
            message: format!(
                "{own} entr{} inside the {} cache `{}` cannot be written or read by {who} although they are its own{}: {}; {what}",
                if own == 1 { "y" } else { "ies" },
                c.tool,
                c.path,
                bounded(c),
                list_paths(&mine, 3)
            ),
            paths: mine.iter().map(|e| e.path.clone()).collect(),
            fix: Fix::run(
                format!("Open them to their owner again ({})", no_cache_fix(&c.tool)),
                vec![Cmd::new("chmod").args(["-R", "u+rwX"]).arg(&c.path).build()],
            ),
            severity: Some(severity),
            environment: env_of(c),
        });
    }
    out
}

/// The environment a cache belongs to, when only one environment's own
/// config selects it.
fn env_of(c: &CacheDir) -> Option<String> {
    match c.environments.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}

fn cache_var(tool: &str) -> &'static str {
    match tool {
        "pip" => "PIP_CACHE_DIR",
        "uv" => "UV_CACHE_DIR",
        "poetry" => "POETRY_CACHE_DIR",
        _ => "CONDA_PKGS_DIRS",
    }
}

fn bounded(c: &CacheDir) -> String {
    match c.audit.as_ref().and_then(|a| a.bounded.as_deref()) {
        Some(b) => format!(" (the walk {b}: at least this many)"),
        None => String::new(),
    }
}

/// How a cache location is named in messages.
fn source_phrase(c: &CacheDir) -> String {
    match c.source.strip_prefix("default: ") {
        Some(d) => format!("{}'s default `{d}`", c.tool),
        None => format!("set by `{}`", c.source),
    }
}

/// What the tool does when it meets these entries.
fn consequence(c: &CacheDir, entries: &[Entry]) -> (String, Severity) {
    let first = entries.first().map(|e| e.path.as_str()).unwrap_or(&c.path);
    match c.tool.as_str() {
        "pip" => {
            let wheels = format!("{}/wheels", c.path);
            if let Some(w) = entries.iter().find(|e| e.path.starts_with(&wheels)) {
                (
                    format!(
                        "every package pip builds from source hits \"Building wheel for NAME failed: [Errno 13] Permission denied: '{}/...'\" (an error from pip 23.1 on; older pip falls back to `setup.py install`)",
                        w.path
                    ),
                    Severity::Error,
                )
            } else {
                (
                    format!(
                        "pip's own check of `{}` passes, then it skips the HTTP cache without a word or fails with \"[Errno 13] Permission denied: '{first}'\"",
                        c.path
                    ),
                    Severity::Warning,
                )
            }
        }
        "uv" => (
            format!("uv fails with \"failed to open file `{first}`: Permission denied\""),
            Severity::Error,
        ),
        "conda" => (
            "conda fails with \"NotWritableError: The current user does not have write permissions to a required path\"".into(),
            Severity::Error,
        ),
        _ => (
            format!("{} fails with Permission denied on `{first}`", c.tool),
            Severity::Warning,
        ),
    }
}

pub fn cache_owned_by_other_user(ctx: &CheckCtx) -> Vec<Hit> {
    let snap = ctx.snapshot;
    // uid 0 may use whatever it finds.
    if is_root(snap) {
        return Vec::new();
    }
    let user = user_name(snap);
    let who = user_label(snap);
    let mut out = Vec::new();
    for c in used_caches(snap) {
        if !passes_top(snap, c) {
            continue; // `cache-not-writable` says it
        }
        let Some(a) = &c.audit else { continue };
        if a.blocked_other_owner == 0 {
            continue;
        }
        let foreign: Vec<Entry> = a
            .blocked
            .first
            .iter()
            .filter(|e| Some(e.uid) != snap.host.user.uid)
            .cloned()
            .collect();
        let mut owners: Vec<String> = Vec::new();
        for e in &foreign {
            let o = owner(e);
            if !owners.contains(&o) {
                owners.push(o);
            }
        }
        let total_foreign: u64 = a.owners.values().sum();
        let (what, severity) = consequence(c, &foreign);
        let sudo = if foreign.iter().any(|e| e.uid == 0) {
            " (left by `sudo pip` without `-H`)"
        } else {
            ""
        };
        out.push(Hit {
            message: format!(
                "The {} cache `{}` of {who} holds {total_foreign} entries owned by {}{sudo}{}, and {who} cannot write or read {} of them: {}. The tool's own check looks only at `{}` and passes; {what}",
                c.tool,
                c.path,
                owners.join(", "),
                bounded(c),
                a.blocked_other_owner,
                list_paths(&foreign, 3),
                c.path
            ),
            paths: foreign.iter().map(|e| e.path.clone()).collect(),
            fix: Fix::run(
                format!("Give them back to `{user}` ({})", no_cache_fix(&c.tool)),
                vec![chown(snap, &c.path)],
            ),
            severity: Some(severity),
            environment: env_of(c),
        });
    }
    out
}

/// What is wrong with the judged user's HOME, when something is: the one
/// cause behind every cache under it failing (said once, by home-unusable).
fn home_problem(snap: &Snapshot) -> Option<String> {
    let who = user_label(snap);
    let home = home_dir(snap)?;
    let s = snap.storage.iter().find(|s| s.role == "home")?;
    let problem = match &s.nearest {
        _ if !s.exists => Some(format!(
            "does not exist (a user made without a home, or a container whose HOME was never created); pip disables its cache (`{home}/.cache/pip`) and `pip install --user` fails with \"[Errno 2] No such file or directory\" or \"[Errno 13] Permission denied\""
        )),
        Some(n) if n.kind != "dir" => Some(format!("is not a directory (a {})", n.kind)),
        Some(_) if s.read_only => Some(format!(
            "is on a read-only filesystem (`{}`): pip's cache and `--user` installs fail with \"[Errno 30] Read-only file system\"",
            s.mount_point.as_deref().unwrap_or("?")
        )),
        Some(n) if !n.writable => Some(format!(
            "is {} and not writable by {who}: pip disables its cache (\"The directory '{home}/.cache/pip' or its parent directory is not owned or is not writable by the current user\") and `pip install --user` fails with \"[Errno 13] Permission denied\"",
            describe_entry(n)
        )),
        _ => None,
    };
    problem
}

pub fn home_unusable(ctx: &CheckCtx) -> Vec<Hit> {
    let snap = ctx.snapshot;
    let user = user_name(snap);
    let who = user_label(snap);
    // A system account (`nobody`, home `/nonexistent`) is not to be given
    // a home: point HOME somewhere for the session instead.
    let fix_for = |h: &str| {
        let real_home = h.starts_with("/home/") || h.starts_with("/Users/");
        if real_home && !is_root(snap) {
            Fix::run(
                format!("Give {user} the home `/etc/passwd` names (as root), or point HOME at a fresh directory: `{FRESH_HOME}`"),
                vec![
                    Cmd::new("sudo").args(["mkdir", "-p"]).arg(h).build(),
                    chown(snap, h),
                ],
            )
        } else {
            Fix::run(
                "Point HOME at a fresh directory this user owns, for this shell (in a Dockerfile or CI job: `ENV HOME=...` / `env: HOME`)",
                vec![FRESH_HOME.to_string()],
            )
        }
    };
    let home = snap.env_var("HOME").or(snap.host.user.home.as_deref());
    let Some(home) = home.filter(|h| !h.is_empty()) else {
        return vec![Hit {
            message: format!("`HOME` is not set and {who} has no home in `/etc/passwd`: pip cannot place its cache or `--user` installs, and Python's `~` stays unexpanded"),
            paths: Vec::new(),
            fix: Fix::run(
                "Point HOME at a fresh directory this user owns",
                vec![FRESH_HOME.to_string()],
            ),
            ..Default::default()
        }];
    };
    let problem = home_problem(snap);
    problem
        .map(|p| Hit {
            message: format!("HOME `{home}` {p}"),
            paths: vec![home.to_string()],
            fix: fix_for(home),
            ..Default::default()
        })
        .into_iter()
        .collect()
}

pub fn cache_readonly_filesystem(ctx: &CheckCtx) -> Vec<Hit> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    let caches = used_cache_storage(snap);
    for s in snap
        .storage
        .iter()
        .filter(|s| s.role == "tmp" || caches.iter().any(|c| std::ptr::eq(*c, *s)))
        .filter(|s| s.read_only)
    {
        let mount = s.mount_point.as_deref().unwrap_or("?");
        let fs_type = s.fs_type.as_deref().unwrap_or("?");
        let (message, fix) = if s.role == "tmp" {
            (
                format!(
                    "pip's temporary directory `{}` ({}) is on a read-only filesystem (`{mount}`, {fs_type}): every download and build fails with \"[Errno 30] Read-only file system\"",
                    s.path, s.label
                ),
                Fix::run(
                    "Point TMPDIR at a writable directory",
                    vec![
                        "mkdir -p \"$HOME/tmp\"".to_string(),
                        "export TMPDIR=\"$HOME/tmp\"".to_string(),
                    ],
                ),
            )
        } else {
            let tool = s.label.trim_end_matches(" cache");
            let then = if tool == "pip" && !is_root(snap) {
                "pip disables the cache with \"The cache has been disabled\"".to_string()
            } else {
                format!(
                    "{tool} fails with \"[Errno 30] Read-only file system\" (or \"os error 30\") as soon as it writes there"
                )
            };
            (
                format!(
                    "The {} `{}` is on a read-only filesystem (`{mount}`, {fs_type}): {then}",
                    s.label, s.path
                ),
                Fix::run(
                    format!(
                        "Point the cache at a writable directory ({})",
                        no_cache_fix(tool)
                    ),
                    fresh_cache_dir(cache_var(tool)),
                ),
            )
        };
        out.push(Hit {
            message,
            paths: vec![s.path.clone()],
            fix,
            ..Default::default()
        });
    }
    out
}

pub fn low_disk_space(ctx: &CheckCtx) -> Vec<Hit> {
    let snap = ctx.snapshot;
    let need_cache = param_u64(ctx, "cache_bytes", 700_000_000);
    let need_tmp = param_u64(ctx, "tmp_bytes", 700_000_000);
    let need_site = param_u64(ctx, "site_bytes", 2_000_000_000);
    let targets: Vec<&str> = ctx.targets().map(|t| t.prefix.as_str()).collect();
    // What an install writes, grouped by the filesystem it lands on.
    let mut by_fs: BTreeMap<u64, (u64, Vec<&Storage>)> = BTreeMap::new();
    let caches = used_cache_storage(snap);
    for s in &snap.storage {
        let need = match s.role.as_str() {
            "cache" if caches.iter().any(|c| std::ptr::eq(*c, s)) => need_cache,
            "tmp" => need_tmp,
            "site-packages"
                if s.environment
                    .as_deref()
                    .is_some_and(|e| targets.contains(&e)) =>
            {
                need_site
            }
            _ => continue,
        };
        let (Some(dev), Some(_)) = (s.device, s.free_bytes) else {
            continue;
        };
        if s.read_only {
            continue;
        }
        let slot = by_fs.entry(dev).or_insert((0, Vec::new()));
        // Several environments on one disk still install one at a time.
        if s.role == "site-packages" && slot.1.iter().any(|x| x.role == "site-packages") {
            continue;
        }
        slot.0 += need;
        slot.1.push(s);
    }
    let mut out = Vec::new();
    for (need, places) in by_fs.values() {
        let first = places[0];
        let free = first.free_bytes.unwrap_or(0);
        if free >= *need {
            continue;
        }
        let tmpfs = first.fs_type.as_deref() == Some("tmpfs");
        let what: Vec<String> = places
            .iter()
            .map(|s| match &s.environment {
                Some(e) => format!("{} of `{e}`", s.label),
                None => format!("{} `{}`", s.label, s.path),
            })
            .collect();
        let mount = first.mount_point.as_deref().unwrap_or("?");
        let fix = if places.iter().any(|s| s.role == "tmp") && (tmpfs || places.len() > 1) {
            Fix::run(
                "Point pip's temporary files at a larger disk, and free space (`pip cache purge`)",
                vec![
                    "mkdir -p /var/tmp/pip".to_string(),
                    "export TMPDIR=/var/tmp/pip".to_string(),
                ],
            )
        } else if places.iter().all(|s| s.role == "cache") {
            Fix::from("Free space (`pip cache purge`) or install without the cache: `pip install --no-cache-dir ...`")
        } else {
            Fix::from(format!("Free space on `{mount}` (`pip cache purge` clears pip's cache), or install with `--no-cache-dir`"))
        };
        out.push(Hit {
            message: format!(
                "Only {} free on `{mount}`{} ({} in all), which holds {}: a TensorFlow-sized install needs about {} there, and pip stops with \"[Errno 28] No space left on device\"",
                bytes(free),
                if tmpfs { " (tmpfs: memory)" } else { "" },
                bytes(first.total_bytes.unwrap_or(0)),
                what.join(", "),
                bytes(*need)
            ),
            paths: places.iter().map(|s| s.path.clone()).collect(),
            fix,
            ..Default::default()
        });
    }
    out
}

pub fn cache_large(ctx: &CheckCtx) -> Vec<Hit> {
    let snap = ctx.snapshot;
    let min = param_u64(ctx, "min_bytes", 1_000_000_000);
    let mut out = Vec::new();
    for c in used_caches(snap) {
        let Some(a) = &c.audit else { continue };
        if a.bytes < min {
            continue;
        }
        let (clean, docker) = match c.tool.as_str() {
            "pip" => ("pip cache purge", "pip install --no-cache-dir"),
            "uv" => ("uv cache prune", "uv pip install --no-cache"),
            "poetry" => (
                "poetry cache clear --all PyPI",
                "POETRY_CACHE_DIR=/tmp/poetry-cache poetry install",
            ),
            _ => (
                "conda clean --all",
                "conda install ... && conda clean --all -y",
            ),
        };
        let at_least = if a.bounded.is_some() { "at least " } else { "" };
        out.push(Hit {
            message: format!(
                "The {} cache `{}` holds {at_least}{} in {} entries: a Docker image that keeps it sheds that much when built with `{docker}`",
                c.tool,
                c.path,
                bytes(a.bytes),
                a.entries
            ),
            paths: vec![c.path.clone()],
            fix: Fix::run(
                format!("Clear it here; in a Dockerfile `RUN {docker} ...` (or a BuildKit cache mount: `RUN --mount=type=cache,target={} ...`)", quote(&c.path)),
                vec![clean.to_string()],
            ),
            environment: env_of(c),
            ..Default::default()
        });
    }
    out
}

/// `2024-01-05` from seconds since the epoch (UTC, proleptic Gregorian).
fn date(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    format!("{:04}-{m:02}-{d:02}", if m <= 2 { y + 1 } else { y })
}

pub fn cache_stale_built_wheels(ctx: &CheckCtx) -> Vec<Hit> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for c in used_caches(snap).into_iter().filter(|c| c.tool == "pip") {
        let Some(a) = &c.audit else { continue };
        if a.built_wheels.is_empty() {
            continue;
        }
        let mut by_project: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for w in &a.built_wheels {
            let when = w
                .mtime
                .map(|t| format!(", built {}", date(t)))
                .unwrap_or_default();
            by_project
                .entry(w.project.to_ascii_lowercase().replace('_', "-"))
                .or_default()
                .push(format!("{}{when}", w.version));
        }
        let listed: Vec<String> = by_project
            .iter()
            .take(10)
            .map(|(p, v)| format!("`{p}` ({})", v.join("; ")))
            .collect();
        let more = by_project.len().saturating_sub(listed.len());
        let first = by_project.keys().next().cloned().unwrap_or_default();
        out.push(Hit {
            message: format!(
                "pip's cache `{}` holds {} wheel(s) it built from source and reuses on every reinstall, even after the build settings changed (an environment variable such as `PYCURL_SSL_LIBRARY`, a compiler, a system library): {}{}",
                c.path,
                a.built_wheels.len(),
                listed.join(", "),
                if more > 0 { format!(" and {more} more project(s)") } else { String::new() }
            ),
            paths: a.built_wheels.iter().take(10).map(|w| w.path.clone()).collect(),
            fix: Fix::run(
                format!(
                    "When a build setting changed, drop that project's wheel (or rebuild it once: `pip install --no-cache-dir --force-reinstall {}`)",
                    quote(&first)
                ),
                vec![Cmd::new("pip").args(["cache", "remove"]).arg(&first).build()],
            ),
            environment: env_of(c),
            ..Default::default()
        });
    }
    out
}

pub fn cache_corrupt_entries(ctx: &CheckCtx) -> Vec<Hit> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for c in used_caches(snap) {
        let Some(a) = &c.audit else { continue };
        if a.corrupt_count == 0 {
            continue;
        }
        let shown: Vec<String> = a
            .corrupt
            .iter()
            .take(3)
            .map(|x| format!("`{}` ({})", x.path, x.reason))
            .collect();
        let then = match c.tool.as_str() {
            "pip" => "pip fails when it reuses them, with \"zipfile.BadZipFile: File is not a zip file\" or \"Wheel ... is invalid\"",
            "conda" => "conda fails to extract them (\"CondaVerificationError\" or a zip error)",
            _ => "installing from them fails with a zip error",
        };
        let more = if a.corrupt_count as usize > a.corrupt.len() {
            format!(
                "; `{}` clears the rest",
                match c.tool.as_str() {
                    "pip" => "pip cache purge",
                    "conda" => "conda clean --packages --tarballs",
                    "uv" => "uv cache clean",
                    _ => "rm -rf",
                }
            )
        } else {
            String::new()
        };
        out.push(Hit {
            message: format!(
                "{} archive(s) in the {} cache `{}` are empty or cut short (interrupted downloads or a full disk){}: {}; {then}",
                a.corrupt_count,
                c.tool,
                c.path,
                bounded(c),
                shown.join(", ")
            ),
            paths: a.corrupt.iter().map(|x| x.path.clone()).collect(),
            fix: Fix::run(
                format!("Delete them{more}"),
                vec![Cmd::new("rm").arg("-f").arg("--").args(a.corrupt.iter().map(|x| x.path.as_str())).build()],
            ),
            environment: env_of(c),
            ..Default::default()
        });
    }
    out
}

pub fn site_packages_not_writable(ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    let snap = ctx.snapshot;
    if it.error.is_some() || !(it.kind.is_virtual() || it.kind == Kind::Conda) {
        return Vec::new();
    }
    let Some(s) = snap
        .storage
        .iter()
        .find(|s| s.role == "site-packages" && s.environment.as_deref() == Some(&it.prefix))
    else {
        return Vec::new();
    };
    let Some(n) = s.nearest.as_ref().filter(|_| s.exists) else {
        return Vec::new();
    };
    if n.writable && !s.read_only {
        return Vec::new();
    }
    let user = user_name(snap);
    let who = user_label(snap);
    let why = if s.read_only {
        format!(
            "is on a read-only filesystem (`{}`)",
            s.mount_point.as_deref().unwrap_or("?")
        )
    } else {
        format!("is {} and not writable by {who}", describe_entry(n))
    };
    let minor = it
        .minor_version()
        .map(|(a, b)| format!("{a}.{b}"))
        .unwrap_or_else(|| "X.Y".into());
    let then = if it.kind == Kind::Conda {
        format!(
            "pip prints \"Defaulting to user installation because normal site-packages is not writeable\" and installs into `~/.local/lib/python{minor}/site-packages`, which every conda env and the system Python {minor} also import from"
        )
    } else {
        "pip cannot fall back to a `--user` install inside a venv (\"Can not perform a '--user' install. User site-packages are not visible in this virtualenv.\") and fails with \"[Errno 13] Permission denied\"".to_string()
    };
    let base = it.base_executable.as_deref().unwrap_or("PYTHON");
    let own_venv = format!("`{} -m venv \"$HOME/venvs/work\"`", quote(base));
    let fix = if s.read_only {
        Fix::from(format!(
            "Make an environment on a writable disk and install there: {own_venv}"
        ))
    } else {
        Fix::run(
            format!("Give the environment to {user}, or make one of your own: {own_venv}"),
            vec![chown(snap, &it.prefix)],
        )
    };
    vec![Hit {
        message: format!(
            "The site-packages `{}` of `{}` {why}: {then}",
            s.path, it.prefix
        ),
        paths: vec![s.path.clone()],
        fix,
        ..Default::default()
    }]
}

/// The value pip and uv use for a proxy scheme: the lowercase variable
/// wins when set (urllib's `getproxies_environment`).
fn proxy<'a>(snap: &'a Snapshot, scheme: &str) -> Option<&'a Setting> {
    let lower = format!("{scheme}_proxy");
    let upper = lower.to_ascii_uppercase();
    snap.config
        .last("proxy", &lower)
        .or_else(|| snap.config.last("proxy", &upper))
}

/// Why a proxy URL cannot be used, if it cannot.
fn proxy_url_problem(v: &str) -> Option<String> {
    let v = v.trim();
    let with_scheme = if v.contains("://") {
        v.to_string()
    } else {
        format!("http://{v}")
    };
    match url::Url::parse(&with_scheme) {
        Err(e) => Some(format!("does not parse as a URL ({e})")),
        Ok(u) if u.host_str().is_none_or(str::is_empty) => Some("has no host".into()),
        Ok(u)
            if !["http", "https", "socks5", "socks5h", "socks4", "socks4a"]
                .contains(&u.scheme()) =>
        {
            Some(format!(
                "uses the scheme `{}`, which no Python tool understands as a proxy",
                u.scheme()
            ))
        }
        Ok(_) => None,
    }
}

/// pip's secure origins: https, and plain http only to the local host.
fn is_local(host: &str) -> bool {
    host == "localhost" || host.starts_with("127.") || host == "[::1]" || host == "::1"
}

pub fn proxy_misconfigured(ctx: &CheckCtx) -> Vec<Hit> {
    let snap = ctx.snapshot;
    let cfg = &snap.config;
    let mut out = Vec::new();
    let http = proxy(snap, "http");
    let https = proxy(snap, "https");
    let all = proxy(snap, "all");
    let pip_proxy = cfg.pip("proxy", None);
    if let (Some(h), None, None, None) = (http, https, all, pip_proxy) {
        out.push(Hit {
            message: format!(
                "`{}` is set but no `https_proxy`: pip and uv fetch from https:// indexes (pypi.org), and `{}` only applies to http:// URLs, so they connect directly and time out behind a proxy",
                h.key, h.key
            ),
            paths: Vec::new(),
            fix: Fix::run(
                "Send https through the same proxy",
                vec![format!("export https_proxy=\"${k}\" HTTPS_PROXY=\"${k}\"", k = if h.key == "http_proxy" { "http_proxy" } else { "HTTP_PROXY" })],
            ),
            ..Default::default()
        });
    }
    for scheme in ["http", "https", "no", "all"] {
        let lower = format!("{scheme}_proxy");
        let upper = lower.to_ascii_uppercase();
        if let (Some(l), Some(u)) = (cfg.last("proxy", &lower), cfg.last("proxy", &upper)) {
            if l.value.trim() != u.value.trim() {
                out.push(Hit {
                    message: format!(
                        "`{lower}` (`{}`) and `{upper}` (`{}`) disagree: pip and uv use the lowercase one, while tools that read only `{upper}` go elsewhere",
                        l.value, u.value
                    ),
                    paths: Vec::new(),
                    fix: Fix::run(
                        "Set both to the same value",
                        vec![format!("export {upper}=\"${lower}\"")],
                    ),
                    ..Default::default()
                });
            }
        }
    }
    let mut urls: Vec<&Setting> = ["http", "https", "all"]
        .iter()
        .flat_map(|s| {
            let l = format!("{s}_proxy");
            [
                cfg.last("proxy", &l),
                cfg.last("proxy", &l.to_ascii_uppercase()),
            ]
        })
        .flatten()
        .collect();
    urls.extend(pip_proxy);
    for s in urls {
        if let Some(p) = proxy_url_problem(&s.value) {
            out.push(Hit {
                message: format!(
                    "The proxy `{}` from {} {p}: pip fails with \"ProxyError\" or \"Invalid URL\" before any download",
                    s.value, s.source
                ),
                paths: Vec::new(),
                fix: format!("Set it to `http://HOST:PORT` (credentials as `http://USER:PASSWORD@HOST:PORT`) where it is defined ({})", s.source).into(),
                ..Default::default()
            });
        }
    }
    // Indexes over plain http.
    let trusted: Vec<String> = cfg
        .pip("trusted-host", None)
        .map(|s| s.value.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    let mut indexes: Vec<&Setting> = Vec::new();
    indexes.extend(cfg.pip("index-url", None));
    indexes.extend(cfg.pip("extra-index-url", None));
    for s in indexes {
        for v in s.value.split_whitespace() {
            let Ok(u) = url::Url::parse(v) else { continue };
            if u.scheme() != "http" {
                continue;
            }
            let host = u.host_str().unwrap_or("");
            if is_local(host) {
                continue;
            }
            let with_port = match u.port() {
                Some(p) => format!("{host}:{p}"),
                None => host.to_string(),
            };
            let is_trusted = trusted.iter().any(|t| t == host || *t == with_port);
            let (message, fix) = if is_trusted {
                (
                    format!(
                        "pip's `{}` from {} is `{v}`, plain http: packages (and any credentials in it) travel unencrypted, which `trusted-host` allows",
                        s.key, s.source
                    ),
                    Fix::from(format!("Use the https URL of the index if it has one: `https://{with_port}{}`", u.path())),
                )
            } else {
                (
                    format!(
                        "pip's `{}` from {} is `{v}`, plain http: pip ignores it with \"The repository located at {host} is not a trusted or secure host and is being ignored\" and then finds nothing to install",
                        s.key, s.source
                    ),
                    Fix::run(
                        format!("Use `https://{with_port}{}`, or if the index has no TLS, trust it", u.path()),
                        vec![Cmd::new("pip").args(["config", "set", "global.trusted-host"]).arg(host).build()],
                    ),
                )
            };
            out.push(Hit {
                message,
                paths: Vec::new(),
                fix,
                ..Default::default()
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_sizes() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(1_704_412_800), "2024-01-05");
        assert_eq!(bytes(2_500_000_000), "2.5 GB");
    }

    #[test]
    fn proxy_urls() {
        assert_eq!(proxy_url_problem("proxy.corp:3128"), None);
        assert_eq!(proxy_url_problem("http://***:***@proxy:3128"), None);
        assert!(proxy_url_problem("http://proxy:port").is_some());
        assert!(proxy_url_problem("ftp://proxy:21").is_some());
    }
}
