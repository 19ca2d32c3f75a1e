//! Dependency truth (issue 17): a differential test against the machine's
//! real `pip check` on real venvs built from wheels the test writes. The
//! scenarios are those of pip's `tests/functional/test_check.py` and uv's
//! `pip check` tests, ported, plus the cases where envdoctor was wrong
//! before. envdoctor must agree with pip wherever pip is right; where it is
//! deliberately stricter (pip does not follow extras, pypa/pip#4086), the
//! extra problems are listed in the scenario.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

/// `(requirer, requirement, kind)` with names normalised.
type Problem = (String, String, &'static str);

fn norm(s: &str) -> String {
    s.to_ascii_lowercase().replace(['_', '.'], "-")
}

/// What the machine's pip (23, Python 3.11) says of `venv`.
fn pip_check(venv: &Path) -> BTreeSet<Problem> {
    let out = Command::new(python("3.11"))
        .args(["-m", "pip", "--python"])
        .arg(venv.join("bin/python"))
        .args(["check", "--disable-pip-version-check"])
        .env_remove("PYTHONPATH")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut set = BTreeSet::new();
    for l in text.lines() {
        // "app 1.0 requires lib, which is not installed."
        if let Some((who, rest)) = l.split_once(" requires ") {
            if let Some(dep) = rest.strip_suffix(", which is not installed.") {
                let name = who.split(' ').next().unwrap();
                set.insert((norm(name), norm(dep), "missing"));
            }
        }
        // "app 1.0 has requirement lib>=2, but you have lib 1.0."
        if let Some((who, rest)) = l.split_once(" has requirement ") {
            if let Some((req, _)) = rest.split_once(", but you have ") {
                let name = who.split(' ').next().unwrap();
                let dep: String = req
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                    .collect();
                set.insert((norm(name), norm(&dep), "incompatible"));
            }
        }
    }
    set
}

/// What envdoctor says of `venv`, in the same terms.
fn envdoctor_check(sb: &Sandbox, venv: &Path) -> (BTreeSet<Problem>, Value) {
    let (doc, _) = sb.json(&["check", "--python", venv.to_str().unwrap()]);
    let mut set = BTreeSet::new();
    for f in doc["findings"].as_array().unwrap() {
        let m = f["message"].as_str().unwrap();
        let name = norm(m.split(' ').next().unwrap());
        match f["rule"].as_str().unwrap() {
            "missing-dependency" => {
                let dep = m
                    .split(" requires ")
                    .nth(1)
                    .unwrap()
                    .split(',')
                    .next()
                    .unwrap();
                set.insert((name, norm(dep), "missing"));
            }
            "incompatible-dependency" => {
                let req = m.split(" has requirement ").nth(1).unwrap();
                let dep: String = req
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                    .collect();
                set.insert((name, norm(&dep), "incompatible"));
            }
            _ => {}
        }
    }
    (set, doc)
}

struct Scenario {
    name: &'static str,
    wheels: Vec<Wheel>,
    /// Problems envdoctor reports and pip 23 does not, on purpose.
    stricter: Vec<(&'static str, &'static str, &'static str)>,
}

fn scenario(name: &'static str, wheels: Vec<Wheel>) -> Scenario {
    Scenario {
        name,
        wheels,
        stricter: Vec::new(),
    }
}

fn build(sb: &Sandbox, s: &Scenario) -> PathBuf {
    let venv = sb.path(s.name);
    make_venv(&python("3.12"), &venv, &[]);
    let dir = sb.path(&format!("{}-wheels", s.name));
    let built: Vec<PathBuf> = s.wheels.iter().map(|w| w.build(&dir)).collect();
    if !built.is_empty() {
        let args: Vec<&str> = built.iter().map(|p| p.to_str().unwrap()).collect();
        pip_install(&venv.join("bin/python"), &args);
    }
    venv
}

fn agree(sb: &Sandbox, s: &Scenario, venv: &Path) {
    let pip = pip_check(venv);
    let (ours, doc) = envdoctor_check(sb, venv);
    let stricter: BTreeSet<Problem> = s
        .stricter
        .iter()
        .map(|(a, b, k)| (norm(a), norm(b), *k))
        .collect();
    let expected: BTreeSet<Problem> = pip.union(&stricter).cloned().collect();
    assert_eq!(
        ours, expected,
        "{}: envdoctor and pip check (plus the documented stricter cases) differ\npip: {pip:?}\nenvdoctor: {doc:#}",
        s.name
    );
}

/// pip's test_check.py and uv's pip check tests, as scenarios.
#[test]
fn agrees_with_pip_check_where_pip_is_right() {
    let sb = Sandbox::new();
    let mut all = vec![
        // test_basic_check_clean
        scenario(
            "clean",
            vec![
                Wheel::new("pkga", "1.0").requires("pkgb>=1"),
                Wheel::new("pkgb", "1.5"),
            ],
        ),
        // test_basic_check_missing_dependency
        scenario(
            "missing",
            vec![Wheel::new("pkga", "1.0").requires("missing-dep")],
        ),
        // test_basic_check_broken_dependency
        scenario(
            "broken",
            vec![
                Wheel::new("pkga", "1.0").requires("broken>=1.0"),
                Wheel::new("broken", "0.1"),
            ],
        ),
        // test_basic_check_broken_dependency_and_missing_dependency
        scenario(
            "broken-and-missing",
            vec![
                Wheel::new("pkga", "1.0")
                    .requires("broken>=1.0")
                    .requires("missing"),
                Wheel::new("broken", "0.1"),
            ],
        ),
        // test_check_complicated_name_missing / _broken / _clean
        scenario(
            "complicated-names",
            vec![
                Wheel::new("package_A", "1.0")
                    .requires("Dependency-B>=1.0")
                    .requires("dependency_c"),
                Wheel::new("dependency-b", "0.5"),
            ],
        ),
        // test_check_development_versions_are_also_ok (pip treats
        // prereleases as satisfying when installed)
        scenario(
            "dev-versions",
            vec![
                Wheel::new("pkga", "1.0").requires("dependency>=1.0"),
                Wheel::new("dependency", "1.0.dev0"),
            ],
        ),
        // test_basic_check_dependency_with_markers (uv: markers false for
        // this interpreter)
        scenario(
            "markers",
            vec![Wheel::new("pkga", "1.0")
                .requires("winonly ; sys_platform == \"win32\"")
                .requires("py2only ; python_version < \"3\"")
                .requires("here ; python_version >= \"3.8\"")],
        ),
        // uv: an extra nobody asked for does not count
        scenario(
            "extra-not-requested",
            vec![Wheel::new("pkga", "1.0")
                .requires("turtle ; extra == \"slow\"")
                .file_meta("Provides-Extra: slow\n")],
        ),
        // Requirement names compared normalised (PEP 503)
        scenario(
            "normalised",
            vec![
                Wheel::new("pkga", "1.0").requires("Zope.Interface>=4"),
                Wheel::new("zope_interface", "5.0"),
            ],
        ),
    ];
    // platform_release / platform_version: the running kernel's (they
    // were evaluated as empty strings before).
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let marker = format!("kernel-dep ; platform_release == \"{}\"", release.trim());
    all.push(scenario(
        "kernel-markers",
        vec![Wheel::new("pkga", "1.0").requires(&marker)],
    ));
    // Version operators on a kernel release that is no PEP 440 version:
    // packaging (pip) compares as versions where it can and otherwise
    // evaluates to false; envdoctor must agree.
    let kernel = scenario(
        "kernel-compare",
        vec![Wheel::new("pkgk", "1.0")
            .requires("k1 ; platform_release >= \"5\"")
            .requires("k2 ; platform_version >= \"1\"")
            .requires("k3 ; python_version > \"3.10a\"")
            // pep508_rs alone says true here, comparing strings.
            .requires("k4 ; platform_release < \"99\"")
            .requires("k5 ; platform_release != \"5\"")],
    );
    all.push(kernel);
    // pip 23 does not follow extras (pypa/pip#4086): envdoctor does, one
    // step and transitively.
    let mut extras = scenario(
        "extras",
        vec![
            Wheel::new("app", "1.0").requires("lib[fast]"),
            Wheel::new("lib", "1.5")
                .file_meta("Provides-Extra: fast\n")
                .requires("speedup ; extra == \"fast\"")
                .requires("c[y] ; extra == \"fast\""),
            Wheel::new("c", "1.0")
                .file_meta("Provides-Extra: y\nProvides-Extra: z\n")
                .requires("deep ; extra == \"y\"")
                .requires("c[z] ; extra == \"y\"")
                .requires("selfdep ; extra == \"z\""),
        ],
    );
    extras.stricter = vec![
        ("lib", "speedup", "missing"),
        ("c", "deep", "missing"),
        ("c", "selfdep", "missing"),
    ];
    all.push(extras);
    for s in &all {
        let venv = build(&sb, s);
        agree(&sb, s, &venv);
        if s.name == "kernel-markers" {
            // Not trivially empty on both sides: the marker is true here.
            assert!(!pip_check(&venv).is_empty(), "pip saw no kernel-dep");
        }
    }
}

/// Two dist-infos of one project in one directory: Python and pip see the
/// first the directory lists, whatever order that is on this filesystem.
#[test]
fn duplicate_metadata_follows_the_listing_order_like_pip() {
    let sb = Sandbox::new();
    let s = scenario(
        "dups",
        vec![
            Wheel::new("requests", "2.31.0").requires("idna>=2.5,<4"),
            Wheel::new("idna", "3.6"),
        ],
    );
    let venv = build(&sb, &s);
    let site = venv.join("lib/python3.12/site-packages");
    let old = site.join("idna-2.4.dist-info");
    std::fs::create_dir_all(&old).unwrap();
    std::fs::write(
        old.join("METADATA"),
        "Metadata-Version: 2.1\nName: idna\nVersion: 2.4\n",
    )
    .unwrap();
    std::fs::write(old.join("RECORD"), "").unwrap();
    agree(&sb, &s, &venv);
    // And the duplicate finding names the copy they see.
    let listed: Vec<String> = std::fs::read_dir(&site)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("idna-"))
        .collect();
    let f = sb.findings(
        &["--python", venv.to_str().unwrap()],
        "duplicate-distribution",
    );
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("pip use `{}`", listed[0])),
        "{listed:?} {f:#?}"
    );
}

/// A directory added by a literal `.pth` import line holds the dependency:
/// pip sees it (the line runs), and envdoctor reads the line as data.
#[test]
fn a_pth_import_line_directory_counts_like_pip() {
    let sb = Sandbox::new();
    let s = scenario(
        "pth",
        vec![Wheel::new("app", "1.0").requires("vendored>=1")],
    );
    let venv = build(&sb, &s);
    let extra = sb.path("extra-dir");
    let w = Wheel::new("vendored", "1.2")
        .package("vendored")
        .build(&sb.path("v-wheels"));
    pip_install(
        &venv.join("bin/python"),
        &["--target", extra.to_str().unwrap(), w.to_str().unwrap()],
    );
    std::fs::write(
        venv.join("lib/python3.12/site-packages/extra.pth"),
        format!(
            "import sys; sys.path.append({:?})\n",
            extra.display().to_string()
        ),
    )
    .unwrap();
    agree(&sb, &s, &venv);
    assert!(pip_check(&venv).is_empty());
}

/// A folded header over 512 KiB (an old PKG-INFO's `Description:`) does
/// not hide the Requires-Dist after it.
#[test]
fn a_huge_header_does_not_hide_requirements() {
    let sb = Sandbox::new();
    let desc = format!("Summary: s\nDescription: first{}\n", "\n x".repeat(400_000));
    let s = scenario(
        "huge-header",
        vec![Wheel::new("app", "1.0")
            .file_meta(&desc)
            .requires("needed>=1")],
    );
    let venv = build(&sb, &s);
    agree(&sb, &s, &venv);
    assert!(!pip_check(&venv).is_empty());
}

/// An unparseable Requires-Dist: pip says "Error parsing dependencies",
/// envdoctor a broken-distribution-metadata finding naming the line.
#[test]
fn an_unparseable_requirement_is_reported_as_pip_reports_it() {
    let sb = Sandbox::new();
    let s = scenario(
        "unparseable",
        vec![Wheel::new("app", "1.0")
            .requires("ok>=1")
            .requires("bad name ((")],
    );
    let venv = build(&sb, &s);
    let out = Command::new(python("3.11"))
        .args(["-m", "pip", "--python"])
        .arg(venv.join("bin/python"))
        .args(["check"])
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.to_lowercase().contains("error parsing"), "{said}");
    let f = sb.findings(
        &["--python", venv.to_str().unwrap()],
        "broken-distribution-metadata",
    );
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(f[0]["message"].as_str().unwrap().contains("bad name (("));
}

/// A site dir that cannot be listed is a finding, and no "not installed"
/// verdict rests on it.
#[test]
fn an_unreadable_site_dir_is_not_empty() {
    let mut sb = Sandbox::new();
    std::fs::set_permissions(
        sb.dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let s = scenario("unread", vec![Wheel::new("app", "1.0").requires("lib>=1")]);
    let venv = build(&sb, &s);
    let closed = sb.path("closed");
    let w = Wheel::new("lib", "1.0")
        .package("lib")
        .build(&sb.path("lib-wheels"));
    pip_install(
        &venv.join("bin/python"),
        &["--target", closed.to_str().unwrap(), w.to_str().unwrap()],
    );
    std::fs::set_permissions(&closed, std::os::unix::fs::PermissionsExt::from_mode(0o311)).unwrap();
    sb.set_env("PYTHONPATH", closed.display().to_string());
    let exe = sb.path("envdoctor");
    std::fs::copy(env!("CARGO_BIN_EXE_envdoctor"), &exe).unwrap();
    let mut c = Command::new("setpriv");
    c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&exe)
        .args([
            "check",
            "--python",
            venv.to_str().unwrap(),
            "--format",
            "json",
        ])
        .env_clear()
        .env("HOME", "/")
        .current_dir("/");
    for (k, v) in &sb.env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"site-packages-unreadable"), "{doc:#}");
    assert!(!rules.contains(&"missing-dependency"), "{doc:#}");
}

/// A zipped egg on sys.path (named by easy-install.pth): Python imports it
/// and importlib.metadata reports it; so does envdoctor, from its EGG-INFO.
#[test]
fn a_zipped_egg_counts() {
    let sb = Sandbox::new();
    let s = scenario(
        "egg",
        vec![Wheel::new("app", "1.0").requires("bar>=1").requires("qux")],
    );
    let venv = build(&sb, &s);
    let site = venv.join("lib/python3.12/site-packages");
    let egg = site.join("bar-1.0-py3.12.egg");
    {
        use std::io::Write;
        let f = std::fs::File::create(&egg).unwrap();
        let mut z = zip::ZipWriter::new(f);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (p, c) in [
            (
                "EGG-INFO/PKG-INFO",
                "Metadata-Version: 1.1\nName: bar\nVersion: 1.0\n",
            ),
            ("EGG-INFO/requires.txt", "baz\n"),
            ("EGG-INFO/top_level.txt", "bar\n"),
            ("bar/__init__.py", "X = 1\n"),
        ] {
            z.start_file(p, opts).unwrap();
            z.write_all(c.as_bytes()).unwrap();
        }
        z.finish().unwrap();
    }
    std::fs::write(site.join("easy-install.pth"), "./bar-1.0-py3.12.egg\n").unwrap();
    // Python imports it.
    let out = Command::new(venv.join("bin/python"))
        .args([
            "-c",
            "import bar, importlib.metadata as m; print(bar.X, m.version('bar'))",
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "1 1.0",
        "{out:?}"
    );
    let (ours, doc) = envdoctor_check(&sb, &venv);
    // bar is installed (in the egg); its own requirement baz is not; qux
    // is missing for app.
    assert!(!ours.iter().any(|p| p.1 == "bar"), "{doc:#}");
    assert!(
        ours.contains(&("bar".into(), "baz".into(), "missing")),
        "{doc:#}"
    );
    assert!(
        ours.contains(&("app".into(), "qux".into(), "missing")),
        "{doc:#}"
    );
    let out = sb.run(&["why", "bar", "--python", venv.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("bar-1.0-py3.12.egg"));
}

/// A directory added by code in a `.pth` file that is no literal form:
/// statically unknowable, so the static check calls the dependency
/// missing; with `--exec` the dependency rules follow the sys.path the
/// interpreter reported, and agree with pip.
#[test]
fn with_exec_the_dependency_rules_follow_the_real_sys_path() {
    let sb = Sandbox::new();
    let s = scenario(
        "exec-path",
        vec![Wheel::new("app", "1.0").requires("hidden>=1")],
    );
    let venv = build(&sb, &s);
    let extra = sb.path("computed-dir");
    let w = Wheel::new("hidden", "1.0")
        .package("hidden")
        .build(&sb.path("h-wheels"));
    pip_install(
        &venv.join("bin/python"),
        &["--target", extra.to_str().unwrap(), w.to_str().unwrap()],
    );
    std::fs::write(
        venv.join("lib/python3.12/site-packages/computed.pth"),
        format!(
            "import sys; d = {:?}; sys.path.append(d)\n",
            extra.display().to_string()
        ),
    )
    .unwrap();
    assert!(pip_check(&venv).is_empty());
    let v = venv.to_str().unwrap();
    let missing = |args: &[&str]| {
        sb.findings(args, "missing-dependency")
            .iter()
            .any(|f| f["message"].as_str().unwrap().contains("requires hidden"))
    };
    assert!(missing(&["--python", v]), "static: unknowable, so missing");
    assert!(
        !missing(&["--python", v, "--exec"]),
        "--exec: the real sys.path holds it"
    );
    // The difference itself is reported, once.
    assert_eq!(
        sb.findings(&["--python", v, "--exec"], "exec-mismatch")
            .len(),
        1
    );
}
