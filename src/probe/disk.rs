//! Where installs write, judged for the user: ownership and mode bits (never
//! `access()`: root passes it for everything, and CI runs as root), free
//! space and read-only or tmpfs mounts (statvfs, `/proc/mounts`).

use super::Ctx;
use crate::fs::display;
use crate::snapshot::{Entry, Interpreter, Origin, Storage, User};
use std::collections::HashMap;
use std::ffi::CString;
use std::fs::Metadata;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The user being judged, and the names of the uids met along the way.
pub struct Judge {
    pub user: User,
    names: HashMap<u32, String>,
}

const READ: u32 = 4;
const WRITE: u32 = 2;
const EXEC: u32 = 1;

impl Judge {
    pub fn new(ctx: &Ctx) -> Judge {
        let names = super::host::passwd(&ctx.fs)
            .into_iter()
            .map(|e| (e.uid, e.name))
            .collect();
        Judge {
            user: ctx.user.clone(),
            names,
        }
    }

    pub fn is_root(&self) -> bool {
        self.user.uid == Some(0)
    }

    pub fn uid(&self) -> Option<u32> {
        self.user.uid
    }

    /// Whether the mode bits grant `want` to the user: the owner class when
    /// the user owns it, else the group class when one of the user's groups
    /// owns it, else other (POSIX picks one class, it does not add them up).
    /// uid 0 may read and write anything and search any directory.
    pub fn may(&self, meta: &Metadata, want: u32) -> bool {
        may(&self.user, meta, want)
    }

    pub fn entry(&self, path: &Path, meta: &Metadata) -> Entry {
        let ft = meta.file_type();
        let kind = if ft.is_dir() {
            "dir"
        } else if ft.is_file() {
            "file"
        } else if ft.is_symlink() {
            "symlink"
        } else {
            "other"
        };
        let (readable, writable) = if ft.is_dir() {
            (self.may(meta, READ | EXEC), self.may(meta, WRITE | EXEC))
        } else if ft.is_symlink() {
            // A link's own bits mean nothing; what matters is its directory.
            (true, true)
        } else {
            (self.may(meta, READ), self.may(meta, WRITE))
        };
        Entry {
            path: display(path),
            uid: meta.uid(),
            gid: meta.gid(),
            owner: self.names.get(&meta.uid()).cloned(),
            mode: meta.permissions().mode() & 0o7777,
            kind: kind.into(),
            readable,
            writable,
        }
    }
}

/// Whether the mode bits grant `want` to `user`: the owner class when the
/// user owns it, else the group class when one of the user's groups owns it,
/// else other (POSIX picks one class, it does not add them up). uid 0 may
/// read and write anything and search any directory, and execute a file
/// when any execute bit is set.
pub fn may(user: &User, meta: &Metadata, want: u32) -> bool {
    let mode = meta.permissions().mode();
    if user.uid == Some(0) {
        return want & EXEC == 0 || meta.is_dir() || mode & 0o111 != 0;
    }
    let class = if Some(meta.uid()) == user.uid {
        (mode >> 6) & 7
    } else if user.gid == Some(meta.gid()) || user.groups.contains(&meta.gid()) {
        (mode >> 3) & 7
    } else {
        mode & 7
    };
    class & want == want
}

/// Why the judged user could not run the program at `path`, as the kernel
/// would refuse it: a directory on the way (of the path or of what its
/// links lead to) they may not search, or no execute bit for them. `None`
/// when they can.
pub fn blocked(ctx: &Ctx, path: &Path) -> Option<String> {
    let who = match (&ctx.user.name, ctx.user.uid) {
        (Some(n), _) => format!("user `{n}`"),
        (None, Some(u)) => format!("uid {u}"),
        (None, None) => "this user".into(),
    };
    let mut chains = vec![path.to_path_buf()];
    if let Ok(real) = ctx.fs.canonicalize(path) {
        if real != path {
            chains.push(real);
        }
    }
    for p in &chains {
        for dir in p.ancestors().skip(1).collect::<Vec<_>>().into_iter().rev() {
            let Ok(m) = ctx.fs.metadata(dir) else {
                return Some(format!("`{}` cannot be read", display(dir)));
            };
            if !may(&ctx.user, &m, EXEC) {
                return Some(format!(
                    "{who} may not enter `{}` (owner uid {}, mode {:04o})",
                    display(dir),
                    m.uid(),
                    m.permissions().mode() & 0o7777
                ));
            }
        }
    }
    let m = ctx.fs.metadata(path).ok()?;
    if m.is_file() && !may(&ctx.user, &m, EXEC) {
        return Some(format!(
            "{who} may not execute `{}` (owner uid {}, mode {:04o})",
            display(path),
            m.uid(),
            m.permissions().mode() & 0o7777
        ));
    }
    None
}

/// `path` itself when it exists, else its nearest existing ancestor, with
/// symlinks followed (pip's check stats the first path that `lexists`).
pub fn nearest_existing(ctx: &Ctx, path: &Path) -> Option<(PathBuf, Metadata)> {
    for p in path.ancestors() {
        if ctx.fs.symlink_metadata(p).is_ok() {
            // A dangling link exists for pip but cannot be used: report
            // the link itself then.
            let meta = ctx
                .fs
                .metadata(p)
                .or_else(|_| ctx.fs.symlink_metadata(p))
                .ok()?;
            return Some((p.to_path_buf(), meta));
        }
    }
    None
}

/// Every directory above `path` lets the user through (search permission).
pub fn reachable(ctx: &Ctx, judge: &Judge, path: &Path) -> bool {
    path.ancestors().skip(1).all(|a| match ctx.fs.metadata(a) {
        Ok(m) => judge.may(&m, EXEC),
        Err(_) => false,
    })
}

/// One line of `/proc/mounts`.
#[derive(Debug, Clone)]
pub struct Mount {
    pub point: PathBuf,
    pub fs_type: String,
    pub read_only: bool,
}

/// The host's mounts (the filesystems envdoctor reads, also under `--root`).
pub fn mounts() -> Vec<Mount> {
    let Ok((text, _)) =
        crate::fs::Fs::new("/").read_text_limited(Path::new("/proc/mounts"), 4 << 20)
    else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 4 {
                return None;
            }
            Some(Mount {
                point: PathBuf::from(unescape_mount(f[1])),
                fs_type: f[2].to_string(),
                read_only: f[3].split(',').any(|o| o == "ro"),
            })
        })
        .collect()
}

/// `/proc/mounts` writes spaces and tabs in paths as octal escapes.
fn unescape_mount(s: &str) -> String {
    s.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
}

/// The mount a host path lives on: the last matching line wins, as later
/// mounts hide earlier ones on the same point.
pub fn mount_of<'a>(mounts: &'a [Mount], host: &Path) -> Option<&'a Mount> {
    mounts
        .iter()
        .enumerate()
        .filter(|(_, m)| host.starts_with(&m.point))
        .max_by_key(|(i, m)| (m.point.components().count(), *i))
        .map(|(_, m)| m)
}

pub struct Fsstat {
    pub free: u64,
    pub total: u64,
    pub read_only: bool,
    pub device: u64,
}

pub fn statvfs(host: &Path) -> Option<Fsstat> {
    let c = CString::new(host.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs writes into the zeroed struct we own; the path is a
    // valid NUL-terminated string.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    let frsize = st.f_frsize as u64;
    Some(Fsstat {
        free: (st.f_bavail as u64).saturating_mul(frsize),
        total: (st.f_blocks as u64).saturating_mul(frsize),
        read_only: st.f_flag & libc::ST_RDONLY != 0,
        device: std::fs::metadata(host).map(|m| m.dev()).unwrap_or(0),
    })
}

/// Facts about one place installs write to.
pub fn storage(
    ctx: &Ctx,
    judge: &Judge,
    mounts: &[Mount],
    role: &str,
    label: &str,
    path: &Path,
    environment: Option<&str>,
) -> Storage {
    let near = nearest_existing(ctx, path);
    let exists = near.as_ref().is_some_and(|(p, _)| p == path);
    let mut s = Storage {
        role: role.into(),
        label: label.into(),
        path: display(path),
        environment: environment.map(str::to_string),
        exists,
        nearest: near.as_ref().map(|(p, m)| judge.entry(p, m)),
        mount_point: None,
        fs_type: None,
        read_only: false,
        free_bytes: None,
        total_bytes: None,
        device: None,
    };
    if let Some((p, _)) = &near {
        let host = ctx
            .fs
            .canonicalize(p)
            .map(|c| ctx.fs.host(&c))
            .unwrap_or_else(|_| ctx.fs.host_resolved_lenient(p));
        if let Some(m) = mount_of(mounts, &host) {
            s.mount_point = Some(display(&m.point));
            s.fs_type = Some(m.fs_type.clone());
            s.read_only = m.read_only;
        }
        if let Some(st) = statvfs(&host) {
            s.read_only |= st.read_only;
            s.free_bytes = Some(st.free);
            s.total_bytes = Some(st.total);
            s.device = Some(st.device);
        }
    }
    s
}

/// HOME, TMPDIR (or /tmp) and the site-packages pip installs into for each
/// environment.
pub fn probe(
    ctx: &Ctx,
    judge: &Judge,
    mounts: &[Mount],
    interpreters: &[Interpreter],
) -> Vec<Storage> {
    let mut out = Vec::new();
    if let Some(h) = ctx.home() {
        out.push(storage(ctx, judge, mounts, "home", "HOME", &h, None));
    }
    let (label, tmp) = match ctx.var("TMPDIR") {
        Some(t) => ("TMPDIR", PathBuf::from(t)),
        None => ("/tmp", PathBuf::from("/tmp")),
    };
    out.push(storage(ctx, judge, mounts, "tmp", label, &tmp, None));
    for it in interpreters {
        if let Some(sp) = install_site(it) {
            out.push(storage(
                ctx,
                judge,
                mounts,
                "site-packages",
                "site-packages",
                Path::new(sp),
                Some(&it.prefix),
            ));
        }
    }
    out
}

/// The site-packages `pip install` writes to: a venv's own, else the first
/// site-packages under the prefix (Debian's `/usr/local/lib/.../dist-packages`).
pub fn install_site(it: &Interpreter) -> Option<&str> {
    it.sys_path
        .iter()
        .find(|e| e.origin == Origin::VenvSite)
        .or_else(|| {
            it.sys_path
                .iter()
                .find(|e| e.origin == Origin::Site && Path::new(&e.path).starts_with(&it.prefix))
        })
        .map(|e| e.path.as_str())
}
