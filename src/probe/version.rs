//! Reading facts about an interpreter from files: its version, its
//! `pyvenv.cfg`, the interpreter a script's shebang names.

use crate::fs::{display, Fs};
use crate::snapshot::PyvenvCfg;
use std::path::{Path, PathBuf};

/// Parses `pyvenv.cfg` as CPython's getpath does: `key = value` lines, keys
/// case-insensitive, anything else ignored.
pub fn read_pyvenv_cfg(fs: &Fs, path: &Path) -> std::io::Result<PyvenvCfg> {
    let (text, _) = fs.read_text_limited(path, 64 * 1024)?;
    let mut cfg = PyvenvCfg {
        path: display(path),
        ..Default::default()
    };
    let mut creator = None;
    for line in text.lines() {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let k = k.trim().to_ascii_lowercase();
        let v = v.trim().to_string();
        match k.as_str() {
            "home" => cfg.home = Some(v),
            "include-system-site-packages" => {
                cfg.include_system_site_packages = v.eq_ignore_ascii_case("true")
            }
            "version" | "version_info" => {
                // virtualenv writes `version_info = 3.9.6.final.0`.
                let short = v.split('.').take(3).collect::<Vec<_>>().join(".");
                if cfg.version.is_none() || k == "version" {
                    cfg.version = Some(short);
                }
            }
            "prompt" => {
                let unq = ['\'', '"']
                    .iter()
                    .find_map(|q| v.strip_prefix(*q).and_then(|x| x.strip_suffix(*q)));
                cfg.prompt = Some(unq.unwrap_or(&v).to_string());
            }
            "virtualenv" => creator = Some("virtualenv".to_string()),
            "uv" => creator = Some("uv".to_string()),
            _ => {}
        }
    }
    cfg.creator = creator.or_else(|| Some("venv".to_string()));
    Ok(cfg)
}

/// The names below are matched by hand, not by regex: every run asks them
/// of hundreds of names, and compiling the four regexes they were cost
/// more than all the matching (a regex is built per process).
/// `digits` at the start of `s`: (the digits, the rest), at least one.
fn leading_digits(s: &str) -> Option<(&str, &str)> {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    (n > 0).then(|| s.split_at(n))
}

/// `X.Y` at the start of `s` (ASCII digits): (`X.Y`, the rest).
fn leading_minor(s: &str) -> Option<(&str, &str)> {
    let (major, rest) = leading_digits(s)?;
    let (minor, rest) = leading_digits(rest.strip_prefix('.')?)?;
    let len = major.len() + 1 + minor.len();
    Some((&s[..len], rest))
}

/// `X.Y.Z` at the start of `s` (ASCII digits): (`X.Y.Z`, the rest).
fn leading_micro(s: &str) -> Option<(&str, &str)> {
    let (minor, rest) = leading_minor(s)?;
    let (micro, rest) = leading_digits(rest.strip_prefix('.')?)?;
    let len = minor.len() + 1 + micro.len();
    Some((&s[..len], rest))
}

fn strip_python_or_pypy(name: &str) -> Option<&str> {
    name.strip_prefix("python")
        .or_else(|| name.strip_prefix("pypy"))
}

/// `3.11` out of an executable or directory name (`python3.11`, `python3.13t`,
/// `python3.11-dbg`).
pub fn minor_from_name(name: &str) -> Option<String> {
    let (minor, rest) = leading_minor(strip_python_or_pypy(name)?)?;
    let rest = rest.strip_prefix('t').unwrap_or(rest);
    matches!(rest, "" | "-dbg").then(|| minor.to_string())
}

/// The version of the interpreter whose prefix is `prefix`, with the file it
/// came from, trying the sources from most to least exact.
pub fn version_from_prefix(
    fs: &Fs,
    prefix: &Path,
    minor: Option<&str>,
) -> Option<(String, String)> {
    // conda records the exact build it installed.
    if let Some(v) = conda_python_version(fs, prefix) {
        return Some(v);
    }
    let minors: Vec<String> = match minor {
        Some(m) => vec![m.to_string()],
        None => lib_minors(fs, prefix),
    };
    for m in &minors {
        for dir in [
            format!("python{m}"),
            format!("python{m}t"),
            format!("python{m}m"),
        ] {
            let p = prefix.join("include").join(&dir).join("patchlevel.h");
            if let Some(v) = patchlevel(fs, &p) {
                return Some((v, display(&p)));
            }
        }
        // PEP 739 (3.14+).
        let p = prefix
            .join("lib")
            .join(format!("python{m}"))
            .join("build-details.json");
        if let Some(v) = build_details(fs, &p) {
            return Some((v, display(&p)));
        }
    }
    if prefix == Path::new("/usr") {
        for m in &minors {
            if let Some(v) = dpkg_version(fs, m) {
                return Some(v);
            }
        }
    }
    minors.into_iter().next().map(|m| {
        let lib = prefix.join("lib").join(format!("python{m}"));
        (m, display(&lib))
    })
}

/// `X.Y` for each `lib/pythonX.Y` holding a standard library.
pub fn lib_minors(fs: &Fs, prefix: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for lib in ["lib", "lib64"] {
        if let Ok(names) = fs.read_dir_names(&prefix.join(lib)) {
            for n in names {
                let n = n.to_string_lossy();
                if let Some(m) = minor_from_name(&n) {
                    let dir = prefix.join(lib).join(&*n);
                    if fs.is_file(&dir.join("os.py")) && !out.contains(&m) {
                        out.push(m);
                    }
                }
            }
        }
    }
    // Newest first: the one a bare `python3` most likely is.
    out.sort_by_key(|m| std::cmp::Reverse(version_key(m)));
    out
}

pub fn version_key(v: &str) -> Vec<u32> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

fn patchlevel(fs: &Fs, path: &Path) -> Option<String> {
    let (text, _) = fs.read_text_limited(path, 64 * 1024).ok()?;
    py_version_define(&text).map(str::to_string)
}

/// `3.11.7` out of `#define PY_VERSION "3.11.7+"` anywhere in `text` (the
/// first such define whose string starts with `X.Y.Z`).
fn py_version_define(text: &str) -> Option<&str> {
    let blank = |c: char| c.is_whitespace();
    text.match_indices("#define").find_map(|(at, _)| {
        let rest = &text[at + "#define".len()..];
        let name = rest.trim_start_matches(blank);
        (name.len() < rest.len()).then_some(())?;
        let value = name.strip_prefix("PY_VERSION")?;
        let quoted = value.trim_start_matches(blank);
        (quoted.len() < value.len()).then_some(())?;
        let (v, tail) = leading_micro(quoted.strip_prefix('"')?)?;
        tail.contains('"').then_some(v)
    })
}

fn build_details(fs: &Fs, path: &Path) -> Option<String> {
    let (text, _) = fs.read_text_limited(path, 256 * 1024).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let vi = v.get("language")?.get("version_info")?;
    Some(format!(
        "{}.{}.{}",
        vi.get("major")?,
        vi.get("minor")?,
        vi.get("micro")?
    ))
}

/// conda names its records `python-3.10.9-hc0d8a6c_1.json`.
fn conda_python_version(fs: &Fs, prefix: &Path) -> Option<(String, String)> {
    let meta = prefix.join("conda-meta");
    let names = fs.read_dir_names(&meta).ok()?;
    let mut best: Option<(Vec<u32>, String, PathBuf)> = None;
    for n in names {
        let n = n.to_string_lossy();
        if let Some(v) = conda_python_record(&n) {
            let v = v.to_string();
            let key = version_key(&v);
            if best.as_ref().is_none_or(|(k, _, _)| key > *k) {
                best = Some((key, v, meta.join(&*n)));
            }
        }
    }
    best.map(|(_, v, p)| (v, display(&p)))
}

/// `3.10.9` out of `python-3.10.9-hc0d8a6c_1.json` (one build string, no
/// `-` in it).
fn conda_python_record(name: &str) -> Option<&str> {
    let (v, rest) = leading_micro(name.strip_prefix("python-")?)?;
    let build = rest.strip_prefix('-')?.strip_suffix(".json")?;
    (!build.is_empty() && !build.contains('-')).then_some(v)
}

/// Debian and Ubuntu: the version of the `pythonX.Y-minimal` package.
fn dpkg_version(fs: &Fs, minor: &str) -> Option<(String, String)> {
    let status = Path::new("/var/lib/dpkg/status");
    let (text, _) = fs.read_text_limited(status, 64 << 20).ok()?;
    let want = format!("Package: python{minor}-minimal");
    let mut in_pkg = false;
    for line in text.lines() {
        if line.starts_with("Package: ") {
            in_pkg = line == want;
        } else if in_pkg {
            if let Some(v) = line.strip_prefix("Version: ") {
                // `3.11.2-6+deb12u6` -> `3.11.2`
                let upstream = v.split(['-', '~', '+']).next().unwrap_or(v);
                return Some((upstream.to_string(), display(status)));
            }
        }
    }
    None
}

/// The interpreter a script runs, read from its first bytes. Handles a plain
/// `#!/path/python`, `#!/usr/bin/env python3` (returned as `Env`), and pip's
/// long-path trampoline (`#!/bin/sh` then `'''exec' "/path/python" "$0" "$@"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shebang {
    Path(PathBuf),
    Env(String),
}

pub fn shebang(head: &[u8]) -> Option<Shebang> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.lines();
    let first = lines.next()?.strip_prefix("#!")?.trim();
    let mut parts = first.split_whitespace();
    let prog = parts.next()?;
    if prog == "/bin/sh" {
        // pip's trampoline for interpreter paths too long or with spaces.
        let second = lines.next()?;
        let rest = second.strip_prefix("'''exec' ")?;
        let rest = rest.strip_prefix('"')?;
        let end = rest.find('"')?;
        return Some(Shebang::Path(PathBuf::from(&rest[..end])));
    }
    if prog.ends_with("/env") {
        let mut arg = parts.next()?;
        if arg == "-S" {
            arg = parts.next()?;
        }
        return Some(Shebang::Env(arg.to_string()));
    }
    Some(Shebang::Path(PathBuf::from(prog)))
}

/// Whether a program name is a Python interpreter's.
/// `python`, `python3`, `python3.11`, `python3.13t`, `pypy3.10`.
pub fn is_python_name(name: &str) -> bool {
    let Some(v) = strip_python_or_pypy(name) else {
        return false;
    };
    let Some((_, rest)) = leading_digits(v) else {
        return v.is_empty();
    };
    let rest = match rest.strip_prefix('.') {
        Some(r) => match leading_digits(r) {
            Some((_, r)) => r,
            None => return false,
        },
        None => rest,
    };
    matches!(rest, "" | "t")
}

/// Machine and word size from an ELF header (`e_ident[EI_CLASS]`,
/// `e_machine`), as `file(1)` reads them.
pub fn elf_machine(head: &[u8]) -> Option<(String, u32)> {
    if head.len() < 20 || &head[..4] != b"\x7fELF" {
        return None;
    }
    let bits = match head[4] {
        1 => 32,
        2 => 64,
        _ => return None,
    };
    let machine = if head[5] == 2 {
        u16::from_be_bytes([head[18], head[19]])
    } else {
        u16::from_le_bytes([head[18], head[19]])
    };
    let name = match machine {
        3 => "i686",
        62 => "x86_64",
        183 => "aarch64",
        40 => "armv7l",
        21 if bits == 64 => "ppc64le",
        22 => "s390x",
        243 => "riscv64",
        other => return Some((format!("elf-machine-{other}"), bits)),
    };
    Some((name.to_string(), bits))
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    /// Names built from the pieces that matter (prefixes, digits, dots,
    /// suffixes), each tried against the regex the hand matchers replace.
    fn names() -> Vec<String> {
        let heads = ["python", "pypy", "pip", "Python", "python-", "", "xpython"];
        let mids = [
            "", "3", "3.", "3.11", "311", "3.11.7", ".11", "3..1", "10.13", "3.1a", "2.7.18",
        ];
        let tails = [
            "",
            "t",
            "-dbg",
            "t-dbg",
            "m",
            "tt",
            "-config",
            ".json",
            "-h1.json",
            "-a-b.json",
            "\n",
        ];
        let mut out = Vec::new();
        for h in heads {
            for m in mids {
                for t in tails {
                    out.push(format!("{h}{m}{t}"));
                }
            }
        }
        out
    }

    #[test]
    fn hand_matchers_agree_with_the_regexes_they_replace() {
        let minor = Regex::new(r"^(?:python|pypy)(\d+\.\d+)t?(?:-dbg)?$").unwrap();
        let is_py = Regex::new(r"^(?:python|pypy)(?:\d+(?:\.\d+)?t?)?$").unwrap();
        let conda = Regex::new(r"^python-(\d+\.\d+\.\d+)-[^-]+\.json$").unwrap();
        let define = Regex::new(r#"#define\s+PY_VERSION\s+"(\d+\.\d+\.\d+)[^"]*""#).unwrap();
        let names = names();
        assert!(names.len() > 500);
        for n in &names {
            let want = minor.captures(n).map(|c| c[1].to_string());
            assert_eq!(minor_from_name(n), want, "minor_from_name({n:?})");
            assert_eq!(
                is_python_name(n),
                is_py.is_match(n),
                "is_python_name({n:?})"
            );
            let want = conda.captures(n).map(|c| c[1].to_string());
            assert_eq!(
                conda_python_record(n).map(str::to_string),
                want,
                "conda record {n:?}"
            );
        }
        for text in [
            "#define PY_VERSION \"3.11.7\"\n",
            "#define PY_VERSION      \"3.13.0+\"",
            "#define  PY_VERSION\t\"2.7.18rc1\" /* x */",
            "#define PY_VERSION_HEX 0x030B07F0\n#define PY_VERSION \"3.11.7\"",
            "#define PY_VERSION \"3.11\"",
            "#define PY_VERSION \"3.11.7",
            "#definePY_VERSION \"3.11.7\"",
            "#define PY_VERSION\"3.11.7\"",
            "#define PY_VERSION \"3.11.7\"\n#define PY_VERSION \"9.9.9\"",
            "#define PY_VERSION \"x\"\n#define PY_VERSION \"3.12.1\"",
            "",
        ] {
            let want = define.captures(text).map(|c| c[1].to_string());
            assert_eq!(
                py_version_define(text).map(str::to_string),
                want,
                "{text:?}"
            );
        }
        // The regexes' `\d` took any Unicode digit; a version is ASCII.
        assert_eq!(minor_from_name("python\u{663}.\u{661}"), None);
        assert!(!is_python_name("python\u{663}"));
    }

    #[test]
    fn shebang_forms() {
        assert_eq!(
            shebang(b"#!/v/bin/python3\nimport x"),
            Some(Shebang::Path("/v/bin/python3".into()))
        );
        assert_eq!(
            shebang(b"#!/usr/bin/env python3\n"),
            Some(Shebang::Env("python3".into()))
        );
        assert_eq!(
            shebang(b"#!/bin/sh\n'''exec' \"/a b/bin/python\" \"$0\" \"$@\"\n' '''\n"),
            Some(Shebang::Path("/a b/bin/python".into()))
        );
        assert_eq!(shebang(b"\x7fELF\x02"), None);
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = 1;
        h[5] = 1;
        h[18] = 3;
        assert_eq!(elf_machine(&h), Some(("i686".into(), 32)));
        h[4] = 2;
        h[18] = 62;
        assert_eq!(elf_machine(&h), Some(("x86_64".into(), 64)));
    }

    #[test]
    fn python_names() {
        assert!(is_python_name("python3.11"));
        assert!(is_python_name("python"));
        assert!(is_python_name("python3.13t"));
        assert!(!is_python_name("python3.11-config"));
        assert!(!is_python_name("python-argcomplete-tcsh"));
        assert_eq!(minor_from_name("python3.12"), Some("3.12".into()));
    }
}
