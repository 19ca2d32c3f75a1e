//! Discovery and sys.path on this machine's real interpreters (pyenv's 2.7
//! and 3.6-3.13, Debian's /usr/bin/python3): envdoctor reads them statically,
//! the test runs each interpreter to compare.

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::Command;
use support::*;

fn real(exe: &str, env: &[(String, String)], cwd: &Path, code: &str) -> String {
    let out = Command::new(exe)
        .args(["-c", code])
        .env_clear()
        .envs(env.iter().cloned())
        .current_dir(cwd)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{exe}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn static_sys_path(it: &Value) -> Vec<String> {
    it["sys_path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_string())
        .collect()
}

/// Runs scan in `sb` and compares, for every CPython 3 found, the static
/// sys.path and version with what the interpreter itself reports.
fn compare_all(sb: &Sandbox) -> usize {
    let (scan, code) = sb.json(&["scan"]);
    assert_eq!(code, 0);
    let mut env = sb.env.clone();
    env.push(("HOME".into(), sb.home.display().to_string()));
    let mut compared = 0;
    for it in interpreters(&scan) {
        let Some(exe) = it["executable"].as_str() else {
            continue;
        };
        let version = it["version"].as_str().unwrap_or("");
        let actual_version = real(
            exe,
            &env,
            sb.dir.path(),
            "import platform; print(platform.python_version())",
        );
        assert_eq!(version, actual_version, "version of {exe}");
        if !version.starts_with('3') {
            continue;
        }
        let actual = real(
            exe,
            &env,
            sb.dir.path(),
            "import sys, json; print(json.dumps(sys.path[1:]))",
        );
        let actual: Vec<String> = serde_json::from_str(&actual).unwrap();
        assert_eq!(
            static_sys_path(it),
            actual,
            "sys.path of {exe} (prefix {})",
            it["prefix"]
        );
        compared += 1;
    }
    compared
}

fn pyenv_sandbox() -> Sandbox {
    let mut sb = Sandbox::new();
    sb.set_env("PYENV_ROOT", "/root/.pyenv");
    sb
}

#[test]
fn finds_every_interpreter_with_its_version() {
    let sb = pyenv_sandbox();
    let (scan, _) = sb.json(&["scan"]);
    let its = interpreters(&scan);
    for entry in std::fs::read_dir("/root/.pyenv/versions").unwrap() {
        let dir = entry.unwrap().path();
        let v = dir.file_name().unwrap().to_str().unwrap().to_string();
        let it = by_prefix(&scan, &dir);
        assert_eq!(it["version"], v.as_str(), "{it:#}");
        assert_eq!(it["kind"], "pyenv");
        assert!(it["error"].is_null());
    }
    if Path::new("/usr/bin/python3").exists() {
        let it = by_prefix(&scan, Path::new("/usr"));
        assert_eq!(it["kind"], "system");
        // /usr/bin/python3 and /bin/python3 (merged /usr) are one entry.
        let exe_count = its
            .iter()
            .filter(|i| i["prefix"] == "/usr" && i["real_executable"] == it["real_executable"])
            .count();
        assert_eq!(exe_count, 1);
    }
}

#[test]
fn static_sys_path_equals_the_interpreters_own() {
    let sb = pyenv_sandbox();
    let n = compare_all(&sb);
    assert!(n >= 2, "compared only {n} interpreters");
}

#[test]
fn sys_path_with_pythonpath_user_site_and_pth_files() {
    let mut sb = pyenv_sandbox();
    // A user site for every version, each with a .pth adding a directory,
    // a .pth naming a missing directory, and an import line (never run).
    let extra = sb.path("extra");
    std::fs::create_dir_all(&extra).unwrap();
    for entry in std::fs::read_dir("/root/.pyenv/versions").unwrap() {
        let v = entry.unwrap().file_name().into_string().unwrap();
        let minor: String = v.split('.').take(2).collect::<Vec<_>>().join(".");
        let site = sb
            .home
            .join(format!(".local/lib/python{minor}/site-packages"));
        std::fs::create_dir_all(&site).unwrap();
        std::fs::write(
            site.join("a.pth"),
            format!("{}\n# comment\n/does/not/exist\n", extra.display()),
        )
        .unwrap();
        std::fs::write(
            site.join("b.pth"),
            format!(
                "import os; open({:?}, 'w')\n",
                sb.path("ran").display().to_string()
            ),
        )
        .unwrap();
    }
    sb.set_env(
        "PYTHONPATH",
        format!("{}:relative/dir::/also/missing", sb.path("pp").display()),
    );
    // envdoctor reads the import line but never runs it...
    let (scan, _) = sb.json(&["scan"]);
    assert!(!sb.path("ran").exists(), "a .pth import line was executed");
    let hooks =
        by_prefix(&scan, Path::new("/root/.pyenv/versions/3.12.1"))["startup_hooks"].to_string();
    assert!(hooks.contains("b.pth"), "{hooks}");
    // ...and still computes what the interpreter (which does run it) sees.
    let n = compare_all(&sb);
    assert!(n >= 2);
}

#[test]
fn venvs_see_their_own_site_packages_and_optionally_the_base() {
    let sb = pyenv_sandbox();
    let py = python("3.12");
    let plain = sb.path("plain");
    let sys_site = sb.home.join(".virtualenvs/syssite");
    make_venv(&py, &plain, &[]);
    make_venv(&py, &sys_site, &["--system-site-packages"]);
    // A user site exists: the plain venv must not see it, the other must.
    let user = sb.home.join(".local/lib/python3.12/site-packages");
    std::fs::create_dir_all(&user).unwrap();
    let mut sb = sb;
    sb.set_env(
        "PATH",
        format!("{}:/usr/bin:/bin", plain.join("bin").display()),
    );
    let (scan, _) = sb.json(&["scan"]);
    let p = by_prefix(&scan, &plain);
    assert_eq!(p["kind"], "venv");
    assert_eq!(
        p["base_prefix"].as_str().unwrap(),
        py.parent().unwrap().parent().unwrap().to_str().unwrap()
    );
    let paths = static_sys_path(p);
    assert!(paths
        .iter()
        .any(|x| x.ends_with("plain/lib/python3.12/site-packages")));
    assert!(!paths.iter().any(|x| x.contains(".local")));
    let s = by_prefix(&scan, &sys_site);
    let paths = static_sys_path(s);
    let venv_idx = paths
        .iter()
        .position(|x| x.ends_with("syssite/lib/python3.12/site-packages"))
        .unwrap();
    let user_idx = paths.iter().position(|x| x.contains(".local")).unwrap();
    assert!(venv_idx < user_idx, "venv site before user site: {paths:?}");
    assert!(compare_all(&sb) >= 3);
}

#[test]
fn pyenv_shims_resolve_without_running_them() {
    let mut sb = pyenv_sandbox();
    sb.set_env("PATH", "/root/.pyenv/shims:/usr/bin:/bin");
    sb.set_env("PYENV_VERSION", "3.12.1");
    let (scan, _) = sb.json(&["scan"]);
    let py3 = scan["commands"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "python3")
        .unwrap();
    assert_eq!(py3["path"], "/root/.pyenv/shims/python3");
    assert_eq!(
        py3["resolves_to"],
        "/root/.pyenv/versions/3.12.1/bin/python3"
    );
    assert!(py3["via"][0].as_str().unwrap().contains("PYENV_VERSION"));
    // .python-version in the working directory wins over $PYENV_ROOT/version.
    sb.env.retain(|(k, _)| k != "PYENV_VERSION");
    std::fs::write(sb.path(".python-version"), "3.10\n").unwrap();
    let (scan, _) = sb.json(&["scan"]);
    let py3 = scan["commands"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "python3")
        .unwrap();
    assert_eq!(
        py3["resolves_to"], "/root/.pyenv/versions/3.10.13/bin/python3",
        "{py3:#}"
    );
}

#[test]
fn exec_confirms_static_results() {
    let sb = pyenv_sandbox();
    let (scan, _) = sb.json(&["scan", "--exec"]);
    for it in interpreters(&scan) {
        let Some(exec) = it.get("exec").filter(|e| !e.is_null()) else {
            continue;
        };
        assert!(exec["error"].is_null(), "{exec:#}");
        assert_eq!(exec["version"], it["version"]);
    }
}

#[test]
fn kinds_from_where_and_how_environments_were_made() {
    let sb = pyenv_sandbox();
    let py = python("3.12");
    let poetry = sb.home.join(".cache/pypoetry/virtualenvs/app-x1y2-py3.12");
    let pipenv = sb.home.join(".local/share/virtualenvs/proj-AbCd");
    let plain = sb.home.join(".virtualenvs/plain");
    let venv_like = sb.home.join(".virtualenvs/made-by-virtualenv");
    for d in [&poetry, &pipenv, &plain, &venv_like] {
        make_venv(&py, d, &[]);
    }
    // virtualenv marks its pyvenv.cfg with its own key and version_info.
    let cfg = venv_like.join("pyvenv.cfg");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        format!("{text}virtualenv = 20.25.0\nversion_info = 3.12.1.final.0\n"),
    )
    .unwrap();
    // A uv-managed Python install.
    let uv = sb
        .home
        .join(".local/share/uv/python/cpython-3.12.1-linux-x86_64-gnu");
    std::fs::create_dir_all(uv.parent().unwrap()).unwrap();
    copy_python_install("3.12", &uv);
    // One venv reached through a symlinked directory is reported once.
    std::os::unix::fs::symlink(&plain, sb.home.join(".virtualenvs/alias")).unwrap();

    let (scan, _) = sb.json(&["scan"]);
    assert_eq!(by_prefix(&scan, &poetry)["kind"], "poetry");
    assert_eq!(by_prefix(&scan, &pipenv)["kind"], "pipenv");
    assert_eq!(by_prefix(&scan, &plain)["kind"], "venv");
    assert_eq!(by_prefix(&scan, &venv_like)["kind"], "virtualenv");
    let u = by_prefix(&scan, &uv);
    assert_eq!(u["kind"], "uv");
    assert_eq!(u["version"], "3.12.1");
    let plain_count = interpreters(&scan)
        .iter()
        .filter(|i| {
            i["prefix"] == plain.to_str().unwrap()
                || i["prefix"].as_str().unwrap().ends_with("/alias")
        })
        .count();
    assert_eq!(plain_count, 1);
    // Their sys.paths are right too.
    assert!(compare_all(&sb) >= 5);
}
