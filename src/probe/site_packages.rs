//! Site directories as pip and importlib see them: every distribution's
//! metadata (`*.dist-info`, `*.egg-info`, `*.egg-link`, `.egg`), `.pth` files,
//! `~` leftovers, and the top-level import names each directory provides.
//!
//! Everything is read through [`Fs`](crate::fs::Fs) with a bound: a METADATA
//! whose headers do not end within the scanned [`MAX_METADATA_SCAN`] is a problem of that
//! distribution, not a crash. Nothing is imported or executed: a `.pth`
//! `import` line is counted, an `__editable__` finder is read as text.

use super::Ctx;
use crate::fs::{display, EntryType, OpenDir};
use crate::redact;
use crate::snapshot::{
    DistFormat, Distribution, Editable, Interpreter, Module, ModuleKind, Origin, PthDir, PthFile,
    SharedFiles, SiteDir,
};
use rayon::prelude::*;
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::OnceLock;

/// Core metadata headers end long before this; the body (the long
/// description) is not needed and not read.
pub const MAX_METADATA: u64 = 512 << 10;
/// How far the headers are scanned for the end of a huge one (an old
/// PKG-INFO whose `Description:` is folded over megabytes): pip and uv read
/// the Requires-Dist after it, so envdoctor does too, keeping only the
/// headers it uses ([`KEPT`]), each at most [`MAX_METADATA`].
const MAX_METADATA_SCAN: u64 = 16 << 20;
const KEPT: &[&str] = &["name", "version", "requires-dist", "requires-python"];
/// What is read first of a METADATA; more only when the headers go on.
const METADATA_FIRST: u64 = 16 << 10;
/// TensorFlow's RECORD is about 2 MB; anything far past that is not a RECORD.
const MAX_RECORD: u64 = 32 << 20;
/// Small files: INSTALLER, WHEEL, direct_url.json, top_level.txt, egg-link.
const MAX_SMALL: u64 = 64 << 10;
/// Shared files listed per group of overlapping distributions.
const SHARED_EXAMPLES: usize = 5;

/// Reads the site dirs on the sys.path of the interpreters `targets`
/// (indexes into `interpreters`), each directory once, in parallel. Returns
/// them in first-seen order, and the `EXTERNALLY-MANAGED` markers found in
/// those interpreters' standard libraries.
pub fn probe(
    ctx: &Ctx,
    interpreters: &[Interpreter],
    targets: &[usize],
) -> (Vec<SiteDir>, Vec<String>) {
    let mut seen = HashMap::new();
    let mut dirs: Vec<(PathBuf, bool)> = Vec::new();
    let mut markers = BTreeSet::new();
    for it in targets.iter().filter_map(|&i| interpreters.get(i)) {
        let mut marked = false;
        for e in it.sys_path.iter().chain(&it.runtime_sys_path) {
            if e.origin == Origin::Stdlib {
                // The stdlib dir proper (`lib/python3.11`), not the zip or lib-dynload.
                let p = Path::new(&e.path);
                let is_std = p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("python") && !n.ends_with(".zip"));
                let marker = p.join("EXTERNALLY-MANAGED");
                if is_std && e.exists && ctx.fs.is_file(&marker) {
                    markers.insert(display(&marker));
                    marked = true;
                }
                continue;
            }
            if e.exists && !seen.contains_key(&e.path) {
                seen.insert(e.path.clone(), dirs.len());
                dirs.push((PathBuf::from(&e.path), false));
            }
        }
        if marked || it.conda.is_some() {
            // INSTALLER matters in every dir of an interpreter whose stdlib
            // is EXTERNALLY-MANAGED (pip-into-system-python, the OS-owned
            // dependency findings) and of a conda env (its records probe and
            // pip-in-conda rules), also in dirs another interpreter listed
            // first.
            for e in &it.sys_path {
                if let Some(&i) = seen.get(&e.path) {
                    dirs[i].1 = true;
                }
            }
        }
    }
    let mut site_dirs: Vec<SiteDir> = dirs
        .par_iter()
        .map(|(d, installer)| read_site_dir(ctx, d, *installer || !ctx.rule_facts_only))
        .collect();
    if site_dirs.iter().any(|d| !d.kind_unread.is_empty()) {
        read_kinds_that_matter(ctx, interpreters, &seen, &mut site_dirs);
    }
    (site_dirs, markers.into_iter().collect())
}

/// Reads the kind of every directory module that `check` left unread
/// ([`SiteDir::kind_unread`]) and that has another copy on the sys.path of
/// some interpreter (in another directory, or in the same one as a module
/// file): only there does a package differ from a namespace portion for a
/// rule (which copy `import` loads, which one shadows). A name with one copy
/// is loaded from it whatever it is, so its directory is not looked into:
/// that was a stat per top-level package, a tenth of a `check --all`.
fn read_kinds_that_matter(
    ctx: &Ctx,
    interpreters: &[Interpreter],
    index: &HashMap<String, usize>,
    site_dirs: &mut [SiteDir],
) {
    let mut todo: BTreeSet<(usize, u32)> = BTreeSet::new();
    let mut count: rustc_hash::FxHashMap<&str, u32> = Default::default();
    for it in interpreters {
        // As the rules' layers see it: `--exec`'s sys.path, or the static one.
        for list in [&it.sys_path, &it.runtime_sys_path] {
            let on_path: Vec<usize> = list
                .iter()
                .filter(|e| e.origin != Origin::Stdlib)
                .filter_map(|e| index.get(&e.path).copied())
                .collect();
            if !on_path
                .iter()
                .any(|&i| !site_dirs[i].kind_unread.is_empty())
            {
                continue;
            }
            count.clear();
            for &i in &on_path {
                for m in &site_dirs[i].modules {
                    *count.entry(m.name.as_str()).or_default() += 1;
                }
            }
            for &i in &on_path {
                let d = &site_dirs[i];
                todo.extend(
                    d.kind_unread
                        .iter()
                        .filter(|&&k| count[d.modules[k as usize].name.as_str()] > 1)
                        .map(|&k| (i, k)),
                );
            }
        }
    }
    let todo: Vec<(usize, u32)> = todo.into_iter().collect();
    let kinds: Vec<ModuleKind> = todo
        .par_iter()
        .map(|&(i, k)| {
            let d = &site_dirs[i];
            package_kind(ctx, &Path::new(&d.path).join(&d.modules[k as usize].file))
        })
        .collect();
    for (&(i, k), kind) in todo.iter().zip(kinds) {
        site_dirs[i].modules[k as usize].kind = kind;
    }
    // One pass per directory (`todo` is sorted): removing each index on
    // its own was quadratic when thousands of names have a second copy.
    for d in todo.chunk_by(|a, b| a.0 == b.0) {
        let read: Vec<u32> = d.iter().map(|&(_, k)| k).collect();
        site_dirs[d[0].0]
            .kind_unread
            .retain(|k| read.binary_search(k).is_err());
    }
}

/// A directory on sys.path under an importable name: a package when it has
/// an `__init__` (source, bytecode or extension), else a namespace portion.
fn package_kind(ctx: &Ctx, dir: &Path) -> ModuleKind {
    let has_init = ["__init__.py", "__init__.pyc"]
        .iter()
        .any(|i| ctx.fs.is_file(&dir.join(i)));
    package_or_namespace(has_init || has_extension_init(ctx, dir))
}

fn package_or_namespace(has_init: bool) -> ModuleKind {
    if has_init {
        ModuleKind::Package
    } else {
        ModuleKind::Namespace
    }
}

/// What one directory entry is.
enum Entry {
    /// The flag: a plain directory (not reached through a symlink), which
    /// can be opened relative to the site dir.
    Dist(PathBuf, DistFormat, bool),
    Pth(PathBuf),
    Leftover(String),
    /// The flag: a directory whose kind was not read ([`SiteDir::kind_unread`]).
    Module(Module, bool),
}

/// `installer`: read each distribution's INSTALLER (always, unless
/// [`Ctx::rule_facts_only`]: see [`probe`] for who reads it).
pub fn read_site_dir(ctx: &Ctx, dir: &Path, installer: bool) -> SiteDir {
    let mut out = SiteDir {
        path: display(dir),
        ..Default::default()
    };
    if !ctx.fs.is_dir(dir) {
        // A zipped egg on sys.path (easy-install.pth names them): Python
        // imports from it through zipimport, and importlib.metadata reads
        // its EGG-INFO; so does envdoctor, with bounded reads.
        if ctx.fs.is_file(dir) && dir.extension().is_some_and(|e| e == "egg") {
            read_zipped_egg(ctx, dir, &mut out);
        }
        return out;
    }
    // Held open: the metadata dirs inside are opened relative to it. The
    // listing is sys.path's computation's, when it listed the dir.
    let handle = ctx.fs.open_dir(dir).ok();
    let names = match ctx.site_listing(dir) {
        Ok(n) => n,
        Err(e) => {
            out.error = Some(format!("cannot list: {e}"));
            ctx.note(dir, format!("cannot list this sys.path directory: {e}"));
            return out;
        }
    };
    // Where each name stands in the directory's own listing: with two
    // metadata dirs of one project, `importlib.metadata` and pip take the
    // first one listed, not the first in sorted order. Visited sorted.
    let mut order: Vec<u32> = (0..names.len() as u32).collect();
    // On both cores: 20,000 names took 2 ms on one.
    order.par_sort_unstable_by(|&a, &b| names[a as usize].0.cmp(&names[b as usize].0));
    let mut non_utf8 = 0usize;
    let mut entries: Vec<(Option<u32>, Entry)> = Vec::new();
    if dir.extension().is_some_and(|e| e == "egg") {
        let info = dir.join("EGG-INFO");
        if ctx.fs.is_dir(&info) {
            let listing = names.iter().position(|(n, _)| n == "EGG-INFO");
            entries.push((
                listing.map(|i| i as u32),
                Entry::Dist(info, DistFormat::Egg, false),
            ));
        }
    }
    let classified: Vec<Option<Entry>> = order
        .par_iter()
        .map(|&i| {
            let (name, t) = &names[i as usize];
            classify(ctx, dir, handle.as_ref(), name, *t)
        })
        .collect();
    for (&i, e) in order.iter().zip(classified) {
        if names[i as usize].0.to_str().is_none() {
            non_utf8 += 1;
            continue;
        }
        entries.extend(e.map(|e| (Some(i), e)));
    }
    if non_utf8 > 0 {
        ctx.note(
            dir,
            format!("{non_utf8} entr(ies) with a name that is not UTF-8 were skipped (Python cannot import them either)"),
        );
    }

    let mut dist_paths = Vec::new();
    for (listing, e) in entries {
        match e {
            Entry::Dist(p, f, plain) => dist_paths.push((p, f, plain, listing)),
            Entry::Pth(p) => out.pth_files.push(read_pth(ctx, dir, &p)),
            Entry::Leftover(n) => out.leftovers.push(n),
            Entry::Module(m, unread) => {
                if unread {
                    out.kind_unread.push(out.modules.len() as u32);
                }
                out.modules.push(m)
            }
        }
    }
    // Unzipped as read, each distribution written once where it stays
    // (moving ten thousand of them after was a millisecond on one core).
    // Exactly sized (grown by doubling, each copied its ~430-byte
    // distributions at every step and kept up to twice the room).
    let mut files_of: Vec<FileList> = Vec::new();
    dist_paths
        .par_iter()
        .map(|(p, f, plain, listing)| {
            let (mut d, files) = read_distribution(
                ctx,
                dir,
                p,
                *f,
                handle.as_ref().filter(|_| *plain),
                installer,
            );
            d.listing = *listing;
            (d, files)
        })
        .unzip_into_vecs(&mut out.distributions, &mut files_of);
    attach_editable_finders(ctx, dir, &mut out);
    out.own_versions = super::version_files::read(ctx, dir, &out.modules);
    (out.gpu_builds, out.cuda_libs) = super::gpu::site(ctx, dir, &out.modules);
    out.shared_files = shared_files(&out.distributions, &files_of);
    out
}

fn classify(
    ctx: &Ctx,
    dir: &Path,
    handle: Option<&OpenDir>,
    name: &OsString,
    t: EntryType,
) -> Option<Entry> {
    let n = name.to_str()?;
    let path = dir.join(name);
    if n.starts_with('~') {
        return Some(Entry::Leftover(n.to_string()));
    }
    if n.starts_with('.') || n == "__pycache__" {
        return None;
    }
    if n.ends_with(".pth") {
        return Some(Entry::Pth(path));
    }
    let plain_dir = t == EntryType::Dir;
    // Only symlinks need a stat: the listing says what everything else is.
    let t = match t {
        EntryType::Symlink => match ctx.fs.metadata(&path) {
            Ok(m) if m.is_dir() => EntryType::Dir,
            Ok(m) if m.is_file() => EntryType::File,
            Ok(_) => EntryType::Other,
            Err(e) => {
                ctx.note(&path, format!("cannot follow: {e}"));
                return None;
            }
        },
        t => t,
    };
    let is_dir = t == EntryType::Dir;
    let is_file = t == EntryType::File;
    if n.ends_with(".dist-info") && is_dir {
        return Some(Entry::Dist(path, DistFormat::DistInfo, plain_dir));
    }
    if n.ends_with(".egg-info") {
        return Some(Entry::Dist(
            path,
            if is_dir {
                DistFormat::EggInfo
            } else {
                DistFormat::EggInfoFile
            },
            false,
        ));
    }
    if n.ends_with(".egg-link") && is_file {
        return Some(Entry::Dist(path, DistFormat::EggLink, false));
    }
    if is_dir {
        if !is_identifier(n) {
            return None;
        }
        // `check` reads the kind later, where a rule can tell the difference
        // (see `read_kinds_that_matter`); the packages whose own files
        // carry a version are read now, for `version_files`.
        if ctx.rule_facts_only
            && !crate::knowledge::version_files()
                .iter()
                .any(|f| f.import == n)
        {
            let m = Module {
                name: n.to_string(),
                kind: ModuleKind::Package,
                file: n.to_string(),
            };
            return Some(Entry::Module(m, true));
        }
        // On the host root a stat relative to the open site dir follows
        // links as `is_file` does; inside `--root` links need `Fs`.
        let kind = match handle {
            Some(h) if plain_dir && ctx.fs.is_host_root() => {
                let has_init = ["__init__.py", "__init__.pyc"]
                    .iter()
                    .any(|i| h.has_file_in(name, i));
                package_or_namespace(has_init || has_extension_init(ctx, &path))
            }
            _ => package_kind(ctx, &path),
        };
        let m = Module {
            name: n.to_string(),
            kind,
            file: n.to_string(),
        };
        return Some(Entry::Module(m, false));
    }
    if !is_file {
        return None;
    }
    let (stem, kind) = if let Some(s) = n.strip_suffix(".py") {
        (s, ModuleKind::Module)
    } else if let Some(s) = n.strip_suffix(".pyc") {
        (s, ModuleKind::Module)
    } else if let Some(s) = n.strip_suffix(".so") {
        (s.split('.').next().unwrap_or(s), ModuleKind::Extension)
    } else {
        return None;
    };
    if !is_identifier(stem) || (kind == ModuleKind::Module && stem.contains('.')) {
        return None;
    }
    Some(Entry::Module(
        Module {
            name: stem.to_string(),
            kind,
            file: n.to_string(),
        },
        false,
    ))
}

/// A package whose `__init__` is an extension module (rare; Cython builds).
fn has_extension_init(ctx: &Ctx, pkg: &Path) -> bool {
    // Only worth a listing when there is no `__init__.py`: most dirs without
    // one are namespace portions or data.
    ctx.fs.read_dir_names(pkg).is_ok_and(|names| {
        names.iter().any(|n| {
            n.to_str()
                .is_some_and(|n| n.starts_with("__init__.") && n.ends_with(".so"))
        })
    })
}

pub fn is_identifier(s: &str) -> bool {
    // ASCII (nearly every name) byte by byte; `char::is_alphabetic` and
    // `is_alphanumeric` agree with the ASCII tests there.
    if s.is_ascii() {
        let b = s.as_bytes();
        return matches!(b.first(), Some(f) if *f == b'_' || f.is_ascii_alphabetic())
            && b.iter().all(|c| *c == b'_' || c.is_ascii_alphanumeric());
    }
    let mut c = s.chars();
    matches!(c.next(), Some(f) if f == '_' || f.is_alphabetic())
        && c.all(|c| c == '_' || c.is_alphanumeric())
}

fn read_pth(ctx: &Ctx, dir: &Path, pth: &Path) -> PthFile {
    let mut out = PthFile {
        path: display(pth),
        ..Default::default()
    };
    let text = match ctx.fs.read_text_limited(pth, crate::fs::MAX_TEXT) {
        Ok((t, _)) => t,
        Err(e) => {
            out.error = Some(e.to_string());
            ctx.note(pth, format!("cannot read .pth file: {e}"));
            return out;
        }
    };
    for (n, line) in text.lines().enumerate() {
        if n >= super::site::MAX_PTH_LINES {
            out.error = Some(format!(
                "only its first {} lines were read",
                super::site::MAX_PTH_LINES
            ));
            break;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if line.starts_with("import ") || line.starts_with("import\t") {
            out.import_lines += 1;
            continue;
        }
        let p = crate::fs::normpath(&dir.join(line.trim_end()));
        out.dirs.push(PthDir {
            exists: ctx.fs.exists(&p),
            path: display(&p),
        });
    }
    out
}

/// The files of one metadata directory. When it is a plain directory of an
/// open site dir, its files are opened relative to that (the kernel walks two
/// names, not the whole path, and no handle per distribution is needed). A
/// symlinked file, or a directory without that handle, is read by path
/// through [`Fs`](crate::fs::Fs), which keeps links inside the root.
struct Files<'a> {
    ctx: &'a Ctx,
    dir: &'a Path,
    /// The open site dir and this directory's name in it.
    rel: Option<(&'a OpenDir, &'a std::ffi::OsStr)>,
}

impl<'a> Files<'a> {
    fn by_path(ctx: &'a Ctx, dir: &'a Path) -> Self {
        Files {
            ctx,
            dir,
            rel: None,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// [`display`] of [`Files::path`]: the directory's shown path, a `/`,
    /// the name (one allocation instead of three).
    fn shown(&self, name: &str) -> String {
        match self.dir.to_str() {
            Some(d) if !d.is_empty() && !d.ends_with('/') => {
                let mut s = String::with_capacity(d.len() + 1 + name.len());
                s.push_str(d);
                s.push('/');
                s.push_str(name);
                s
            }
            _ => display(&self.path(name)),
        }
    }

    fn read_head(&self, name: &str, max: u64) -> std::io::Result<Vec<u8>> {
        let mut buf = Vec::new();
        self.read_into(name, max, &mut buf)?;
        Ok(buf)
    }

    /// Up to `max` bytes of `name` into `buf` (cleared first).
    fn read_into(&self, name: &str, max: u64, buf: &mut Vec<u8>) -> std::io::Result<()> {
        if let Some((site, sub)) = self.rel {
            match with_rel_path(sub, name, |rel| site.read_head_into(rel, max, buf)) {
                Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {}
                r => return r,
            }
        }
        self.ctx.fs.read_head_into(&self.path(name), max, buf)
    }

    fn read_text(&self, name: &str, max: u64) -> std::io::Result<String> {
        Ok(crate::fs::decode_text(&self.read_head(name, max + 1)?, max).0)
    }

    fn read_small(&self, name: &str) -> Option<String> {
        self.read_text(name, MAX_SMALL).ok()
    }

    fn exists(&self, name: &str) -> bool {
        if let Some((site, sub)) = self.rel {
            match with_rel_path(sub, name, |rel| site.entry_type(rel)) {
                Ok(EntryType::Symlink) => {}
                Ok(_) => return true,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return false,
                Err(_) => {}
            }
        }
        self.ctx.fs.exists(&self.path(name))
    }
}

/// `sub/name` as a path, built on the stack when short (every METADATA and
/// RECORD of a site dir is opened by such a path).
fn with_rel_path<R>(sub: &std::ffi::OsStr, name: &str, f: impl FnOnce(&Path) -> R) -> R {
    use std::os::unix::ffi::OsStrExt;
    let (a, b) = (sub.as_bytes(), name.as_bytes());
    let n = a.len() + 1 + b.len();
    let mut stack = [0u8; 256];
    if a.is_empty() || n > stack.len() {
        return f(&Path::new(sub).join(name));
    }
    stack[..a.len()].copy_from_slice(a);
    stack[a.len()] = b'/';
    stack[a.len() + 1..n].copy_from_slice(b);
    f(Path::new(std::ffi::OsStr::from_bytes(&stack[..n])))
}

/// A read buffer per thread, for METADATA and RECORD: their bytes are parsed
/// and dropped, so one allocation serves every distribution (a fresh one of
/// a few KiB each was a slow path of malloc, ten thousand times a run). Not
/// kept when a huge file grew it.
fn with_read_buf<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    thread_local! {
        static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUF.with(|b| match b.try_borrow_mut() {
        Ok(mut b) => {
            let r = f(&mut b);
            if b.capacity() > 1 << 20 {
                *b = Vec::new();
            }
            r
        }
        Err(_) => f(&mut Vec::new()),
    })
}

/// Reads one distribution; also returns the files its RECORD lists (relative
/// to the site dir, bytecode left out) for overlap detection.
fn read_distribution(
    ctx: &Ctx,
    site: &Path,
    path: &Path,
    format: DistFormat,
    site_handle: Option<&OpenDir>,
    installer: bool,
) -> (Distribution, FileList) {
    let mut d = Distribution {
        path: display(path),
        format,
        ..Default::default()
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let (dir_name, dir_version) = name_version_parts(&file_name);
    let mut files = FileList::default();
    match format {
        DistFormat::DistInfo => {
            // A plain dist-info is read relative to the open site dir; a
            // symlinked one by path (resolved inside the root).
            let di = Files {
                ctx,
                dir: path,
                rel: site_handle.zip(path.file_name()),
            };
            read_metadata(&di, "METADATA", &mut d);
            let mut lists_direct_url = false;
            if read_record(
                &di,
                "RECORD",
                None,
                &mut d,
                &mut files,
                &mut lists_direct_url,
            ) {
                d.record_file = Some(di.shown("RECORD"));
            }
            d.installer = installer
                .then(|| di.read_small("INSTALLER"))
                .flatten()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty());
            // For `check`, skip what no rule can use for this dist: pip and
            // uv list `direct_url.json` in RECORD when they write it, and
            // WHEEL's tags matter only for compiled wheels (glibc-too-old).
            // Without a RECORD to go by, both are read.
            let everything = !ctx.rule_facts_only || d.record_files == 0;
            if everything || lists_direct_url {
                read_direct_url(&di, "direct_url.json", &mut d);
            }
            // A fact for `scan` and `why`; no rule reads it.
            if !ctx.rule_facts_only {
                d.requested = di.exists("REQUESTED");
            }
            let compiled = || {
                files.iter().any(|f| {
                    f.ends_with(".so")
                        || f.contains(".so.")
                        || f.ends_with(".pyd")
                        || f.ends_with(".dylib")
                })
            };
            if let Some(t) = (everything || compiled())
                .then(|| di.read_small("WHEEL"))
                .flatten()
            {
                d.wheel_tags = t
                    .lines()
                    .filter_map(|l| l.strip_prefix("Tag:"))
                    .map(|t| t.trim().to_string())
                    .collect();
            }
            if d.top_level.is_empty() {
                d.top_level = top_level_txt(di.read_small("top_level.txt"));
            }
        }
        DistFormat::EggInfo | DistFormat::Egg => {
            let di = Files::by_path(ctx, path);
            let pkg_info = path.join("PKG-INFO");
            if ctx.fs.is_file(&pkg_info) {
                read_metadata(&di, "PKG-INFO", &mut d);
            } else {
                d.problems.push("no PKG-INFO file".into());
            }
            let installed = path.join("installed-files.txt");
            if ctx.fs.is_file(&installed) {
                d.record_file = Some(display(&installed));
                read_record(
                    &di,
                    "installed-files.txt",
                    Some(path),
                    &mut d,
                    &mut files,
                    &mut false,
                );
            }
            let requires = path.join("requires.txt");
            if ctx.fs.is_file(&requires) {
                if let Some(t) = read_small(ctx, &requires) {
                    d.requires_dist = requires_txt(&t);
                }
            }
            if d.top_level.is_empty() {
                d.top_level = top_level_txt(read_small(ctx, &path.join("top_level.txt")));
            }
            if let Some(i) = read_small(ctx, &path.join("INSTALLER")) {
                d.installer = Some(i.trim().to_string()).filter(|s| !s.is_empty());
            }
        }
        DistFormat::EggInfoFile => {
            let parent = path.parent().unwrap_or(Path::new(""));
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            read_metadata(&Files::by_path(ctx, parent), &name, &mut d);
        }
        DistFormat::EggLink => read_egg_link(ctx, site, path, &mut d),
    }
    if d.name.is_none() {
        d.name = dir_name.map(str::to_string);
    }
    if d.version.is_none() && format != DistFormat::EggLink {
        d.version = dir_version.map(str::to_string);
    }
    match d.name.as_deref() {
        Some(n) => match pep508_rs::PackageName::from_str(n) {
            Ok(p) => d.normalized = Some(p.as_ref().to_owned()),
            Err(_) => d
                .problems
                .push(format!("the name `{n}` is not a valid distribution name")),
        },
        None => d.problems.push("no distribution name".into()),
    }
    if let Some(v) = d.version.as_deref() {
        let parsed = pep440_rs::Version::from_str(v).ok();
        if parsed.is_none() {
            d.problems
                .push(format!("the version `{v}` is not a valid PEP 440 version"));
        }
        // The rules compare it; parsed once.
        d.remember_parsed_version(parsed);
    } else if format != DistFormat::EggLink {
        d.problems.push("no version".into());
    }
    if ctx.rule_facts_only {
        // The dependency pass parses every Requires-Dist line: here, on
        // the reading threads, rather than one environment at a time after
        // (10,000 distinct lines in one venv were most of its rule time).
        d.requirements();
    }
    (d, files)
}

/// `numpy-1.26.4.dist-info` -> (`numpy`, `1.26.4`);
/// `foo-1.0-py3.11.egg-info` -> (`foo`, `1.0`); `Foo.egg-link` -> (`Foo`, None).
pub fn name_version_from_file_name(file_name: &str) -> (Option<String>, Option<String>) {
    let (n, v) = name_version_parts(file_name);
    (n.map(str::to_string), v.map(str::to_string))
}

/// [`name_version_from_file_name`], borrowed.
fn name_version_parts(file_name: &str) -> (Option<&str>, Option<&str>) {
    let stem = [".dist-info", ".egg-info", ".egg-link", ".egg"]
        .iter()
        .find_map(|s| file_name.strip_suffix(s))
        .unwrap_or(file_name);
    if stem == "EGG-INFO" {
        return (None, None);
    }
    let mut parts = stem.splitn(3, '-');
    let name = parts.next().filter(|s| !s.is_empty());
    let version = parts.next().filter(|s| !s.is_empty());
    (name, version)
}

fn read_small(ctx: &Ctx, p: &Path) -> Option<String> {
    ctx.fs.read_text_limited(p, MAX_SMALL).ok().map(|(t, _)| t)
}

fn top_level_txt(text: Option<String>) -> Vec<String> {
    let Some(t) = text else {
        return Vec::new();
    };
    let mut v: Vec<String> = t
        .lines()
        .map(|l| l.trim().split('/').next().unwrap_or("").to_string())
        .filter(|l| is_identifier(l))
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Core metadata: RFC 822 headers up to the first blank line.
fn read_metadata(files: &Files, fname: &str, d: &mut Distribution) {
    with_read_buf(|bytes| {
        // The headers are nearly always in the first few KiB; the long
        // description after them is not needed.
        match files.read_into(fname, METADATA_FIRST, bytes) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                d.problems.push(format!("no {fname} file"));
                return;
            }
            Err(e) => {
                d.metadata_file = Some(files.shown(fname));
                d.problems.push(format!("cannot read {fname}: {e}"));
                return;
            }
        };
        d.metadata_file = Some(files.shown(fname));
        if bytes.len() as u64 == METADATA_FIRST && !has_blank_line(bytes) {
            if let Err(e) = files.read_into(fname, MAX_METADATA_SCAN, bytes) {
                d.problems.push(format!("cannot read {fname}: {e}"));
                return;
            }
        }
        parse_metadata(bytes, fname, d);
    })
}

/// Entries a zipped egg may hold before it is called hostile.
const MAX_EGG_ENTRIES: usize = 50_000;

fn read_zipped_egg(ctx: &Ctx, egg: &Path, out: &mut SiteDir) {
    let mut d = Distribution {
        path: display(egg),
        format: DistFormat::Egg,
        ..Default::default()
    };
    let file_name = egg
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (dir_name, dir_version) = name_version_from_file_name(&file_name);
    let opened = ctx.fs.open_read(egg).and_then(|f| {
        crate::quiet_panics(|| zip::ZipArchive::new(f))
            .map_err(|_| std::io::Error::other("the zip reader failed on it"))?
            .map_err(std::io::Error::other)
    });
    let mut z = match opened {
        Ok(z) if z.len() <= MAX_EGG_ENTRIES => z,
        Ok(z) => {
            d.problems
                .push(format!("a zipped egg of {} entries; not read", z.len()));
            out.distributions.push(d);
            return;
        }
        Err(e) => {
            out.error = Some(format!("cannot read this zipped egg: {e}"));
            ctx.note(egg, format!("cannot read this zipped egg: {e}"));
            return;
        }
    };
    let mut member = |name: &str, max: u64| -> Option<Vec<u8>> {
        use std::io::Read;
        let f = z.by_name(name).ok()?;
        let mut buf = Vec::new();
        f.take(max).read_to_end(&mut buf).ok()?;
        Some(buf)
    };
    match member("EGG-INFO/PKG-INFO", MAX_METADATA) {
        Some(b) => {
            d.metadata_file = Some(format!("{}/EGG-INFO/PKG-INFO", display(egg)));
            parse_metadata(&b, "PKG-INFO", &mut d);
        }
        None => d
            .problems
            .push("no EGG-INFO/PKG-INFO in the zipped egg".into()),
    }
    if let Some(b) = member("EGG-INFO/requires.txt", MAX_SMALL) {
        d.requires_dist.extend(requires_txt(&crate::fs::lossy(&b)));
    }
    d.top_level =
        top_level_txt(member("EGG-INFO/top_level.txt", MAX_SMALL).map(crate::fs::lossy_owned));
    if d.name.is_none() {
        d.name = dir_name;
    }
    if d.version.is_none() {
        d.version = dir_version;
    }
    d.normalized = d.name.as_deref().map(crate::requirements::normalize);
    for t in &d.top_level {
        out.modules.push(Module {
            name: t.clone(),
            kind: ModuleKind::Package,
            file: file_name.clone(),
        });
    }
    out.distributions.push(d);
}

/// The headers of core metadata (METADATA, PKG-INFO) into `d`.
fn parse_metadata(bytes: &[u8], fname: &str, d: &mut Distribution) {
    if bytes.is_empty() {
        d.problems.push(format!("{fname} is empty"));
        return;
    }
    if memchr::memchr(0, bytes).is_some() {
        d.problems
            .push(format!("{fname} is binary data, not core metadata"));
        return;
    }
    let head_len = memchr::memmem::find(bytes, b"\n\n")
        .map(|i| i + 2)
        .unwrap_or(bytes.len());
    let text = crate::fs::lossy(&bytes[..head_len]);
    let mut ended = head_len < bytes.len();
    let mut bad_lines = 0usize;
    // (the header if it is one of KEPT, its value); other headers are
    // counted, not copied.
    let mut current: Option<(Option<&'static str>, String)> = None;
    let mut headers: Vec<(&'static str, String)> = Vec::new();
    let mut n_headers = 0usize;
    for line in split_newlines(&text) {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            ended = true;
            break;
        }
        if matches!(line.as_bytes()[0], b' ' | b'\t') {
            // A folded line continues the header before it; only the
            // headers read below are kept, so a huge `Description` folded
            // over megabytes costs a scan, not memory.
            if let Some((Some(_), v)) = current.as_mut() {
                if v.len() < MAX_METADATA as usize {
                    v.push('\n');
                    v.push_str(line.trim());
                }
            }
            continue;
        }
        if let Some((k, v)) = current.take() {
            n_headers += 1;
            headers.extend(k.map(|k| (k, v)));
        }
        match header_name_end(line) {
            Some(i) => {
                let kept = kept_header(&line[..i]);
                let value = match kept {
                    Some(_) => line[i + 1..].trim().to_string(),
                    None => String::new(),
                };
                current = Some((kept, value));
            }
            None => bad_lines += 1,
        }
    }
    let complete = ended || (bytes.len() as u64) < MAX_METADATA_SCAN;
    if !complete {
        d.problems.push(format!(
            "{fname} headers do not end within {} MiB; not read further",
            MAX_METADATA_SCAN >> 20
        ));
        // The last header may be cut: drop it.
        current = None;
    }
    if let Some((k, v)) = current.take() {
        n_headers += 1;
        headers.extend(k.map(|k| (k, v)));
    }
    if bad_lines > 0 && n_headers == 0 {
        d.problems.push(format!(
            "{fname} is not core metadata (no `Key: value` headers)"
        ));
        return;
    }
    for (k, v) in headers {
        match k {
            "name" => d.name = Some(v),
            "version" => d.version = Some(v),
            "requires-dist" => d.requires_dist.push(v),
            "requires-python" if !v.is_empty() => d.requires_python = Some(v),
            _ => {}
        }
    }
    if d.name.is_none() {
        d.problems.push(format!("{fname} has no `Name`"));
    }
    if d.version.is_none() {
        d.problems.push(format!("{fname} has no `Version`"));
    }
}

/// Where the `:` ending a header's name is: the name is the line's first
/// run of ASCII letters, digits and `-`, not empty. (The same as splitting
/// at the first `:` and checking the part before it, in one pass.)
fn header_name_end(line: &str) -> Option<usize> {
    let i = line
        .bytes()
        .position(|c| !(c.is_ascii_alphanumeric() || c == b'-'))?;
    (i > 0 && line.as_bytes()[i] == b':').then_some(i)
}

/// The header of [`KEPT`] that `name` is (case-insensitively). Their
/// lengths differ, so one comparison at most.
fn kept_header(name: &str) -> Option<&'static str> {
    let k = match name.len() {
        4 => "name",
        7 => "version",
        13 => "requires-dist",
        15 => "requires-python",
        _ => return None,
    };
    debug_assert!(KEPT.contains(&k));
    name.eq_ignore_ascii_case(k).then_some(k)
}

fn has_blank_line(b: &[u8]) -> bool {
    memchr::memmem::find(b, b"\n\n").is_some() || memchr::memmem::find(b, b"\r\n\r\n").is_some()
}

/// RECORD (CSV: path,hash,size) or `installed-files.txt` (one path a line,
/// relative to the egg-info dir when `relative_to` is set).
fn read_record(
    src: &Files,
    fname: &str,
    relative_to: Option<&Path>,
    d: &mut Distribution,
    files: &mut FileList,
    lists_direct_url: &mut bool,
) -> bool {
    // The RECORD is parsed and dropped: read into the thread's buffer.
    with_read_buf(|bytes| {
        match src.read_into(fname, MAX_RECORD + 1, bytes) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                d.problems.push(format!("no {fname} file"));
                return false;
            }
            Err(e) => {
                d.problems.push(format!("cannot read {fname}: {e}"));
                return true;
            }
        };
        if bytes.len() as u64 > MAX_RECORD {
            d.problems
                .push(format!("{fname} is larger than {} MiB", MAX_RECORD >> 20));
        }
        let text = crate::fs::lossy(bytes);
        // egg-info: paths relative to the egg-info dir, so `../pkg/x.py`.
        let egg_prefix = relative_to
            .and_then(|r| r.file_name())
            .map(|n| n.to_string_lossy().into_owned());
        let mut top: Vec<String> = Vec::new();
        // The kept paths are at most the text: one allocation, not a series.
        files.0.reserve(text.len());
        for line in lines(&text) {
            let raw = if relative_to.is_some() {
                line.trim()
            } else {
                csv_first_field(line)
            };
            if raw.is_empty() {
                continue;
            }
            d.record_files += 1;
            // Wheel RECORDs hold plain relative paths, which `normpath` would
            // give back unchanged: skip its allocations for those.
            let plain = egg_prefix.is_none().then(|| RelPath::of(raw));
            let rel: std::borrow::Cow<str> = match &egg_prefix {
                None if plain.as_ref().is_some_and(|p| p.plain) => raw.into(),
                Some(egg) => {
                    let joined = match raw.strip_prefix("../") {
                        Some(r) => r.to_string(),
                        None => format!("{egg}/{raw}"),
                    };
                    crate::fs::normpath(Path::new(&joined))
                        .to_string_lossy()
                        .into_owned()
                        .into()
                }
                None => crate::fs::normpath(Path::new(raw))
                    .to_string_lossy()
                    .into_owned()
                    .into(),
            };
            if rel.starts_with("..") || rel.starts_with('/') {
                continue; // scripts and data outside the site dir
            }
            let parts = match plain {
                Some(p) if p.plain => p,
                _ => RelPath::of(&rel),
            };
            if parts.in_pycache || rel.ends_with(".pyc") && parts.first_slash.is_some() {
                continue;
            }
            let (first, is_file_at_top) = match parts.first_slash {
                Some(i) => (&rel[..i], false),
                None => (&rel[..], true),
            };
            if first.ends_with(".dist-info") || first.ends_with(".egg-info") {
                *lists_direct_url |= rel.ends_with("/direct_url.json");
                continue;
            }
            files.push(&rel);
            // Lines of one top-level name come together: compare with the
            // last one before searching (a package's names are few).
            if let Some(name) = top_level_name(first, is_file_at_top) {
                if top.last().map(String::as_str) != Some(name) && !top.iter().any(|t| t == name) {
                    top.push(name.to_string());
                }
            }
        }
        top.sort();
        d.top_level = top;
        true
    })
}

/// The files one RECORD lists, in one buffer (a line each): a `String` per
/// file was most of the allocations of reading a site dir.
#[derive(Default)]
pub(crate) struct FileList(String);

impl FileList {
    fn push(&mut self, f: &str) {
        self.0.push_str(f);
        self.0.push('\n');
    }

    fn iter(&self) -> impl Iterator<Item = &str> {
        let mut start = 0;
        memchr::memchr_iter(b'\n', self.0.as_bytes()).map(move |end| {
            let f = &self.0[start..end];
            start = end + 1;
            f
        })
    }
}

/// `str::lines` (a `\r` before each `\n` dropped, no empty last line),
/// through the memchr crate's vectorised search: RECORDs run to thousands
/// of lines.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let line = match memchr::memchr(b'\n', rest.as_bytes()) {
            Some(i) => {
                let line = &rest[..i];
                rest = &rest[i + 1..];
                line.strip_suffix('\r').unwrap_or(line)
            }
            None => std::mem::take(&mut rest),
        };
        Some(line)
    })
}

/// `text.split('\n')`, through the memchr crate's search.
fn split_newlines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let r = rest?;
        Some(match memchr::memchr(b'\n', r.as_bytes()) {
            Some(i) => {
                rest = Some(&r[i + 1..]);
                &r[..i]
            }
            None => {
                rest = None;
                r
            }
        })
    })
}

/// What `read_record` asks of one path, found in one pass over its bytes
/// (this runs for every line of every RECORD).
#[derive(Clone, Copy)]
struct RelPath {
    /// `normpath` leaves it as it is: no empty, `.` or `..` part (so no
    /// leading or doubled `/`, no trailing `/`).
    plain: bool,
    /// Where its first `/` is.
    first_slash: Option<usize>,
    /// A directory part ends in `__pycache__` (the path holds `__pycache__/`).
    in_pycache: bool,
}

impl RelPath {
    fn of(p: &str) -> RelPath {
        let b = p.as_bytes();
        let mut out = RelPath {
            plain: true,
            first_slash: None,
            in_pycache: false,
        };
        let mut start = 0;
        loop {
            let end = memchr::memchr(b'/', &b[start..]).map_or(b.len(), |i| start + i);
            let part = &b[start..end];
            if matches!(part, b"" | b"." | b"..") {
                out.plain = false;
            }
            if end == b.len() {
                return out;
            }
            out.first_slash.get_or_insert(end);
            out.in_pycache |= part.ends_with(b"__pycache__");
            start = end + 1;
        }
    }
}

fn top_level_name(first: &str, is_file: bool) -> Option<&str> {
    if first.ends_with(".dist-info")
        || first.ends_with(".egg-info")
        || first.ends_with(".data")
        || first == "__pycache__"
    {
        return None;
    }
    if !is_file {
        return is_identifier(first).then_some(first);
    }
    let stem = first
        .strip_suffix(".py")
        .or_else(|| first.strip_suffix(".pyc"))
        .or_else(|| {
            first
                .strip_suffix(".so")
                .map(|s| s.split('.').next().unwrap_or(s))
        })?;
    is_identifier(stem).then_some(stem)
}

/// The first CSV field (quoted when it holds a comma).
fn csv_first_field(line: &str) -> &str {
    if let Some(rest) = line.strip_prefix('"') {
        // `""` inside a quoted field is a quote; paths almost never have one.
        match rest
            .find("\",")
            .or_else(|| rest.strip_suffix('"').map(|r| r.len()))
        {
            Some(end) => &rest[..end],
            None => rest,
        }
    } else {
        memchr::memchr(b',', line.as_bytes()).map_or(line, |i| &line[..i])
    }
}

/// `requires.txt` of an egg-info as Requires-Dist strings: `[extra]`,
/// `[:marker]` and `[extra:marker]` sections become markers.
pub fn requires_txt(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(sec) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let (extra, m) = sec.split_once(':').unwrap_or((sec, ""));
            let mut parts = Vec::new();
            if !m.trim().is_empty() {
                parts.push(format!("({})", m.trim()));
            }
            if !extra.trim().is_empty() {
                parts.push(format!("extra == \"{}\"", extra.trim()));
            }
            marker = (!parts.is_empty()).then(|| parts.join(" and "));
            continue;
        }
        match &marker {
            Some(m) => out.push(format!("{line} ; {m}")),
            None => out.push(line.to_string()),
        }
    }
    out
}

fn read_direct_url(files: &Files, name: &str, d: &mut Distribution) {
    let ctx = files.ctx;
    let p = &files.path(name);
    let text = match files.read_text(name, MAX_SMALL) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
        Err(e) => {
            d.problems.push(format!("cannot read direct_url.json: {e}"));
            return;
        }
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
        d.problems.push("direct_url.json is not JSON".into());
        return;
    };
    let Some(url) = v.get("url").and_then(|u| u.as_str()) else {
        return;
    };
    d.direct_url = Some(redact::urls(url));
    let editable = v
        .get("dir_info")
        .and_then(|i| i.get("editable"))
        .and_then(|e| e.as_bool())
        .unwrap_or(false);
    if editable {
        if let Some(target) = file_url_path(url) {
            d.editable = Some(Editable {
                exists: ctx.fs.is_dir(Path::new(&target)),
                target,
                source: display(p),
            });
        }
    }
}

/// `file:///home/u/src/x` -> `/home/u/src/x` (percent-escapes decoded).
pub fn file_url_path(url: &str) -> Option<String> {
    let rest = url.strip_prefix("file://")?;
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    if !rest.starts_with('/') {
        return None;
    }
    // Bytes, not `str` slices: `%` may be followed by a multibyte
    // character, and slicing inside one panics.
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let b = rest.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

fn read_egg_link(ctx: &Ctx, site: &Path, p: &Path, d: &mut Distribution) {
    let Some(text) = read_small(ctx, p) else {
        d.problems.push("cannot read the .egg-link file".into());
        return;
    };
    let Some(first) = text.lines().next().map(str::trim).filter(|l| !l.is_empty()) else {
        d.problems.push("the .egg-link file is empty".into());
        return;
    };
    let target = crate::fs::normpath(&site.join(first));
    let exists = ctx.fs.is_dir(&target);
    d.editable = Some(Editable {
        target: display(&target),
        exists,
        source: display(p),
    });
    if !exists {
        return;
    }
    // The project's own egg-info carries the version.
    if let Ok(names) = ctx.fs.read_dir_names(&target) {
        for n in names {
            let Some(n) = n.to_str() else { continue };
            if n.ends_with(".egg-info") {
                let egg_info = target.join(n);
                let mut tmp = Distribution::default();
                read_metadata(&Files::by_path(ctx, &egg_info), "PKG-INFO", &mut tmp);
                if tmp.name.is_some() {
                    d.name = tmp.name;
                    d.version = tmp.version;
                    d.requires_dist = tmp.requires_dist;
                    d.metadata_file = tmp.metadata_file;
                    if let Some(t) = read_small(ctx, &target.join(n).join("requires.txt")) {
                        d.requires_dist = requires_txt(&t);
                    }
                }
                break;
            }
        }
    }
}

/// PEP 660 editables installed by setuptools: `__editable___NAME_VER_finder.py`
/// maps import names to source dirs. A distribution whose direct_url was
/// unreadable still gets its target from there.
fn attach_editable_finders(ctx: &Ctx, dir: &Path, out: &mut SiteDir) {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r#"['"]([^'"]+)['"]\s*:\s*['"]([^'"]+)['"]"#).expect("static regex")
    });
    let finders: Vec<&Module> = out
        .modules
        .iter()
        .filter(|m| m.name.starts_with("__editable___") && m.name.ends_with("_finder"))
        .collect();
    let mut mapped: BTreeMap<String, (String, String)> = BTreeMap::new();
    for m in finders {
        let p = dir.join(&m.file);
        let Some(text) = read_small(ctx, &p) else {
            continue;
        };
        let Some(start) = text.find("MAPPING") else {
            continue;
        };
        let body = &text[start..];
        let body = &body[..body.find('}').unwrap_or(body.len())];
        for c in re.captures_iter(body) {
            mapped.insert(c[1].to_string(), (c[2].to_string(), display(&p)));
        }
    }
    if mapped.is_empty() {
        return;
    }
    for d in &mut out.distributions {
        if d.editable.is_some() {
            continue;
        }
        for t in &d.top_level {
            if let Some((target, source)) = mapped.get(t) {
                d.editable = Some(Editable {
                    exists: ctx.fs.exists(Path::new(target)),
                    target: target.clone(),
                    source: source.clone(),
                });
                break;
            }
        }
    }
}

/// Files listed by several distributions' RECORDs, grouped by the set of
/// distributions sharing them.
fn shared_files(dists: &[Distribution], files_of: &[FileList]) -> Vec<SharedFiles> {
    // Two RECORDs can list one path only under a first component (`numpy`,
    // `google`, `six.py`) that both list: found first, from a few names per
    // distribution, so that only the files under those are hashed one by
    // one (ten times fewer map entries in a site dir of 10,000). No path
    // here is empty (`read_record` skips those), so `""` starts `last`.
    let first = |f: &str| -> usize { memchr::memchr(b'/', f.as_bytes()).unwrap_or(f.len()) };
    let mut component_owner: rustc_hash::FxHashMap<&str, usize> = Default::default();
    let mut shared_components: rustc_hash::FxHashSet<&str> = Default::default();
    for (i, files) in files_of.iter().enumerate() {
        let mut last = "";
        for f in files.iter() {
            let c = &f[..first(f)];
            if c == last {
                continue;
            }
            last = c;
            match component_owner.entry(c) {
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(i);
                }
                std::collections::hash_map::Entry::Occupied(o) => {
                    if *o.get() != i {
                        shared_components.insert(c);
                    }
                }
            }
        }
    }
    if shared_components.is_empty() {
        return Vec::new();
    }
    let mut owner: rustc_hash::FxHashMap<&str, usize> = Default::default();
    let mut groups: BTreeMap<Vec<usize>, Vec<&str>> = BTreeMap::new();
    let mut multi: rustc_hash::FxHashMap<&str, Vec<usize>> = Default::default();
    for (i, files) in files_of.iter().enumerate() {
        for f in files
            .iter()
            .filter(|f| shared_components.contains(&f[..first(f)]))
        {
            match owner.get(f) {
                None => {
                    owner.insert(f, i);
                }
                Some(&first) if first != i => {
                    let e = multi.entry(f).or_insert_with(|| vec![first]);
                    if !e.contains(&i) {
                        e.push(i);
                    }
                }
                Some(_) => {}
            }
        }
    }
    for (f, mut owners) in multi {
        owners.sort();
        groups.entry(owners).or_default().push(f);
    }
    groups
        .into_iter()
        .map(|(owners, mut files)| {
            files.sort();
            let is_init = |f: &&str| {
                let mut parts = f.split('/');
                parts.next();
                parts.next() == Some("__init__.py") && parts.next().is_none()
            };
            let beyond_init = files.iter().filter(|f| !is_init(f)).count();
            let top_level: BTreeSet<String> = files
                .iter()
                .filter_map(|f| {
                    let first = f.split('/').next().unwrap_or("");
                    top_level_name(first, !f.contains('/')).map(str::to_string)
                })
                .collect();
            let mut examples: Vec<String> = files
                .iter()
                .filter(|f| !is_init(f))
                .chain(files.iter().filter(|f| is_init(f)))
                .take(SHARED_EXAMPLES)
                .map(|f| f.to_string())
                .collect();
            examples.sort();
            SharedFiles {
                distributions: owners.iter().map(|&i| dists[i].path.clone()).collect(),
                count: files.len(),
                beyond_init,
                top_level: top_level.into_iter().collect(),
                examples,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {

    /// Only files under a first component two RECORDs list are compared:
    /// what is found must be what comparing every file finds. Namespace
    /// packages (`google/`), scripts (`../../bin`), top-level modules and
    /// a RECORD that lists one file twice.
    #[test]
    fn shared_files_equal_a_comparison_of_every_file() {
        use super::{shared_files, Distribution, FileList};
        use std::collections::{BTreeMap, BTreeSet};
        let records: [&[&str]; 6] = [
            &[
                "google/__init__.py",
                "google/a/x.py",
                "../../bin/tool",
                "six.py",
            ],
            &[
                "google/__init__.py",
                "google/b/y.py",
                "b-1.dist-info/RECORD",
            ],
            &[
                "six.py",
                "c/__init__.py",
                "c/__init__.py",
                "../../bin/other",
            ],
            &["../../bin/tool", "google/a/x.py", "d/z.py"],
            &["e/only.py", "e/only.py"],
            &[],
        ];
        let dists: Vec<Distribution> = (0..records.len())
            .map(|i| Distribution {
                path: format!("/sp/d{i}.dist-info"),
                ..Default::default()
            })
            .collect();
        let files_of: Vec<FileList> = records
            .iter()
            .map(|r| {
                let mut l = FileList::default();
                r.iter().for_each(|f| l.push(f));
                l
            })
            .collect();
        let mut owners: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
        for (i, r) in records.iter().enumerate() {
            for f in r.iter() {
                owners.entry(f).or_default().insert(i);
            }
        }
        let mut want: BTreeMap<Vec<String>, Vec<&str>> = BTreeMap::new();
        for (f, o) in owners.into_iter().filter(|(_, o)| o.len() > 1) {
            let key = o.iter().map(|&i| dists[i].path.clone()).collect();
            want.entry(key).or_default().push(f);
        }
        let got: BTreeMap<Vec<String>, usize> = shared_files(&dists, &files_of)
            .into_iter()
            .map(|s| (s.distributions, s.count))
            .collect();
        let want: BTreeMap<Vec<String>, usize> =
            want.into_iter().map(|(k, v)| (k, v.len())).collect();
        assert_eq!(got, want);
        assert_eq!(got.len(), 3, "{got:#?}");
    }

    #[test]
    fn file_urls_decode_bytes_and_never_split_a_character() {
        assert_eq!(file_url_path("file:///a%20b").as_deref(), Some("/a b"));
        // `%` before a multibyte character, and at the very end.
        assert_eq!(
            file_url_path("file:///a%\u{e9}b").as_deref(),
            Some("/a%\u{e9}b")
        );
        assert_eq!(
            file_url_path("file:///x%a\u{e9}").as_deref(),
            Some("/x%a\u{e9}")
        );
        assert_eq!(file_url_path("file:///x%").as_deref(), Some("/x%"));
        assert_eq!(file_url_path("file:///x%4").as_deref(), Some("/x%4"));
        assert_eq!(file_url_path("file:///%C3%A9").as_deref(), Some("/\u{e9}"));
    }
    use super::*;

    #[test]
    fn names_and_versions_from_dir_names() {
        assert_eq!(
            name_version_from_file_name("numpy-1.26.4.dist-info"),
            (Some("numpy".into()), Some("1.26.4".into()))
        );
        assert_eq!(
            name_version_from_file_name("foo-1.0-py3.11.egg-info"),
            (Some("foo".into()), Some("1.0".into()))
        );
        assert_eq!(
            name_version_from_file_name("Foo.egg-link"),
            (Some("Foo".into()), None)
        );
    }

    #[test]
    fn lines_split_as_str_lines_does() {
        for t in [
            "",
            "a",
            "a\n",
            "a\nb",
            "a\r\nb\r\n",
            "\n\n",
            "a\r",
            "\r\n",
            "x\ry\nz",
        ] {
            assert_eq!(
                lines(t).collect::<Vec<_>>(),
                t.lines().collect::<Vec<_>>(),
                "{t:?}"
            );
            assert_eq!(
                split_newlines(t).collect::<Vec<_>>(),
                t.split('\n').collect::<Vec<_>>(),
                "{t:?}"
            );
        }
        let mut f = FileList::default();
        for p in ["a/b.py", "", "c"] {
            f.push(p);
        }
        assert_eq!(f.iter().collect::<Vec<_>>(), ["a/b.py", "", "c"]);
    }

    #[test]
    fn plain_relative_paths_are_what_normpath_leaves_alone() {
        let plain = ["a/b.py", "pkg/__init__.py", "..x/y", "a"];
        let not_plain = [
            "a/../b", "./a", "a//b", "a/", "/abs", "a/./b", "../bin/t", "",
        ];
        for p in plain {
            assert!(RelPath::of(p).plain, "{p}");
            assert_eq!(crate::fs::normpath(Path::new(p)).to_str(), Some(p));
        }
        for p in not_plain {
            assert!(!RelPath::of(p).plain, "{p}");
        }
    }

    /// The one pass answers what `str::find` and `str::contains` did.
    #[test]
    fn rel_path_parts_agree_with_the_string_searches() {
        let parts = [
            "",
            ".",
            "..",
            "a",
            "__pycache__",
            "x__pycache__",
            "__pycache__x",
            "b.pyc",
        ];
        let mut paths = vec![String::new()];
        for a in parts {
            paths.push(a.to_string());
            for b in parts {
                paths.push(format!("{a}/{b}"));
                for c in parts {
                    paths.push(format!("{a}/{b}/{c}"));
                }
            }
        }
        for p in &paths {
            let r = RelPath::of(p);
            assert_eq!(r.first_slash, p.find('/'), "{p:?}");
            assert_eq!(r.in_pycache, p.contains("__pycache__/"), "{p:?}");
            let plain = !p.split('/').any(|x| matches!(x, "" | "." | ".."));
            assert_eq!(r.plain, plain, "{p:?}");
        }
    }

    #[test]
    fn header_names_as_splitting_at_the_first_colon_finds_them() {
        for line in [
            "Name: x",
            "name:x",
            ":x",
            "Requires-Dist: a; b:c",
            "Bad Key: v",
            "Key",
            "K-1:",
            "a:b:c",
            "é: x",
            "Name : x",
            "-:",
            "Requires-Python: >=3",
        ] {
            let old = line.split_once(':').and_then(|(k, _)| {
                (!k.is_empty() && k.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'))
                    .then_some(k.len())
            });
            assert_eq!(header_name_end(line), old, "{line:?}");
            if let Some(i) = old {
                let k = &line[..i];
                let want = KEPT.iter().find(|x| k.eq_ignore_ascii_case(x)).copied();
                assert_eq!(kept_header(k), want, "{line:?}");
            }
        }
        for k in KEPT {
            assert_eq!(kept_header(&k.to_uppercase()), Some(*k));
        }
    }

    #[test]
    fn identifiers_as_python_sees_them() {
        for (s, want) in [
            ("numpy", true),
            ("_x1", true),
            ("Ab_9", true),
            ("", false),
            ("1a", false),
            ("a-b", false),
            ("a.b", false),
            ("é", true),
            ("xé2", true),
            ("2é", false),
        ] {
            assert_eq!(is_identifier(s), want, "{s:?}");
        }
    }

    #[test]
    fn requires_txt_sections_become_markers() {
        let r = requires_txt("six\n\n[:python_version < \"3\"]\nenum34\n\n[tests]\npytest>=6\n");
        assert_eq!(
            r,
            vec![
                "six".to_string(),
                "enum34 ; (python_version < \"3\")".into(),
                "pytest>=6 ; extra == \"tests\"".into()
            ]
        );
    }

    #[test]
    fn record_fields_and_file_urls() {
        assert_eq!(csv_first_field("a/b.py,sha256=x,12"), "a/b.py");
        assert_eq!(csv_first_field("\"a,b/c.py\",sha256=x,1"), "a,b/c.py");
        assert_eq!(
            file_url_path("file:///home/u/my%20src").as_deref(),
            Some("/home/u/my src")
        );
        assert_eq!(file_url_path("https://x/y"), None);
    }
}
