//! Caches, configuration and permissions. The broken trees are made as root
//! (as `sudo pip` makes them) and judged twice: by envdoctor run as uid 65534
//! through `setpriv`, so the kernel's permissions are real, and by envdoctor
//! run as root with `--root DIR --user alice` (alice is uid 65534 in the
//! image's passwd), which must reach the same verdicts from the bits alone.
//! Where a claim is about what pip does, the test runs the machine's pip.

mod support;

use serde_json::Value;
use std::os::unix::fs::{chown, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::*;

const UID: u32 = 65534;

fn mkdir(p: &Path, uid: u32, mode: u32) -> PathBuf {
    std::fs::create_dir_all(p).unwrap();
    own(p, uid, mode);
    p.to_path_buf()
}

fn write(p: &Path, content: &[u8], uid: u32, mode: u32) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
    own(p, uid, mode);
}

fn own(p: &Path, uid: u32, mode: u32) {
    chown(p, Some(uid), Some(uid)).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// An image root with `alice` as uid 65534, her home at `/home/alice`
/// (created by the caller), and the sandbox made traversable for 65534.
struct Image {
    sb: Sandbox,
    root: PathBuf,
    home: PathBuf,
    bin: PathBuf,
}

impl Image {
    fn new() -> Image {
        let sb = Sandbox::new();
        own(sb.dir.path(), 0, 0o755);
        let root = sb.path("img");
        let home = root.join("home/alice");
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::create_dir_all(root.join("home")).unwrap();
        std::fs::write(
            root.join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/bash\nalice:x:65534:65534:Alice:/home/alice:/bin/sh\n",
        )
        .unwrap();
        std::fs::write(root.join("etc/group"), "root:x:0:\nalice:x:65534:\n").unwrap();
        // uid 65534 cannot run what sits under /root: give it a copy.
        let bin = sb.path("bin/envdoctor");
        std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
        std::fs::copy(env!("CARGO_BIN_EXE_envdoctor"), &bin).unwrap();
        own(&bin, 0, 0o755);
        own(bin.parent().unwrap(), 0, 0o755);
        for d in ["img", "img/home", "img/etc"] {
            own(&sb.path(d), 0, 0o755);
        }
        Image {
            sb,
            root,
            home,
            bin,
        }
    }

    fn cache(&self) -> PathBuf {
        self.home.join(".cache/pip")
    }

    /// envdoctor as uid 65534 with HOME at the image's home (host path).
    fn as_nobody(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&self.bin)
            .args(args)
            .env_clear()
            .env("HOME", &self.home)
            .env("PATH", "/usr/bin:/bin")
            .env("NO_COLOR", "1")
            .current_dir(self.sb.dir.path());
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    }

    /// envdoctor as root, judging `alice` inside the image.
    fn judged(&self, args: &[&str]) -> Output {
        let mut all: Vec<&str> = args.to_vec();
        let root = self.root.to_str().unwrap();
        all.extend(["--root", root, "--user", "alice"]);
        self.sb.run(&all)
    }
}

fn findings(out: &Output) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    v["findings"].as_array().unwrap().clone()
}

fn of<'a>(f: &'a [Value], rule: &str) -> Vec<&'a Value> {
    f.iter().filter(|x| x["rule"] == rule).collect()
}

fn ed4(f: &[Value]) -> Vec<&Value> {
    f.iter()
        .filter(|x| x["code"].as_str().unwrap().starts_with("ED4"))
        .collect()
}

const CHECK: &[&str] = &["check", "--all", "--format", "json"];

/// Both ways of judging: (findings as uid 65534, findings by --root, how
/// the home is named in each).
fn both(img: &Image) -> [(Vec<Value>, String, &'static str); 2] {
    [
        (
            findings(&img.as_nobody(CHECK, &[])),
            img.home.display().to_string(),
            "nobody",
        ),
        (findings(&img.judged(CHECK)), "/home/alice".into(), "alice"),
    ]
}

#[test]
fn healthy_cache_of_the_user_is_silent_for_the_user_and_for_root() {
    let img = Image::new();
    mkdir(&img.home, UID, 0o755);
    mkdir(&img.cache().join("http-v2/a/b"), UID, 0o755);
    for d in [
        ".cache",
        ".cache/pip",
        ".cache/pip/http-v2",
        ".cache/pip/http-v2/a",
    ] {
        own(&img.home.join(d), UID, 0o755);
    }
    write(&img.cache().join("http-v2/a/b/c.body"), b"x", UID, 0o644);
    write(&img.cache().join("selfcheck/x.json"), b"{}", UID, 0o600);
    own(&img.cache().join("selfcheck"), UID, 0o700);
    for (f, _, who) in both(&img) {
        assert!(ed4(&f).is_empty(), "{who}: {f:#?}");
    }
    // Root using a cache that holds another user's entries: uid 0 may use
    // them, and pip's root check (owner of the top is root) passes.
    let sb = &img.sb;
    let rhome = mkdir(&sb.path("roothome"), 0, 0o700);
    mkdir(&rhome.join(".cache/pip/wheels/ab"), 0, 0o755);
    own(&rhome.join(".cache/pip/wheels/ab"), UID, 0o700);
    let mut c = sb.envdoctor();
    c.env("HOME", &rhome).args(CHECK);
    let f = findings(&c.output().unwrap());
    assert!(ed4(&f).is_empty(), "root: {f:#?}");
}

/// `sudo pip install` without -H: root-owned `http/` and `wheels/` inside
/// the user's own cache. pip's own check passes; building a wheel fails.
#[test]
fn sudo_pip_leftovers_inside_the_users_cache() {
    let img = Image::new();
    mkdir(&img.home, UID, 0o755);
    mkdir(&img.cache(), UID, 0o755);
    own(&img.home.join(".cache"), UID, 0o755);
    mkdir(&img.cache().join("http/1/2"), 0, 0o755);
    write(&img.cache().join("http/1/2/abc"), b"resp", 0, 0o644);
    mkdir(&img.cache().join("wheels"), 0, 0o755);
    write(&img.cache().join("selfcheck/s.json"), b"{}", 0, 0o600);
    for (f, home, who) in both(&img) {
        let hits = of(&f, "cache-owned-by-other-user");
        assert_eq!(hits.len(), 1, "{who}: {f:#?}");
        let h = hits[0];
        let msg = h["message"].as_str().unwrap();
        assert_eq!(
            h["severity"], "error",
            "{who}: wheels/ blocked means builds fail"
        );
        assert!(
            msg.contains("`root` (uid 0)") && msg.contains("sudo pip"),
            "{msg}"
        );
        assert!(msg.contains(&format!("{home}/.cache/pip/wheels")), "{msg}");
        assert!(msg.contains("[Errno 13] Permission denied"), "{msg}");
        let fix = fix(h);
        assert!(
            fix.contains(&format!("sudo chown -R {who}: {home}/.cache/pip")),
            "{fix}"
        );
        assert!(
            fix.contains("--no-cache-dir") && fix.contains("PIP_NO_CACHE_DIR=1"),
            "{fix}"
        );
        // Not the same story twice, and HOME itself is fine.
        assert!(of(&f, "cache-not-writable").is_empty(), "{who}: {f:#?}");
        assert!(of(&f, "home-unusable").is_empty(), "{who}: {f:#?}");
    }

    // What pip really does with it, as that user: the wheel build fails
    // with the permission error the finding quotes.
    let sd = mkdir(&img.sb.path("sdists"), 0, 0o755);
    let src = img.sb.path("src/demo-pkg-1.0");
    std::fs::create_dir_all(src.join("demo_pkg")).unwrap();
    std::fs::write(
        src.join("setup.py"),
        "from setuptools import setup\nsetup(name='demo-pkg', version='1.0', packages=['demo_pkg'])\n",
    )
    .unwrap();
    std::fs::write(src.join("demo_pkg/__init__.py"), "").unwrap();
    run_ok(
        Command::new("tar")
            .arg("czf")
            .arg(sd.join("demo-pkg-1.0.tar.gz"))
            .arg("-C")
            .arg(img.sb.path("src"))
            .arg("demo-pkg-1.0"),
    );
    own(&sd.join("demo-pkg-1.0.tar.gz"), 0, 0o644);
    let target = img.home.join("target");
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .args([
            "/usr/bin/python3",
            "-m",
            "pip",
            "install",
            "--no-build-isolation",
        ])
        .args(["--no-index", "--disable-pip-version-check", "--find-links"])
        .arg(&sd)
        .arg("--target")
        .arg(&target)
        .arg("demo-pkg")
        .env_clear()
        .env("HOME", &img.home)
        .env("PATH", "/usr/bin:/bin")
        .current_dir(img.sb.dir.path())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("Building wheel for demo-pkg failed: [Errno 13] Permission denied")
            && text.contains(&format!("{}/wheels/", img.cache().display())),
        "pip said: {text}"
    );
}

/// The cache directory itself belongs to root: pip's own check fails and
/// pip disables the cache with its warning.
#[test]
fn cache_dir_owned_by_root_is_disabled_by_pip() {
    let img = Image::new();
    mkdir(&img.home, UID, 0o755);
    own(&mkdir(&img.home.join(".cache"), UID, 0o755), UID, 0o755);
    mkdir(&img.cache(), 0, 0o755);
    for (f, home, who) in both(&img) {
        let hits = of(&f, "cache-not-writable");
        assert_eq!(hits.len(), 1, "{who}: {f:#?}");
        let msg = hits[0]["message"].as_str().unwrap();
        assert!(
            msg.contains(&format!(
                "WARNING: The directory '{home}/.cache/pip' or its parent directory is not owned or is not writable by the current user. The cache has been disabled."
            )),
            "{msg}"
        );
        assert!(msg.contains("owned by `root` (uid 0), mode 0755"), "{msg}");
        assert_eq!(hits[0]["severity"], "warning");
        let fix = fix(hits[0]);
        assert!(
            fix.contains(&format!("sudo chown -R {who}: {home}/.cache/pip")),
            "{fix}"
        );
        assert!(
            of(&f, "cache-owned-by-other-user").is_empty(),
            "{who}: {f:#?}"
        );
    }
    // pip agrees, as that user.
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .args(["/usr/bin/python3", "-m", "pip", "cache", "dir"])
        .env_clear()
        .env("HOME", &img.home)
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("The cache has been disabled"),
        "{out:?}"
    );
}

/// umask 0077 or a chmod shut the user out of its own entries.
#[test]
fn own_entries_without_write_permission() {
    let img = Image::new();
    mkdir(&img.home, UID, 0o755);
    own(&mkdir(&img.home.join(".cache"), UID, 0o755), UID, 0o755);
    mkdir(&img.cache(), UID, 0o755);
    mkdir(&img.cache().join("wheels/ab"), UID, 0o755);
    own(&img.cache().join("wheels"), UID, 0o555);
    for (f, home, who) in both(&img) {
        let hits = of(&f, "cache-not-writable");
        assert_eq!(hits.len(), 1, "{who}: {f:#?}");
        let msg = hits[0]["message"].as_str().unwrap();
        assert!(msg.contains("although they are its own"), "{msg}");
        assert!(
            msg.contains(&format!("`{home}/.cache/pip/wheels`")),
            "{msg}"
        );
        assert_eq!(hits[0]["severity"], "error");
        assert!(fix(hits[0]).contains(&format!("chmod -R u+rwX {home}/.cache/pip")));
        assert!(of(&f, "cache-owned-by-other-user").is_empty());
    }
}

/// A CI runner or container whose HOME belongs to root: HOME is unusable
/// and the cache (not there yet) cannot be created.
#[test]
fn home_owned_by_another_uid() {
    let img = Image::new();
    mkdir(&img.home, 0, 0o755);
    for (f, home, who) in both(&img) {
        let h = of(&f, "home-unusable");
        assert_eq!(h.len(), 1, "{who}: {f:#?}");
        let msg = h[0]["message"].as_str().unwrap();
        assert!(
            msg.contains(&format!("HOME `{home}`")) && msg.contains("not writable"),
            "{msg}"
        );
        // The cache under it fails for the same reason: one cause, one
        // finding, which names the cache.
        assert!(msg.contains(&format!("{home}/.cache/pip")), "{msg}");
        let c = of(&f, "cache-not-writable");
        assert!(c.is_empty(), "{who}: {c:#?}");
    }
    // HOME missing altogether.
    let img = Image::new();
    for (f, _, who) in both(&img) {
        let h = of(&f, "home-unusable");
        assert_eq!(h.len(), 1, "{who}: {f:#?}");
        assert!(h[0]["message"].as_str().unwrap().contains("does not exist"));
    }
}

/// A venv made by root and used by someone else: pip cannot install into it
/// and cannot fall back to --user inside a venv.
#[test]
fn site_packages_of_a_root_owned_venv() {
    let img = Image::new();
    mkdir(&img.home, UID, 0o755);
    let venv = img.sb.path("venv");
    make_venv(&python("3.11"), &venv, &[]);
    own(&venv, 0, 0o755);
    let sp = venv.join("lib/python3.11/site-packages");
    // The venv's base lives under /root (0700): as 65534 it cannot be
    // followed, so judge with --user on the host root, from the bits.
    let (v, _) = img.sb.json(&[
        "check",
        "--python",
        venv.to_str().unwrap(),
        "--user",
        "nobody",
    ]);
    let f = v["findings"].as_array().unwrap().clone();
    let hits = of(&f, "site-packages-not-writable");
    assert_eq!(hits.len(), 1, "{f:#?}");
    let msg = hits[0]["message"].as_str().unwrap();
    assert!(msg.contains(&format!("`{}`", sp.display())), "{msg}");
    assert!(
        msg.contains("User site-packages are not visible in this virtualenv"),
        "{msg}"
    );
    assert!(fix(hits[0]).contains(&format!("sudo chown -R nobody: {}", venv.display())));
    // Root can write it: nothing to say.
    let (v, _) = img.sb.json(&["check", "--python", venv.to_str().unwrap()]);
    assert!(of(
        v["findings"].as_array().unwrap(),
        "site-packages-not-writable"
    )
    .is_empty());
    // Handed to the user: nothing either.
    run_ok(Command::new("chown").args(["-R", "65534:65534"]).arg(&venv));
    let (v, _) = img.sb.json(&[
        "check",
        "--python",
        venv.to_str().unwrap(),
        "--user",
        "nobody",
    ]);
    assert!(of(
        v["findings"].as_array().unwrap(),
        "site-packages-not-writable"
    )
    .is_empty());
}

/// Interrupted downloads and wheels pip built itself, in root's own cache.
#[test]
fn corrupt_and_built_wheels_in_the_cache() {
    let sb = Sandbox::new();
    let wheels = sb.home.join(".cache/pip/wheels");
    let good = Wheel::new("pycurl", "7.45.2")
        .package("pycurl")
        .build(&wheels.join("3a/4b/5c/0123abcd"));
    let bytes = std::fs::read(&good).unwrap();
    let cut_dir = sb.home.join(".cache/pip/wheels/77/88");
    std::fs::create_dir_all(&cut_dir).unwrap();
    let cut = cut_dir.join("broken_pkg-1.0-py3-none-any.whl");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let empty = cut_dir.join("empty_pkg-0.1-py3-none-any.whl");
    std::fs::write(&empty, b"").unwrap();
    let f = sb.findings(&["--all"], "cache-corrupt-entries");
    assert_eq!(f.len(), 1, "{f:#?}");
    let msg = f[0]["message"].as_str().unwrap();
    assert!(msg.starts_with("2 archive(s)"), "{msg}");
    let paths: Vec<&str> = f[0]["paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(paths.contains(&cut.to_str().unwrap()) && paths.contains(&empty.to_str().unwrap()));
    assert!(!paths.contains(&good.to_str().unwrap()));
    assert!(fix(&f[0]).contains(&format!(
        "rm -f -- {}",
        envdoctor::shell::quote(cut.to_str().unwrap())
    )));
    // pip itself refuses the cut wheel.
    let out = Command::new(python("3.11"))
        .args([
            "-m",
            "pip",
            "install",
            "--no-index",
            "--no-deps",
            "--target",
        ])
        .arg(sb.path("t"))
        .arg(&cut)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("zip") || err.contains("invalid"), "{err}");

    let built = sb.findings(&["--all"], "cache-stale-built-wheels");
    assert_eq!(built.len(), 1, "{built:#?}");
    assert_eq!(built[0]["severity"], "info");
    let msg = built[0]["message"].as_str().unwrap();
    assert!(msg.contains("`pycurl` (7.45.2, built "), "{msg}");
    assert!(fix(&built[0]).contains("pip cache remove "));
}

/// A planted secret must not appear in any output format.
#[test]
fn no_secret_in_any_output() {
    let mut sb = Sandbox::new();
    std::fs::create_dir_all(sb.home.join(".config/pip")).unwrap();
    std::fs::write(
        sb.home.join(".config/pip/pip.conf"),
        "[global]\nindex-url = https://alice:PipConfS3cret@pypi.example.com/simple\n\
         [install]\nextra-index-url =\n    https://mirror.example.com/simple\n    http://tok:PipConfTokS3cret@plain.example.org/simple\n",
    )
    .unwrap();
    sb.set_env(
        "PIP_INDEX_URL",
        "https://bob:EnvS3cret@idx.example.com/simple",
    );
    sb.set_env(
        "https_proxy",
        "http://carol:ProxyS3cret@proxy.example.com:3128",
    );
    sb.set_env(
        "HTTPS_PROXY",
        "http://carol:OtherProxyS3cret@proxy2.example.com:3128",
    );
    sb.set_env(
        "http_proxy",
        "http://carol:HttpProxyS3cret@proxy.example.com:port",
    );
    let outputs = [
        sb.run(&["check", "--all"]),
        sb.run(&["check", "--all", "--format", "json"]),
        sb.run(&["scan"]),
        sb.run(&["scan", "--format", "json"]),
        sb.run(&["scan", "--verbose"]),
    ];
    for o in &outputs {
        let all =
            String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
        assert!(!all.contains("S3cret"), "secret printed:\n{all}");
    }
    // The settings are there, redacted, with their hosts.
    let check = String::from_utf8_lossy(&outputs[1].stdout);
    assert!(
        check.contains("http://***:***@proxy.example.com:3128"),
        "{check}"
    );
    let f = findings(&outputs[1]);
    let proxy = of(&f, "proxy-misconfigured");
    let msgs: Vec<&str> = proxy
        .iter()
        .map(|h| h["message"].as_str().unwrap())
        .collect();
    assert!(msgs.iter().any(|m| m.contains("disagree")), "{msgs:#?}");
    assert!(
        msgs.iter().any(|m| m.contains("does not parse")),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("http://***:***@plain.example.org/simple")
                && m.contains("is being ignored")),
        "{msgs:#?}"
    );
    let scan = String::from_utf8_lossy(&outputs[3].stdout);
    assert!(
        scan.contains("https://***:***@pypi.example.com/simple"),
        "{scan}"
    );
}

/// Where the pip cache is, for several configurations, agrees with what
/// pip itself says (`pip cache dir`).
#[test]
fn pip_cache_location_matches_pip() {
    let mut sb = Sandbox::new();
    let pip = python("3.11");
    let ours = |sb: &Sandbox| -> (String, String) {
        let (v, _) = sb.json(&["scan"]);
        let c = v["caches"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["tool"] == "pip" && c["environments"].as_array().unwrap().is_empty())
            .unwrap_or_else(|| panic!("no pip cache: {v:#}"))
            .clone();
        (
            c["path"].as_str().unwrap().to_string(),
            c["source"].as_str().unwrap().to_string(),
        )
    };
    let theirs = |sb: &Sandbox, py: &Path| -> String {
        let mut c = Command::new(py);
        c.args(["-m", "pip", "cache", "dir"])
            .env_clear()
            .env("HOME", &sb.home)
            .current_dir(sb.dir.path());
        for (k, v) in &sb.env {
            c.env(k, v);
        }
        String::from_utf8(run_ok(&mut c).stdout)
            .unwrap()
            .trim()
            .to_string()
    };
    let base = sb.dir.path().to_path_buf();
    let p = |rel: &str| base.join(rel).display().to_string();
    let xdg = sb.path("xdg");
    std::fs::create_dir_all(xdg.join("pip")).unwrap();
    std::fs::write(
        xdg.join("pip/pip.conf"),
        format!("[global]\ncache-dir = {}\n", p("c-global")),
    )
    .unwrap();
    sb.set_env("XDG_CONFIG_DIRS", xdg.display().to_string());
    let (path, source) = ours(&sb);
    assert_eq!(path, theirs(&sb, &pip));
    assert_eq!(path, p("c-global"));
    assert!(
        source.contains("xdg/pip/pip.conf [global] cache-dir"),
        "{source}"
    );

    std::fs::create_dir_all(sb.home.join(".pip")).unwrap();
    std::fs::write(
        sb.home.join(".pip/pip.conf"),
        format!("[global]\ncache_dir = {}\n", p("c-legacy")),
    )
    .unwrap();
    assert_eq!(ours(&sb).0, p("c-legacy"));
    assert_eq!(theirs(&sb, &pip), p("c-legacy"));

    std::fs::create_dir_all(sb.home.join(".config/pip")).unwrap();
    std::fs::write(
        sb.home.join(".config/pip/pip.conf"),
        "[global]\ncache-dir = ~/c-new\n",
    )
    .unwrap();
    let want = sb.home.join("c-new").display().to_string();
    assert_eq!(ours(&sb).0, want);
    assert_eq!(theirs(&sb, &pip), want);

    // PIP_CONFIG_FILE comes last among files, and makes pip skip the user's.
    std::fs::write(sb.path("env.conf"), "[global]\nno-cache-dir = false\n").unwrap();
    sb.set_env("PIP_CONFIG_FILE", p("env.conf"));
    let (v, _) = sb.json(&["scan"]);
    assert_eq!(
        v["caches"][0]["path"],
        p("c-global"),
        "user files are skipped"
    );
    // `no-cache-dir = false` still turns the cache off, as in pip.
    assert!(v["caches"][0]["disabled_by"]
        .as_str()
        .unwrap()
        .contains("env.conf"));
    std::fs::write(
        sb.path("env.conf"),
        format!("[global]\ncache-dir = {}\n", p("c-env")),
    )
    .unwrap();
    assert_eq!(ours(&sb).0, p("c-env"));
    assert_eq!(theirs(&sb, &pip), p("c-env"));

    sb.set_env("PIP_CACHE_DIR", p("c-var"));
    let (path, source) = ours(&sb);
    assert_eq!(
        (path.as_str(), source.as_str()),
        (p("c-var").as_str(), "PIP_CACHE_DIR")
    );
    assert_eq!(theirs(&sb, &pip), p("c-var"));

    // A venv's own pip.conf applies to that environment only (and sits
    // below PIP_CONFIG_FILE and PIP_* variables, so drop those).
    sb.env
        .retain(|(k, _)| k != "PIP_CACHE_DIR" && k != "PIP_CONFIG_FILE");
    let venv = sb.path("venv");
    make_venv(&pip, &venv, &[]);
    std::fs::write(
        venv.join("pip.conf"),
        format!("[global]\ncache-dir = {}\n", p("c-venv")),
    )
    .unwrap();
    let (v, _) = sb.json(&["scan"]);
    let c = v["caches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"] == p("c-venv"))
        .unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(c["environments"][0], venv.display().to_string());
    assert_eq!(ours(&sb).0, want, "other environments keep the user's");
    let out = run_ok(
        Command::new(&pip)
            .args(["-m", "pip", "--python"])
            .arg(venv.join("bin/python"))
            .args(["cache", "dir"])
            .env_clear()
            .env("HOME", &sb.home)
            .envs(sb.env.iter().cloned()),
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), p("c-venv"));
}

/// uv's cache after `sudo uv`: uv does not fall back, it fails.
#[test]
fn uv_cache_with_root_owned_entries() {
    let img = Image::new();
    mkdir(&img.home, UID, 0o755);
    let uv = mkdir(&img.home.join(".cache/uv"), UID, 0o755);
    own(&img.home.join(".cache"), UID, 0o755);
    mkdir(&uv.join("sdists-v9"), UID, 0o755);
    write(&uv.join("sdists-v9/.git"), b"", 0, 0o600);
    for (f, home, who) in both(&img) {
        let hits = of(&f, "cache-owned-by-other-user");
        assert_eq!(hits.len(), 1, "{who}: {f:#?}");
        let msg = hits[0]["message"].as_str().unwrap();
        assert!(
            msg.contains(&format!(
                "uv fails with \"failed to open file `{home}/.cache/uv/sdists-v9/.git`: Permission denied\""
            )),
            "{msg}"
        );
        assert_eq!(hits[0]["severity"], "error");
        assert!(fix(hits[0]).contains("UV_NO_CACHE=1"));
    }
}

/// conda writes to the first package cache it may write; a shared,
/// root-owned one before it is normal, none at all is not.
#[test]
fn conda_pkgs_dirs_from_condarc() {
    let img = Image::new();
    mkdir(&img.home, UID, 0o755);
    mkdir(&img.home.join("shared-pkgs/numpy-1.26.4-0"), 0, 0o755);
    write(
        &img.home.join(".condarc"),
        b"pkgs_dirs:\n  - ~/shared-pkgs\n",
        UID,
        0o644,
    );
    for (f, home, who) in both(&img) {
        let hits = of(&f, "cache-not-writable");
        assert_eq!(hits.len(), 1, "{who}: {f:#?}");
        let msg = hits[0]["message"].as_str().unwrap();
        assert!(
            msg.contains(&format!("`{home}/shared-pkgs`")) && msg.contains("NotWritableError"),
            "{msg}"
        );
    }
    write(
        &img.home.join(".condarc"),
        b"pkgs_dirs:\n  - ~/shared-pkgs\n  - ~/.conda/pkgs\n",
        UID,
        0o644,
    );
    for (f, _, who) in both(&img) {
        assert!(ed4(&f).is_empty(), "{who}: {f:#?}");
    }
}

/// A private mount namespace: a 1 MB tmpfs as TMPDIR and a read-only
/// filesystem under the pip cache, gone when the command ends.
fn in_mounts(
    sb: &Sandbox,
    mounts: &[(&str, &Path)],
    env: &[(&str, String)],
    args: &[&str],
) -> Output {
    let mut script = String::new();
    for (opts, dir) in mounts {
        std::fs::create_dir_all(dir).unwrap();
        script.push_str(&format!(
            "mount -t tmpfs -o {opts} tmpfs '{}' && ",
            dir.display()
        ));
    }
    script.push_str("exec \"$@\"");
    let mut c = Command::new("unshare");
    c.args(["-m", "sh", "-c", &script, "sh"])
        .arg(env!("CARGO_BIN_EXE_envdoctor"))
        .args(args)
        .env_clear()
        .env("HOME", &sb.home)
        .env("PATH", "/usr/bin:/bin")
        .env("NO_COLOR", "1")
        .current_dir(sb.dir.path());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[test]
fn small_tmpfs_and_readonly_cache() {
    let sb = Sandbox::new();
    let small = sb.path("small-tmp");
    let ro = sb.path("ro");
    let out = in_mounts(
        &sb,
        &[("size=1m", &small), ("ro,size=1m", &ro)],
        &[
            ("TMPDIR", small.display().to_string()),
            ("PIP_CACHE_DIR", ro.join("pip").display().to_string()),
        ],
        CHECK,
    );
    let f = findings(&out);
    let low = of(&f, "low-disk-space");
    assert_eq!(low.len(), 1, "{f:#?}");
    let msg = low[0]["message"].as_str().unwrap();
    assert!(
        msg.contains(&format!("on `{}` (tmpfs: memory)", small.display()))
            && msg.contains("TMPDIR")
            && msg.contains("[Errno 28] No space left on device"),
        "{msg}"
    );
    assert!(fix(low[0]).contains("export TMPDIR="));
    let ro_hits = of(&f, "cache-readonly-filesystem");
    assert_eq!(ro_hits.len(), 1, "{f:#?}");
    let msg = ro_hits[0]["message"].as_str().unwrap();
    assert!(
        msg.contains(&format!("`{}/pip`", ro.display()))
            && msg.contains("[Errno 30] Read-only file system"),
        "{msg}"
    );
    // Without the mounts the same settings are fine.
    std::fs::create_dir_all(ro.join("pip")).unwrap();
    let mut c = sb.envdoctor();
    c.env("TMPDIR", &small)
        .env("PIP_CACHE_DIR", ro.join("pip"))
        .args(CHECK);
    let f = findings(&c.output().unwrap());
    assert!(ed4(&f).is_empty(), "{f:#?}");
}

#[test]
fn large_cache_is_reported_as_info() {
    let sb = Sandbox::new();
    let body = sb.home.join(".cache/pip/http-v2/a/b/c.body");
    std::fs::create_dir_all(body.parent().unwrap()).unwrap();
    // A sparse file: its size is what counts, not the blocks it takes here.
    std::fs::File::create(&body)
        .unwrap()
        .set_len(1_500_000_000)
        .unwrap();
    let f = sb.findings(&["--all"], "cache-large");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["severity"], "info");
    let msg = f[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("holds 1.5 GB in 5 entries") && msg.contains("--no-cache-dir"),
        "{msg}"
    );
    // PIP_NO_CACHE_DIR: pip does not use it, nothing to say.
    let mut sb = sb;
    sb.set_env("PIP_NO_CACHE_DIR", "1");
    assert!(sb.findings(&["--all"], "cache-large").is_empty());
}

/// The rules judge the snapshot alone: a support engineer re-checking the
/// saved scan gets the same findings as the user.
#[test]
fn saved_snapshot_gives_the_same_verdicts() {
    let img = Image::new();
    mkdir(&img.home, UID, 0o755);
    mkdir(&img.cache(), UID, 0o755);
    own(&img.home.join(".cache"), UID, 0o755);
    mkdir(&img.cache().join("wheels/ab"), 0, 0o755);
    let scan = img.judged(&["scan", "--format", "json"]);
    assert!(scan.status.success());
    let file = img.sb.path("snapshot.json");
    std::fs::write(&file, &scan.stdout).unwrap();
    let direct = findings(&img.judged(CHECK));
    let again = findings(&img.sb.run(&[
        "check",
        "--all",
        "--format",
        "json",
        "--snapshot",
        file.to_str().unwrap(),
    ]));
    assert!(!of(&direct, "cache-owned-by-other-user").is_empty());
    assert_eq!(direct, again);
}

#[test]
fn rule_names_and_codes_are_the_contract() {
    let sb = Sandbox::new();
    let (v, _) = sb.json(&["rules"]);
    let rules = v.as_array().unwrap();
    for (code, name, severity) in [
        ("ED401", "cache-not-writable", "warning"),
        ("ED402", "cache-owned-by-other-user", "error"),
        ("ED403", "home-unusable", "warning"),
        ("ED404", "cache-readonly-filesystem", "warning"),
        ("ED405", "low-disk-space", "warning"),
        ("ED406", "cache-large", "info"),
        ("ED407", "site-packages-not-writable", "warning"),
        ("ED408", "cache-stale-built-wheels", "info"),
        ("ED409", "cache-corrupt-entries", "warning"),
        ("ED410", "proxy-misconfigured", "warning"),
    ] {
        let r = rules
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no rule {name}"));
        assert_eq!(
            (r["code"].as_str(), r["severity"].as_str()),
            (Some(code), Some(severity))
        );
        let doc = sb.run(&["explain", code]);
        assert!(String::from_utf8_lossy(&doc.stdout).contains("Why is this bad?"));
    }
}

/// Runs with a deadline: a FIFO opened for reading would block forever.
fn run_deadline(mut cmd: Command, secs: u64) -> Output {
    use std::time::{Duration, Instant};
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(secs) {
            child.kill().unwrap();
            panic!("envdoctor hung on a hostile cache tree");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn hostile_caches_and_configs_never_panic_or_hang() {
    use std::os::unix::ffi::OsStrExt;
    let mut sb = Sandbox::new();
    let pip = sb.home.join(".cache/pip");
    std::fs::create_dir_all(pip.join("wheels/ab")).unwrap();
    run_ok(Command::new("mkfifo").arg(pip.join("wheels/ab/fifo-1.0-py3-none-any.whl")));
    std::os::unix::fs::symlink("loop", pip.join("loop")).unwrap();
    std::os::unix::fs::symlink("..", pip.join("wheels/up")).unwrap();
    let odd = std::ffi::OsStr::from_bytes(b"bad-\xff-1.0-py3-none-any.whl");
    std::fs::write(pip.join("wheels").join(odd), b"PK\x05\x06").unwrap();
    std::fs::write(
        pip.join("wheels/short-1.0-py3-none-any.whl"),
        b"PK\x05\x06\0\0",
    )
    .unwrap();
    // An end record whose directory offset overflows when added up.
    let mut rec = b"PK\x05\x06".to_vec();
    rec.extend([0u8; 8]);
    rec.extend(0xFFFF_FFFEu32.to_le_bytes());
    rec.extend(0xFFFF_FFFEu32.to_le_bytes());
    rec.extend([0u8; 2]);
    std::fs::write(pip.join("wheels/huge-1.0-py3-none-any.whl"), &rec).unwrap();
    // uv's cache is a FIFO, the config files are garbage or FIFOs.
    std::fs::create_dir_all(sb.home.join(".cache")).unwrap();
    run_ok(Command::new("mkfifo").arg(sb.home.join(".cache/uv")));
    std::fs::create_dir_all(sb.home.join(".config/pip")).unwrap();
    run_ok(Command::new("mkfifo").arg(sb.home.join(".config/pip/pip.conf")));
    std::fs::create_dir_all(sb.home.join(".pip")).unwrap();
    std::fs::write(
        sb.home.join(".pip/pip.conf"),
        [0xffu8, 0, b'[', b'\n', b'=', b'x'],
    )
    .unwrap();
    std::fs::create_dir_all(sb.home.join(".config/uv")).unwrap();
    std::fs::write(sb.home.join(".config/uv/uv.toml"), "cache-dir = [[[\n").unwrap();
    std::fs::write(sb.home.join(".condarc"), "pkgs_dirs: {a: [\n\t- :").unwrap();
    sb.set_env("https_proxy", "http://[::1");
    sb.set_env(
        "PIP_CONFIG_FILE",
        sb.path("missing.conf").display().to_string(),
    );
    for args in [
        vec!["scan", "--format", "json"],
        vec!["check", "--all", "--format", "json"],
        vec!["scan", "-v"],
    ] {
        let mut cmd = sb.envdoctor();
        cmd.args(&args);
        let out = run_deadline(cmd, 30);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let f = sb.findings(&["--all"], "cache-corrupt-entries");
    assert_eq!(f.len(), 1, "{f:#?}");
    let paths = f[0]["paths"].to_string();
    assert!(
        paths.contains("short-1.0") && paths.contains("huge-1.0"),
        "{paths}"
    );
    assert!(!paths.contains("fifo-1.0"), "{paths}");
    let (v, _) = sb.json(&["scan"]);
    let errors: Vec<&Value> = v["config"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["error"].is_string())
        .collect();
    assert!(errors.len() >= 3, "{:#}", v["config"]);
}

/// `sudo pip` without `-H`: root with another user's HOME. pip's root
/// check wants the cache owned by root, and disables it otherwise.
#[test]
fn root_with_another_users_home() {
    let sb = Sandbox::new();
    let home = mkdir(&sb.path("alice"), UID, 0o755);
    mkdir(&home.join(".cache/pip/http"), UID, 0o755);
    own(&home.join(".cache"), UID, 0o755);
    own(&home.join(".cache/pip"), UID, 0o755);
    let mut c = sb.envdoctor();
    c.env("HOME", &home).args(CHECK);
    let f = findings(&c.output().unwrap());
    let hits = of(&f, "cache-not-writable");
    assert_eq!(hits.len(), 1, "{f:#?}");
    let msg = hits[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("`sudo` without `-H`") && msg.contains("The cache has been disabled"),
        "{msg}"
    );
    assert!(fix(hits[0]).contains("sudo -H pip install"));
    let out = Command::new(python("3.11"))
        .args(["-m", "pip", "cache", "dir"])
        .env_clear()
        .env("HOME", &home)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("The cache has been disabled"));
}

#[test]
fn http_proxy_without_https_proxy() {
    let mut sb = Sandbox::new();
    sb.set_env("http_proxy", "http://proxy.example.com:3128");
    let f = sb.findings(&["--all"], "proxy-misconfigured");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(f[0]["message"]
        .as_str()
        .unwrap()
        .contains("no `https_proxy`"));
    assert!(fix(&f[0]).contains("export https_proxy=\"$http_proxy\""));
    // pip's own `proxy` setting covers https too.
    sb.set_env("PIP_PROXY", "http://proxy.example.com:3128");
    assert!(sb.findings(&["--all"], "proxy-misconfigured").is_empty());
}
