//! sys.path as CPython's getpath and site.py build it, computed from files.
//!
//! The order (CPython 3): PYTHONPATH, then `pythonXY.zip`, the stdlib and
//! `lib-dynload` of the base; then site.py: in a venv its own site-packages
//! first (site.py adds it in `venv()` "so that it takes precedence over
//! user-site"), then, only with `include-system-site-packages`, the user site
//! and the base's site-packages; outside a venv (conda envs included) the
//! user site comes *before* the prefix's site-packages. Each site dir's `.pth`
//! files are read in sorted order: directory lines are appended if they
//! exist; `import` lines would run at startup and are recorded, never run.

use super::Ctx;
use crate::fs::{display, normpath};
use crate::snapshot::{Origin, SysPathEntry};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Lines of one `.pth` file that are read: site.py has no limit, but a
/// real one holds a few (easy-install.pth, a few hundred at most), and each
/// directory line costs a stat.
pub const MAX_PTH_LINES: usize = 2_000;

/// What the sys.path computation needs to know about an interpreter.
#[derive(Debug, Clone)]
pub struct Layout {
    /// `X.Y`
    pub minor: String,
    pub major: u32,
    /// sys.prefix (the venv for a venv).
    pub prefix: PathBuf,
    /// sys.base_prefix (where the stdlib lives).
    pub base_prefix: PathBuf,
    /// Set for a venv: whether its cfg includes system site-packages.
    pub venv_system_site: Option<bool>,
    /// `lib` or `lib64` (sys.platlibdir).
    pub platlibdir: &'static str,
    /// The stdlib's site.py is Debian's (dist-packages layout).
    pub debian: bool,
}

pub struct SysPath {
    pub entries: Vec<SysPathEntry>,
    /// `.pth` import lines and customize modules: code that runs at startup.
    pub startup_hooks: Vec<String>,
}

/// How much of sys.path to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// All of it: each site dir's `.pth` files and the startup hooks.
    Full,
    /// What getpath and site.py add before any `.pth` file: the entries
    /// that decide where the interpreter lives and installs. `check` reads
    /// its targets in full and the others this far (listing each venv's
    /// site-packages for `.pth` files was most of a check's discovery).
    Shallow,
}

struct Builder<'c> {
    ctx: &'c Ctx,
    depth: Depth,
    entries: Vec<SysPathEntry>,
    known: HashSet<PathBuf>,
    hooks: Vec<String>,
}

impl Builder<'_> {
    fn push(&mut self, path: PathBuf, origin: Origin, pth: Option<&Path>) -> bool {
        let path = normpath(&path);
        if !self.known.insert(path.clone()) {
            return false;
        }
        let exists = self.ctx.fs.exists(&path);
        self.entries.push(SysPathEntry {
            path: display(&path),
            origin,
            pth: pth.map(display),
            exists,
            import_line: false,
        });
        true
    }

    /// site.addsitedir: the dir itself, then its `.pth` files.
    fn add_site_dir(&mut self, dir: &Path, origin: Origin) {
        if !self.ctx.fs.is_dir(dir) {
            return;
        }
        self.push(dir.to_path_buf(), origin, None);
        if self.depth == Depth::Shallow {
            return;
        }
        // Only the `.pth` names are kept (site.py reads them sorted). The
        // listing is kept for the site-packages reader.
        let Ok(listing) = self.ctx.site_listing(dir) else {
            self.ctx.note(dir, "cannot list this site directory");
            return;
        };
        let pth = |n: &[u8]| n.ends_with(b".pth") && !n.starts_with(b".");
        let mut names: Vec<&std::ffi::OsStr> = listing
            .iter()
            .map(|(n, _)| n.as_os_str())
            .filter(|n| pth(n.as_encoded_bytes()))
            .collect();
        names.sort();
        for name in names {
            let pth = dir.join(name);
            self.read_pth(dir, &pth);
        }
    }

    fn read_pth(&mut self, site_dir: &Path, pth: &Path) {
        let text = match self.ctx.fs.read_text_limited(pth, 1 << 20) {
            Ok((t, _)) => t,
            Err(e) => {
                // site.py skips a .pth it cannot open; so do we, but say so.
                self.ctx.note(pth, format!("cannot read .pth file: {e}"));
                return;
            }
        };
        for (n, line) in text.lines().enumerate() {
            if n >= MAX_PTH_LINES {
                self.ctx.note(
                    pth,
                    format!(
                        "only its first {MAX_PTH_LINES} lines were read (a real .pth holds a few)"
                    ),
                );
                break;
            }
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            if line.starts_with("import ") || line.starts_with("import\t") {
                self.hooks.push(format!("{} (import line)", display(pth)));
                // The common literal forms are read as data (never run):
                // the directory they add is on sys.path all the same.
                if let Some((dir, first)) = import_line_dir(line) {
                    let dir = normpath(&site_dir.join(dir));
                    if self.ctx.fs.is_dir(&dir) && self.push(dir, Origin::Pth, Some(pth)) {
                        if let Some(e) = self.entries.pop() {
                            let e = SysPathEntry {
                                import_line: true,
                                ..e
                            };
                            if first {
                                self.entries.insert(0, e);
                            } else {
                                self.entries.push(e);
                            }
                        }
                    }
                }
                continue;
            }
            let dir = site_dir.join(line.trim_end());
            let normalised = normpath(&dir);
            if self.known.contains(&normalised) || !self.ctx.fs.exists(&normalised) {
                continue;
            }
            self.push(normalised, Origin::Pth, Some(pth));
        }
    }
}

/// The directory a `.pth` import line adds in one of its common literal
/// forms, and whether it goes first (`sys.path.insert(0, ...)`):
/// `import sys; sys.path.append('/x')`, `sys.path.insert(0, "/x")`,
/// `import site; site.addsitedir('/x')`. Anything else is left unrun and
/// unknown.
pub fn import_line_dir(line: &str) -> Option<(String, bool)> {
    use regex::Regex;
    use std::sync::OnceLock;
    // Most import lines are none of these (setuptools' `distutils-precedence.pth`,
    // editable finders): those need no regex built.
    if !line.contains("sys.path.") && !line.contains("site.addsitedir") {
        return None;
    }
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(
            r#"^import\s+(?:sys|site)(?:\s*,\s*(?:sys|site))?\s*;\s*(?:sys\.path\.(?P<op>append|insert\(\s*(?P<at>\d+)\s*,)|site\.(?P<site>addsitedir))\s*\(?\s*(?P<q>['"])(?P<dir>[^'"\\]+)['"]\s*\)\s*;?\s*$"#,
        )
        .expect("static regex")
    });
    let c = re.captures(line.trim())?;
    let first = c.name("at").is_some_and(|a| a.as_str() == "0");
    Some((c["dir"].to_string(), first))
}

/// `~/.local/lib/pythonX.Y/site-packages`, or under `PYTHONUSERBASE`.
pub fn user_site(ctx: &Ctx, minor: &str) -> Option<PathBuf> {
    let base = match ctx.var("PYTHONUSERBASE") {
        Some(b) => PathBuf::from(b),
        None => ctx.home()?.join(".local"),
    };
    Some(
        base.join("lib")
            .join(format!("python{minor}"))
            .join("site-packages"),
    )
}

pub fn user_site_enabled(ctx: &Ctx) -> bool {
    ctx.var("PYTHONNOUSERSITE").is_none()
}

/// The site-packages directories site.py would consider for `prefix`.
fn site_dirs_for(l: &Layout, prefix: &Path, in_venv: bool) -> Vec<PathBuf> {
    let py = format!("python{}", l.minor);
    let mut libdirs = vec![l.platlibdir];
    if l.platlibdir != "lib" {
        libdirs.push("lib");
    }
    let mut out = Vec::new();
    if l.debian {
        if in_venv {
            out.push(prefix.join("lib").join(&py).join("site-packages"));
        }
        out.push(prefix.join("local/lib").join(&py).join("dist-packages"));
        out.push(prefix.join("lib/python3/dist-packages"));
        for lib in libdirs {
            out.push(prefix.join(lib).join(&py).join("dist-packages"));
        }
    } else if l.major == 2 {
        out.push(prefix.join("lib").join(&py).join("site-packages"));
        out.push(prefix.join("lib/site-python"));
    } else {
        for lib in libdirs {
            out.push(prefix.join(lib).join(&py).join("site-packages"));
        }
    }
    out
}

pub fn compute(ctx: &Ctx, l: &Layout, depth: Depth) -> SysPath {
    let mut b = Builder {
        ctx,
        depth,
        entries: Vec::new(),
        known: HashSet::new(),
        hooks: Vec::new(),
    };

    if let Some(pp) = ctx.env.get("PYTHONPATH") {
        for part in pp.split(':') {
            // getpath makes each entry absolute: an empty one is the cwd.
            let p = Path::new(part);
            let abs = if p.is_absolute() {
                p.to_path_buf()
            } else {
                ctx.cwd.join(p)
            };
            b.push(abs, Origin::Pythonpath, None);
        }
    }

    let base = l.base_prefix.as_path();
    let lib = base.join(l.platlibdir);
    let py = format!("python{}", l.minor);
    if l.major == 2 {
        b.push(
            base.join("lib")
                .join(format!("python{}.zip", l.minor.replace('.', ""))),
            Origin::Stdlib,
            None,
        );
        let std = base.join("lib").join(&py);
        b.push(std.clone(), Origin::Stdlib, None);
        for sub in ["plat-linux2", "lib-tk", "lib-old", "lib-dynload"] {
            b.push(std.join(sub), Origin::Stdlib, None);
        }
    } else {
        b.push(
            lib.join(format!("python{}.zip", l.minor.replace('.', ""))),
            Origin::Stdlib,
            None,
        );
        b.push(lib.join(&py), Origin::Stdlib, None);
        b.push(lib.join(&py).join("lib-dynload"), Origin::Stdlib, None);
    }

    let user = user_site(ctx, &l.minor);
    let user_enabled = user_site_enabled(ctx);
    match l.venv_system_site {
        Some(system_site) => {
            for d in site_dirs_for(l, &l.prefix, true) {
                b.add_site_dir(&d, Origin::VenvSite);
            }
            if system_site {
                if let (true, Some(u)) = (user_enabled, &user) {
                    b.add_site_dir(u, Origin::UserSite);
                }
                for d in site_dirs_for(l, base, true) {
                    b.add_site_dir(&d, Origin::Site);
                }
            }
        }
        None => {
            if let (true, Some(u)) = (user_enabled, &user) {
                b.add_site_dir(u, Origin::UserSite);
            }
            for d in site_dirs_for(l, &l.prefix, false) {
                b.add_site_dir(&d, Origin::Site);
            }
        }
    }

    // sitecustomize/usercustomize run at startup from anywhere on sys.path.
    for e in b.entries.iter().filter(|_| depth == Depth::Full) {
        for m in ["sitecustomize.py", "usercustomize.py"] {
            let p = Path::new(&e.path).join(m);
            if e.origin != Origin::Stdlib && ctx.fs.is_file(&p) {
                b.hooks.push(display(&p));
            }
        }
    }
    SysPath {
        entries: b.entries,
        startup_hooks: b.hooks,
    }
}
