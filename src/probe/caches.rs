//! Package caches: where pip, uv, poetry and conda keep them (resolved the
//! way each tool does, with where the setting came from), and an audit of
//! the whole tree for the judged user. pip's own check looks only at the
//! first existing ancestor of its cache dir, so a root-owned `http/` or
//! `wheels/` left by `sudo pip` passes it and fails later; the walk sees it.

use super::disk::{nearest_existing, reachable, Judge};
use super::Ctx;
use crate::fs::{display, normpath};
use crate::snapshot::{Audit, BuiltWheel, CacheDir, Config, Corrupt, Interpreter, Sample};
use rayon::prelude::*;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The walk of one cache stops after this many entries...
pub const MAX_ENTRIES: u64 = 200_000;
/// ...or after this long, and says so.
pub const MAX_TIME: Duration = Duration::from_secs(8);
/// Archives whose end is read to check they are whole.
const MAX_ARCHIVES: u64 = 20_000;
/// Examples kept per kind of problem.
const SAMPLE: usize = 5;
/// Built wheels listed.
const MAX_BUILT: usize = 200;

pub fn probe(
    ctx: &Ctx,
    judge: &Judge,
    cfg: &Config,
    interpreters: &[Interpreter],
) -> Vec<CacheDir> {
    let mut caches = resolve(ctx, cfg, interpreters);
    // One walk budget for all caches together, and a tree reached by
    // several names (40 `pkgs_dirs` linking to one directory) walked once.
    let budget = WalkBudget::new(MAX_ENTRIES, MAX_TIME);
    let mut roots: Vec<Option<(u64, u64)>> = Vec::new();
    let mut first_of: Vec<Option<usize>> = Vec::new();
    for (i, c) in caches.iter().enumerate() {
        use std::os::unix::fs::MetadataExt;
        let id = ctx
            .fs
            .metadata(Path::new(&c.path))
            .ok()
            .map(|m| (m.dev(), m.ino()));
        let first = id.and_then(|id| roots.iter().position(|r| *r == Some(id)));
        first_of.push(first.filter(|&f| f != i));
        roots.push(id);
    }
    caches.par_iter_mut().enumerate().for_each(|(i, c)| {
        let path = PathBuf::from(&c.path);
        let near = nearest_existing(ctx, &path);
        c.exists = near.as_ref().is_some_and(|(p, m)| *p == path && m.is_dir());
        c.reachable = near.as_ref().is_some_and(|(p, _)| reachable(ctx, judge, p));
        c.nearest = near.as_ref().map(|(p, m)| judge.entry(p, m));
        // A conda package cache the user cannot write is a shared, read-only
        // source for conda (often huge): conda writes elsewhere, so it is
        // not walked.
        let shared_conda = c.tool == "conda" && !c.nearest.as_ref().is_some_and(|n| n.writable);
        if c.exists && !shared_conda && first_of[i].is_none() {
            c.audit = Some(audit(ctx, judge, &c.tool, &path, &budget));
        }
    });
    // The other names of one tree share its walk.
    for (i, first) in first_of.iter().enumerate() {
        if let Some(f) = *first {
            if caches[i].audit.is_none() && caches[i].exists {
                caches[i].audit = caches[f].audit.clone();
            }
        }
    }
    caches
}

/// What the cache walks of one run may do together: entries and time.
pub struct WalkBudget {
    left: std::sync::atomic::AtomicU64,
    max: u64,
    deadline: Instant,
    max_time: Duration,
}

impl WalkBudget {
    pub fn new(max_entries: u64, max_time: Duration) -> WalkBudget {
        WalkBudget {
            left: std::sync::atomic::AtomicU64::new(max_entries),
            max: max_entries,
            deadline: Instant::now() + max_time,
            max_time,
        }
    }

    /// Takes one entry; false when the budget is spent.
    fn take(&self) -> bool {
        use std::sync::atomic::Ordering;
        self.left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| l.checked_sub(1))
            .is_ok()
    }
}

/// `~` and relative paths as pip's `normalize_path` treats them.
fn expand(ctx: &Ctx, v: &str) -> PathBuf {
    let p = match (v.strip_prefix('~'), ctx.home()) {
        (Some(rest), Some(h)) if rest.is_empty() || rest.starts_with('/') => {
            h.join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(v),
    };
    normpath(&ctx.cwd.join(p))
}

/// `$XDG_CACHE_HOME/<name>` or `~/.cache/<name>` (platformdirs), with the
/// source it came from.
fn xdg_cache(ctx: &Ctx, name: &str) -> Option<(PathBuf, String)> {
    match ctx
        .var("XDG_CACHE_HOME")
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        Some(x) => Some((
            expand(ctx, x).join(name),
            format!("default: $XDG_CACHE_HOME/{name}"),
        )),
        None => ctx.home().map(|h| {
            (
                h.join(".cache").join(name),
                format!("default: ~/.cache/{name}"),
            )
        }),
    }
}

fn push(
    out: &mut Vec<CacheDir>,
    tool: &str,
    path: PathBuf,
    source: String,
    disabled: Option<String>,
    env: Option<&str>,
) {
    let p = display(&path);
    if let Some(c) = out.iter_mut().find(|c| c.tool == tool && c.path == p) {
        if let Some(e) = env {
            if !c.environments.is_empty() && !c.environments.iter().any(|x| x == e) {
                c.environments.push(e.to_string());
            }
        } else {
            c.environments.clear();
        }
        return;
    }
    out.push(CacheDir {
        tool: tool.into(),
        path: p,
        source,
        disabled_by: disabled,
        environments: env.map(|e| vec![e.to_string()]).unwrap_or_default(),
        exists: false,
        nearest: None,
        reachable: false,
        audit: None,
    });
}

fn describe_source(s: &crate::snapshot::Setting) -> String {
    match &s.section {
        Some(sec) => format!("{} [{sec}] {}", s.source, s.key),
        None => s.source.clone(),
    }
}

fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on" | "y" | "t"
    )
}

/// Every cache, resolved as its tool resolves it.
pub fn resolve(ctx: &Ctx, cfg: &Config, interpreters: &[Interpreter]) -> Vec<CacheDir> {
    let mut out = Vec::new();
    // pip: once for every environment, and again for each environment whose
    // own `pip.conf` says something about the cache.
    let mut scopes: Vec<Option<&str>> = vec![None];
    for f in &cfg.files {
        if f.tool == "pip" && f.role == "site" {
            scopes.push(f.environment.as_deref());
        }
    }
    let _ = interpreters;
    for env in scopes {
        let (path, source) = match cfg.pip("cache-dir", env) {
            Some(s) => (expand(ctx, &s.value), describe_source(s)),
            None => match xdg_cache(ctx, "pip") {
                Some(x) => x,
                None => continue,
            },
        };
        // pip turns the cache off for any valid value of `no-cache-dir`,
        // even `false` (kept for backwards compatibility).
        let disabled = cfg
            .pip("no-cache-dir", env)
            .map(|s| format!("{} = {}", describe_source(s), s.value));
        push(&mut out, "pip", path, source, disabled, env);
    }
    // uv: `UV_CACHE_DIR` / `cache-dir`, else the XDG default. Listed when it
    // exists or is configured: a machine without uv has nothing to judge.
    let uv_disabled = cfg
        .last("uv", "no-cache")
        .filter(|s| truthy(&s.value))
        .map(|s| format!("{} = {}", s.source, s.value));
    for (tool, xdg_name, disabled) in [("uv", "uv", uv_disabled), ("poetry", "pypoetry", None)] {
        match cfg.last(tool, "cache-dir") {
            Some(s) => push(
                &mut out,
                tool,
                expand(ctx, &s.value),
                s.source.clone(),
                disabled,
                None,
            ),
            None => {
                if let Some((p, src)) = xdg_cache(ctx, xdg_name).filter(|(p, _)| ctx.fs.is_dir(p)) {
                    push(&mut out, tool, p, src, disabled, None);
                }
            }
        }
    }
    // conda: `CONDA_PKGS_DIRS` replaces the list; otherwise the files' lists,
    // highest precedence first; otherwise `<root>/pkgs` and `~/.conda/pkgs`.
    // conda uses the first writable one.
    let items: Vec<&crate::snapshot::Setting> = cfg
        .settings
        .iter()
        .filter(|s| s.tool == "conda" && s.key == "pkgs_dirs")
        .collect();
    let from_env: Vec<_> = items
        .iter()
        .filter(|s| s.source == "CONDA_PKGS_DIRS")
        .collect();
    if !from_env.is_empty() {
        for s in from_env {
            push(
                &mut out,
                "conda",
                expand(ctx, &s.value),
                s.source.clone(),
                None,
                None,
            );
        }
    } else if !items.is_empty() {
        // Later files have higher precedence; within one file keep order.
        let mut files: Vec<&str> = Vec::new();
        for s in &items {
            if !files.contains(&s.source.as_str()) {
                files.push(&s.source);
            }
        }
        for f in files.iter().rev() {
            for s in items.iter().filter(|s| s.source == *f) {
                push(
                    &mut out,
                    "conda",
                    expand(ctx, &s.value),
                    s.source.clone(),
                    None,
                    None,
                );
            }
        }
    } else {
        let roots = super::config::conda_roots(ctx, interpreters);
        if !roots.is_empty() {
            for r in roots {
                push(
                    &mut out,
                    "conda",
                    r.join("pkgs"),
                    "default: <conda root>/pkgs".into(),
                    None,
                    None,
                );
            }
            if let Some(h) = ctx.home() {
                push(
                    &mut out,
                    "conda",
                    h.join(".conda/pkgs"),
                    "default: ~/.conda/pkgs".into(),
                    None,
                    None,
                );
            }
        }
    }
    out
}

/// The path as seen inside the root, from a host path under it.
fn inside(ctx: &Ctx, host: &Path) -> PathBuf {
    match host.strip_prefix(ctx.fs.root()) {
        Ok(rel) if !ctx.fs.is_host_root() => Path::new("/").join(rel),
        _ => host.to_path_buf(),
    }
}

/// Counts an entry and keeps it as an example unless it lies inside the
/// last example kept (depth-first order): `wheels/` says more than the
/// hundred files below it, and the next sibling tree gets a place too.
fn add(
    sample: &mut Sample,
    covered: &mut Option<PathBuf>,
    host: &Path,
    e: impl FnOnce() -> crate::snapshot::Entry,
) {
    sample.count += 1;
    if covered.as_ref().is_some_and(|c| host.starts_with(c)) {
        return;
    }
    *covered = Some(host.to_path_buf());
    if sample.first.len() < SAMPLE {
        sample.first.push(e());
    }
}

/// Walks the whole tree (not following links), bounded in entries and time.
pub fn audit(ctx: &Ctx, judge: &Judge, tool: &str, path: &Path, budget: &WalkBudget) -> Audit {
    let mut a = Audit::default();
    let host = match ctx.fs.canonicalize(path) {
        Ok(c) => ctx.fs.host(&c),
        Err(_) => ctx.fs.host_resolved_lenient(path),
    };
    let wheels_dir = host.join("wheels");
    let mut archives = 0u64;
    let (mut covered_owner, mut covered_blocked) = (None, None);
    let walker = walkdir::WalkDir::new(&host)
        .follow_links(false)
        .same_file_system(false)
        .sort_by_file_name();
    for item in walker {
        if !budget.take() {
            a.bounded = Some(format!(
                "stopped after {} entries (all caches together)",
                budget.max
            ));
            break;
        }
        if a.entries % 512 == 0 && Instant::now() > budget.deadline {
            a.bounded = Some(format!(
                "stopped after {} s for all caches ({} entries here)",
                budget.max_time.as_secs(),
                a.entries
            ));
            break;
        }
        let Ok(item) = item else {
            // Unlistable directories are already counted as unreadable.
            continue;
        };
        let Ok(meta) = item.metadata() else { continue };
        a.entries += 1;
        let shown = || inside(ctx, item.path());
        let entry = || judge.entry(&shown(), &meta);
        if Some(meta.uid()) != judge.uid() {
            *a.owners.entry(meta.uid()).or_default() += 1;
            add(&mut a.other_owner, &mut covered_owner, item.path(), entry);
        }
        let e = judge.entry(Path::new(""), &meta);
        if !e.readable || (meta.is_dir() && !e.writable) {
            if Some(meta.uid()) != judge.uid() {
                a.blocked_other_owner += 1;
            }
            add(&mut a.blocked, &mut covered_blocked, item.path(), entry);
        }
        if !meta.is_file() {
            continue;
        }
        a.bytes += meta.len();
        let name = item.file_name().to_string_lossy();
        let is_archive = name.ends_with(".whl") || name.ends_with(".conda");
        if is_archive && archives < MAX_ARCHIVES {
            archives += 1;
            if let Some(reason) = zip_problem(item.path(), meta.len()) {
                a.corrupt_count += 1;
                if a.corrupt.len() < SAMPLE * 4 {
                    a.corrupt.push(Corrupt {
                        path: display(&shown()),
                        size: meta.len(),
                        reason,
                    });
                }
            }
        }
        if tool == "pip"
            && name.ends_with(".whl")
            && item.path().starts_with(&wheels_dir)
            && a.built_wheels.len() < MAX_BUILT
        {
            let stem = name.trim_end_matches(".whl");
            let mut parts = stem.split('-');
            if let (Some(project), Some(version)) = (parts.next(), parts.next()) {
                a.built_wheels.push(BuiltWheel {
                    project: project.to_string(),
                    version: version.to_string(),
                    path: display(&shown()),
                    mtime: Some(meta.mtime()),
                });
            }
        }
    }
    a
}

const EOCD: &[u8] = b"PK\x05\x06";
const EOCD_LEN: u64 = 22;
/// An EOCD record sits within the last 22 + 65535 (comment) bytes.
const EOCD_SEARCH: u64 = EOCD_LEN + 65_535;

/// Why an archive cannot be a whole zip file, if it cannot: read only its
/// end (bounded), find the end-of-central-directory record, and check that
/// the central directory it points to lies inside the file.
pub fn zip_problem(host: &Path, len: u64) -> Option<String> {
    if len == 0 {
        return Some("empty (0 bytes)".into());
    }
    if len < EOCD_LEN {
        return Some(format!(
            "truncated ({len} bytes, smaller than any zip file)"
        ));
    }
    // Most wheels have no archive comment: the record is the last 22 bytes.
    let mut tail = crate::fs::read_tail_host(host, 1024).ok()?;
    let mut pos = find_eocd(&tail);
    if pos.is_none() && len > 1024 {
        tail = crate::fs::read_tail_host(host, EOCD_SEARCH).ok()?;
        pos = find_eocd(&tail);
    }
    let Some(pos) = pos else {
        return Some(
            "truncated: no end-of-central-directory record (an interrupted download)".into(),
        );
    };
    let rec = &tail[pos..];
    let u32_at = |o: usize| u32::from_le_bytes([rec[o], rec[o + 1], rec[o + 2], rec[o + 3]]);
    let cd_size = u64::from(u32_at(12));
    let cd_offset = u64::from(u32_at(16));
    let eocd_at = len - (tail.len() - pos) as u64;
    // ZIP64 archives keep the real values elsewhere; the 32-bit fields are
    // then 0xFFFFFFFF and say nothing.
    if cd_size == 0xFFFF_FFFF || cd_offset == 0xFFFF_FFFF {
        return None;
    }
    if cd_offset + cd_size > eocd_at {
        return Some(format!(
            "truncated: its central directory ends at byte {} but the file has {len}",
            cd_offset + cd_size + (len - eocd_at)
        ));
    }
    None
}

fn find_eocd(tail: &[u8]) -> Option<usize> {
    if tail.len() < EOCD_LEN as usize {
        return None;
    }
    (0..=tail.len() - EOCD_LEN as usize)
        .rev()
        .find(|&i| &tail[i..i + 4] == EOCD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_is_bounded_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..40 {
            std::fs::write(dir.path().join(format!("f{i}")), b"x").unwrap();
        }
        let ctx = Ctx::new(&super::super::Options::default()).unwrap();
        let judge = Judge::new(&ctx);
        let a = audit(
            &ctx,
            &judge,
            "pip",
            dir.path(),
            &WalkBudget::new(10, MAX_TIME),
        );
        assert_eq!(a.entries, 10);
        assert_eq!(
            a.bounded.as_deref(),
            Some("stopped after 10 entries (all caches together)")
        );
        let a = audit(
            &ctx,
            &judge,
            "pip",
            dir.path(),
            &WalkBudget::new(MAX_ENTRIES, MAX_TIME),
        );
        assert_eq!((a.entries, a.bytes, a.bounded), (41, 40, None));
    }

    #[test]
    fn zip_checks_end_record_and_central_directory() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("a-1.0-py3-none-any.whl");
        {
            let f = std::fs::File::create(&good).unwrap();
            let mut z = zip::ZipWriter::new(f);
            // Stored, as the test cuts holes by offset into the data.
            let stored = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored);
            z.start_file("a/__init__.py", stored).unwrap();
            std::io::Write::write_all(&mut z, &[b'x'; 5000]).unwrap();
            z.finish().unwrap();
        }
        let len = std::fs::metadata(&good).unwrap().len();
        assert_eq!(zip_problem(&good, len), None);
        let bytes = std::fs::read(&good).unwrap();
        let cut = dir.path().join("cut.whl");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        assert!(zip_problem(&cut, (bytes.len() / 2) as u64)
            .unwrap()
            .contains("no end-of-central-directory"));
        // The record survives but the middle is gone: the directory points
        // past the end of what is left.
        let mut holed = bytes[..100].to_vec();
        holed.extend_from_slice(&bytes[bytes.len() - 200..]);
        let h = dir.path().join("holed.whl");
        std::fs::write(&h, &holed).unwrap();
        assert!(zip_problem(&h, holed.len() as u64)
            .unwrap()
            .contains("central directory"));
        let empty = dir.path().join("e.whl");
        std::fs::write(&empty, b"").unwrap();
        assert!(zip_problem(&empty, 0).unwrap().contains("empty"));
    }
}
