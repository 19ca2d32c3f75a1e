//! Packages: real venvs, real `pip install --no-index` of wheels the tests
//! write, and each package rule seen firing with the right winner and
//! versions (or staying quiet). Hand-made trees only where no tool makes the
//! breakage: a duplicate dist-info, `~` leftovers, garbage metadata, a
//! hostile site-packages, an OS root with `EXTERNALLY-MANAGED`.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use support::*;

const PACKAGE_RULES: &[&str] = &[
    "shadowed-package",
    "overlapping-distributions",
    "tensorflow-variants-mixed",
    "duplicate-distribution",
    "invalid-distribution-leftover",
    "broken-distribution-metadata",
    "dangling-editable",
    "missing-dependency",
    "incompatible-dependency",
    "requires-python-mismatch",
    "pip-into-system-python",
];

struct Env {
    prefix: PathBuf,
    python: PathBuf,
    site: PathBuf,
}

fn venv(sb: &Sandbox, name: &str, extra: &[&str]) -> Env {
    let prefix = sb.path(name);
    make_venv(&python("3.11"), &prefix, extra);
    Env {
        python: prefix.join("bin/python"),
        site: prefix.join("lib/python3.11/site-packages"),
        prefix,
    }
}

fn install(sb: &Sandbox, env: &Env, wheels: &[Wheel], extra: &[&str]) {
    let dir = sb.path("wheels");
    let paths: Vec<String> = wheels
        .iter()
        .map(|w| w.build(&dir).display().to_string())
        .collect();
    let mut args: Vec<&str> = extra.to_vec();
    args.extend(paths.iter().map(String::as_str));
    pip_install(&env.python, &args);
}

/// `check --python ENV --format json`: the package findings, by rule.
fn package_findings(sb: &Sandbox, env: &Env) -> BTreeMap<String, Vec<Value>> {
    let py = env.python.display().to_string();
    let (v, _) = sb.json(&["check", "--python", &py]);
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for f in v["findings"].as_array().unwrap() {
        let rule = f["rule"].as_str().unwrap();
        if PACKAGE_RULES.contains(&rule) {
            out.entry(rule.to_string()).or_default().push(f.clone());
        }
    }
    out
}

fn msg(f: &Value) -> &str {
    f["message"].as_str().unwrap()
}

fn only(found: &BTreeMap<String, Vec<Value>>, rule: &str) -> Value {
    let fs = found
        .get(rule)
        .unwrap_or_else(|| panic!("no {rule} finding in {found:#?}"));
    assert_eq!(fs.len(), 1, "{fs:#?}");
    fs[0].clone()
}

#[test]
fn healthy_venv_is_quiet_and_counted() {
    let sb = Sandbox::new();
    let env = venv(&sb, "ok", &[]);
    install(
        &sb,
        &env,
        &[
            Wheel::new("alpha", "1.2.0").package("alpha"),
            Wheel::new("beta", "2.0")
                .package("beta")
                .requires("alpha>=1.0")
                .requires("gamma ; python_version < \"3\"")
                .requires("delta ; extra == \"extra\"")
                .requires_python(">=3.8"),
        ],
        &[],
    );
    let found = package_findings(&sb, &env);
    assert!(found.is_empty(), "{found:#?}");
    let py = env.python.display().to_string();
    let (v, code) = sb.json(&["check", "--python", &py]);
    assert_eq!(code, 0);
    assert_eq!(v["summary"]["distributions"], 2, "{v:#}");
}

#[test]
fn pythonpath_target_dir_shadows_the_venv() {
    let mut sb = Sandbox::new();
    let env = venv(&sb, "v", &[]);
    install(
        &sb,
        &env,
        &[Wheel::new("mylib", "2.0").package("mylib")],
        &[],
    );
    let pp = sb.path("pp");
    let w = Wheel::new("mylib", "1.0")
        .package("mylib")
        .build(&sb.path("wheels"));
    pip_install(
        &env.python,
        &["--target", pp.to_str().unwrap(), w.to_str().unwrap()],
    );
    sb.set_env("PYTHONPATH", pp.display().to_string());
    let found = package_findings(&sb, &env);
    let f = only(&found, "shadowed-package");
    assert_eq!(f["severity"], "error", "{f:#}");
    let m = msg(&f);
    // The winner (PYTHONPATH, 1.0) is named before the shadowed copy (2.0).
    let win = m.find(&format!("{}/mylib", pp.display())).expect(m);
    let lose = m.find(&format!("{}/mylib", env.site.display())).expect(m);
    assert!(win < lose, "{m}");
    assert!(
        m.contains("`mylib` 1.0") && m.contains("`mylib` 2.0"),
        "{m}"
    );
    assert!(m.contains("PYTHONPATH"), "{m}");
    assert!(fix(&f).contains(pp.to_str().unwrap()));

    // `why` tells the same story, in sys.path order.
    let out = sb.run(&["why", "mylib", "--python", env.python.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let imported = text.find("[imported]").expect(&text);
    let shadowed = text.find("[shadowed]").expect(&text);
    assert!(imported < shadowed, "{text}");
    let pp_line = text.lines().find(|l| l.contains("[imported]")).unwrap();
    assert!(pp_line.contains(pp.to_str().unwrap()), "{text}");
    assert!(text.contains("mylib 1.0, installed by pip"), "{text}");
    assert!(text.contains("mylib 2.0, installed by pip"), "{text}");
    // And agrees with what Python really imports.
    let real = Command::new(&env.python)
        .args(["-c", "import mylib; print(mylib.__file__)"])
        .env("PYTHONPATH", &pp)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&real.stdout).starts_with(pp.to_str().unwrap()));
}

/// PEP 420 namespace portions merge: `corp/` without `__init__` in two
/// directories is one package, and a portion before a regular package
/// does not shadow it (Python imports the package). `check` reads whether a
/// directory has an `__init__` only for names with copies in two places;
/// here every name has, so each must be read, or both would be reported
/// as shadowed.
#[test]
fn namespace_portions_merge_and_never_shadow() {
    let mut sb = Sandbox::new();
    let env = venv(&sb, "v", &[]);
    install(
        &sb,
        &env,
        &[
            Wheel::new("corp-auth", "2.0").file("corp/auth.py", "A = 1\n"),
            Wheel::new("reglib", "2.0").package("reglib"),
        ],
        &[],
    );
    let pp = sb.path("pp");
    let dir = sb.path("wheels");
    let ws = [
        Wheel::new("corp-db", "1.0").file("corp/db.py", "D = 1\n"),
        Wheel::new("reglib-extra", "1.0").file("reglib/extra.py", "E = 1\n"),
    ]
    .map(|w| w.build(&dir).display().to_string());
    pip_install(
        &env.python,
        &["--target", pp.to_str().unwrap(), &ws[0], &ws[1]],
    );
    sb.set_env("PYTHONPATH", pp.display().to_string());
    let found = package_findings(&sb, &env);
    assert!(!found.contains_key("shadowed-package"), "{found:#?}");
    // What Python does: both portions import, and `reglib` is the venv's.
    let real = Command::new(&env.python)
        .args([
            "-c",
            "import corp.auth, corp.db, reglib; print(reglib.__file__)",
        ])
        .env("PYTHONPATH", &pp)
        .output()
        .unwrap();
    assert!(real.status.success(), "{real:?}");
    assert!(
        String::from_utf8_lossy(&real.stdout).starts_with(env.site.to_str().unwrap()),
        "{real:?}"
    );
}

#[test]
fn same_version_shadowing_is_a_warning() {
    let mut sb = Sandbox::new();
    let env = venv(&sb, "v", &[]);
    install(&sb, &env, &[Wheel::new("same", "1.0").package("same")], &[]);
    let pp = sb.path("pp");
    let w = Wheel::new("same", "1.0")
        .package("same")
        .build(&sb.path("wheels"));
    pip_install(
        &env.python,
        &["--target", pp.to_str().unwrap(), w.to_str().unwrap()],
    );
    sb.set_env("PYTHONPATH", pp.display().to_string());
    let f = only(&package_findings(&sb, &env), "shadowed-package");
    assert_eq!(f["severity"], "warning", "{f:#}");
}

/// `pip` 1.0 installed with `pip install --user` for `env` into the user site
/// under the sandbox's `~/.local` (set as PYTHONUSERBASE for envdoctor too);
/// returns the user site.
fn user_pip_1_0(sb: &mut Sandbox, env: &Env) -> PathBuf {
    let userbase = sb.home.join(".local");
    let w = Wheel::new("pip", "1.0")
        .package("pip")
        .build(&sb.path("wheels"));
    run_ok(
        Command::new(python("3.11"))
            .args([
                "-m",
                "pip",
                "--python",
                env.python.to_str().unwrap(),
                "install",
                "--user",
                "--no-index",
                "--no-deps",
                "--disable-pip-version-check",
                "--no-warn-script-location",
            ])
            .arg(&w)
            .env("HOME", &sb.home)
            .env("PYTHONUSERBASE", &userbase),
    );
    sb.set_env("PYTHONUSERBASE", userbase.display().to_string());
    userbase.join("lib/python3.11/site-packages")
}

#[test]
fn user_site_shadows_the_base_of_a_system_site_venv() {
    let mut sb = Sandbox::new();
    // A venv that sees the user site and its base: venv site, user site, base site.
    let env = venv(&sb, "v", &["--system-site-packages"]);
    // pip is in the base (pyenv 3.11); a user-site `pip` 1.0 shadows it.
    let user_site = user_pip_1_0(&mut sb, &env);
    assert!(user_site.join("pip-1.0.dist-info").is_dir());
    let found = package_findings(&sb, &env);
    let f = only(&found, "shadowed-package");
    assert_eq!(f["severity"], "error");
    let m = msg(&f);
    assert!(m.contains(&format!("{}/pip", user_site.display())), "{m}");
    assert!(m.contains("`pip` 1.0") && m.contains("`pip` 23.2.1"), "{m}");
    assert!(m.contains("user site"), "{m}");
    let fix = fix(&f);
    assert!(fix.contains("pip uninstall -y pip"), "{fix}");

    // A copy in the venv itself is how such venvs override what they
    // inherit: once it wins, nothing is reported.
    install(&sb, &env, &[Wheel::new("pip", "1.0").package("pip")], &[]);
    let found = package_findings(&sb, &env);
    assert!(!found.contains_key("shadowed-package"), "{found:#?}");
}

#[test]
fn opencv_variants_overwrite_each_other() {
    let sb = Sandbox::new();
    let env = venv(&sb, "v", &[]);
    let cv = |name: &str, v: &str| {
        Wheel::new(name, v)
            .package("cv2")
            .file("cv2/data/haar.xml", "<x/>")
            .file("cv2/version.py", &format!("opencv_version = {v:?}"))
    };
    install(&sb, &env, &[cv("opencv-python", "4.8.1")], &[]);
    install(&sb, &env, &[cv("opencv-python-headless", "4.9.0")], &[]);
    let found = package_findings(&sb, &env);
    let f = only(&found, "overlapping-distributions");
    assert_eq!(f["severity"], "error");
    let m = msg(&f);
    assert!(
        m.contains("`opencv-python` 4.8.1") && m.contains("`opencv-python-headless` 4.9.0"),
        "{m}"
    );
    assert!(m.contains("`cv2/`") && m.contains("3 file(s)"), "{m}");
    // `why` on a distribution name shows the import name it provides.
    let out = sb.run(&[
        "why",
        "opencv-python-headless",
        "--python",
        env.python.to_str().unwrap(),
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("`import cv2`"), "{text}");
    assert!(
        text.contains("opencv-python 4.8.1") && text.contains("opencv-python-headless 4.9.0"),
        "{text}"
    );
    assert!(!found.contains_key("tensorflow-variants-mixed"));
}

#[test]
fn tensorflow_variants_are_reported_once_with_tf_advice() {
    let sb = Sandbox::new();
    let env = venv(&sb, "v", &[]);
    let tf = |name: &str, v: &str| {
        Wheel::new(name, v)
            .package("tensorflow")
            .file("tensorflow/python/__init__.py", "")
    };
    install(&sb, &env, &[tf("tensorflow", "2.15.0")], &[]);
    install(&sb, &env, &[tf("tensorflow-gpu", "2.12.0")], &[]);
    let found = package_findings(&sb, &env);
    let f = only(&found, "tensorflow-variants-mixed");
    assert_eq!(f["severity"], "error");
    let m = msg(&f);
    assert!(
        m.contains("`tensorflow` 2.15.0") && m.contains("`tensorflow-gpu` 2.12.0"),
        "{m}"
    );
    let fix = fix(&f);
    assert!(
        fix.contains("pip uninstall -y tensorflow tensorflow-gpu")
            && fix.contains("install tensorflow==2.15.0"),
        "{fix}"
    );
    // Not reported twice.
    assert!(
        !found.contains_key("overlapping-distributions"),
        "{found:#?}"
    );
}

#[test]
fn tensorflow_shim_of_the_same_version_is_not_a_conflict() {
    let sb = Sandbox::new();
    let env = venv(&sb, "v", &[]);
    // As on Linux aarch64: `tensorflow` is metadata only and depends on
    // `tensorflow-cpu-aws` of the same version, which has the files.
    install(
        &sb,
        &env,
        &[
            Wheel::new("tensorflow-cpu-aws", "2.15.0")
                .package("tensorflow")
                .file("tensorflow/python/__init__.py", ""),
            Wheel::new("tensorflow", "2.15.0").requires("tensorflow-cpu-aws==2.15.0"),
        ],
        &[],
    );
    let found = package_findings(&sb, &env);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn duplicate_leftover_and_broken_metadata() {
    let sb = Sandbox::new();
    let env = venv(&sb, "v", &[]);
    install(
        &sb,
        &env,
        &[
            Wheel::new("dup", "2.0").package("dup"),
            Wheel::new("norecord", "1.0").package("norecord"),
            Wheel::new("garbage", "1.0").package("garbage"),
            Wheel::new("gone", "3.1").package("gone"),
        ],
        &[],
    );
    let site = &env.site;
    // An older dist-info left beside the new one (pypa/pip#3089).
    copy_dir(
        &site.join("dup-2.0.dist-info"),
        &site.join("dup-1.0.dist-info"),
    );
    let meta = site.join("dup-1.0.dist-info/METADATA");
    let t = std::fs::read_to_string(&meta)
        .unwrap()
        .replace("2.0", "1.0");
    std::fs::write(&meta, t).unwrap();
    // What an interrupted `pip uninstall gone` leaves: `~one` stashes.
    std::fs::rename(site.join("gone"), site.join("~one")).unwrap();
    std::fs::rename(
        site.join("gone-3.1.dist-info"),
        site.join("~one-3.1.dist-info"),
    )
    .unwrap();
    std::fs::remove_file(site.join("norecord-1.0.dist-info/RECORD")).unwrap();
    std::fs::write(
        site.join("garbage-1.0.dist-info/METADATA"),
        b"\x00\xff\xfe binary \x00 junk",
    )
    .unwrap();

    // pip itself agrees about the leftover.
    let pip = Command::new(python("3.11"))
        .args([
            "-m",
            "pip",
            "--python",
            env.python.to_str().unwrap(),
            "list",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&pip.stderr).contains("Ignoring invalid distribution ~one"));

    let found = package_findings(&sb, &env);
    let d = only(&found, "duplicate-distribution");
    assert!(msg(&d).contains("dup-1.0.dist-info") && msg(&d).contains("dup-2.0.dist-info"));
    assert!(fix(&d).contains("rm -rf") && fix(&d).contains("dup-1.0.dist-info"));
    let l = only(&found, "invalid-distribution-leftover");
    assert!(
        msg(&l).contains("`~one`") && msg(&l).contains("-one"),
        "{l:#}"
    );
    let broken = &found["broken-distribution-metadata"];
    assert_eq!(broken.len(), 2, "{broken:#?}");
    let nr = broken.iter().find(|f| msg(f).contains("norecord")).unwrap();
    assert_eq!(nr["severity"], "warning");
    assert!(msg(nr).contains("no RECORD"));
    let g = broken.iter().find(|f| msg(f).contains("garbage")).unwrap();
    assert_eq!(g["severity"], "error");
    assert!(msg(g).contains("binary"), "{g:#}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// A PEP 517 backend in the project itself, so `pip install -e` works
/// offline without setuptools or wheel: its editable wheel is a `.pth`.
fn editable_project(dir: &Path, name: &str) {
    std::fs::create_dir_all(dir.join("src").join(name)).unwrap();
    std::fs::write(dir.join("src").join(name).join("__init__.py"), "x = 1\n").unwrap();
    std::fs::write(
        dir.join("pyproject.toml"),
        "[build-system]\nrequires = []\nbuild-backend = \"backend\"\nbackend-path = [\".\"]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("backend.py"),
        format!(
            r#"import os, zipfile
NAME, VERSION = "{name}", "0.3"
def _wheel(d, files):
    di = f"{{NAME}}-{{VERSION}}.dist-info"
    files = dict(files)
    files[f"{{di}}/METADATA"] = f"Metadata-Version: 2.1\nName: {{NAME}}\nVersion: {{VERSION}}\n"
    files[f"{{di}}/WHEEL"] = "Wheel-Version: 1.0\nGenerator: t\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{{di}}/RECORD"] = "".join(f"{{p}},,\n" for p in list(files) + [f"{{di}}/RECORD"])
    n = f"{{NAME}}-{{VERSION}}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(d, n), "w") as z:
        for p, c in files.items():
            z.writestr(p, c)
    return n
def build_wheel(d, config_settings=None, metadata_directory=None):
    return _wheel(d, {{"{name}/__init__.py": "x = 1\n"}})
def build_editable(d, config_settings=None, metadata_directory=None):
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "src")
    return _wheel(d, {{f"__editable__.{{NAME}}-{{VERSION}}.pth": src + "\n"}})
"#
        ),
    )
    .unwrap();
}

#[test]
fn editable_install_whose_source_was_deleted() {
    let sb = Sandbox::new();
    let env = venv(&sb, "v", &[]);
    let proj = sb.path("proj");
    editable_project(&proj, "edpkg");
    pip_install(&env.python, &["-e", proj.to_str().unwrap()]);
    assert!(package_findings(&sb, &env).is_empty());
    std::fs::remove_dir_all(&proj).unwrap();
    let found = package_findings(&sb, &env);
    let f = only(&found, "dangling-editable");
    let m = msg(&f);
    assert!(
        m.contains("`edpkg` 0.3") && m.contains(proj.to_str().unwrap()),
        "{m}"
    );
    assert!(m.contains("direct_url.json"), "{m}");
}

#[test]
fn dependency_problems_match_pip_check() {
    let sb = Sandbox::new();
    let env = venv(&sb, "v", &[]);
    install(
        &sb,
        &env,
        &[
            Wheel::new("app", "1.0")
                .package("app")
                .requires("lib>=2.0")
                .requires("absent")
                .requires("lib[fast]")
                .requires("py2only ; python_version < \"3\"")
                .requires("winonly ; sys_platform == \"win32\""),
            // `fast` is asked for by app, so its requirement counts;
            // `slow` is not.
            Wheel::new("lib", "1.5")
                .package("lib")
                .requires("speedup ; extra == \"fast\"")
                .requires("turtle ; extra == \"slow\""),
        ],
        &[],
    );
    let found = package_findings(&sb, &env);
    let inc = only(&found, "incompatible-dependency");
    assert!(
        msg(&inc).starts_with("app 1.0 has requirement lib>=2.0, but you have lib 1.5"),
        "{inc:#}"
    );
    let missing: Vec<&str> = found["missing-dependency"].iter().map(msg).collect();
    assert_eq!(missing.len(), 2, "{missing:#?}");
    assert!(missing
        .iter()
        .any(|m| m.starts_with("app 1.0 requires absent, which is not installed")));
    assert!(missing
        .iter()
        .any(|m| m.starts_with("lib 1.5 requires speedup, which is not installed")));

    // pip check sees the same non-extra problems, worded the same way.
    let pip = Command::new(python("3.11"))
        .args([
            "-m",
            "pip",
            "--python",
            env.python.to_str().unwrap(),
            "check",
        ])
        .output()
        .unwrap();
    let pip_out = String::from_utf8_lossy(&pip.stdout);
    assert!(
        pip_out.contains("app 1.0 requires absent, which is not installed."),
        "{pip_out}"
    );
    assert!(
        pip_out.contains("app 1.0 has requirement lib>=2.0, but you have lib 1.5."),
        "{pip_out}"
    );
}

#[test]
fn requires_python_that_excludes_the_interpreter() {
    let sb = Sandbox::new();
    let env = venv(&sb, "v", &[]);
    install(
        &sb,
        &env,
        &[Wheel::new("future", "9.0")
            .package("future")
            .requires_python(">=3.99")],
        &["--ignore-requires-python"],
    );
    let found = package_findings(&sb, &env);
    let f = only(&found, "requires-python-mismatch");
    assert!(
        msg(&f).contains("`>=3.99`") && msg(&f).contains("3.11"),
        "{f:#}"
    );
}

#[test]
fn pip_into_an_externally_managed_root() {
    let sb = Sandbox::new();
    let root = sb.path("root");
    for d in [
        "usr/bin",
        "usr/lib/python3.11",
        "usr/lib/python3/dist-packages",
    ] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::write(root.join("usr/bin/python3.11"), "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(
        root.join("usr/bin/python3.11"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    std::os::unix::fs::symlink("python3.11", root.join("usr/bin/python3")).unwrap();
    std::fs::copy(
        "/usr/lib/python3.11/site.py",
        root.join("usr/lib/python3.11/site.py"),
    )
    .unwrap();
    std::fs::write(
        root.join("usr/lib/python3.11/EXTERNALLY-MANAGED"),
        "[externally-managed]\nError=use apt\n",
    )
    .unwrap();
    let local = root.join("usr/local/lib/python3.11/dist-packages");
    let w = Wheel::new("requests", "2.31.0")
        .package("requests")
        .build(&sb.path("wheels"));
    pip_install(
        &python("3.11"),
        &["--target", local.to_str().unwrap(), w.to_str().unwrap()],
    );
    let root_s = root.display().to_string();
    let (v, _) = sb.json(&["--root", &root_s, "check", "--python", "/usr/bin/python3"]);
    let fs: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "pip-into-system-python")
        .collect();
    assert_eq!(fs.len(), 1, "{v:#}");
    let m = msg(fs[0]);
    assert!(
        m.contains("`requests` 2.31.0") && m.contains("/usr/local/lib/python3.11/dist-packages"),
        "{m}"
    );
    assert!(fix(fs[0]).contains("uninstall --break-system-packages -y requests"));
}

/// Every file under `dir` with its mtime and a hash of its contents (FIFOs
/// and symlinks by their own metadata: reading them is what must not happen).
fn fingerprint(dir: &Path) -> BTreeMap<PathBuf, (std::time::SystemTime, u64, Vec<u8>)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let content = if m.is_file() {
                std::fs::read(&p).unwrap()
            } else {
                Vec::new()
            };
            if m.is_dir() {
                stack.push(p.clone());
            }
            out.insert(p, (m.modified().unwrap(), m.len(), content));
        }
    }
    out
}

#[test]
fn hostile_site_packages_gives_findings_never_a_hang_or_a_write() {
    let mut sb = Sandbox::new();
    let env = venv(&sb, "v", &[]);
    install(
        &sb,
        &env,
        &[
            Wheel::new("binary", "1.0").package("binary"),
            Wheel::new("huge", "1.0").package("huge"),
        ],
        &[],
    );
    let site = &env.site;
    std::os::unix::fs::symlink("loop", site.join("loop")).unwrap();
    std::os::unix::fs::symlink("b-1.0.dist-info", site.join("a-1.0.dist-info")).unwrap();
    std::os::unix::fs::symlink("a-1.0.dist-info", site.join("b-1.0.dist-info")).unwrap();
    let fifo = std::ffi::CString::new(site.join("x.pth").as_os_str().as_bytes()).unwrap();
    assert_eq!(unsafe { libc_mkfifo(fifo.as_ptr(), 0o644) }, 0);
    let fifo2 = std::ffi::CString::new(
        site.join("binary-1.0.dist-info/RECORD")
            .as_os_str()
            .as_bytes(),
    );
    std::fs::remove_file(site.join("binary-1.0.dist-info/RECORD")).unwrap();
    assert_eq!(unsafe { libc_mkfifo(fifo2.unwrap().as_ptr(), 0o644) }, 0);
    let mut garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    garbage[0] = 0;
    std::fs::write(site.join("binary-1.0.dist-info/METADATA"), &garbage).unwrap();
    // 5 MB of headers that never end.
    let line = "Classifier: Programming Language :: Python :: 3\n";
    let mut big = String::from("Metadata-Version: 2.1\nName: huge\nVersion: 1.0\n");
    while big.len() < 5 << 20 {
        big.push_str(line);
    }
    std::fs::write(site.join("huge-1.0.dist-info/METADATA"), big).unwrap();
    let ran = sb.path("ran");
    std::fs::write(
        site.join("evil.pth"),
        format!(
            "import os; open({:?}, 'w').write('x')\n",
            ran.display().to_string()
        ),
    )
    .unwrap();
    let bad = std::ffi::OsStr::from_bytes(b"caf\xe9.py");
    std::fs::write(site.join(bad), "x = 1\n").unwrap();
    std::fs::create_dir(site.join(std::ffi::OsStr::from_bytes(b"\xff\xfe-1.0.dist-info"))).unwrap();

    let before = fingerprint(&sb.path("v"));
    let py = env.python.display().to_string();
    let mut child = sb
        .envdoctor()
        .args(["check", "--python", &py, "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("envdoctor hung on a hostile site-packages");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let code = out.status.code();
    assert!(
        matches!(code, Some(0) | Some(1)),
        "exit {code:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let broken: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "broken-distribution-metadata")
        .map(msg)
        .collect();
    assert!(
        broken
            .iter()
            .any(|m| m.contains("binary-1.0.dist-info") && m.contains("binary data")),
        "{broken:#?}"
    );
    assert!(
        broken
            .iter()
            .any(|m| m.contains("binary-1.0.dist-info") && m.contains("RECORD")),
        "{broken:#?}"
    );
    // 5 MB of headers up to the end of the file is metadata pip and uv read
    // whole (issue 17: a huge header must not hide what follows it).
    assert!(
        !broken.iter().any(|m| m.contains("huge-1.0.dist-info")),
        "{broken:#?}"
    );
    assert!(!ran.exists(), "a .pth import line was executed");
    assert_eq!(
        before,
        fingerprint(&sb.path("v")),
        "envdoctor changed the tree"
    );

    // The snapshot says what it skipped.
    sb.set_env("VIRTUAL_ENV", env.prefix.display().to_string());
    let (scan, _) = sb.json(&["scan"]);
    let notes = scan["notes"].to_string();
    assert!(notes.contains("not UTF-8"), "{notes}");
    assert!(notes.contains("x.pth"), "{notes}");
    let out = sb.run(&["why", "huge", "--python", &py]);
    assert_eq!(out.status.code(), Some(0));
    assert!(!ran.exists());
    assert_eq!(
        before,
        fingerprint(&sb.path("v")),
        "envdoctor changed the tree"
    );
}

unsafe fn libc_mkfifo(path: *const std::ffi::c_char, mode: u32) -> i32 {
    libc::mkfifo(path, mode)
}

#[test]
fn user_site_shadows_a_conda_env() {
    // A conda env is hand-made (no conda here): its python links to the
    // machine's 3.11; the packages are real pip installs (conda/conda#12323).
    let mut sb = Sandbox::new();
    let env = sb.path("conda/envs/tf");
    std::fs::create_dir_all(env.join("bin")).unwrap();
    std::fs::create_dir_all(env.join("conda-meta")).unwrap();
    std::fs::create_dir_all(env.join("lib/python3.11")).unwrap();
    std::os::unix::fs::symlink(python("3.11"), env.join("bin/python3.11")).unwrap();
    std::os::unix::fs::symlink("python3.11", env.join("bin/python")).unwrap();
    std::fs::write(
        env.join("conda-meta/python-3.11.7-h955ad1f_0.json"),
        r#"{"name": "python", "version": "3.11.7", "files": []}"#,
    )
    .unwrap();
    let stdlib = python("3.11")
        .parent()
        .unwrap()
        .join("../lib/python3.11/site.py");
    std::fs::copy(stdlib, env.join("lib/python3.11/site.py")).unwrap();
    let wheels = sb.path("wheels");
    let new = Wheel::new("tensorflow", "2.15.0")
        .package("tensorflow")
        .build(&wheels);
    let old = Wheel::new("tensorflow", "2.12.0")
        .package("tensorflow")
        .build(&wheels);
    let site = env.join("lib/python3.11/site-packages");
    let user_site = sb.home.join(".local/lib/python3.11/site-packages");
    pip_install(
        &python("3.11"),
        &["--target", site.to_str().unwrap(), new.to_str().unwrap()],
    );
    pip_install(
        &python("3.11"),
        &[
            "--target",
            user_site.to_str().unwrap(),
            old.to_str().unwrap(),
        ],
    );
    sb.set_env("CONDA_PREFIX", env.display().to_string());
    let (v, _) = sb.json(&["check"]);
    // In a conda env this is user-site-leaks-into-conda's finding (with
    // conda's own fix), not a second, generic shadowed-package one.
    let by_rule = |rule: &str| findings_of(&v, rule);
    assert!(by_rule("shadowed-package").is_empty(), "{v:#}");
    let fs = by_rule("user-site-leaks-into-conda");
    assert_eq!(fs.len(), 1, "{v:#}");
    let m = msg(&fs[0]);
    assert_eq!(fs[0]["severity"], "error", "versions differ: {m}");
    assert!(
        m.contains("`tensorflow 2.12.0` (the env has 2.15.0)"),
        "{m}"
    );
    assert!(m.contains(&user_site.display().to_string()), "{m}");
    assert!(fix(&fs[0]).contains("PYTHONNOUSERSITE=1"));
    // With the user site off, nothing is shadowed.
    sb.set_env("PYTHONNOUSERSITE", "1");
    let (v, _) = sb.json(&["check"]);
    assert!(
        !v["findings"].to_string().contains("shadowed-package")
            && !v["findings"]
                .to_string()
                .contains("user-site-leaks-into-conda"),
        "{v:#}"
    );
}

/// `check` reads only the distribution facts rules use (no REQUESTED, no
/// INSTALLER outside OS-managed Pythons and conda envs) and opens files
/// relative to the site dir; `scan` reads everything. Judged from a full `scan` snapshot, the same environment must
/// give exactly the findings the live `check` gave.
#[test]
fn live_check_finds_what_a_full_snapshot_finds() {
    let mut sb = Sandbox::new();
    let env = venv(&sb, "envs/v", &[]);
    // So that `scan` finds it too.
    sb.set_env("WORKON_HOME", sb.path("envs").display().to_string());
    install(
        &sb,
        &env,
        &[
            Wheel::new("needs", "1.0")
                .package("needs")
                .requires("absent>=1")
                .requires("dup>=3"),
            Wheel::new("dup", "2.0").package("dup"),
            Wheel::new("future", "1.0")
                .package("future_only")
                .requires_python(">=3.99"),
        ],
        &["--ignore-requires-python", "--no-deps"],
    );
    for (name, v) in [
        ("opencv-python", "4.8.1"),
        ("opencv-python-headless", "4.9.0"),
    ] {
        let w = Wheel::new(name, v)
            .package("cv2")
            .file("cv2/version.py", &format!("opencv_version = {v:?}"));
        install(&sb, &env, &[w], &[]);
    }
    copy_dir(
        &env.site.join("dup-2.0.dist-info"),
        &env.site.join("dup-1.0.dist-info"),
    );
    std::fs::remove_file(env.site.join("dup-1.0.dist-info/RECORD")).unwrap();
    let py = env.prefix.display().to_string();
    let (live, _) = sb.json(&["check", "--python", &py]);
    let scan = sb.run(&["scan", "--format", "json"]);
    assert!(scan.status.success());
    let snap = sb.path("snap.json");
    std::fs::write(&snap, &scan.stdout).unwrap();
    let snap_s = snap.display().to_string();
    let (judged, _) = sb.json(&["check", "--snapshot", &snap_s, "--python", &py]);
    let rules: Vec<&str> = live["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    for r in [
        "overlapping-distributions",
        "missing-dependency",
        "incompatible-dependency",
        "duplicate-distribution",
        "broken-distribution-metadata",
        "requires-python-mismatch",
    ] {
        assert!(rules.contains(&r), "no {r} in {rules:?}");
    }
    assert_eq!(live["findings"], judged["findings"]);
    // The snapshot has the facts `check` skips, and the WHEEL tags a rule reads.
    let v: Value = serde_json::from_slice(&scan.stdout).unwrap();
    let site = env.site.display().to_string();
    let dir = v["site_dirs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["path"] == site.as_str())
        .unwrap();
    let needs = dir["distributions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "needs")
        .unwrap();
    assert!(
        !needs["wheel_tags"].as_array().unwrap().is_empty(),
        "{needs:#}"
    );
    assert_eq!(needs["installer"], "pip", "{needs:#}");
    assert_eq!(needs["requested"], true, "{needs:#}");
}

/// Under `--root`, a symlinked dist-info and a symlinked METADATA with
/// absolute targets point into the image: they are read there (by path,
/// through the root), not through the host's `/`.
#[test]
fn symlinked_metadata_in_a_root_is_read_inside_the_root() {
    let sb = Sandbox::new();
    let root = sb.path("root");
    for d in ["usr/bin", "usr/lib/python3.11", "opt/meta"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::write(root.join("usr/bin/python3.11"), "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(
        root.join("usr/bin/python3.11"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    std::os::unix::fs::symlink("python3.11", root.join("usr/bin/python3")).unwrap();
    std::fs::copy(
        "/usr/lib/python3.11/site.py",
        root.join("usr/lib/python3.11/site.py"),
    )
    .unwrap();
    std::fs::write(
        root.join("usr/lib/python3.11/EXTERNALLY-MANAGED"),
        "[externally-managed]\nError=use apt\n",
    )
    .unwrap();
    let local = root.join("usr/local/lib/python3.11/dist-packages");
    let wheels = sb.path("wheels");
    let a = Wheel::new("linkeddir", "1.5")
        .package("linkeddir")
        .requires("absent-a")
        .build(&wheels);
    let b = Wheel::new("linkedmeta", "2.5")
        .package("linkedmeta")
        .requires("absent-b")
        .build(&wheels);
    pip_install(
        &python("3.11"),
        &[
            "--target",
            local.to_str().unwrap(),
            a.to_str().unwrap(),
            b.to_str().unwrap(),
        ],
    );
    // The whole dist-info elsewhere in the image, linked absolutely.
    std::fs::rename(
        local.join("linkeddir-1.5.dist-info"),
        root.join("opt/linkeddir-1.5.dist-info"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        "/opt/linkeddir-1.5.dist-info",
        local.join("linkeddir-1.5.dist-info"),
    )
    .unwrap();
    // Only METADATA elsewhere, linked absolutely.
    let meta = local.join("linkedmeta-2.5.dist-info/METADATA");
    std::fs::rename(&meta, root.join("opt/meta/METADATA")).unwrap();
    std::os::unix::fs::symlink("/opt/meta/METADATA", &meta).unwrap();

    let root_s = root.display().to_string();
    let (v, _) = sb.json(&["--root", &root_s, "check", "--python", "/usr/bin/python3"]);
    let by_rule = |r: &str| -> Vec<String> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == r)
            .map(|f| msg(f).to_string())
            .collect()
    };
    assert!(by_rule("broken-distribution-metadata").is_empty(), "{v:#}");
    // Requires-Dist (METADATA only) and INSTALLER were read through the links.
    let missing = by_rule("missing-dependency").join("\n");
    assert!(
        missing.contains("absent-a") && missing.contains("absent-b"),
        "{v:#}"
    );
    let pip = by_rule("pip-into-system-python").join("\n");
    assert!(
        pip.contains("`linkeddir` 1.5") && pip.contains("`linkedmeta` 2.5"),
        "{pip}"
    );
}

/// Debian's PyGObject declares `Requires-Dist: pycairo`, which Debian made
/// optional (python3-gi without python3-cairo): one level (info) wherever
/// it is seen, the system Python or a `--system-site-packages` venv, and a
/// fix naming the real distribution package.
#[test]
fn distribution_made_splits_are_info_with_the_distribution_package() {
    let debian_gi = std::fs::read_dir("/usr/lib/python3/dist-packages")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .any(|e| e.file_name().to_string_lossy().starts_with("PyGObject-"))
        })
        .unwrap_or(false);
    if !debian_gi {
        // Not a Debian image with python3-gi: nothing to compare.
        return;
    }
    let sb = Sandbox::new();
    let venv = sb.path("sys-site");
    make_venv(
        Path::new("/usr/bin/python3"),
        &venv,
        &["--system-site-packages"],
    );
    for target in ["/usr/bin/python3", venv.to_str().unwrap()] {
        let f = sb.findings(&["--python", target], "missing-dependency");
        let gi: Vec<_> = f
            .iter()
            .filter(|f| f["message"].as_str().unwrap().starts_with("PyGObject"))
            .collect();
        assert_eq!(gi.len(), 1, "{target}: {f:#?}");
        assert_eq!(gi[0]["severity"], "info", "{target}");
        assert_eq!(
            gi[0]["fix"]["commands"][0], "sudo apt-get install python3-cairo",
            "{target}"
        );
    }
}

/// `check` reads the `.pth` files of its targets only. A fix that says who
/// else sees a directory must still count an environment that sees it only
/// through its own `.pth` file: the answer is the one `check --all` gives.
#[test]
fn a_fix_counts_the_environments_that_see_a_directory_through_their_pth_files() {
    let mut sb = Sandbox::new();
    // The target sees the user site and its base; a user-site `pip` 1.0
    // shadows the base's (as in the test above).
    let t = venv(&sb, "workon/t", &["--system-site-packages"]);
    let o = venv(&sb, "workon/o", &[]);
    let user_site = user_pip_1_0(&mut sb, &t);
    // The other venv sees the user site only through its own `.pth` file.
    std::fs::write(
        o.site.join("user.pth"),
        format!("{}\n", user_site.display()),
    )
    .unwrap();
    let real = Command::new(&o.python)
        .args(["-c", "import pip; print(pip.__file__)"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&real.stdout).starts_with(user_site.to_str().unwrap()));

    sb.set_env("WORKON_HOME", sb.path("workon").display().to_string());
    let all = sb.findings(&["--all"], "shadowed-package");
    let in_t: Vec<&Value> = all
        .iter()
        .filter(|f| f["environment"] == t.prefix.to_str().unwrap())
        .collect();
    assert_eq!(in_t.len(), 1, "{all:#?}");
    let want = fix(in_t[0]);
    assert!(want.contains("is the user site"), "{want}");
    assert!(
        want.contains(&format!("`{}`", o.prefix.display())),
        "{want}"
    );

    // The default check of the active venv reads the other env shallow,
    // yet gives the same fix.
    sb.set_env("VIRTUAL_ENV", t.prefix.display().to_string());
    let f = sb.findings(&[], "shadowed-package");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(fix(&f[0]), want);
}
