//! The host: OS, distribution, and the user envdoctor judges for.

use super::Ctx;
use crate::fs::{display, Fs};
use crate::snapshot::{Host, Libc, User};
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
        libc: libc(&ctx.fs),
        kernel_release: kernel("osrelease"),
        kernel_version: kernel("version"),
    }
}

/// `/proc/sys/kernel/{osrelease,version}`: what `uname -r` / `uname -v`
/// (and Python's `platform.release()` / `platform.version()`) report.
fn kernel(file: &str) -> Option<String> {
    let fs = Fs::new("/");
    let (t, _) = fs
        .read_text_limited(&Path::new("/proc/sys/kernel").join(file), 4096)
        .ok()?;
    Some(t.trim().to_string()).filter(|t| !t.is_empty())
}

/// glibc's version from the library itself ("GNU C Library ... release
/// version 2.36"), or musl's loader; read, never loaded.
fn libc(fs: &Fs) -> Option<Libc> {
    const GLIBC: &[&str] = &[
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/lib/aarch64-linux-gnu/libc.so.6",
        "/lib/i386-linux-gnu/libc.so.6",
        "/lib/arm-linux-gnueabihf/libc.so.6",
        "/lib/powerpc64le-linux-gnu/libc.so.6",
        "/lib/s390x-linux-gnu/libc.so.6",
        "/lib64/libc.so.6",
        "/usr/lib64/libc.so.6",
        "/usr/lib/libc.so.6",
        "/lib/libc.so.6",
    ];
    for p in GLIBC {
        let path = Path::new(p);
        if !fs.is_file(path) {
            continue;
        }
        return Some(Libc {
            family: "glibc".into(),
            version: glibc_version(fs, path),
            path: display(path),
        });
    }
    for dir in ["/lib", "/usr/lib"] {
        if let Ok(names) = fs.read_dir_names(Path::new(dir)) {
            if let Some(n) = names
                .iter()
                .find(|n| n.to_string_lossy().starts_with("ld-musl-"))
            {
                return Some(Libc {
                    family: "musl".into(),
                    version: None,
                    path: display(&Path::new(dir).join(n)),
                });
            }
        }
    }
    None
}

/// The version in glibc's banner, read from the library's `.rodata`
/// section alone (about a tenth of the file: the banner is a constant
/// string), found through the ELF section headers. A file that is not ELF,
/// or has no `.rodata`, is searched from its start instead, within the same
/// bound.
fn glibc_version(fs: &Fs, path: &Path) -> Option<String> {
    const MAX: u64 = 16 << 20;
    let rodata = fs.open_read(path).ok().and_then(|f| {
        let cache = object::ReadCache::new(f);
        elf_section(&cache, b".rodata", MAX)
    });
    let bytes = match rodata {
        Some(b) => b,
        None => fs.read_head(path, MAX).ok()?,
    };
    banner_version(&bytes)
}

/// The bytes of one section of an ELF file (either class, either byte
/// order), if it has that section and it is at most `max` bytes.
fn elf_section(data: &object::ReadCache<std::fs::File>, name: &[u8], max: u64) -> Option<Vec<u8>> {
    use object::read::elf::{FileHeader, SectionHeader};
    fn find<H: FileHeader>(
        data: &object::ReadCache<std::fs::File>,
        name: &[u8],
        max: u64,
    ) -> Option<Vec<u8>> {
        let header = H::parse(data).ok()?;
        let endian = header.endian().ok()?;
        let sections = header.sections(endian, data).ok()?;
        let (_, section) = sections.section_by_name(endian, name)?;
        let (_, size) = section.file_range(endian)?;
        if size > max {
            return None;
        }
        section.data(endian, data).ok().map(<[u8]>::to_vec)
    }
    match object::FileKind::parse(data).ok()? {
        object::FileKind::Elf64 => {
            find::<object::elf::FileHeader64<object::Endianness>>(data, name, max)
        }
        object::FileKind::Elf32 => {
            find::<object::elf::FileHeader32<object::Endianness>>(data, name, max)
        }
        _ => None,
    }
}

/// "2.36" from "GNU C Library (Debian GLIBC 2.36-9) stable release version
/// 2.36." (the banner `ldd --version` and `gnu_get_libc_version` share).
fn banner_version(bytes: &[u8]) -> Option<String> {
    const HEAD: &[u8] = b"GNU C Library";
    const KEY: &[u8] = b"version ";
    for at in memchr::memmem::find_iter(bytes, HEAD) {
        let line = &bytes[at..bytes.len().min(at + HEAD.len() + 220)];
        let line = &line[..memchr::memchr(b'\n', line).unwrap_or(line.len())];
        let Some(v) = memchr::memmem::find(line, KEY) else {
            continue;
        };
        let rest = &line[v + KEY.len()..];
        let major = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if major == 0 || rest.get(major) != Some(&b'.') {
            continue;
        }
        let minor = rest[major + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if minor == 0 {
            continue;
        }
        return Some(String::from_utf8_lossy(&rest[..major + 1 + minor]).into_owned());
    }
    None
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
            // A bare uid runs fine without a passwd entry (OpenShift and
            // many CI containers do): judge for it, in no group but its own
            // unknown one; HOME comes from `--env HOME=...`, else `/`.
            if let Ok(uid) = name.parse::<u32>() {
                return Ok(User {
                    name: None,
                    uid: Some(uid),
                    gid: None,
                    groups: Vec::new(),
                    home: Some("/".into()),
                });
            }
            return Err(crate::Error::Usage(format!(
                "no user `{name}` in `{}`: give a name listed there, a numeric uid, or leave out --user",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banner_version_is_the_first_dotted_number_after_version() {
        let v = |b: &[u8]| banner_version(b);
        assert_eq!(
            v(b"\0GNU C Library (Debian GLIBC 2.36-9+deb12u4) stable release version 2.36.\n")
                .as_deref(),
            Some("2.36")
        );
        assert_eq!(
            v(b"GNU C Library (GNU libc) stable release version 2.26, by Roland").as_deref(),
            Some("2.26")
        );
        // A banner without a version, then a real one further on.
        assert_eq!(
            v(b"GNU C Library\nversion 9.9\0GNU C Library release version 2.17\n").as_deref(),
            Some("2.17")
        );
        assert_eq!(v(b"GNU C Library version 2"), None);
        assert_eq!(v(b"GNU C Library version .36"), None);
        assert_eq!(v(b"no banner at all"), None);
        assert_eq!(v(b""), None);
    }

    /// ELF headers that lie (65,535 sections at an offset past the end, a
    /// `.rodata` larger than the file, a truncated header): no section is
    /// found, nothing huge is allocated, and the banner is still found by
    /// the bounded scan from the start.
    #[test]
    fn lying_elf_headers_fall_back_to_the_bounded_scan() {
        let dir = tempfile::tempdir().unwrap();
        let banner = b"\0GNU C Library (GNU libc) stable release version 2.28.\n";
        let mut cases: Vec<Vec<u8>> = Vec::new();
        // ELF64, little-endian, e_shoff near the end of u64, e_shnum 65535.
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = 2;
        h[5] = 1;
        h[6] = 1;
        h[0x28..0x30].copy_from_slice(&(u64::MAX - 10).to_le_bytes());
        h[0x3a..0x3c].copy_from_slice(&64u16.to_le_bytes());
        h[0x3c..0x3e].copy_from_slice(&u16::MAX.to_le_bytes());
        h[0x3e..0x40].copy_from_slice(&1u16.to_le_bytes());
        cases.push(h.clone());
        // Sections at offset 64: one `.rodata` claiming u64::MAX bytes.
        let mut h2 = h.clone();
        h2[0x28..0x30].copy_from_slice(&64u64.to_le_bytes());
        h2[0x3c..0x3e].copy_from_slice(&2u16.to_le_bytes());
        let mut sh = vec![0u8; 128];
        // Section 1 is the string table (names at offset 192).
        sh[64 + 4..64 + 8].copy_from_slice(&3u32.to_le_bytes());
        sh[64 + 0x18..64 + 0x20].copy_from_slice(&192u64.to_le_bytes());
        sh[64 + 0x20..64 + 0x28].copy_from_slice(&16u64.to_le_bytes());
        // Section 0 is `.rodata` (name at 1), PROGBITS, huge.
        sh[..4].copy_from_slice(&1u32.to_le_bytes());
        sh[4..8].copy_from_slice(&1u32.to_le_bytes());
        sh[0x18..0x20].copy_from_slice(&0u64.to_le_bytes());
        sh[0x20..0x28].copy_from_slice(&u64::MAX.to_le_bytes());
        h2.extend(sh);
        h2.extend(b"\0.rodata\0\0\0\0\0\0\0\0");
        cases.push(h2);
        cases.push(b"\x7fELF\x02".to_vec());
        for (i, mut bytes) in cases.into_iter().enumerate() {
            bytes.extend_from_slice(banner);
            let p = dir.path().join(format!("libc{i}.so.6"));
            std::fs::write(&p, &bytes).unwrap();
            let fs = Fs::new("/");
            let f = fs.open_read(&p).unwrap();
            assert!(elf_section(&object::ReadCache::new(f), b".rodata", 16 << 20).is_none());
            assert_eq!(glibc_version(&fs, &p).as_deref(), Some("2.28"), "case {i}");
        }
    }

    /// The ELF path (headers, then `.rodata` only) against the running
    /// process's own glibc: the library this very test is linked with.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn the_hosts_glibc_version_matches_the_loaded_library() {
        extern "C" {
            fn gnu_get_libc_version() -> *const std::ffi::c_char;
        }
        // SAFETY: glibc returns a static NUL-terminated string.
        let loaded = unsafe { std::ffi::CStr::from_ptr(gnu_get_libc_version()) }
            .to_string_lossy()
            .into_owned();
        let fs = Fs::new("/");
        let found = libc(&fs).expect("a glibc on a glibc host");
        assert_eq!(
            found.version.as_deref(),
            Some(loaded.as_str()),
            "{}",
            found.path
        );
        // And it came from the section, not the fallback scan.
        let f = fs.open_read(Path::new(&found.path)).unwrap();
        let rodata = elf_section(&object::ReadCache::new(f), b".rodata", 16 << 20).unwrap();
        assert_eq!(banner_version(&rodata).as_deref(), Some(loaded.as_str()));
        assert!((rodata.len() as u64) < fs.metadata(Path::new(&found.path)).unwrap().len() / 2);
    }
}
