//! Environment rules on real venvs made and broken by the test: each rule
//! fires on the broken case and stays quiet on the healthy one.

mod support;

use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

fn path_env(dirs: &[&Path]) -> String {
    let mut s: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    s.push("/usr/bin:/bin".into());
    s.join(":")
}

fn messages(findings: &[Value]) -> String {
    findings
        .iter()
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn healthy_venv_has_no_findings() {
    let mut sb = Sandbox::new();
    let venv = sb.path("ok");
    make_venv_with_pip(&python("3.12"), &venv);
    let wheels = sb.path("wheels");
    let w = Wheel::new("hello-tool", "1.0")
        .package("hello_tool")
        .script("hello", "hello_tool:main")
        .build(&wheels);
    pip_install(&venv.join("bin/python"), &[w.to_str().unwrap()]);
    sb.set_env("PATH", path_env(&[&venv.join("bin")]));
    sb.set_env("VIRTUAL_ENV", venv.display().to_string());
    let (out, code) = sb.json(&["check", "--fail-on", "info"]);
    assert_eq!(out["findings"], serde_json::json!([]), "{out:#}");
    assert_eq!(code, 0);
    assert_eq!(out["summary"]["environments"], 1);
}

#[test]
fn broken_venv_when_its_base_is_deleted() {
    let mut sb = Sandbox::new();
    // A base we can delete, as a pyenv version or Homebrew keg would be
    // uninstalled, and a venv made from it.
    let base = sb.path("base");
    let base_python = copy_python_install("3.12", &base);
    let venv = sb.path("app");
    make_venv(&base_python, &venv, &[]);
    sb.set_env("PATH", path_env(&[]));
    let before = sb.findings(&["--python", venv.to_str().unwrap()], "broken-venv");
    assert!(before.is_empty(), "{before:#?}");

    std::fs::remove_dir_all(&base).unwrap();
    let f = sb.findings(&["--python", venv.to_str().unwrap()], "broken-venv");
    assert_eq!(f.len(), 1, "{f:#?}");
    let msg = f[0]["message"].as_str().unwrap();
    assert!(msg.contains(&format!("`{}`", venv.display())), "{msg}");
    assert!(
        msg.contains("base/bin") && msg.contains("no longer exists"),
        "{msg}"
    );
    assert_eq!(f[0]["severity"], "error");
    // No other 3.12 that envdoctor can see: how to get one, not a command
    // naming a bare `python3.12` that would fail or run another Python.
    assert_eq!(
        f[0]["fix"]["commands"][0], "uv python install 3.12",
        "{:#}",
        f[0]
    );
    // With pyenv's 3.12 in view, the fix recreates it from that one, by
    // absolute path.
    sb.set_env("PYENV_ROOT", "/root/.pyenv");
    let f = sb.findings(&["--python", venv.to_str().unwrap()], "broken-venv");
    let py = python("3.12").with_file_name("python3");
    assert_eq!(
        f[0]["fix"]["commands"][0],
        format!(
            "{} -m venv --clear {}",
            envdoctor::shell::quote(py.to_str().unwrap()),
            envdoctor::shell::quote(venv.to_str().unwrap())
        ),
        "{:#}",
        f[0]
    );

    // The scan still lists it, with its error, instead of dropping it.
    let home_venv = sb.home.join(".virtualenvs/app");
    std::fs::create_dir_all(home_venv.parent().unwrap()).unwrap();
    std::fs::rename(&venv, &home_venv).unwrap();
    let (scan, _) = sb.json(&["scan"]);
    let it = by_prefix(&scan, &home_venv);
    assert!(
        it["error"].as_str().unwrap().contains("no longer exists"),
        "{it:#}"
    );
}

#[test]
fn broken_venv_when_its_base_changed_minor_version() {
    let mut sb = Sandbox::new();
    let venv = sb.path("old");
    make_venv(&python("3.12"), &venv, &[]);
    // As after an in-place upgrade of the base from 3.11 to 3.12.
    let cfg = venv.join("pyvenv.cfg");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let text: String = text
        .lines()
        .map(|l| {
            if l.starts_with("version") {
                "version = 3.11.7".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&cfg, text).unwrap();
    sb.set_env("PATH", path_env(&[]));
    let f = sb.findings(&["--python", venv.to_str().unwrap()], "broken-venv");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(
        messages(&f).contains("made for Python 3.11 but its base"),
        "{f:#?}"
    );
}

/// A sandbox with a venv `first` whose `hello-tool` installed a console
/// script `hello` (its shebang names `first/bin/python`), and a bare PATH.
fn venv_with_a_console_script() -> (Sandbox, std::path::PathBuf) {
    let mut sb = Sandbox::new();
    let venv = sb.path("first");
    make_venv(&python("3.11"), &venv, &[]);
    let w = Wheel::new("hello-tool", "1.0")
        .package("hello_tool")
        .script("hello", "hello_tool:main")
        .build(&sb.path("wheels"));
    pip_install(&venv.join("bin/python"), &[w.to_str().unwrap()]);
    sb.set_env("PATH", path_env(&[]));
    (sb, venv)
}

#[test]
fn script_bad_interpreter_after_moving_a_venv() {
    let (sb, venv) = venv_with_a_console_script();
    assert!(sb
        .findings(
            &["--python", venv.to_str().unwrap()],
            "script-bad-interpreter"
        )
        .is_empty());

    // Copied: the copy's scripts run the original's interpreter.
    let copy = sb.path("copy");
    run_ok(Command::new("cp").arg("-a").arg(&venv).arg(&copy));
    let f = sb.findings(
        &["--python", copy.to_str().unwrap()],
        "script-bad-interpreter",
    );
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["severity"], "warning");
    assert!(messages(&f).contains("another environment's interpreter"));

    // Moved: the scripts name an interpreter that no longer exists.
    let moved = sb.path("moved");
    std::fs::rename(&venv, &moved).unwrap();
    let f = sb.findings(
        &["--python", moved.to_str().unwrap()],
        "script-bad-interpreter",
    );
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["severity"], "error");
    let msg = messages(&f);
    assert!(
        msg.contains("`hello`")
            && msg.contains("first/bin/python")
            && msg.contains("does not exist"),
        "{msg}"
    );
    assert!(fix(&f[0]).contains("moved or copied from"), "{:#}", f[0]);
}

/// A venv moved to a directory whose name is not UTF-8: its prefix is shown
/// lossily, but its scripts are still read from the real directory (`check`
/// reads a target's console scripts after discovery, from the path kept).
#[test]
fn script_bad_interpreter_under_a_name_that_is_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let (sb, venv) = venv_with_a_console_script();
    let moved = sb
        .dir
        .path()
        .join(std::ffi::OsStr::from_bytes(b"moved-\xff"));
    std::fs::rename(&venv, &moved).unwrap();
    let out = sb
        .envdoctor()
        .args(["check", "--format", "json", "--python"])
        .arg(moved.join("bin/python"))
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = findings_of(&v, "script-bad-interpreter");
    assert_eq!(f.len(), 1, "{v:#}");
    assert!(messages(&f).contains("`hello`"), "{f:#?}");
}

fn write_script(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn pip_python_mismatch_reads_the_pip_shebang() {
    let mut sb = Sandbox::new();
    let venv = sb.path("venv");
    make_venv(&python("3.12"), &venv, &[]);
    // A stray pip earlier on PATH than the venv, belonging to Python 3.10.
    let stray = sb.path("stray/bin");
    let py310 = python("3.10");
    write_script(
        &stray.join("pip"),
        &format!("#!{}\nimport sys\n", py310.display()),
    );
    sb.set_env("PATH", path_env(&[&stray, &venv.join("bin")]));
    let f = sb.findings(&[], "pip-python-mismatch");
    // `pip` is the stray 3.10 one; the venv has no pip3 either, so `pip3`
    // is the system's (`/usr/bin/pip3` where Debian has it): both pairs
    // install elsewhere than `python`/`python3` run, each said once.
    let system_pip3 = Path::new("/usr/bin/pip3").exists();
    assert_eq!(f.len(), 1 + usize::from(system_pip3), "{f:#?}");
    let msg = messages(&f);
    assert!(msg.contains("3.10"), "{msg}");
    if system_pip3 {
        assert!(msg.contains("`pip3` on PATH installs into `/usr`"), "{msg}");
    }
    assert!(msg.contains(&format!("`{}`", venv.display())), "{msg}");
    assert!(fix(&f[0]).contains("-m pip install"));

    // The venv's own pip first on PATH: quiet.
    for pip in ["pip", "pip3"] {
        write_script(
            &venv.join("bin").join(pip),
            &format!("#!{}/bin/python\nimport sys\n", venv.display()),
        );
    }
    sb.set_env("PATH", path_env(&[&venv.join("bin"), &stray]));
    assert!(sb.findings(&[], "pip-python-mismatch").is_empty());

    // `#!/usr/bin/env python3` follows PATH: the same environment, quiet.
    write_script(&stray.join("pip"), "#!/usr/bin/env python3\nimport sys\n");
    sb.set_env("PATH", path_env(&[&stray, &venv.join("bin")]));
    assert!(sb.findings(&[], "pip-python-mismatch").is_empty());
}

#[test]
fn python_env_vars_say_what_they_change() {
    let mut sb = Sandbox::new();
    sb.set_env("PYTHONHOME", "/opt/elsewhere");
    sb.set_env("PYTHONPATH", "/srv/old-checkout");
    let f = sb.findings(&[], "python-env-vars");
    assert_eq!(f.len(), 2, "{f:#?}");
    let home = f
        .iter()
        .find(|x| x["message"].as_str().unwrap().contains("PYTHONHOME"))
        .unwrap();
    assert_eq!(home["severity"], "warning");
    let pp = f
        .iter()
        .find(|x| x["message"].as_str().unwrap().contains("PYTHONPATH"))
        .unwrap();
    assert_eq!(pp["severity"], "info");
    assert!(pp["message"]
        .as_str()
        .unwrap()
        .contains("/srv/old-checkout"));
}

#[test]
fn stale_activation_cases() {
    let mut sb = Sandbox::new();
    let a = sb.path("a");
    let b = sb.path("b");
    make_venv(&python("3.12"), &a, &[]);
    make_venv(&python("3.12"), &b, &[]);
    // Activated a, then PATH changed so b's python runs.
    sb.set_env("VIRTUAL_ENV", a.display().to_string());
    sb.set_env("PATH", path_env(&[&b.join("bin")]));
    let f = sb.findings(&[], "stale-activation");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(
        messages(&f).contains(&format!("runs `{}`", b.display())),
        "{f:#?}"
    );

    // Properly activated: quiet.
    sb.set_env("PATH", path_env(&[&a.join("bin")]));
    assert!(sb.findings(&[], "stale-activation").is_empty());

    // The activated venv was deleted: when it is what `check` judges, the
    // one finding is check-target-unreadable (an error: nothing was read);
    // under `--all` it is a stale shell setting.
    sb.set_env("VIRTUAL_ENV", sb.path("deleted").display().to_string());
    assert!(sb.findings(&[], "stale-activation").is_empty());
    let f = sb.findings(&[], "check-target-unreadable");
    assert_eq!(f.len(), 1, "{f:#?}");
    let f = sb.findings(&["--all"], "stale-activation");
    assert!(
        messages(&f).contains("not an environment on this machine"),
        "{f:#?}"
    );

    // A venv and a conda env at once.
    sb.set_env("VIRTUAL_ENV", a.display().to_string());
    sb.set_env("CONDA_PREFIX", b.display().to_string());
    let f = sb.findings(&[], "stale-activation");
    assert!(messages(&f).contains("Both a venv"), "{f:#?}");
}

#[test]
fn exec_mismatch_only_with_exec() {
    let mut sb = Sandbox::new();
    let venv = sb.path("v");
    make_venv(&python("3.12"), &venv, &[]);
    let site = venv.join("lib/python3.12/site-packages");
    std::fs::create_dir_all(sb.path("injected")).unwrap();
    std::fs::create_dir_all(sb.path("literal")).unwrap();
    // A literal form is read as data (issue 17), so static and real agree
    // on it; a computed one cannot be known without running it.
    std::fs::write(
        site.join("inject.pth"),
        format!(
            "import sys; p = {:?}; sys.path.append(p)\n",
            sb.path("injected").display().to_string()
        ),
    )
    .unwrap();
    std::fs::write(
        site.join("literal.pth"),
        format!(
            "import sys; sys.path.append({:?})\n",
            sb.path("literal").display().to_string()
        ),
    )
    .unwrap();
    sb.set_env("PATH", path_env(&[]));
    sb.set_env("VIRTUAL_ENV", venv.display().to_string());
    let (scan, _) = sb.json(&["scan"]);
    let static_path = scan.to_string();
    assert!(
        static_path.contains(&format!("\"{}\"", sb.path("literal").display())),
        "{static_path}"
    );
    assert!(!static_path.contains(&format!("\"{}\"", sb.path("injected").display())));
    let args = ["--python", venv.to_str().unwrap()];
    assert!(sb.findings(&args, "exec-mismatch").is_empty());
    let f = sb.findings(
        &["--python", venv.to_str().unwrap(), "--exec"],
        "exec-mismatch",
    );
    assert_eq!(f.len(), 1, "{f:#?}");
    let msg = messages(&f);
    assert!(
        msg.contains("injected") && msg.contains("inject.pth"),
        "{msg}"
    );
    assert!(!msg.contains("literal`"), "{msg}");
}

/// Runs envdoctor with a deadline: a hang is a failure, not a stuck CI.
fn run_with_deadline(mut cmd: Command, secs: u64) -> (i32, String, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            return (
                status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            );
        }
        if start.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            panic!("envdoctor hung for {secs}s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn mkfifo(p: &Path) {
    run_ok(Command::new("mkfifo").arg(p));
}

#[test]
fn hostile_trees_never_panic_or_hang() {
    let mut sb = Sandbox::new();
    let bin = sb.path("evil/bin");
    std::fs::create_dir_all(&bin).unwrap();
    mkfifo(&bin.join("python3"));
    std::os::unix::fs::symlink("python", bin.join("python")).unwrap(); // loop onto itself
    std::os::unix::fs::symlink("pip3", bin.join("pip")).unwrap();
    std::os::unix::fs::symlink("pip", bin.join("pip3")).unwrap();
    write_script(&bin.join("python3.9"), "\u{0}\u{1}garbage\u{ff}");
    // A venv whose pyvenv.cfg is a FIFO, one with binary garbage, one whose
    // python is a FIFO, one with a non-UTF-8 name.
    let workon = sb.home.join(".virtualenvs");
    for name in ["fifo-cfg", "garbage-cfg", "fifo-python"] {
        std::fs::create_dir_all(workon.join(name).join("bin")).unwrap();
    }
    mkfifo(&workon.join("fifo-cfg/pyvenv.cfg"));
    std::fs::write(
        workon.join("garbage-cfg/pyvenv.cfg"),
        [0u8, 159, 146, 150, b'\n', b'=', 0xff],
    )
    .unwrap();
    std::os::unix::fs::symlink(
        "/nonexistent/python3",
        workon.join("garbage-cfg/bin/python3"),
    )
    .unwrap();
    std::fs::write(
        workon.join("fifo-python/pyvenv.cfg"),
        "home = /nonexistent\n",
    )
    .unwrap();
    mkfifo(&workon.join("fifo-python/bin/python3"));
    let weird = std::ffi::OsStr::from_bytes_ext(b"bad-\xff-name");
    std::fs::create_dir_all(workon.join(weird).join("bin")).unwrap();
    std::fs::write(
        workon.join(weird).join("pyvenv.cfg"),
        "home = /nonexistent\n",
    )
    .unwrap();
    // A symlink loop where a venv would be.
    std::os::unix::fs::symlink("loop", workon.join("loop")).unwrap();
    // A .venv in the working directory that points nowhere.
    std::os::unix::fs::symlink("/nonexistent", sb.path(".venv")).unwrap();
    sb.set_env("PATH", path_env(&[&bin]));
    sb.set_env("VIRTUAL_ENV", workon.join("fifo-cfg").display().to_string());

    for args in [
        vec!["scan", "--format", "json"],
        vec!["check", "--all", "--format", "json"],
        vec!["scan", "-v"],
    ] {
        let mut cmd = sb.envdoctor();
        cmd.args(&args);
        let (code, stdout, stderr) = run_with_deadline(cmd, 30);
        assert!(code == 0 || code == 1, "{args:?}: exit {code}\n{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        if args[0] == "scan" && args.len() == 3 {
            let v: Value = serde_json::from_str(&stdout).unwrap();
            // Broken environments are reported with their error, not dropped.
            for name in ["garbage-cfg", "fifo-python", "fifo-cfg"] {
                let it = by_prefix(&v, &workon.join(name));
                assert!(it["error"].is_string(), "{name}: {it:#}");
            }
        }
    }
}

trait FromBytes {
    fn from_bytes_ext(b: &[u8]) -> &std::ffi::OsStr;
}
impl FromBytes for std::ffi::OsStr {
    fn from_bytes_ext(b: &[u8]) -> &std::ffi::OsStr {
        use std::os::unix::ffi::OsStrExt;
        std::ffi::OsStr::from_bytes(b)
    }
}

#[test]
fn unreadable_directories_as_an_unprivileged_user() {
    if !Path::new("/usr/bin/setpriv").exists() {
        eprintln!("setpriv not available; skipped");
        return;
    }
    let sb = Sandbox::new();
    std::fs::set_permissions(sb.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&sb.home, std::fs::Permissions::from_mode(0o755)).unwrap();
    let workon = sb.home.join(".virtualenvs");
    let locked = workon.join("locked");
    make_venv(&python("3.12"), &locked, &[]);
    std::fs::set_permissions(&workon, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o700)).unwrap();
    let mut cmd = Command::new("setpriv");
    cmd.args([
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        env!("CARGO_BIN_EXE_envdoctor"),
        "scan",
        "--format",
        "json",
    ])
    .env_clear()
    .env("HOME", &sb.home)
    .env("PATH", "/usr/bin:/bin")
    .current_dir(sb.dir.path());
    let (code, stdout, stderr) = run_with_deadline(cmd, 30);
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let it = by_prefix(&v, &locked);
    assert!(
        it["error"].is_string(),
        "an unreadable venv is reported with its error: {it:#}"
    );
}

#[test]
fn root_option_reads_an_image_without_the_hosts_environment() {
    let sb = Sandbox::new();
    let root = sb.path("image");
    let py = "usr/lib/python3.11";
    std::fs::create_dir_all(root.join(py).join("lib-dynload")).unwrap();
    std::fs::create_dir_all(root.join("usr/lib/python3/dist-packages")).unwrap();
    std::fs::create_dir_all(root.join("usr/local/lib/python3.11/dist-packages")).unwrap();
    std::fs::create_dir_all(root.join("usr/bin")).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    std::fs::create_dir_all(root.join("home/app")).unwrap();
    std::fs::write(root.join(py).join("os.py"), "").unwrap();
    // Debian's site.py, recognised by its dist-packages layout.
    std::fs::write(root.join(py).join("site.py"), "# dist-packages\n").unwrap();
    write_script(&root.join("usr/bin/python3.11"), "\u{7f}ELF");
    // An absolute link, as in real images: it must resolve inside the image.
    std::os::unix::fs::symlink("/usr/bin/python3.11", root.join("usr/bin/python3")).unwrap();
    std::fs::write(
        root.join("var/lib/dpkg/status"),
        "Package: python3.11-minimal\nStatus: install ok installed\nVersion: 3.11.2-6+deb12u6\n\n",
    )
    .unwrap();
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(root.join("etc/group"), "app:x:1000:\n").unwrap();

    let mut sb = sb;
    sb.set_env("PYTHONPATH", "/host/only"); // must not leak into the image's view
    let (scan, code) = sb.json(&["--root", root.to_str().unwrap(), "--user", "app", "scan"]);
    assert_eq!(code, 0);
    assert_eq!(scan["host"]["user"]["uid"], 1000);
    assert_eq!(scan["host"]["user"]["home"], "/home/app");
    let it = by_prefix(&scan, Path::new("/usr"));
    assert_eq!(it["version"], "3.11.2");
    assert_eq!(it["executable"], "/usr/bin/python3");
    let paths: Vec<&str> = it["sys_path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "/usr/lib/python311.zip",
            "/usr/lib/python3.11",
            "/usr/lib/python3.11/lib-dynload",
            "/usr/local/lib/python3.11/dist-packages",
            "/usr/lib/python3/dist-packages"
        ]
    );
    // An unknown user is envdoctor's own error: exit 2 with what to do.
    let out = sb.run(&[
        "--root",
        root.to_str().unwrap(),
        "--user",
        "nobody-here",
        "scan",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no user `nobody-here`"));
}

#[test]
fn rules_and_explain() {
    let sb = Sandbox::new();
    let out = sb.run(&["rules"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for name in [
        "broken-venv",
        "pip-python-mismatch",
        "script-bad-interpreter",
        "python-env-vars",
        "stale-activation",
    ] {
        assert!(text.contains(name), "{text}");
    }
    let by_name = sb.run(&["explain", "broken-venv"]);
    let by_code = sb.run(&["explain", "ed101"]);
    assert_eq!(by_name.stdout, by_code.stdout);
    let doc = String::from_utf8_lossy(&by_name.stdout);
    assert!(
        doc.contains("Why is this bad?") && doc.contains("pypa/pipx#146"),
        "{doc}"
    );
    let bad = sb.run(&["explain", "no-such-rule"]);
    assert_eq!(bad.status.code(), Some(2));
    let bad = sb.run(&["check", "--fail-on", "sometimes"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn color_follows_the_flag_and_no_color() {
    let mut sb = Sandbox::new();
    sb.set_env("PYTHONPATH", "/srv/x");
    let plain = sb.run(&["check", "--fail-on", "never"]);
    assert!(!String::from_utf8_lossy(&plain.stdout).contains('\u{1b}'));
    let colored = sb.run(&["check", "--color", "always", "--fail-on", "never"]);
    assert!(String::from_utf8_lossy(&colored.stdout).contains('\u{1b}'));
    let off = sb.run(&["check", "--color", "never"]);
    assert!(!String::from_utf8_lossy(&off.stdout).contains('\u{1b}'));
}

#[test]
fn an_inactive_project_venv_is_named_not_silently_skipped() {
    let sb = Sandbox::new();
    let venv = sb.path(".venv");
    make_venv(&python("3.12"), &venv, &[]);
    // Not activated: check looks at python3 on PATH, and says which venv it skipped.
    let out = sb.run(&["check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "Not checked: the project venv `{}`",
            venv.display()
        )),
        "{text}"
    );
    // Machine formats keep to the contract: no extra lines.
    let (v, _) = sb.json(&["check"]);
    assert!(!v.to_string().contains("Not checked"));
    // Activated: it is what is checked, and no hint.
    let mut sb = sb;
    sb.set_env("VIRTUAL_ENV", venv.display().to_string());
    let out = sb.run(&["check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains("Not checked") && text.contains(&format!("Checking {}", venv.display())),
        "{text}"
    );
}
