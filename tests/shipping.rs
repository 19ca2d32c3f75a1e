//! How envdoctor reaches its users (issue 14): the version it reports, its
//! shell completions, the pre-commit hooks and the GitHub Action, and the
//! release binary's needs of the C library (Amazon Linux 2 has glibc 2.26;
//! the release wheel is tagged manylinux2014, glibc 2.17).

mod support;

use serde_yaml_ng::Value;
use std::path::Path;
use std::process::Command;
use support::*;

fn repo(file: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap()
}

#[test]
fn version_names_the_commit_and_date_like_uv() {
    let sb = Sandbox::new();
    let out = sb.run(&["--version"]);
    let v = String::from_utf8_lossy(&out.stdout);
    let v = v.trim();
    assert!(
        v.starts_with(&format!("envdoctor {}", env!("CARGO_PKG_VERSION"))),
        "{v}"
    );
    // Built from a git checkout (this one is): `(<commit> <YYYY-MM-DD>)`.
    if Path::new(env!("CARGO_MANIFEST_DIR")).join(".git").exists() {
        let tail = v.split_once(" (").map(|x| x.1).unwrap_or("");
        let mut parts = tail.trim_end_matches(')').split(' ');
        let commit = parts.next().unwrap_or("");
        let date = parts.next().unwrap_or("");
        assert!(
            commit.len() >= 7 && commit.bytes().all(|b| b.is_ascii_hexdigit()),
            "{v}"
        );
        assert!(date.len() == 10 && date.as_bytes()[4] == b'-', "{v}");
    }
}

#[test]
fn completions_for_every_shell() {
    let sb = Sandbox::new();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = sb.run(&["generate-shell-completion", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("envdoctor") && text.contains("check"),
            "{shell}: {text}"
        );
    }
    // The bash script is valid bash.
    let out = sb.run(&["generate-shell-completion", "bash"]);
    let f = sb.path("envdoctor.bash");
    std::fs::write(&f, &out.stdout).unwrap();
    run_ok(Command::new("bash").arg("-n").arg(&f));
    assert_eq!(
        sb.run(&["generate-shell-completion", "tcsh"]).status.code(),
        Some(2)
    );
}

/// `bash -n` on a `run:` script: it parses.
fn bash_parses(script: &str, what: &str) {
    let out = Command::new("bash")
        .args(["-n", "-c", script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{what}: not valid bash: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_pre_commit_hooks_parse_and_run_envdoctor() {
    let hooks: Value = serde_yaml_ng::from_str(&repo(".pre-commit-hooks.yaml")).unwrap();
    let hooks = hooks.as_sequence().expect("a list of hooks");
    assert!(!hooks.is_empty());
    for h in hooks {
        for key in ["id", "name", "entry", "language"] {
            assert!(h.get(key).is_some(), "hook without `{key}`: {h:?}");
        }
        let entry = h["entry"].as_str().unwrap();
        assert!(entry.starts_with("envdoctor check "), "{entry}");
        assert_eq!(h["pass_filenames"].as_bool(), Some(false));
        bash_parses(entry, "hook entry");
        // The entry's flags are ones `check` accepts.
        let sb = Sandbox::new();
        let args: Vec<&str> = entry.split_whitespace().skip(1).collect();
        let mut help_args = args.clone();
        help_args.push("--help");
        let out = sb.run(&help_args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{entry}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn the_action_is_a_composite_whose_scripts_parse_and_take_no_input_unquoted() {
    let action: Value = serde_yaml_ng::from_str(&repo("action.yml")).unwrap();
    assert_eq!(action["runs"]["using"].as_str(), Some("composite"));
    for input in [
        "python",
        "format",
        "fail-on",
        "requirements",
        "upload-sarif",
    ] {
        assert!(action["inputs"].get(input).is_some(), "no input `{input}`");
    }
    let steps = action["runs"]["steps"].as_sequence().unwrap();
    let mut scripts = 0;
    for s in steps {
        if let Some(run) = s.get("run").and_then(|r| r.as_str()) {
            scripts += 1;
            assert_eq!(s["shell"].as_str(), Some("bash"));
            bash_parses(run, "action step");
            // Inputs come in through `env:`, never spliced into the script.
            assert!(!run.contains("${{"), "an expression inside a script: {run}");
        }
    }
    assert!(scripts >= 2);
    assert!(steps.iter().any(|s| s
        .get("uses")
        .and_then(|u| u.as_str())
        .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif"))));
}

/// The highest `GLIBC_x.y` version a dynamically linked ELF binary needs,
/// read from its `.gnu.version_r` section (what `readelf -V` shows).
fn max_glibc_needed(bin: &[u8]) -> Option<(u32, u32)> {
    let u16_at = |o: usize| u16::from_le_bytes([bin[o], bin[o + 1]]) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(bin[o..o + 4].try_into().unwrap()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(bin[o..o + 8].try_into().unwrap()) as usize;
    assert_eq!(&bin[..4], b"\x7fELF");
    assert_eq!(bin[4], 2, "64-bit ELF");
    let shoff = u64_at(0x28);
    let shentsize = u16_at(0x3a);
    let shnum = u16_at(0x3c);
    let section = |i: usize| {
        let h = shoff + i * shentsize;
        // (type, offset, size, link, info)
        (
            u32_at(h + 4),
            u64_at(h + 0x18),
            u64_at(h + 0x20),
            u32_at(h + 0x28),
            u32_at(h + 0x2c),
        )
    };
    const SHT_GNU_VERNEED: usize = 0x6fff_fffe;
    let mut best: Option<(u32, u32)> = None;
    for i in 0..shnum {
        let (ty, off, _size, link, count) = section(i);
        if ty != SHT_GNU_VERNEED {
            continue;
        }
        let strtab = section(link).1;
        let cstr = |o: usize| {
            let end = bin[strtab + o..].iter().position(|&b| b == 0).unwrap();
            String::from_utf8_lossy(&bin[strtab + o..strtab + o + end]).into_owned()
        };
        let mut need = off;
        for _ in 0..count {
            let cnt = u16_at(need + 2);
            let mut aux = need + u32_at(need + 8);
            for _ in 0..cnt {
                let name = cstr(u32_at(aux + 8));
                if let Some(v) = name.strip_prefix("GLIBC_") {
                    let mut p = v.split('.').map(|x| x.parse::<u32>().unwrap_or(0));
                    let ver = (p.next().unwrap_or(0), p.next().unwrap_or(0));
                    best = best.max(Some(ver));
                }
                aux += u32_at(aux + 12);
            }
            need += u32_at(need + 12);
        }
    }
    best
}

#[test]
fn the_elf_reader_reads_a_real_binary() {
    // This machine's own test binary links its glibc: the reader finds a
    // version, and at least 2.2.5 (x86_64's first).
    let me = std::fs::read(env!("CARGO_BIN_EXE_envdoctor")).unwrap();
    let v = max_glibc_needed(&me).expect("a dynamically linked binary");
    assert!(v >= (2, 2), "{v:?}");
}

/// The release binary (built by `.ci/run` with `maturin build --release
/// --zig --compatibility manylinux2014`) needs no glibc newer than 2.17.
#[test]
fn the_release_binary_runs_on_glibc_2_17() {
    let Ok(path) = std::env::var("ENVDOCTOR_RELEASE_BINARY") else {
        // CI always builds it and sets the variable; a developer's plain
        // `cargo nextest run` has no release build to read.
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set ENVDOCTOR_RELEASE_BINARY"
        );
        return;
    };
    let bin = std::fs::read(&path).unwrap();
    let v = max_glibc_needed(&bin).expect("dynamically linked");
    assert!(v <= (2, 17), "{path} needs GLIBC_{}.{}", v.0, v.1);
}
