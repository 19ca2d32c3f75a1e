//! Every runnable fix is pasted, as a user would paste it, into bash: the
//! broken environment lives under a directory whose name holds a space, a
//! quote and `$(touch pwned)`. The finding must be gone on a re-check in
//! the same shell, no file outside what the fix is about may change, and
//! nothing may run that the fix did not mean (no `pwned` file anywhere).
//!
//! The rules whose fixes are not run here are listed in the README under
//! "Fixes the tests do not paste", each with the reason; the meta-test at
//! the end keeps the two lists complete and apart.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

/// A directory name that breaks any unquoted use in a shell.
const WEIRD: &str = "my proj's $(touch pwned)";

struct Paste {
    sb: Sandbox,
    rule: &'static str,
    /// `check` arguments (`--python X`, `--all`, `--user N`).
    args: Vec<String>,
    /// What the fix is about and may change (the environment, the cache).
    may_change: Vec<PathBuf>,
    /// Local wheels pip installs from (offline, through a pip.conf).
    wheels: Option<PathBuf>,
    /// Run the check and the fix as this uid (the user pastes as themself).
    as_uid: Option<u32>,
}

impl Paste {
    fn new(sb: Sandbox, rule: &'static str) -> Paste {
        Paste {
            sb,
            rule,
            args: Vec::new(),
            may_change: Vec::new(),
            wheels: None,
            as_uid: None,
        }
    }
    fn args(mut self, a: &[&str]) -> Paste {
        self.args = a.iter().map(|s| s.to_string()).collect();
        self
    }
    fn may_change(mut self, p: &Path) -> Paste {
        self.may_change.push(p.to_path_buf());
        self
    }
    fn wheels(mut self, p: &Path) -> Paste {
        self.wheels = Some(p.to_path_buf());
        self
    }
    fn pasted_by(mut self, uid: u32) -> Paste {
        self.as_uid = Some(uid);
        self
    }
}

/// `(kind, size, mtime, mode, uid)` of every entry below `root`, except
/// below the paths a fix may change.
fn tree(root: &Path, skip: &[PathBuf]) -> BTreeMap<PathBuf, (bool, u64, i64, u32, u32)> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_entry(|e| !skip.iter().any(|s| e.path().starts_with(s)))
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let m = e.path().symlink_metadata().ok()?;
            Some((
                e.path().to_path_buf(),
                (m.is_dir(), m.len(), m.mtime(), m.mode(), m.uid()),
            ))
        })
        .collect()
}

fn bash(p: &Paste, script: &str) -> std::process::Output {
    let mut c = match p.as_uid {
        Some(uid) => {
            let mut c = Command::new("setpriv");
            c.args([
                &format!("--reuid={uid}"),
                &format!("--regid={uid}"),
                "--clear-groups",
                "bash",
                "-c",
                script,
            ]);
            c
        }
        None => {
            let mut c = Command::new("bash");
            c.args(["-c", script]);
            c
        }
    };
    c.env_clear()
        .env("HOME", &p.sb.home)
        .env("NO_COLOR", "1")
        .current_dir(p.sb.dir.path());
    for (k, v) in &p.sb.env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn rule_findings(out: &std::process::Output, rule: &str) -> Vec<Value> {
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    findings_of(&doc, rule)
}

/// Checks, pastes every command of the rule's findings into one bash, and
/// re-checks in that same shell.
fn paste(mut p: Paste) -> Sandbox {
    let root = p.sb.dir.path().to_path_buf();
    let tmp = root.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    // Writable by whoever pastes, like /tmp.
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o1777)).unwrap();
    p.sb.set_env("TMPDIR", tmp.display().to_string());
    p.may_change.push(tmp);
    if let Some(w) = &p.wheels {
        // pip offline and without a cache, from the test's wheels: a pip
        // config, so that nothing in the check's view changes.
        let conf = root.join("pip.conf");
        std::fs::write(
            &conf,
            format!(
                "[global]\nno-index = true\nfind-links = {}\ndisable-pip-version-check = true\nno-cache-dir = true\n",
                w.display()
            ),
        )
        .unwrap();
        p.sb.set_env("PIP_CONFIG_FILE", conf.display().to_string());
    }
    let mut exe = PathBuf::from(env!("CARGO_BIN_EXE_envdoctor"));
    if p.as_uid.is_some() {
        // Another uid cannot reach target/ under /root: a copy it can run.
        for d in [&root, &p.sb.home] {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let copy = root.join("bin/envdoctor");
        std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
        std::fs::copy(&exe, &copy).unwrap();
        exe = copy;
    }
    let q = envdoctor::shell::quote;
    let check = format!(
        "exec {} check {} --format json",
        q(exe.to_str().unwrap()),
        envdoctor::shell::join(&p.args)
    );
    let before = rule_findings(&bash(&p, &check), p.rule);
    assert!(!before.is_empty(), "{} did not fire", p.rule);
    let mut commands: Vec<String> = Vec::new();
    for f in &before {
        let cmds = f["fix"]["commands"].as_array().unwrap();
        assert!(
            !cmds.is_empty(),
            "{}: a fix with no commands: {f:#}",
            p.rule
        );
        commands.extend(cmds.iter().map(|c| c.as_str().unwrap().to_string()));
    }
    let was = tree(&root, &p.may_change);
    // `sudo` is what a user types; the test runs as root (or as the uid
    // that pastes, which needs none for its own files).
    let script = format!(
        "sudo() {{ \"$@\"; }}\nset -e\n{{\n{}\n}} >&2\n{check}\n",
        commands.join("\n")
    );
    let out = bash(&p, &script);
    assert!(
        out.status.code() != Some(2) && !out.stdout.is_empty(),
        "{}: the pasted fix failed:\n{script}\n{}",
        p.rule,
        String::from_utf8_lossy(&out.stderr)
    );
    let after = rule_findings(&out, p.rule);
    assert!(
        after.is_empty(),
        "{}: still there after pasting\n{script}\n{after:#?}",
        p.rule
    );
    let now = tree(&root, &p.may_change);
    let changed: Vec<_> = was
        .keys()
        .chain(now.keys())
        .filter(|k| was.get(*k) != now.get(*k))
        .collect();
    assert!(
        changed.is_empty(),
        "{}: the fix changed files outside {:?}: {changed:#?}",
        p.rule,
        p.may_change
    );
    let pwned: Vec<_> = walkdir::WalkDir::new(&root)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name() == "pwned")
        .collect();
    assert!(pwned.is_empty(), "{}: a path ran as code", p.rule);
    p.sb
}

fn weird(sb: &Sandbox) -> PathBuf {
    let d = sb.path(WEIRD);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A venv with pip, under the weird directory, and the wheels directory.
fn venv_with_pip(sb: &Sandbox, minor: &str) -> (PathBuf, PathBuf) {
    let venv = weird(sb).join("venv");
    make_venv_with_pip(&python(minor), &venv);
    (venv, sb.path("wheels"))
}

fn install(venv: &Path, wheels: &[PathBuf]) {
    let args: Vec<&str> = wheels.iter().map(|w| s(w)).collect();
    pip_install(&venv.join("bin/python"), &args);
}

#[test]
fn broken_venv() {
    let mut sb = Sandbox::new();
    let dir = weird(&sb);
    let base = copy_python_install("3.12", &dir.join("base"));
    let venv = dir.join("venv");
    make_venv(
        &base,
        &venv,
        &["--system-site-packages", "--prompt", "it's mine"],
    );
    std::fs::remove_dir_all(dir.join("base")).unwrap();
    sb.set_env("PYENV_ROOT", "/root/.pyenv");
    let _sb = paste(
        Paste::new(sb, "broken-venv")
            .args(&["--python", s(&venv)])
            .may_change(&venv),
    );
    // What the venv was is kept.
    let cfg = std::fs::read_to_string(venv.join("pyvenv.cfg")).unwrap();
    assert!(cfg.contains("include-system-site-packages = true"), "{cfg}");
    assert!(cfg.contains("it's mine"), "{cfg}");
}

#[test]
fn script_bad_interpreter() {
    let sb = Sandbox::new();
    let (venv, wheels) = venv_with_pip(&sb, "3.12");
    let w = Wheel::new("hello-tool", "1.0")
        .package("hello_tool")
        .file("hello_tool/cli.py", "def main():\n    print('hi')\n")
        .script("hello", "hello_tool.cli:main")
        .build(&wheels);
    install(&venv, &[w]);
    // Moved: its scripts name the old place.
    let moved = venv.with_file_name("moved venv");
    std::fs::rename(&venv, &moved).unwrap();
    let _sb = paste(
        Paste::new(sb, "script-bad-interpreter")
            .args(&["--python", s(&moved)])
            .may_change(&moved)
            .wheels(&wheels),
    );
    // The packages came back, with scripts that name this venv. (They are
    // not run: pip's own `/bin/sh` trampoline for paths with spaces puts
    // the path in double quotes, so `$(...)` in it would run.)
    let hello = std::fs::read_to_string(moved.join("bin/hello")).unwrap();
    assert!(
        hello.contains(&format!("{}/bin/python", moved.display())),
        "{hello}"
    );
}

#[test]
fn duplicate_distribution() {
    let sb = Sandbox::new();
    let (venv, wheels) = venv_with_pip(&sb, "3.12");
    let w1 = Wheel::new("dup", "1.0").package("dup").build(&wheels);
    install(&venv, &[w1]);
    let site = venv.join("lib/python3.12/site-packages");
    let stale = site.join("dup-0.9.dist-info");
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::write(
        stale.join("METADATA"),
        "Metadata-Version: 2.1\nName: dup\nVersion: 0.9\n",
    )
    .unwrap();
    std::fs::write(stale.join("RECORD"), "").unwrap();
    paste(
        Paste::new(sb, "duplicate-distribution")
            .args(&["--python", s(&venv)])
            .may_change(&venv)
            .wheels(&wheels),
    );
}

#[test]
fn invalid_distribution_leftover() {
    let sb = Sandbox::new();
    let venv = weird(&sb).join("venv");
    make_venv(&python("3.12"), &venv, &[]);
    let site = venv.join("lib/python3.12/site-packages");
    std::fs::create_dir_all(site.join("~umpy")).unwrap();
    std::fs::create_dir_all(site.join("~umpy-1.26.4.dist-info")).unwrap();
    std::fs::write(site.join("~umpy/$(touch pwned).py"), "").unwrap();
    paste(
        Paste::new(sb, "invalid-distribution-leftover")
            .args(&["--python", s(&venv)])
            .may_change(&venv),
    );
}

#[test]
fn broken_distribution_metadata() {
    let sb = Sandbox::new();
    let (venv, wheels) = venv_with_pip(&sb, "3.12");
    let w = Wheel::new("meta", "1.0").package("meta").build(&wheels);
    install(&venv, &[w]);
    let di = venv.join("lib/python3.12/site-packages/meta-1.0.dist-info");
    std::fs::remove_file(di.join("RECORD")).unwrap();
    paste(
        Paste::new(sb, "broken-distribution-metadata")
            .args(&["--python", s(&venv)])
            .may_change(&venv)
            .wheels(&wheels),
    );
}

#[test]
fn missing_dependency() {
    let sb = Sandbox::new();
    let (venv, wheels) = venv_with_pip(&sb, "3.12");
    let app = Wheel::new("app", "1.0")
        .package("app")
        .requires("dep>=1")
        .build(&wheels);
    Wheel::new("dep", "1.2").package("dep").build(&wheels);
    install(&venv, &[app]);
    paste(
        Paste::new(sb, "missing-dependency")
            .args(&["--python", s(&venv)])
            .may_change(&venv)
            .wheels(&wheels),
    );
}

#[test]
fn incompatible_dependency() {
    let sb = Sandbox::new();
    let (venv, wheels) = venv_with_pip(&sb, "3.12");
    let app = Wheel::new("app", "1.0")
        .package("app")
        .requires("dep>=2")
        .build(&wheels);
    let old = Wheel::new("dep", "1.0").package("dep").build(&wheels);
    Wheel::new("dep", "2.1").package("dep").build(&wheels);
    install(&venv, &[app, old]);
    paste(
        Paste::new(sb, "incompatible-dependency")
            .args(&["--python", s(&venv)])
            .may_change(&venv)
            .wheels(&wheels),
    );
}

#[test]
fn overlapping_distributions() {
    let sb = Sandbox::new();
    let (venv, wheels) = venv_with_pip(&sb, "3.12");
    let a = Wheel::new("cv-full", "4.0")
        .package("cv")
        .file("cv/core.py", "A = 1\n")
        .build(&wheels);
    let b = Wheel::new("cv-headless", "4.1")
        .package("cv")
        .file("cv/core.py", "B = 2\n")
        .build(&wheels);
    install(&venv, &[a, b]);
    paste(
        Paste::new(sb, "overlapping-distributions")
            .args(&["--python", s(&venv)])
            .may_change(&venv)
            .wheels(&wheels),
    );
}

/// PYTHONPATH pointing at another environment's site-packages: the fix
/// takes it out of PYTHONPATH and leaves that environment alone.
#[test]
fn shadowed_package() {
    let mut sb = Sandbox::new();
    let (venv, wheels) = venv_with_pip(&sb, "3.12");
    let mine = Wheel::new("shade", "1.0").package("shade").build(&wheels);
    install(&venv, &[mine]);
    let other = weird(&sb).join("other venv");
    make_venv(&python("3.12"), &other, &[]);
    let theirs = Wheel::new("shade", "2.0")
        .package("shade")
        .build(&sb.path("other-wheels"));
    install(&other, &[theirs]);
    let other_site = other.join("lib/python3.12/site-packages");
    sb.set_env(
        "PYTHONPATH",
        format!("{}:/opt/nowhere", other_site.display()),
    );
    paste(
        Paste::new(sb, "shadowed-package")
            .args(&["--python", s(&venv)])
            .may_change(&venv),
    );
}

/// The user site shadowing a Python's own site-packages: the fix removes
/// the user-site copy with that Python's pip, and says that the user site
/// is shared by every Python X.Y of the user outside a venv.
#[test]
fn shadowed_package_in_the_shared_user_site() {
    let sb = Sandbox::new();
    let dir = weird(&sb);
    let base = copy_python_install("3.12", &dir.join("base py"));
    let wheels = sb.path("wheels");
    let own = Wheel::new("shade", "1.0").package("shade").build(&wheels);
    pip_install(&base, &[s(&own)]);
    let user = sb.home.join(".local/lib/python3.12/site-packages");
    let theirs = Wheel::new("shade", "2.0")
        .package("shade")
        .build(&sb.path("user-wheels"));
    pip_install(&base, &["--target", s(&user), s(&theirs)]);
    let f = sb.findings(&["--python", s(&base)], "shadowed-package");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(
        fix(&f[0]).contains("shared by every Python 3.12 this user runs outside a venv"),
        "{}",
        fix(&f[0])
    );
    paste(
        Paste::new(sb, "shadowed-package")
            .args(&["--python", s(&base)])
            .may_change(&user),
    );
}

#[test]
fn requirements_drift() {
    let sb = Sandbox::new();
    let (venv, wheels) = venv_with_pip(&sb, "3.12");
    let old = Wheel::new("pinned", "1.0").package("pinned").build(&wheels);
    Wheel::new("pinned", "2.0").package("pinned").build(&wheels);
    install(&venv, &[old]);
    let req = weird(&sb).join("requirements.txt");
    std::fs::write(&req, "pinned==2.0\n").unwrap();
    paste(
        Paste::new(sb, "requirements-drift")
            .args(&["--python", s(&venv), "--requirements", s(&req)])
            .may_change(&venv)
            .wheels(&wheels),
    );
}

#[test]
fn cache_corrupt_entries() {
    let mut sb = Sandbox::new();
    let cache = weird(&sb).join("pip cache");
    sb.set_env("PIP_CACHE_DIR", cache.display().to_string());
    let dir = cache.join("wheels/77/88");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("empty_pkg-0.1-py3-none-any.whl"), b"").unwrap();
    std::fs::write(dir.join("cut-1.0-py3-none-any.whl"), b"PK\x03\x04cut").unwrap();
    paste(
        Paste::new(sb, "cache-corrupt-entries")
            .args(&["--all"])
            .may_change(&cache),
    );
}

/// Root-owned entries in the user's pip cache (`sudo pip` without `-H`):
/// the fix, pasted as root (`sudo`), gives them back to the user.
#[test]
fn cache_owned_by_other_user() {
    let mut sb = Sandbox::new();
    let home = sb.home.clone();
    let cache = home.join(".cache/pip");
    std::fs::create_dir_all(cache.join("http-v2/a/b")).unwrap();
    std::fs::write(cache.join("http-v2/a/b/entry"), "x").unwrap();
    for d in [&home, &home.join(".cache"), &cache] {
        std::os::unix::fs::chown(d, Some(65534), Some(65534)).unwrap();
    }
    // http-v2 and below stay root's, mode 0755: not writable for 65534.
    sb.set_env("PATH", "/usr/bin:/bin");
    paste(
        Paste::new(sb, "cache-owned-by-other-user")
            .args(&[
                "--all",
                "--user",
                "nobody",
                "--env",
                &format!("HOME={}", home.display()),
            ])
            .may_change(&cache),
    );
}

/// The user's HOME is someone else's: the fix, pasted by that user, points
/// HOME at a fresh directory of theirs for the session.
#[test]
fn home_unusable() {
    let sb = Sandbox::new();
    paste(
        Paste::new(sb, "home-unusable")
            .args(&["--all"])
            .pasted_by(65534),
    );
}

#[test]
fn conda_environments_txt_stale() {
    let sb = Sandbox::new();
    let live = weird(&sb).join("env one");
    std::fs::create_dir_all(live.join("conda-meta")).unwrap();
    let txt = sb.home.join(".conda/environments.txt");
    std::fs::create_dir_all(txt.parent().unwrap()).unwrap();
    std::fs::write(
        &txt,
        format!(
            "{}\n{}/gone env\n/opt/$(touch pwned)\n",
            live.display(),
            weird(&sb).display()
        ),
    )
    .unwrap();
    paste(
        Paste::new(sb, "conda-environments-txt-stale")
            .args(&["--all"])
            .may_change(&txt),
    );
}

#[test]
fn proxy_misconfigured() {
    let mut sb = Sandbox::new();
    sb.set_env("http_proxy", "http://proxy.corp:3128");
    paste(Paste::new(sb, "proxy-misconfigured").args(&["--all"]));
}

#[test]
fn tensorflow_numpy2_incompatible() {
    let sb = Sandbox::new();
    let (venv, wheels) = venv_with_pip(&sb, "3.11");
    let tf = Wheel::new("tensorflow", "2.14.0")
        .package("tensorflow")
        .requires("numpy>=1.23.5")
        .build(&wheels);
    let np2 = Wheel::new("numpy", "2.1.0").package("numpy").build(&wheels);
    Wheel::new("numpy", "1.26.4")
        .package("numpy")
        .build(&wheels);
    install(&venv, &[tf, np2]);
    paste(
        Paste::new(sb, "tensorflow-numpy2-incompatible")
            .args(&["--python", s(&venv)])
            .may_change(&venv)
            .wheels(&wheels),
    );
}

#[test]
fn cache_not_writable() {
    let mut sb = Sandbox::new();
    let home = sb.home.clone();
    let cache = home.join(".cache/pip");
    std::fs::create_dir_all(&cache).unwrap();
    for d in [&home, &home.join(".cache")] {
        std::os::unix::fs::chown(d, Some(65534), Some(65534)).unwrap();
    }
    // The cache itself is root's (made by `sudo pip`), mode 0755.
    sb.set_env("PATH", "/usr/bin:/bin");
    paste(
        Paste::new(sb, "cache-not-writable")
            .args(&[
                "--all",
                "--user",
                "nobody",
                "--env",
                &format!("HOME={}", home.display()),
            ])
            .may_change(&cache),
    );
}

#[test]
fn site_packages_not_writable() {
    let mut sb = Sandbox::new();
    let venv = weird(&sb).join("venv");
    make_venv(&python("3.12"), &venv, &[]);
    sb.set_env("PATH", "/usr/bin:/bin");
    let home = sb.home.clone();
    paste(
        Paste::new(sb, "site-packages-not-writable")
            .args(&[
                "--python",
                s(&venv),
                "--user",
                "nobody",
                "--env",
                &format!("HOME={}", home.display()),
            ])
            .may_change(&venv),
    );
}

#[test]
fn cache_stale_built_wheels() {
    let mut sb = Sandbox::new();
    let cache = weird(&sb).join("pip cache");
    sb.set_env("PIP_CACHE_DIR", cache.display().to_string());
    // pip 23 of the machine's 3.11 on PATH, as `pip`.
    let bin = sb.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(python("3.11").with_file_name("pip3.11"), bin.join("pip")).unwrap();
    sb.set_env("PATH", format!("{}:/usr/bin:/bin", bin.display()));
    Wheel::new("pycurl", "7.45.2")
        .package("pycurl")
        .build(&cache.join("wheels/3a/4b/5c/0123abcd"));
    paste(
        Paste::new(sb, "cache-stale-built-wheels")
            .args(&["--all"])
            .may_change(&cache),
    );
}

#[test]
fn requires_python_mismatch() {
    let sb = Sandbox::new();
    let (venv, wheels) = venv_with_pip(&sb, "3.12");
    let new = Wheel::new("modern", "2.0")
        .package("modern")
        .requires_python(">=3.13")
        .build(&wheels);
    Wheel::new("modern", "1.0").package("modern").build(&wheels);
    pip_install(
        &venv.join("bin/python"),
        &["--ignore-requires-python", s(&new)],
    );
    paste(
        Paste::new(sb, "requires-python-mismatch")
            .args(&["--python", s(&venv)])
            .may_change(&venv)
            .wheels(&wheels),
    );
}

#[test]
fn dangling_editable() {
    let sb = Sandbox::new();
    let (venv, wheels) = venv_with_pip(&sb, "3.12");
    // An editable install whose `.pth` names a source tree that is gone.
    let src = weird(&sb).join("src tree");
    let w = Wheel::new("edpkg", "0.3")
        .file(
            "__editable__.edpkg-0.3.pth",
            &format!("{}\n", src.display()),
        )
        .build(&wheels);
    install(&venv, &[w]);
    let di = venv.join("lib/python3.12/site-packages/edpkg-0.3.dist-info");
    std::fs::write(
        di.join("direct_url.json"),
        format!(
            "{{\"url\": \"file://{}\", \"dir_info\": {{\"editable\": true}}}}",
            src.display()
        ),
    )
    .unwrap();
    paste(
        Paste::new(sb, "dangling-editable")
            .args(&["--python", s(&venv)])
            .may_change(&venv)
            .wheels(&wheels),
    );
}

fn version_h(v: &str) -> String {
    let p: Vec<&str> = v.split('.').collect();
    format!(
        "#define TF_MAJOR_VERSION {}\n#define TF_MINOR_VERSION {}\n#define TF_PATCH_VERSION {}\n",
        p[0], p[1], p[2]
    )
}

fn tf_wheel(name: &str, v: &str) -> Wheel {
    Wheel::new(name, v).file("tensorflow/__init__.py", "").file(
        "tensorflow/include/tensorflow/core/public/version.h",
        &version_h(v),
    )
}

#[test]
fn tensorflow_variants_mixed() {
    let sb = Sandbox::new();
    let (venv, wheels) = venv_with_pip(&sb, "3.11");
    let a = tf_wheel("tensorflow", "2.15.0").build(&wheels);
    let b = tf_wheel("tensorflow-cpu", "2.14.0").build(&wheels);
    install(&venv, &[a, b]);
    paste(
        Paste::new(sb, "tensorflow-variants-mixed")
            .args(&["--python", s(&venv)])
            .may_change(&venv)
            .wheels(&wheels),
    );
}

#[test]
fn metadata_version_mismatch() {
    let sb = Sandbox::new();
    let (venv, wheels) = venv_with_pip(&sb, "3.11");
    install(&venv, &[tf_wheel("tensorflow", "2.15.0").build(&wheels)]);
    // tensorflow-gpu 2.10 installed over it rewrites tensorflow/ in place;
    // its wheel is not among what pip may reinstall from.
    let gpu = tf_wheel("tensorflow-gpu", "2.10.0").build(&sb.path("old-wheels"));
    install(&venv, &[gpu]);
    paste(
        Paste::new(sb, "metadata-version-mismatch")
            .args(&["--python", s(&venv)])
            .may_change(&venv)
            .wheels(&wheels),
    );
}

#[test]
fn tensorflow_protobuf_incompatible() {
    let sb = Sandbox::new();
    let (venv, wheels) = venv_with_pip(&sb, "3.10");
    let tf = tf_wheel("tensorflow", "2.11.0").build(&wheels);
    let pb = Wheel::new("protobuf", "4.25.3")
        .file("google/protobuf/__init__.py", "")
        .build(&wheels);
    Wheel::new("protobuf", "3.19.6")
        .file("google/protobuf/__init__.py", "")
        .build(&wheels);
    install(&venv, &[tf, pb]);
    paste(
        Paste::new(sb, "tensorflow-protobuf-incompatible")
            .args(&["--python", s(&venv)])
            .may_change(&venv)
            .wheels(&wheels),
    );
}

#[test]
fn tensorflow_unsupported_python() {
    let sb = Sandbox::new();
    let (venv, wheels) = venv_with_pip(&sb, "3.12");
    // 2.15 was built for 3.9-3.11; 2.21 is the newest tested with 3.12.
    install(&venv, &[tf_wheel("tensorflow", "2.15.0").build(&wheels)]);
    tf_wheel("tensorflow", "2.21.0").build(&wheels);
    paste(
        Paste::new(sb, "tensorflow-unsupported-python")
            .args(&["--python", s(&venv)])
            .may_change(&venv)
            .wheels(&wheels),
    );
}

#[test]
fn tensorflow_gpu_deprecated() {
    let sb = Sandbox::new();
    let (venv, wheels) = venv_with_pip(&sb, "3.11");
    install(
        &venv,
        &[tf_wheel("tensorflow-gpu", "2.10.0").build(&wheels)],
    );
    // `tensorflow[and-cuda]`: the extra pins NVIDIA wheels, stood in for by one.
    tf_wheel("tensorflow", "2.15.0")
        .requires("nvidia-cudnn-cu12==8.9.4.25 ; extra == \"and-cuda\"")
        .file_meta("Provides-Extra: and-cuda\n")
        .build(&wheels);
    Wheel::new("nvidia-cudnn-cu12", "8.9.4.25")
        .package("nvidia_cudnn")
        .build(&wheels);
    paste(
        Paste::new(sb, "tensorflow-gpu-deprecated")
            .args(&["--python", s(&venv)])
            .may_change(&venv)
            .wheels(&wheels),
    );
}

/// pip-installed distributions in an externally managed (PEP 668) Python:
/// the fix removes them with that Python's pip, and only them.
#[test]
fn pip_into_system_python() {
    let sb = Sandbox::new();
    let dir = weird(&sb);
    let base = copy_python_install("3.12", &dir.join("system py"));
    let prefix = dir.join("system py");
    std::fs::write(
        prefix.join("lib/python3.12/EXTERNALLY-MANAGED"),
        "[externally-managed]\nError=use the distribution's packages\n",
    )
    .unwrap();
    // As on Debian, the distribution installed pip and setuptools (the
    // copy's files are hard links: replace INSTALLER, never write through).
    let site = prefix.join("lib/python3.12/site-packages");
    for e in std::fs::read_dir(&site).unwrap() {
        let installer = e.unwrap().path().join("INSTALLER");
        if installer.exists() {
            std::fs::remove_file(&installer).unwrap();
            std::fs::write(&installer, "debian\n").unwrap();
        }
    }
    let wheels = sb.path("wheels");
    let w = Wheel::new("stray", "1.0").package("stray").build(&wheels);
    pip_install(&base, &["--break-system-packages", s(&w)]);
    paste(
        Paste::new(sb, "pip-into-system-python")
            .args(&["--python", s(&base)])
            .may_change(&site),
    );
}

/// Every rule is pasted above or listed in the README with the reason its
/// fix is not run, never both, and the README names only real rules.
#[test]
fn every_rule_has_its_fix_pasted_or_a_reason() {
    let me = include_str!("fixes.rs");
    let pasted: Vec<&str> = me
        .split("Paste::new(sb, \"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .collect();
    let readme = include_str!("../README.md");
    let section = readme
        .split("### Fixes the tests do not paste")
        .nth(1)
        .expect("README section `### Fixes the tests do not paste`");
    let section = section.split("\n#").next().unwrap();
    let listed: Vec<&str> = section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .collect();
    let rules = envdoctor::rules::Catalog::builtin();
    for r in &rules.rules {
        let p = pasted.contains(&r.name.as_str());
        let l = listed.contains(&r.name.as_str());
        assert!(
            p ^ l,
            "`{}` must be pasted in tests/fixes.rs or listed in the README, not {}",
            r.name,
            if p { "both" } else { "neither" }
        );
    }
    for n in listed.iter().chain(pasted.iter()) {
        assert!(rules.find(n).is_some(), "`{n}` is not a rule");
    }
}
