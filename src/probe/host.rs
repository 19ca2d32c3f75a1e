//! The host: OS, distribution, and the user envdoctor judges for.

use super::Ctx;
use crate::fs::{display, Fs};
use crate::snapshot::{Host, User};
use std::collections::BTreeMap;
use std::path::Path;

pub fn probe(ctx: &Ctx) -> Host {
    Host {
        os: std::env::consts::OS.to_string(),
        arch: std::env::consts::ARCH.to_string(),
        distro: os_release(&ctx.fs),
        root: display(ctx.fs.root()),
        cwd: display(&ctx.cwd),
        user: ctx.user.clone(),
    }
}

fn os_release(fs: &Fs) -> Option<String> {
    for p in ["/etc/os-release", "/usr/lib/os-release"] {
        if let Ok(text) = fs.read_text(Path::new(p)) {
            for line in text.lines() {
                if let Some(v) = line.strip_prefix("PRETTY_NAME=") {
                    return Some(v.trim().trim_matches('"').to_string());
                }
            }
        }
    }
    None
}

/// One line of `/etc/passwd`.
#[derive(Debug, Clone)]
pub struct PasswdEntry {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
}

pub fn passwd(fs: &Fs) -> Vec<PasswdEntry> {
    let Ok(text) = fs.read_text(Path::new("/etc/passwd")) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 7 {
                return None;
            }
            Some(PasswdEntry {
                name: f[0].to_string(),
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
                home: f[5].to_string(),
            })
        })
        .collect()
}

/// Supplementary groups of `name` from `/etc/group`, plus its primary group.
fn groups_of(fs: &Fs, name: &str, primary: u32) -> Vec<u32> {
    let mut out = vec![primary];
    if let Ok(text) = fs.read_text(Path::new("/etc/group")) {
        for l in text.lines() {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 4 {
                continue;
            }
            if f[3].split(',').any(|m| m.trim() == name) {
                if let Ok(gid) = f[2].parse() {
                    out.push(gid);
                }
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The user to judge for: `--user NAME` from the root's passwd, or whoever
/// runs envdoctor.
pub fn resolve_user(
    fs: &Fs,
    name: Option<&str>,
    host_root: bool,
    env: &BTreeMap<String, String>,
) -> Result<User, crate::Error> {
    let entries = passwd(fs);
    if let Some(name) = name {
        // A number names a uid, as `chown` accepts.
        let found = entries
            .iter()
            .find(|e| e.name == name || name.parse::<u32>().ok() == Some(e.uid));
        let Some(e) = found else {
            return Err(crate::Error::Usage(format!(
                "no user `{name}` in `{}`: give a name listed there, or leave out --user",
                display(&fs.host(Path::new("/etc/passwd")))
            )));
        };
        return Ok(User {
            name: Some(e.name.clone()),
            uid: Some(e.uid),
            gid: Some(e.gid),
            groups: groups_of(fs, &e.name, e.gid),
            home: Some(e.home.clone()),
        });
    }
    // SAFETY: these libc calls only read the process's credentials.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    let entry = entries.iter().find(|e| e.uid == uid);
    let groups = if host_root {
        let mut g = own_groups();
        g.push(gid);
        g.sort_unstable();
        g.dedup();
        g
    } else {
        entry
            .map(|e| groups_of(fs, &e.name, e.gid))
            .unwrap_or_else(|| vec![gid])
    };
    let home = if host_root {
        env.get("HOME")
            .cloned()
            .or_else(|| entry.map(|e| e.home.clone()))
    } else {
        entry.map(|e| e.home.clone())
    };
    Ok(User {
        name: entry.map(|e| e.name.clone()),
        uid: Some(uid),
        gid: Some(gid),
        groups,
        home,
    })
}

fn own_groups() -> Vec<u32> {
    let mut buf = vec![0 as libc::gid_t; 256];
    // SAFETY: the buffer holds 256 gids and we pass that length.
    let n = unsafe { libc::getgroups(buf.len() as libc::c_int, buf.as_mut_ptr()) };
    if n < 0 {
        return Vec::new();
    }
    buf.truncate(n as usize);
    buf
}
