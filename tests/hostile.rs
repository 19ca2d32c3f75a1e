//! Hostile input, class by class (issue 12): each tree or file is what
//! anyone can plant (a package's METADATA, a pull request's requirements,
//! a customer's snapshot, a container image). For each: the exit code is
//! envdoctor's own (never an abort), the run is bounded in time and memory,
//! the tree is unchanged, and no planted secret or control character
//! reaches any output format. Runs as root and, where the kernel's view
//! matters, as uid 65534.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use support::*;

/// The most a hostile run may take (the target: 10 s, 512 MiB).
const MAX_TIME: Duration = Duration::from_secs(10);
const MAX_RSS_KIB: i64 = 512 * 1024;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Peak RSS of the children this test process waited for, in KiB.
fn children_max_rss_kib() -> i64 {
    // SAFETY: getrusage writes into the zeroed struct we own.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    ru.ru_maxrss
}

/// Runs envdoctor, asserting it ends on its own terms within the bounds.
fn bounded(sb: &Sandbox, args: &[&str]) -> Output {
    let start = Instant::now();
    let out = sb.run(args);
    let took = start.elapsed();
    assert!(took < MAX_TIME, "{args:?} took {took:?}");
    assert!(
        matches!(out.status.code(), Some(0..=2)),
        "{args:?} ended with {:?} (signal or abort)\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        children_max_rss_kib() < MAX_RSS_KIB,
        "{args:?}: peak RSS {} KiB",
        children_max_rss_kib()
    );
    out
}

/// Every format of `check`, and `scan` and `report`, with the outputs.
fn every_format(sb: &Sandbox, target: &[&str]) -> Vec<(String, Output)> {
    let mut outs = Vec::new();
    for f in ["text", "json", "sarif", "github", "junit"] {
        let mut args = vec!["check"];
        args.extend(target);
        args.extend(["--format", f]);
        outs.push((format!("check --format {f}"), bounded(sb, &args)));
    }
    for f in ["text", "json"] {
        outs.push((
            format!("scan --format {f}"),
            bounded(sb, &["scan", "--format", f]),
        ));
    }
    outs.push(("report".into(), bounded(sb, &["report"])));
    let mut why = vec!["why", "evil"];
    why.extend(target);
    outs.push(("why".into(), bounded(sb, &why)));
    outs
}

fn all_text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `(path, size, mtime)` of everything below `root`.
fn tree(root: &Path) -> Vec<(PathBuf, u64, i64)> {
    use std::os::unix::fs::MetadataExt;
    let mut v: Vec<_> = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let m = e.path().symlink_metadata().ok()?;
            Some((e.path().to_path_buf(), m.len(), m.mtime()))
        })
        .collect();
    v.sort();
    v
}

fn dist(site: &Path, dir: &str, metadata: &str) -> PathBuf {
    let d = site.join(dir);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("METADATA"), metadata).unwrap();
    std::fs::write(d.join("RECORD"), "").unwrap();
    d
}

fn venv(sb: &Sandbox, name: &str) -> (PathBuf, PathBuf) {
    let v = sb.path(name);
    make_venv(&python("3.12"), &v, &[]);
    let site = v.join("lib/python3.12/site-packages");
    (v, site)
}

#[test]
fn deep_nesting_is_a_finding_or_an_error_never_an_abort() {
    let sb = Sandbox::new();
    let (v, site) = venv(&sb, "v");
    let deep = format!(
        "x ; {}python_version > \"3\"{}",
        "(".repeat(15_000),
        ")".repeat(15_000)
    );
    dist(
        &site,
        "deep-1.0.dist-info",
        &format!("Metadata-Version: 2.1\nName: deep\nVersion: 1.0\nRequires-Dist: {deep}\n"),
    );
    for (what, out) in every_format(&sb, &["--python", s(&v)]) {
        assert!(out.status.code() != Some(2), "{what}: {}", all_text(&out));
    }
    let f = sb.findings(&["--python", s(&v)], "broken-distribution-metadata");
    assert_eq!(f.len(), 1, "{f:#?}");
    // In a requirements file: exit 2, naming the file and the line.
    let req = sb.path("req.txt");
    std::fs::write(&req, format!("{deep}\n")).unwrap();
    let out = bounded(
        &sb,
        &["check", "--python", s(&v), "--requirements", s(&req)],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("req.txt") && err.contains("line 1"), "{err}");
    // In pyproject.toml too.
    let pp = sb.path("pyproject.toml");
    std::fs::write(
        &pp,
        format!("[project]\nname = \"p\"\ndependencies = [{deep:?}]\n"),
    )
    .unwrap();
    let out = bounded(&sb, &["check", "--python", s(&v), "--requirements", s(&pp)]);
    assert_eq!(out.status.code(), Some(2));
    // In a snapshot: the deep requirement is a finding there as well, and
    // JSON nested 100,000 deep is refused.
    let mut sb = sb;
    sb.set_env("VIRTUAL_ENV", s(&v).to_string());
    let (snap, _) = sb.json(&["scan"]);
    let mut text = serde_json::to_string(&snap).unwrap();
    assert!(text.contains("deep"));
    let file = sb.path("snap.json");
    std::fs::write(&file, &text).unwrap();
    let out = bounded(&sb, &["check", "--snapshot", s(&file), "--all"]);
    assert!(all_text(&out).contains("broken-distribution-metadata"));
    text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    std::fs::write(&file, &text).unwrap();
    let out = bounded(&sb, &["check", "--snapshot", s(&file)]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_percent_before_a_multibyte_character_does_not_panic() {
    let sb = Sandbox::new();
    let (v, site) = venv(&sb, "v");
    let d = dist(
        &site,
        "durl-1.0.dist-info",
        "Metadata-Version: 2.1\nName: durl\nVersion: 1.0\n",
    );
    std::fs::write(d.join("RECORD"), "durl-1.0.dist-info/direct_url.json,,\n").unwrap();
    std::fs::write(
        d.join("direct_url.json"),
        "{\"url\": \"file:///tmp/a%\u{e9}%a\u{e9}%\", \"dir_info\": {\"editable\": true}}",
    )
    .unwrap();
    every_format(&sb, &["--python", s(&v)]);
}

/// Nine ways a secret reached some output before; none may now.
#[test]
fn no_planted_secret_reaches_any_output() {
    let mut sb = Sandbox::new();
    let (v, site) = venv(&sb, "v");
    sb.set_env("VIRTUAL_ENV", s(&v).to_string());
    // Scheme-less proxy with credentials (requests accepts it).
    sb.set_env("HTTPS_PROXY", "proxyuser:SECRETPROXY1@proxy.corp:3128");
    // A pip.conf proxy without scheme, an index password holding `@`, and
    // a token in a query string.
    let conf = sb.home.join(".config/pip/pip.conf");
    std::fs::create_dir_all(conf.parent().unwrap()).unwrap();
    std::fs::write(
        &conf,
        "[global]\nproxy = bob:SECRETPROXY2@10.1.1.1:8080\nindex-url = https://alice:SECRET@PASS3@pypi.corp.example/simple\nextra-index-url = https://pypi.corp.example/simple?token=SECRETTOKEN4\n",
    )
    .unwrap();
    // Installed with a direct URL carrying a token.
    let d = dist(
        &site,
        "vcs-1.0.dist-info",
        "Metadata-Version: 2.1\nName: vcs\nVersion: 1.0\nRequires-Dist: dep @ https://u:SECRETURL5@files.example/dep.whl\n",
    );
    std::fs::write(
        d.join("direct_url.json"),
        "{\"url\": \"https://ghp_SECRETVCS6@github.com/o/r.git\", \"vcs_info\": {\"vcs\": \"git\", \"commit_id\": \"abc\"}}",
    )
    .unwrap();
    std::fs::write(d.join("RECORD"), "vcs-1.0.dist-info/direct_url.json,,\n").unwrap();
    // Requirements naming VCS and direct URLs with credentials.
    let req = sb.path("requirements.txt");
    std::fs::write(
        &req,
        "vcs @ git+https://SECRETREQ7@github.com/o/r.git\nother @ https://u:SECRETREQ8@files.example/o.whl\n",
    )
    .unwrap();
    let secrets = [
        "SECRETPROXY1",
        "SECRETPROXY2",
        "PASS3",
        "SECRETTOKEN4",
        "SECRETURL5",
        "SECRETVCS6",
        "SECRETREQ7",
        "SECRETREQ8",
    ];
    let mut outs = every_format(&sb, &["--python", s(&v), "--requirements", s(&req)]);
    // Errors: `-r` of a URL with credentials, a parse error quoting a line
    // that holds one, and `-r /proc/self/environ` (the CI's environment).
    std::fs::write(
        sb.path("r2.txt"),
        "-r https://u:SECRETERR9@host.example/r.txt\n",
    )
    .unwrap();
    std::fs::write(
        sb.path("r3.txt"),
        "pkg[ @ https://u:SECRETERR10@x.example/y ; ((\n",
    )
    .unwrap();
    std::fs::write(sb.path("r4.txt"), "-r /proc/self/environ\n").unwrap();
    sb.set_env("CI_DEPLOY_PASSWORD", "SECRETENV11");
    for r in ["r2.txt", "r3.txt", "r4.txt"] {
        let out = bounded(
            &sb,
            &[
                "check",
                "--python",
                s(&v),
                "--requirements",
                &sb.path(r).display().to_string(),
            ],
        );
        assert_eq!(out.status.code(), Some(2), "{r}: {}", all_text(&out));
        outs.push((r.to_string(), out));
    }
    let out = bounded(
        &sb,
        &[
            "check",
            "--python",
            s(&v),
            "--requirements",
            "/proc/self/environ",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    outs.push(("--requirements /proc/self/environ".into(), out));
    for (what, out) in &outs {
        let t = all_text(out);
        for secret in secrets
            .iter()
            .chain(&["SECRETERR9", "SECRETERR10", "SECRETENV11"])
        {
            assert!(!t.contains(secret), "{what} printed {secret}:\n{t}");
        }
    }
    // The hosts stay: they are what a reader needs.
    let scan = outs
        .iter()
        .find(|(w, _)| w == "scan --format json")
        .unwrap();
    let json = String::from_utf8_lossy(&scan.1.stdout).into_owned();
    assert!(json.contains("github.com"), "{json}");
}

/// A package `Name:` and a folded METADATA line holding ESC sequences and
/// newlines that would start workflow commands, and a dist-info directory
/// named with them.
#[test]
fn control_characters_and_workflow_commands_are_defused() {
    let sb = Sandbox::new();
    let (v, site) = venv(&sb, "v");
    // Two dists of one name (a duplicate-distribution finding quotes the
    // names and the dir names), one of them named to attack.
    let evil = "evil\u{1b}]0;owned\u{7}\u{1b}[2J";
    dist(
        &site,
        "evil-1.0.dist-info",
        &format!("Metadata-Version: 2.1\nName: {evil}\nVersion: 1.0\nRequires-Dist: missing-dep\nSummary: x\n ::error title=injected::folded\n"),
    );
    dist(
        &site,
        "evil-2.0\n::stop-commands::tok\n::error title=injected::x.dist-info",
        "Metadata-Version: 2.1\nName: evil\nVersion: 2.0\nRequires-Dist: missing-other ; python_version > \"3\"\n",
    );
    std::fs::create_dir_all(site.join("~vil\n::error title=injected::leftover")).unwrap();
    for (what, out) in every_format(&sb, &["--python", s(&v)]) {
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        for t in [&stdout, &stderr] {
            assert!(
                !t.contains('\u{1b}') && !t.contains('\u{7}'),
                "{what}: raw control character\n{t}"
            );
            for line in t.lines() {
                let l = line.trim_start();
                let ours = what.contains("github")
                    && (l.starts_with("::error title=ED")
                        || l.starts_with("::warning title=ED")
                        || l.starts_with("::notice title=ED"));
                assert!(
                    !l.starts_with("::") || ours,
                    "{what}: a line starts a workflow command:\n{line}"
                );
            }
        }
        if what == "report" {
            assert!(!stdout.contains("\n::"), "{stdout}");
        }
    }
}

/// The report takes no Markdown from package metadata: no heading, image,
/// link or raw HTML, and a name holding backticks stays inside its span.
#[test]
fn the_report_escapes_markdown_from_metadata() {
    let sb = Sandbox::new();
    let (v, site) = venv(&sb, "v");
    sb.envdoctor(); // (the sandbox is used below)
    dist(
        &site,
        "mdx-1.0.dist-info",
        "Metadata-Version: 2.1\nName: mdx\nVersion: 1.0\nRequires-Dist: dep-`x`-![i](http://track.example/p.png)-<img src=x onerror=alert(1)>\n",
    );
    let snap_dir = site.join("``sneaky`` <b>dir</b> [l](http://x)");
    std::fs::create_dir_all(snap_dir.join("__pycache__")).unwrap();
    let mut sb = sb;
    sb.set_env("VIRTUAL_ENV", s(&v).to_string());
    let out = bounded(&sb, &["report"]);
    let md = String::from_utf8_lossy(&out.stdout);
    let prose = outside_code_spans(&md);
    for bad in ["<img", "![i](", "<b>", "[l](http"] {
        let unescaped = prose
            .match_indices(bad)
            .any(|(i, _)| i == 0 || !prose[..i].ends_with('\\'));
        assert!(!unescaped, "unescaped `{bad}` in the report:\n{md}");
    }
    assert!(md.contains("mdx"), "{md}");
}

/// The Markdown outside code spans (a span opened by N backticks ends at
/// the next run of exactly N), as CommonMark reads it.
fn outside_code_spans(md: &str) -> String {
    let b = md.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'`' && (i == 0 || b[i - 1] != b'\\') {
            let n = b[i..].iter().take_while(|&&c| c == b'`').count();
            let fence = "`".repeat(n);
            let rest = &md[i + n..];
            let mut j = 0;
            let mut close = None;
            while let Some(k) = rest[j..].find(&fence) {
                let at = j + k;
                let run = rest[at..].bytes().take_while(|&c| c == b'`').count();
                if run == n {
                    close = Some(at);
                    break;
                }
                j = at + run;
            }
            match close {
                Some(c) => {
                    i += n + c + n;
                    continue;
                }
                None => {
                    out.push_str(&fence);
                    i += n;
                    continue;
                }
            }
        }
        let ch = md[i..].chars().next().unwrap();
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// An image whose links point out of it, absolutely and through `..`, at
/// every level of a path: nothing of the host is read through them.
#[test]
fn root_links_stay_inside_the_root() {
    let sb = Sandbox::new();
    // A real environment on the host, which the image must not reach.
    let host_env = sb.path("host-side/venv");
    make_venv(&python("3.12"), &host_env, &[]);
    let img = sb.path("img");
    std::fs::create_dir_all(img.join("opt")).unwrap();
    std::fs::create_dir_all(img.join("usr/bin")).unwrap();
    std::os::unix::fs::symlink(sb.path("host-side"), img.join("opt/abs")).unwrap();
    std::os::unix::fs::symlink(
        format!(
            "../../../../../../../../..{}",
            sb.path("host-side").display()
        ),
        img.join("opt/rel"),
    )
    .unwrap();
    // An intermediate link: /opt/mid/x/venv, /opt/mid -> /opt/abs.
    std::os::unix::fs::symlink("/opt/abs", img.join("opt/mid")).unwrap();
    for p in [
        "/opt/abs/venv",
        "/opt/rel/venv",
        "/opt/mid/venv",
        "/opt/abs/venv/bin/python",
    ] {
        let out = bounded(&sb, &["check", "--root", s(&img), "--python", p]);
        assert_eq!(out.status.code(), Some(2), "{p}: {}", all_text(&out));
        assert!(
            all_text(&out).contains("does not exist"),
            "{p}: {}",
            all_text(&out)
        );
    }
    // conda's environments.txt in the image naming them: listed as stale,
    // never read from the host.
    let txt = img.join("root/.conda/environments.txt");
    std::fs::create_dir_all(txt.parent().unwrap()).unwrap();
    std::fs::write(&txt, "/opt/abs/venv\n/opt/mid/venv\n").unwrap();
    let (scan, _) = sb.json(&["scan", "--root", s(&img)]);
    let text = scan.to_string();
    assert!(
        !text.contains("\"version\":\"3.12"),
        "host interpreter seen: {text}"
    );
}

#[test]
fn hard_linked_sparse_records_and_huge_pth_files_are_bounded() {
    let sb = Sandbox::new();
    let (v, site) = venv(&sb, "v");
    let big = sb.path("big-record");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(1 << 30).unwrap(); // sparse: 1 GiB of nothing on disk
    for i in 0..60 {
        let d = dist(
            &site,
            &format!("p{i}-1.0.dist-info"),
            &format!("Metadata-Version: 2.1\nName: p{i}\nVersion: 1.0\n"),
        );
        std::fs::remove_file(d.join("RECORD")).unwrap();
        std::fs::hard_link(&big, d.join("RECORD")).unwrap();
    }
    let line = format!("{}\n", sb.path("nowhere").display());
    let pth = line.repeat((1 << 20) / line.len());
    for i in 0..20 {
        std::fs::write(site.join(format!("big{i}.pth")), &pth).unwrap();
    }
    let before = tree(sb.dir.path());
    for (what, out) in every_format(&sb, &["--python", s(&v)]) {
        assert!(out.status.code() != Some(2), "{what}: {}", all_text(&out));
    }
    assert_eq!(before, tree(sb.dir.path()), "the tree changed");
}

#[test]
fn one_cache_tree_under_many_names_is_walked_once() {
    let mut sb = Sandbox::new();
    let tree_dir = sb.path("pkgs");
    for i in 0..200 {
        let d = tree_dir.join(format!("d{i}"));
        std::fs::create_dir_all(&d).unwrap();
        for j in 0..100 {
            std::fs::write(d.join(format!("f{j}")), "").unwrap();
        }
    }
    let mut dirs = Vec::new();
    for i in 0..40 {
        let l = sb.path(&format!("link{i}"));
        std::os::unix::fs::symlink(&tree_dir, &l).unwrap();
        dirs.push(l.display().to_string());
    }
    std::fs::write(
        sb.home.join(".condarc"),
        format!(
            "pkgs_dirs:\n{}",
            dirs.iter()
                .map(|d| format!("  - {d}\n"))
                .collect::<String>()
        ),
    )
    .unwrap();
    sb.set_env("CONDARC", sb.home.join(".condarc").display().to_string());
    let out = bounded(&sb, &["scan", "--format", "json"]);
    let scan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let conda: Vec<_> = scan["caches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["tool"] == "conda" && c["path"].as_str().unwrap().contains("link"))
        .collect();
    assert!(conda.len() >= 40, "{conda:#?}");
    for c in &conda {
        assert_eq!(c["audit"]["entries"], conda[0]["audit"]["entries"]);
    }
}

#[test]
fn a_rules_glob_through_a_self_link_is_bounded() {
    let sb = Sandbox::new();
    let d = sb.path("ci/rules");
    std::fs::create_dir_all(&d).unwrap();
    std::os::unix::fs::symlink(".", d.join("loop")).unwrap();
    std::fs::write(
        d.join("r.toml"),
        "code = \"EX900\"\nname = \"ex\"\nseverity = \"info\"\ncheck = \"broken-venv\"\nsummary = \"s\"\nwhy = \"w\"\nfix = \"f\"\n",
    )
    .unwrap();
    std::fs::write(
        sb.path("envdoctor.toml"),
        "rules = [\"ci/rules/**/*.toml\"]\n",
    )
    .unwrap();
    let out = bounded(&sb, &["rules"]);
    assert_eq!(out.status.code(), Some(2), "{}", all_text(&out));
}

#[test]
fn huge_snapshots_are_refused_before_they_are_read() {
    let sb = Sandbox::new();
    let f = sb.path("big.json");
    let file = std::fs::File::create(&f).unwrap();
    file.set_len(1 << 30).unwrap();
    let out = bounded(&sb, &["check", "--snapshot", s(&f)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(all_text(&out).contains("larger than"), "{}", all_text(&out));
    // A 40 MB string inside an otherwise valid snapshot: bounded.
    let (mut snap, _) = sb.json(&["scan"]);
    snap["host"]["distro"] = serde_json::Value::String("x".repeat(40 << 20));
    std::fs::write(&f, serde_json::to_vec(&snap).unwrap()).unwrap();
    bounded(&sb, &["check", "--snapshot", s(&f)]);
}

/// `--exec` on an interpreter that leaves a child holding its output, from
/// a directory holding a `json.py`: bounded, and nothing from the cwd runs.
#[test]
fn exec_is_sandboxed_and_bounded() {
    let sb = Sandbox::new();
    let (v, _) = venv(&sb, "v");
    let real = v.join("bin/python3.12");
    let real_target = std::fs::read_link(&real).unwrap_or(python("3.12"));
    for name in ["python", "python3", "python3.12"] {
        let p = v.join("bin").join(name);
        let _ = std::fs::remove_file(&p);
        std::fs::write(
            &p,
            format!(
                "#!/bin/sh\n(sleep 1000) &\nexec {} \"$@\"\n",
                envdoctor::shell::quote(s(&real_target))
            ),
        )
        .unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::write(
        sb.path("json.py"),
        format!("open({:?}, 'w').write('ran')\n", s(&sb.path("json-ran"))),
    )
    .unwrap();
    let out = bounded(&sb, &["check", "--exec", "--python", s(&v)]);
    assert!(!sb.path("json-ran").exists(), "a json.py in the cwd ran");
    assert!(out.status.code().is_some());
    // No sleep left running from it.
    let ps = Command::new("pgrep")
        .args(["-f", "sleep 1000"])
        .output()
        .unwrap();
    assert!(ps.stdout.is_empty(), "a child outlived --exec");
}

/// The same hostile trees as an unprivileged uid: the kernel's view, the
/// same bounds and the same silence about secrets.
#[test]
fn as_an_unprivileged_uid_too() {
    let mut sb = Sandbox::new();
    std::fs::set_permissions(sb.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&sb.home, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (v, site) = venv(&sb, "v");
    dist(
        &site,
        "evil-1.0.dist-info",
        &format!(
            "Metadata-Version: 2.1\nName: evil\u{1b}[2J\nVersion: 1.0\nRequires-Dist: x ; {}\n",
            "(".repeat(5000)
        ),
    );
    sb.set_env("HTTPS_PROXY", "u:SECRETUID@proxy:3128");
    let exe = sb.path("envdoctor");
    std::fs::copy(env!("CARGO_BIN_EXE_envdoctor"), &exe).unwrap();
    for f in ["text", "json", "github"] {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&exe)
            .args(["check", "--python", s(&v), "--format", f])
            .env_clear()
            .env("HOME", &sb.home)
            .current_dir(sb.dir.path());
        for (k, val) in &sb.env {
            c.env(k, val);
        }
        let start = Instant::now();
        let out = c.output().unwrap();
        assert!(start.elapsed() < MAX_TIME);
        assert!(
            matches!(out.status.code(), Some(0..=1)),
            "{f}: {}",
            all_text(&out)
        );
        let t = all_text(&out);
        assert!(
            !t.contains("SECRETUID") && !t.contains('\u{1b}'),
            "{f}: {t}"
        );
    }
}

/// Found by the `requirements` fuzz target: pep508_rs slices inside a
/// multibyte character after `[`. Refused before the parser, never a panic
/// (under libFuzzer a caught panic still aborts, so it must not happen).
#[test]
fn a_multibyte_character_in_extras_is_refused_not_a_panic() {
    let sb = Sandbox::new();
    let (v, site) = venv(&sb, "v");
    dist(
        &site,
        "mb-1.0.dist-info",
        "Metadata-Version: 2.1\nName: mb\nVersion: 1.0\nRequires-Dist: x[\u{d6}\n",
    );
    let req = sb.path("req.txt");
    std::fs::write(&req, "pk/g @ git+ht&ps://t@github.com/o/r.g\nx[\u{d6}\n").unwrap();
    let out = bounded(
        &sb,
        &["check", "--python", s(&v), "--requirements", s(&req)],
    );
    assert_eq!(out.status.code(), Some(2), "{}", all_text(&out));
    assert!(!all_text(&out).contains("panicked"), "{}", all_text(&out));
    let f = sb.findings(&["--python", s(&v)], "broken-distribution-metadata");
    assert_eq!(f.len(), 1, "{f:#?}");
    // Found by the `pyproject` target: pep508_rs's error message slices
    // inside a character too. Refused or reported, never an internal error.
    for dep in [
        "b[cdyname \u{d4}= 'p\u{c4}six'",
        "b[c] ; platform_version == '\u{e9}' and (",
        // More shapes the fuzz targets found pep508_rs panicking on.
        "b[c_ ; os_name == 'posix'",
        "p2.* ; kg n@u",
        "1uT_=mpy>TTTTTe== 'po'",
        "6.%un4[bu",
    ] {
        let pp = sb.path("pyproject.toml");
        std::fs::write(
            &pp,
            format!("[project]\nname = \"p\"\ndependencies = [{dep:?}]\n"),
        )
        .unwrap();
        let out = bounded(&sb, &["check", "--python", s(&v), "--requirements", s(&pp)]);
        assert_eq!(out.status.code(), Some(2), "{dep}: {}", all_text(&out));
        assert!(
            !all_text(&out).contains("internal error"),
            "{dep}: {}",
            all_text(&out)
        );
    }
}
