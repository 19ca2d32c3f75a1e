//! `check` judges exactly the environment the user means, says which, and
//! never passes a gate on an environment it could not read (issue 10).

mod support;

use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use support::*;

fn pyenv_sandbox() -> Sandbox {
    let mut sb = Sandbox::new();
    sb.set_env("PYENV_ROOT", "/root/.pyenv");
    sb.set_env("PATH", "/root/.pyenv/shims:/usr/bin:/bin");
    sb
}

/// The newest installed pyenv version of `minor` (`3.12` -> `3.12.1`).
fn pyenv_version(minor: &str) -> String {
    let exe = python(minor);
    exe.parent()
        .and_then(Path::parent)
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
        .unwrap()
        .to_string()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `check --format json`: the document and the exit code.
fn check(sb: &Sandbox, args: &[&str]) -> (Value, i32) {
    let mut all = vec!["check"];
    all.extend(args);
    sb.json(&all)
}

fn rules(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

fn unreadable(doc: &Value) -> Vec<&Value> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "check-target-unreadable")
        .collect()
}

#[test]
fn a_pyenv_shim_is_checked_as_the_version_pyenv_would_run() {
    let mut sb = pyenv_sandbox();
    let v = pyenv_version("3.11");
    sb.set_env("PYENV_VERSION", v.clone());
    let (doc, code) = check(&sb, &["--python", "/root/.pyenv/shims/python3"]);
    assert_eq!(code, 0, "{doc:#}");
    let envs = doc["environments"].as_array().unwrap();
    assert_eq!(envs.len(), 1);
    assert_eq!(envs[0]["prefix"], format!("/root/.pyenv/versions/{v}"));
    assert_eq!(envs[0]["selected_by"], "--python");
    assert!(doc["summary"]["distributions"].as_u64().unwrap() > 0);

    // The same by name on PATH, as uv takes `--python python3`.
    let (doc, _) = check(&sb, &["--python", "python3"]);
    assert_eq!(
        doc["environments"][0]["prefix"],
        format!("/root/.pyenv/versions/{v}")
    );
    // And `why` asks the same interpreter (pip is in every pyenv Python).
    let out = sb.run(&["why", "pip", "--python", "/root/.pyenv/shims/python3"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("/root/.pyenv/versions/{v}")));
}

#[test]
fn a_shim_pyenv_cannot_run_is_an_error_finding_that_names_where_it_exists() {
    let mut sb = pyenv_sandbox();
    let v11 = pyenv_version("3.11");
    let v12 = pyenv_version("3.12");
    sb.set_env("PYENV_VERSION", v11);
    for given in ["/root/.pyenv/shims/python3.12", "python3.12"] {
        let (doc, code) = check(&sb, &["--python", given]);
        assert_eq!(code, 1, "{doc:#}");
        assert!(doc["environments"].as_array().unwrap().is_empty());
        let f = unreadable(&doc);
        assert_eq!(f.len(), 1, "{doc:#}");
        assert_eq!(f[0]["severity"], "error");
        let msg = f[0]["message"].as_str().unwrap();
        assert!(msg.contains("python3.12") && msg.contains(&v12), "{msg}");
        assert_eq!(f[0]["paths"][0], "/root/.pyenv/shims/python3.12");
    }
}

#[test]
fn things_that_are_not_python_exit_2_saying_what_they_are() {
    let sb = pyenv_sandbox();
    std::fs::create_dir_all(sb.path("plain-dir")).unwrap();
    std::fs::write(sb.path("script.sh"), "#!/bin/bash\necho hi\n").unwrap();
    std::fs::set_permissions(sb.path("script.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let plain_dir = sb.path("plain-dir").display().to_string();
    let script = sb.path("script.sh").display().to_string();
    for (given, says) in [
        ("/bin/ls", "is a program, but not a Python interpreter"),
        ("/etc/passwd", "nobody may execute"),
        ("/dev/zero", "is a character device"),
        ("/does/not/exist", "does not exist"),
        ("no-such-python9.9", "no `no-such-python9.9` on PATH"),
        (
            plain_dir.as_str(),
            "is a directory, but not a Python environment",
        ),
        (script.as_str(), "script"),
    ] {
        for cmd in [
            &["check", "--python", given][..],
            &["why", "x", "--python", given],
        ] {
            let out = sb.run(cmd);
            assert_eq!(out.status.code(), Some(2), "{cmd:?}: {}", stderr(&out));
            let err = stderr(&out);
            assert!(err.contains(says), "{cmd:?}: {err}");
            assert!(!err.contains("Checking /"), "{err}");
            assert!(out.stdout.is_empty(), "{cmd:?}");
        }
    }
}

#[test]
fn an_environment_directory_or_a_project_holding_one_is_accepted() {
    let sb = pyenv_sandbox();
    let venv = sb.path("proj/.venv");
    make_venv(&python("3.12"), &venv, &[]);
    for given in [venv.clone(), venv.join("bin/python"), sb.path("proj")] {
        let (doc, code) = check(&sb, &["--python", given.to_str().unwrap()]);
        assert_eq!(code, 0, "{given:?}: {doc:#}");
        assert_eq!(doc["environments"][0]["prefix"], venv.to_str().unwrap());
        assert_eq!(doc["environments"][0]["kind"], "venv");
    }
    // Relative to the cwd (the sandbox), as a shell user types it.
    let (doc, _) = check(&sb, &["--python", "proj"]);
    assert_eq!(doc["environments"][0]["prefix"], venv.to_str().unwrap());
}

#[test]
fn a_deleted_active_venv_fails_the_gate_with_one_finding() {
    let mut sb = pyenv_sandbox();
    let gone = sb.path("gone-venv");
    sb.set_env("VIRTUAL_ENV", gone.display().to_string());
    let (doc, code) = check(&sb, &[]);
    assert_eq!(code, 1, "{doc:#}");
    let f = unreadable(&doc);
    assert_eq!(f.len(), 1, "{doc:#}");
    assert!(f[0]["message"]
        .as_str()
        .unwrap()
        .contains(gone.to_str().unwrap()));
    assert!(f[0]["message"].as_str().unwrap().contains("VIRTUAL_ENV"));
    // One cause, one finding: stale-activation does not say it again.
    assert!(
        !rules(&doc).contains(&"stale-activation".to_string()),
        "{doc:#}"
    );
    assert_eq!(doc["environments"][0]["selected_by"], "VIRTUAL_ENV");
    // A deleted conda env likewise.
    sb.env.retain(|(k, _)| k != "VIRTUAL_ENV");
    sb.set_env("CONDA_PREFIX", sb.path("gone-conda").display().to_string());
    let (doc, code) = check(&sb, &[]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(unreadable(&doc).len(), 1, "{doc:#}");
}

#[test]
fn a_python_version_file_naming_a_missing_version_fails_the_gate() {
    let sb = pyenv_sandbox();
    std::fs::write(sb.path(".python-version"), "3.9.99\n").unwrap();
    let (doc, code) = check(&sb, &[]);
    assert_eq!(code, 1, "{doc:#}");
    let f = unreadable(&doc);
    assert_eq!(f.len(), 1, "{doc:#}");
    let msg = f[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("3.9.99") && msg.contains(".python-version"),
        "{msg}"
    );
    assert!(fix(f[0]).contains("pyenv install"));
    // PYENV_VERSION naming a missing version, likewise.
    let mut sb = pyenv_sandbox();
    sb.set_env("PYENV_VERSION", "2.9.9");
    let (doc, code) = check(&sb, &[]);
    assert_eq!(code, 1);
    assert!(unreadable(&doc)[0]["message"]
        .as_str()
        .unwrap()
        .contains("PYENV_VERSION"));
}

#[test]
fn no_python_on_path_is_a_finding_not_a_silent_pass() {
    let mut sb = pyenv_sandbox();
    std::fs::create_dir_all(sb.path("empty-bin")).unwrap();
    sb.set_env("PATH", sb.path("empty-bin").display().to_string());
    let (doc, code) = check(&sb, &[]);
    assert_eq!(code, 1, "{doc:#}");
    let f = unreadable(&doc);
    assert_eq!(f.len(), 1);
    assert!(f[0]["message"]
        .as_str()
        .unwrap()
        .contains("no `python3` or `python` on PATH"));
}

#[test]
fn a_dangling_interpreter_given_by_path_fails_the_gate() {
    let sb = pyenv_sandbox();
    let link = sb.path("bin/python3");
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink("/nowhere/python3", &link).unwrap();
    let (doc, code) = check(&sb, &["--python", link.to_str().unwrap()]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(unreadable(&doc)[0]["paths"][0], link.to_str().unwrap());
}

#[test]
fn every_pip_python_pair_is_judged_and_each_mismatch_said_once() {
    let mut sb = pyenv_sandbox();
    let bin = sb.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = |name: &str, interp: &Path| {
        let p = bin.join(name);
        std::fs::write(&p, format!("#!{}\n", interp.display())).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    let (p9, p10, p12, p13) = (
        python("3.9"),
        python("3.10"),
        python("3.12"),
        python("3.13"),
    );
    script("pip", &p9);
    script("pip3", &p10);
    script("pip3.12", &p13);
    std::os::unix::fs::symlink(&p12, bin.join("python3")).unwrap();
    std::os::unix::fs::symlink(&p12, bin.join("python3.12")).unwrap();
    sb.set_env("PATH", format!("{}:/usr/bin:/bin", bin.display()));
    let f = sb.findings(&[], "pip-python-mismatch");
    let msgs: Vec<&str> = f.iter().map(|f| f["message"].as_str().unwrap()).collect();
    assert_eq!(f.len(), 3, "{msgs:#?}");
    assert!(msgs.iter().any(|m| m.starts_with("`pip` on PATH")));
    assert!(msgs.iter().any(|m| m.starts_with("`pip3` on PATH")));
    assert!(msgs.iter().any(|m| m.starts_with("`pip3.12` on PATH")));
    // pip3 leading to the same place as pip: one mismatch, said once.
    std::fs::remove_file(bin.join("pip3")).unwrap();
    script("pip3", &p9);
    let f = sb.findings(&[], "pip-python-mismatch");
    assert_eq!(f.len(), 2, "{f:#?}");
}

#[test]
fn the_exit_code_survives_a_closed_pipe() {
    let mut sb = pyenv_sandbox();
    sb.set_env("VIRTUAL_ENV", sb.path("gone").display().to_string());
    let exe = env!("CARGO_BIN_EXE_envdoctor");
    let mut cmd = std::process::Command::new("bash");
    cmd.arg("-c")
        .arg(format!(
            "'{exe}' check --format json | head -c 1 >/dev/null; echo ${{PIPESTATUS[0]}}"
        ))
        .env_clear()
        .env("HOME", &sb.home)
        .current_dir(sb.dir.path());
    for (k, v) in &sb.env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1");
}

#[test]
fn every_format_names_what_was_judged() {
    let sb = pyenv_sandbox();
    let venv = sb.path("v");
    make_venv(&python("3.12"), &venv, &[]);
    let v = venv.to_str().unwrap();
    let text = sb.run(&["check", "--python", v]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(v) && text.contains("selected by --python"),
        "{text}"
    );
    let sarif = sb.run(&["check", "--python", v, "--format", "sarif"]);
    let sarif: Value = serde_json::from_slice(&sarif.stdout).unwrap();
    let judged = &sarif["runs"][0]["properties"]["environments"];
    assert_eq!(judged[0]["prefix"], v, "{sarif:#}");
    assert_eq!(judged[0]["selected_by"], "--python");
    let junit = sb.run(&["check", "--python", v, "--format", "junit"]);
    let junit = String::from_utf8_lossy(&junit.stdout);
    assert!(
        junit.contains(&format!(
            "<property name=\"environment\" value=\"{v} (--python)\""
        )),
        "{junit}"
    );
}

/// A root-owned 0700 directory holding the active venv: `--user` judged as
/// root, and the same run for real as that uid, agree.
#[test]
fn user_judgement_agrees_with_running_as_that_user() {
    let mut sb = pyenv_sandbox();
    // The sandbox itself must be open for the other user to reach the
    // binary's inputs; only `private` is closed.
    std::fs::set_permissions(sb.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&sb.home, std::fs::Permissions::from_mode(0o755)).unwrap();
    let private = sb.path("private");
    let venv = private.join("venv");
    make_venv(&python("3.12"), &venv, &[]);
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
    sb.set_env("VIRTUAL_ENV", venv.display().to_string());
    sb.set_env("PATH", "/usr/bin:/bin");
    // The binary is under target/, which may be closed to others: a copy.
    let exe = sb.path("envdoctor");
    std::fs::copy(env!("CARGO_BIN_EXE_envdoctor"), &exe).unwrap();
    for uid in ["65534", "4242"] {
        let (judged, code) = check(&sb, &["--user", uid]);
        assert_eq!(code, 1, "--user {uid}: {judged:#}");
        let f = unreadable(&judged);
        assert_eq!(f.len(), 1, "{judged:#}");
        assert!(f[0]["message"]
            .as_str()
            .unwrap()
            .contains(private.to_str().unwrap()));

        let mut cmd = std::process::Command::new("setpriv");
        cmd.args([
            &format!("--reuid={uid}"),
            &format!("--regid={uid}"),
            "--clear-groups",
        ])
        .arg(&exe)
        .args(["check", "--format", "json"])
        .env_clear()
        .env("HOME", "/")
        .env("NO_COLOR", "1")
        .current_dir("/");
        for (k, v) in &sb.env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let real: Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
        assert_eq!(out.status.code(), Some(1), "as {uid}: {real:#}");
        let g = unreadable(&real);
        assert_eq!(g.len(), 1, "{real:#}");
        assert_eq!(g[0]["environment"], f[0]["environment"]);
        assert!(g[0]["message"]
            .as_str()
            .unwrap()
            .contains(venv.to_str().unwrap()));
    }
}

/// PATH directories the user may not search are passed over, as the kernel
/// passes them over: `--user` and a real run pick the same python3.
#[test]
fn user_path_lookup_skips_what_the_user_cannot_reach() {
    let mut sb = pyenv_sandbox();
    std::fs::set_permissions(sb.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let private = sb.path("private");
    let venv = private.join("venv");
    make_venv(&python("3.12"), &venv, &[]);
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
    sb.set_env(
        "PATH",
        format!("{}:/usr/bin:/bin", venv.join("bin").display()),
    );
    let (as_root, _) = check(&sb, &[]);
    assert_eq!(as_root["environments"][0]["prefix"], venv.to_str().unwrap());
    let (as_nobody, _) = check(&sb, &["--user", "nobody"]);
    let chosen = as_nobody["environments"][0]["prefix"]
        .as_str()
        .unwrap_or("");
    assert_ne!(chosen, venv.to_str().unwrap(), "{as_nobody:#}");
    let exe = sb.path("envdoctor");
    std::fs::copy(env!("CARGO_BIN_EXE_envdoctor"), &exe).unwrap();
    let mut cmd = std::process::Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&exe)
        .args(["check", "--format", "json"])
        .env_clear()
        .env("HOME", "/")
        .current_dir("/");
    for (k, v) in &sb.env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let real: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(real["environments"][0]["prefix"], chosen, "{real:#}");
}
