//! conda environments: the shared real layouts (copied, paths rewritten),
//! and hand-made conda envs around a working copy of pyenv's CPython 3.11
//! whose site-packages get real `pip install`s of wheels written here. A
//! conda package is simulated the one way conda itself records one: a
//! `conda-meta` record whose `files` lists what was installed.

mod support;

use serde_json::{json, Value};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

const RULES: &[&str] = &[
    "pip-conda-mixed",
    "pip-overrides-conda",
    "conda-after-pip",
    "conda-env-missing-pip",
    "user-site-leaks-into-conda",
    "conda-files-missing",
    "conda-environments-txt-stale",
];

fn fixtures() -> PathBuf {
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/conda-layouts");
    if beside.is_dir() {
        return beside;
    }
    PathBuf::from("/work/shared/fixtures/conda-layouts")
}

/// Copies a fixture layout to `dest` (writable, unlike the shared copy).
fn copy_fixture(name: &str, dest: &Path) {
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    run_ok(
        Command::new("cp")
            .arg("-a")
            .arg(fixtures().join(name))
            .arg(dest),
    );
    run_ok(Command::new("chmod").args(["-R", "u+w"]).arg(dest));
}

fn sandbox() -> Sandbox {
    let mut sb = Sandbox::new();
    // History dates are local time; fix the zone so the order is exact.
    sb.set_env("TZ", "UTC");
    sb
}

/// Lists envs in `~/.conda/environments.txt`, as conda does on create.
fn register(sb: &Sandbox, envs: &[&Path]) {
    std::fs::create_dir_all(sb.home.join(".conda")).unwrap();
    let lines: Vec<String> = envs.iter().map(|e| format!("{}\n", e.display())).collect();
    std::fs::write(sb.home.join(".conda/environments.txt"), lines.concat()).unwrap();
}

fn conda_of<'a>(scan: &'a Value, prefix: &Path) -> &'a Value {
    &by_prefix(scan, prefix)["conda"]
}

fn findings_for(sb: &Sandbox, args: &[&str], rule: &str) -> Vec<Value> {
    sb.findings(args, rule)
}

fn assert_quiet(sb: &Sandbox, args: &[&str]) {
    let mut all = vec!["check"];
    all.extend(args);
    let (v, _) = sb.json(&all);
    let hits: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| RULES.contains(&f["rule"].as_str().unwrap_or("")))
        .collect();
    assert!(hits.is_empty(), "expected no conda findings: {hits:#?}");
}

// ---------------------------------------------------------------------------
// The shared layouts

#[test]
fn scan_shows_each_conda_env_with_manager_python_and_channel() {
    let sb = sandbox();
    copy_fixture(
        "conda_envs/user_home/miniconda3",
        &sb.home.join("miniconda3"),
    );
    copy_fixture("miniforge3-mamba", &sb.home.join("miniforge3"));
    copy_fixture("micromamba-only", &sb.home.join("micromamba"));
    let (scan, code) = sb.json(&["scan"]);
    assert_eq!(code, 0);

    let mc = sb.home.join("miniconda3");
    let base = conda_of(&scan, &mc);
    assert_eq!(base["name"], "base");
    assert_eq!(base["manager"]["kind"], "conda");
    assert_eq!(base["python_version"], "3.10.9");
    assert_eq!(base["channel"], "pkgs/main");
    let env3 = conda_of(&scan, &mc.join("envs/env_python_3"));
    assert_eq!(env3["python_version"], "3.12.2");
    assert_eq!(env3["channel"], "conda-forge");
    // The env's own stray `bin/conda` is not its manager: the install's is.
    assert_eq!(
        env3["manager"]["path"],
        mc.join("condabin/conda").to_str().unwrap()
    );
    assert_eq!(env3["install"], mc.to_str().unwrap());
    let nopy = conda_of(&scan, &mc.join("envs/without_python"));
    assert!(nopy["python_version"].is_null());
    assert_eq!(nopy["manager"]["kind"], "conda");

    let mf = sb.home.join("miniforge3");
    let mf_base = conda_of(&scan, &mf);
    assert_eq!(mf_base["manager"]["kind"], "conda");
    let kinds: Vec<&str> = mf_base["managers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["conda", "mamba"]);
    assert_eq!(mf_base["python_version"], "3.10.14");
    assert_eq!(
        conda_of(&scan, &mf.join("envs/myenv"))["install"],
        mf.to_str().unwrap()
    );

    let mm = conda_of(&scan, &sb.home.join("micromamba"));
    assert_eq!(mm["manager"]["kind"], "micromamba");
    assert_eq!(mm["python_version"], "3.11.0");
    assert_eq!(mm["history"][0]["tool"], "micromamba");

    // The text view says the same, envs without Python included.
    let out = sb.run(&["scan"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Conda environments"), "{text}");
    let line_of = |name: &str| {
        let i = text
            .find(&format!("  {name} "))
            .unwrap_or_else(|| panic!("{name} not in {text}"));
        text[i..].lines().take(2).collect::<Vec<_>>().join("\n")
    };
    let l = line_of("without_python");
    assert!(
        l.contains("no Python") && l.contains("manager conda"),
        "{l}"
    );
    let l = line_of("env_python_3");
    assert!(
        l.contains("Python 3.12.2") && l.contains("channel conda-forge"),
        "{l}"
    );
    assert!(text.contains("manager micromamba"), "{text}");
    assert!(text.contains("also mamba"), "{text}");
}

#[test]
fn installs_with_and_without_history() {
    let sb = sandbox();
    copy_fixture("anaconda3-2023.03", &sb.home.join("anaconda3"));
    // Also found through an `envs_dirs`-less pyenv-style location, by
    // environments.txt.
    let nohist = sb.path("pyenv/versions/anaconda3-2023.03-without-history");
    copy_fixture("anaconda3-2023.03-without-history", &nohist);
    register(&sb, &[&nohist]);
    let (scan, _) = sb.json(&["scan"]);
    let a = sb.home.join("anaconda3");
    let base = conda_of(&scan, &a);
    assert_eq!(base["name"], "base");
    assert_eq!(base["python_version"], "3.10.9");
    assert_eq!(base["has_history"], true);
    for (env, py) in [("myenv", Some("3.10.14")), ("without_python", None)] {
        let c = conda_of(&scan, &a.join("envs").join(env));
        assert_eq!(c["install"], a.to_str().unwrap(), "{env}");
        assert_eq!(c["python_version"].as_str(), py, "{env}");
    }
    let c = conda_of(&scan, &nohist);
    assert_eq!(c["has_history"], false);
    assert_eq!(c["history"].as_array().unwrap().len(), 0);
    assert_eq!(c["python_version"], "3.10.9");
    assert_eq!(c["manager"]["kind"], "conda");
    assert_eq!(c["name"], "base");
}

#[test]
fn manager_from_the_history_cmd_line_or_none() {
    let sb = sandbox();
    let root = sb.path("layouts");
    copy_fixture("conda_hist", &root.join("conda_hist"));
    copy_fixture("conda_env_without_manager", &root.join("nomgr"));
    let install = root.join("conda_hist/some_other_location/conda_install");
    let env = root.join("conda_hist/env_python_3");
    // The template names the install as `<CONDA_INSTALL>`: point it here.
    let tpl = std::fs::read_to_string(env.join("conda-meta/history_template")).unwrap();
    std::fs::write(
        env.join("conda-meta/history"),
        tpl.replace("<CONDA_INSTALL>", install.to_str().unwrap()),
    )
    .unwrap();
    let nomgr = root.join("nomgr/env_python_3");
    register(&sb, &[&env, &nomgr]);
    let (scan, _) = sb.json(&["scan"]);
    let c = conda_of(&scan, &env);
    assert_eq!(c["install"], install.to_str().unwrap());
    assert_eq!(c["manager"]["kind"], "conda");
    assert_eq!(c["manager"]["source"], "history");
    let h = c["history"].as_array().unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[1]["date"], "2024-02-28 23:08:59");
    assert_eq!(h[1]["added"].as_array().unwrap().len(), 55);
    assert_eq!(
        h[1]["added"][0],
        "conda-forge/noarch::appnope-0.1.4-pyhd8ed1ab_0"
    );

    // Its history names an install that is not on this disk.
    let c = conda_of(&scan, &nomgr);
    assert!(c["manager"].is_null(), "{c:#}");
    assert!(c["install"].is_null());
    assert_eq!(c["python_version"], "3.12.2");
}

#[test]
fn newest_python_record_wins_and_history_has_both_transactions() {
    let sb = sandbox();
    let env = sb.home.join("miniconda3/envs/upgraded");
    copy_fixture("conda_env_with_python_upgrade", &env);
    let (scan, _) = sb.json(&["scan"]);
    let c = conda_of(&scan, &env);
    assert_eq!(c["python_version"], "3.9.21");
    let h = c["history"].as_array().unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[1]["removed"].as_array().unwrap().len(), 4);
    assert_eq!(h[1]["tool"], "conda");
}

#[test]
fn envs_dirs_from_condarc_files_and_conda_root() {
    let mut sb = sandbox();
    copy_fixture("conda_rc/user_home/.condarc", &sb.home.join(".condarc"));
    copy_fixture(
        "conda_rc_conda_root_var/user_home/conda_root_variable_path",
        &sb.path("croot"),
    );
    // The fixtures name the machine they were made on: rewrite to here.
    for rc in [sb.home.join(".condarc"), sb.path("croot/.condarc")] {
        let text = std::fs::read_to_string(&rc).unwrap();
        std::fs::write(
            &rc,
            text.replace("/Users/donjayamanne", sb.path("d").to_str().unwrap()),
        )
        .unwrap();
    }
    sb.set_env("CONDA_ROOT", sb.path("croot").to_str().unwrap());
    let a = sb.path("d/temp/sample-conda-envs-folder/hello_world");
    let b = sb.path("d/sample-conda-envs-folder-from_conda_root/from_root");
    for e in [&a, &b] {
        std::fs::create_dir_all(e.join("conda-meta")).unwrap();
    }
    // An install root's own .condarc counts too.
    let mf = sb.home.join("miniforge3");
    std::fs::create_dir_all(mf.join("conda-meta")).unwrap();
    let c = sb.path("rootenvs/from_install_rc");
    std::fs::create_dir_all(c.join("conda-meta")).unwrap();
    std::fs::write(
        mf.join(".condarc"),
        format!("envs_dirs:\n  - {}\n", sb.path("rootenvs").display()),
    )
    .unwrap();
    let (scan, _) = sb.json(&["scan"]);
    assert_eq!(by_prefix(&scan, &a)["kind"], "conda");
    assert_eq!(by_prefix(&scan, &b)["kind"], "conda");
    assert_eq!(by_prefix(&scan, &c)["kind"], "conda");
    let rcs = scan["conda"]["condarc"].as_array().unwrap();
    assert_eq!(rcs.len(), 3, "{rcs:#?}");
    let counts: Vec<usize> = rcs
        .iter()
        .map(|r| r["envs_dirs"].as_array().unwrap().len())
        .collect();
    assert_eq!(counts, [2, 1, 2], "{rcs:#?}");

    // A condarc that is not YAML is a note, not a failure.
    std::fs::write(sb.home.join(".condarc"), "envs_dirs: [unclosed\n\t- x: :").unwrap();
    let (scan, code) = sb.json(&["scan"]);
    assert_eq!(code, 0);
    assert!(
        scan["notes"].to_string().contains("not valid YAML"),
        "{}",
        scan["notes"]
    );
}

#[test]
fn system_condarc_inside_a_root() {
    let sb = sandbox();
    let root = sb.path("image");
    copy_fixture("conda_rc_root/root/etc", &root.join("etc"));
    std::fs::write(
        root.join("etc/conda/.condarc"),
        "envs_dirs:\n  - /srv/conda-envs # shared envs\nchannels: [conda-forge, 'https://u:secret@conda.example.com/t/tok123/private']\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.join("srv/conda-envs/shared/conda-meta")).unwrap();
    let (scan, _) = sb.json(&["scan", "--root", root.to_str().unwrap()]);
    assert!(interpreters(&scan)
        .iter()
        .any(|i| i["prefix"] == "/srv/conda-envs/shared"));
    let rc = &scan["conda"]["condarc"][0];
    assert_eq!(rc["path"], "/etc/conda/.condarc");
    let chans = rc["channels"].to_string();
    assert!(
        !chans.contains("secret") && !chans.contains("tok123"),
        "{chans}"
    );
}

#[test]
fn stale_environments_txt_entries_fire_and_live_ones_do_not() {
    let sb = sandbox();
    copy_fixture(
        "user_home_with_environments_txt/.conda",
        &sb.home.join(".conda"),
    );
    let txt = sb.home.join(".conda/environments.txt");
    let text = std::fs::read_to_string(&txt).unwrap();
    std::fs::write(
        &txt,
        text.replace("/Users/username", sb.home.to_str().unwrap()),
    )
    .unwrap();
    let lines: Vec<String> = std::fs::read_to_string(&txt)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    // Half of them exist as conda envs; one is a directory without conda-meta.
    for l in lines.iter().step_by(2) {
        std::fs::create_dir_all(Path::new(l).join("conda-meta")).unwrap();
    }
    std::fs::create_dir_all(&lines[1]).unwrap();
    let f = findings_for(&sb, &["--all"], "conda-environments-txt-stale");
    assert_eq!(f.len(), 1, "{f:#?}");
    let msg = f[0]["message"].as_str().unwrap();
    assert!(
        msg.contains(&format!("lists {} conda", lines.len() / 2)),
        "{msg}"
    );
    assert!(msg.contains("no `conda-meta`"), "{msg}");
    for l in lines.iter().step_by(2) {
        assert!(!f[0]["paths"].to_string().contains(&format!("\"{l}\"")));
    }
    assert_eq!(f[0]["severity"], "info");
    // The fix really removes exactly the stale lines.
    let cmds: Vec<&str> = f[0]["fix"]["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    run_ok(Command::new("bash").args(["-ec", &cmds.join("\n")]));
    let left = std::fs::read_to_string(&txt).unwrap();
    assert_eq!(left.lines().count(), lines.len().div_ceil(2));
    assert!(findings_for(&sb, &["--all"], "conda-environments-txt-stale").is_empty());
}

#[test]
fn conda_files_missing_on_the_stripped_layouts() {
    let sb = sandbox();
    let mc = sb.home.join("miniconda3");
    copy_fixture("conda_envs/user_home/miniconda3", &mc);
    let env = mc.join("envs/myenv");
    let f = findings_for(
        &sb,
        &["--python", env.to_str().unwrap()],
        "conda-files-missing",
    );
    assert_eq!(f.len(), 1, "{f:#?}");
    let msg = f[0]["message"].as_str().unwrap();
    assert!(msg.contains("`readline 8.2` (26 of 26 files"), "{msg}");
    assert!(fix(&f[0]).contains("--force-reinstall pip python readline"));
}

// ---------------------------------------------------------------------------
// Hand-made conda envs with a real Python and real pip installs

const PY: &str = "3.11";

/// A conda env at `prefix` that really runs: a copy of pyenv's python3.11
/// (it finds its stdlib by the `lib/python3.11/os.py` landmark beside it),
/// the stdlib linked in, an empty site-packages, and conda records for
/// python (and pip, unless `with_pip` is false).
struct CondaEnv {
    prefix: PathBuf,
}

impl CondaEnv {
    fn new(prefix: &Path, with_pip: bool) -> CondaEnv {
        let real = python(PY);
        let base = real.parent().unwrap().parent().unwrap();
        let bin = prefix.join("bin");
        let lib = prefix.join(format!("lib/python{PY}"));
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(lib.join("site-packages")).unwrap();
        std::fs::create_dir_all(prefix.join("conda-meta")).unwrap();
        std::fs::copy(&real, bin.join(format!("python{PY}"))).unwrap();
        symlink(format!("python{PY}"), bin.join("python3")).unwrap();
        symlink(format!("python{PY}"), bin.join("python")).unwrap();
        for e in std::fs::read_dir(base.join(format!("lib/python{PY}"))).unwrap() {
            let e = e.unwrap();
            if e.file_name() != "site-packages" {
                symlink(e.path(), lib.join(e.file_name())).unwrap();
            }
        }
        let env = CondaEnv {
            prefix: prefix.to_path_buf(),
        };
        let version = real
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        env.record(
            "python",
            &version,
            "h955ad1f_0_cpython",
            &[
                format!("bin/python{PY}"),
                "bin/python3".into(),
                "bin/python".into(),
            ],
            &[],
        );
        if with_pip {
            let pip = bin.join("pip");
            std::fs::write(
                &pip,
                format!(
                    "#!{}\nimport sys\nfrom pip._internal.cli.main import main\nsys.exit(main())\n",
                    bin.join("python3").display()
                ),
            )
            .unwrap();
            env.record("pip", "24.0", "pyhd8ed1ab_0", &["bin/pip".into()], &[]);
        }
        env.history(&[(
            "2024-01-05 10:00:00",
            &format!(
                "{}/bin/conda create -p {} python",
                "/opt/conda",
                prefix.display()
            ),
            vec![format!(
                "+conda-forge/linux-64::python-{version}-h955ad1f_0_cpython"
            )],
        )]);
        env
    }

    fn site(&self) -> PathBuf {
        self.prefix.join(format!("lib/python{PY}/site-packages"))
    }

    fn python(&self) -> PathBuf {
        self.prefix.join(format!("bin/python{PY}"))
    }

    fn record(&self, name: &str, version: &str, build: &str, files: &[String], depends: &[&str]) {
        let rec = json!({
            "name": name,
            "version": version,
            "build": build,
            "build_number": 0,
            "channel": "https://conda.anaconda.org/conda-forge/linux-64",
            "depends": depends,
            "files": files,
            "paths_data": {"paths": [], "paths_version": 1},
        });
        std::fs::write(
            self.prefix
                .join(format!("conda-meta/{name}-{version}-{build}.json")),
            serde_json::to_vec_pretty(&rec).unwrap(),
        )
        .unwrap();
    }

    fn history(&self, txs: &[(&str, &str, Vec<String>)]) {
        let mut h = String::new();
        for (date, cmd, specs) in txs {
            h.push_str(&format!(
                "==> {date} <==\n# cmd: {cmd}\n# conda version: 24.1.0\n"
            ));
            for s in specs {
                h.push_str(s);
                h.push('\n');
            }
        }
        std::fs::write(self.prefix.join("conda-meta/history"), h).unwrap();
    }

    fn add_history(&self, date: &str, cmd: &str, specs: &[&str]) {
        let path = self.prefix.join("conda-meta/history");
        let mut h = std::fs::read_to_string(&path).unwrap();
        h.push_str(&format!("==> {date} <==\n# cmd: {cmd}\n"));
        for s in specs {
            h.push_str(s);
            h.push('\n');
        }
        std::fs::write(path, h).unwrap();
    }

    /// "conda installs" a wheel: pip writes the files (`--target`, as a
    /// package build would), then a record lists every one of them.
    fn conda_install(&self, wheel: &Wheel, conda_name: &str, depends: &[&str], wheels: &Path) {
        let whl = wheel.build(wheels);
        let tmp = wheels.join(format!("stage-{conda_name}"));
        pip_install(
            &python(PY),
            &["--target", tmp.to_str().unwrap(), whl.to_str().unwrap()],
        );
        let mut files = Vec::new();
        let rel_site = format!("lib/python{PY}/site-packages");
        for e in walk(&tmp) {
            let rel = e.strip_prefix(&tmp).unwrap().to_str().unwrap().to_string();
            if rel.contains("__pycache__") {
                continue;
            }
            let dest = self.site().join(&rel);
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::copy(&e, &dest).unwrap();
            files.push(format!("{rel_site}/{rel}"));
        }
        files.sort();
        self.record(conda_name, &wheel.version, "pyhd8ed1ab_0", &files, depends);
    }

    /// A real `pip install` with the env's own interpreter as the target.
    fn pip_install(&self, wheel: &Wheel, wheels: &Path, extra: &[&str]) {
        let whl = wheel.build(wheels);
        let mut args: Vec<&str> = extra.to_vec();
        args.push(whl.to_str().unwrap());
        pip_install(&self.python(), &args);
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn numpy(version: &str) -> Wheel {
    Wheel::new("numpy", version)
        .package("numpy")
        .file("numpy/core.py", "X = 1\n")
}

/// A sandbox with a clean env (python, pip, a conda numpy) under
/// `~/miniconda3/envs/work`, and a base install owning it.
fn clean_env() -> (Sandbox, CondaEnv) {
    let sb = sandbox();
    let root = sb.home.join("miniconda3");
    std::fs::create_dir_all(root.join("conda-meta")).unwrap();
    std::fs::create_dir_all(root.join("condabin")).unwrap();
    std::fs::write(root.join("condabin/conda"), "").unwrap();
    let env = CondaEnv::new(&root.join("envs/work"), true);
    env.conda_install(
        &numpy("1.26.4"),
        "numpy",
        &["python >=3.11"],
        &sb.path("wheels"),
    );
    (sb, env)
}

fn target(env: &CondaEnv) -> Vec<String> {
    vec!["--python".into(), env.prefix.to_str().unwrap().into()]
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn clean_hand_made_env_is_quiet_and_really_runs() {
    let (sb, env) = clean_env();
    let out = run_ok(
        Command::new(env.python())
            .args([
                "-c",
                "import sys, numpy; print(sys.prefix); print(numpy.__version__)",
            ])
            .env_clear()
            .env("HOME", &sb.home),
    );
    let out = String::from_utf8_lossy(&out.stdout);
    assert!(out.starts_with(env.prefix.to_str().unwrap()), "{out}");
    assert!(out.contains("1.26.4"));

    let t = target(&env);
    assert_quiet(&sb, &args(&t));
    let (scan, _) = sb.json(&["scan"]);
    let c = conda_of(&scan, &env.prefix);
    assert_eq!(c["name"], "work");
    assert_eq!(c["channel"], "conda-forge");
    assert_eq!(c["manager"]["kind"], "conda");
    // numpy's INSTALLER says pip (as many conda packages do): its RECORD is
    // listed by a conda record, so it is conda's.
    assert_eq!(c["pip_dists"].as_array().unwrap().len(), 0, "{c:#}");
    let np = c["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "numpy")
        .unwrap();
    assert_eq!(np["python_dists"][0]["version"], "1.26.4");
    assert_eq!(np["python_dists"][0]["present"], true);
}

#[test]
fn pip_install_next_to_conda_is_counted() {
    let (sb, env) = clean_env();
    env.pip_install(
        &Wheel::new("leftpad", "1.0").package("leftpad"),
        &sb.path("wheels"),
        &[],
    );
    env.pip_install(
        &Wheel::new("right-pad", "2.1").package("right_pad"),
        &sb.path("wheels"),
        &[],
    );
    let f = findings_for(&sb, &args(&target(&env)), "pip-conda-mixed");
    assert_eq!(f.len(), 1, "{f:#?}");
    let msg = f[0]["message"].as_str().unwrap();
    assert_eq!(f[0]["severity"], "info");
    assert!(msg.contains("has 2 distribution(s)"), "{msg}");
    assert!(msg.contains("2 by pip"), "{msg}");
    assert!(
        msg.contains("`leftpad 1.0`") && msg.contains("`right-pad 2.1`"),
        "{msg}"
    );
    assert!(msg.contains("3 conda package(s)"), "{msg}");
    assert!(fix(&f[0]).contains("env export -p"));
    // A clean pip install is no override and no conda-after-pip.
    for quiet in [
        "pip-overrides-conda",
        "conda-after-pip",
        "conda-files-missing",
    ] {
        assert!(
            findings_for(&sb, &args(&target(&env)), quiet).is_empty(),
            "{quiet}"
        );
    }
}

#[test]
fn pip_replacing_conda_numpy_is_an_error_naming_both() {
    let (sb, env) = clean_env();
    // pip upgrades conda's numpy: it uninstalls conda's files by their RECORD.
    env.pip_install(&numpy("2.0.0"), &sb.path("wheels"), &["--upgrade"]);
    assert!(!env.site().join("numpy-1.26.4.dist-info").exists());
    let f = findings_for(&sb, &args(&target(&env)), "pip-overrides-conda");
    assert_eq!(f.len(), 1, "{f:#?}");
    let msg = f[0]["message"].as_str().unwrap();
    assert_eq!(f[0]["severity"], "error");
    assert!(
        msg.contains("pip replaced conda's `numpy 1.26.4` (conda-forge")
            && msg.contains("`numpy 2.0.0` from pip"),
        "{msg}"
    );
    let fix = fix(&f[0]);
    assert!(
        fix.contains("pip uninstall -y numpy") && fix.contains("--force-reinstall numpy"),
        "{fix}"
    );
    // conda's now-missing dist-info is this rule's story, not a missing-files one.
    assert!(findings_for(&sb, &args(&target(&env)), "conda-files-missing").is_empty());
}

#[test]
fn pip_dist_under_another_name_writing_over_conda_files() {
    let (sb, env) = clean_env();
    let cv = |name: &str, v: &str| {
        Wheel::new(name, v)
            .package("cv2")
            .file("cv2/data.py", &format!("WHO = {name:?}\n"))
    };
    env.conda_install(&cv("opencv", "4.8.0"), "py-opencv", &[], &sb.path("wheels"));
    env.pip_install(&cv("opencv-python", "4.9.0"), &sb.path("wheels"), &[]);
    let f = findings_for(&sb, &args(&target(&env)), "pip-overrides-conda");
    assert_eq!(f.len(), 1, "{f:#?}");
    let msg = f[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("pip's `opencv-python 4.9.0` wrote over 2 file(s) of conda's `py-opencv 4.8.0` (conda-forge)"),
        "{msg}"
    );
    assert_eq!(f[0]["severity"], "warning");
    // Not also as overlapping-distributions, whose pip-only fix is wrong here.
    assert!(findings_for(&sb, &args(&target(&env)), "overlapping-distributions").is_empty());
}

#[test]
fn conda_transaction_after_pip_install_gives_the_order_with_dates() {
    let (sb, env) = clean_env();
    env.pip_install(
        &Wheel::new("leftpad", "1.0").package("leftpad"),
        &sb.path("wheels"),
        &[],
    );
    // pip ran on 2024-03-01 (the INSTALLER's mtime is pip's install time).
    let info = env.site().join("leftpad-1.0.dist-info");
    run_ok(
        Command::new("touch")
            .args(["-d", "2024-03-01 09:30:00"])
            .arg(info.join("INSTALLER"))
            .arg(info.join("RECORD"))
            .env("TZ", "UTC"),
    );
    // A conda transaction before it changes nothing of pip's.
    assert!(findings_for(&sb, &args(&target(&env)), "conda-after-pip").is_empty());
    env.add_history(
        "2024-06-20 14:30:00",
        "/opt/conda/bin/conda install -p work numpy=1.26 leftpad",
        &[
            "-conda-forge/linux-64::numpy-1.26.3-py311_0",
            "+conda-forge/linux-64::numpy-1.26.4-py311_0",
            "+conda-forge/noarch::leftpad-1.1-pyhd8ed1ab_0",
        ],
    );
    let f = findings_for(&sb, &args(&target(&env)), "conda-after-pip");
    assert_eq!(f.len(), 1, "{f:#?}");
    let msg = f[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("ran on 2024-06-20 14:30:00 (+2 -1 packages)"),
        "{msg}"
    );
    assert!(msg.contains("`leftpad 1.0` (2024-03-01 09:30:00)"), "{msg}");
    assert!(msg.contains("it changed `leftpad` itself"), "{msg}");
    let fix = fix(&f[0]);
    assert!(
        fix.contains("--force-reinstall --no-deps leftpad==1.0"),
        "{fix}"
    );
    // A conda run that changed no package (`conda list --revisions` style
    // entries, env var changes) is no risk.
    let (sb2, env2) = clean_env();
    env2.pip_install(
        &Wheel::new("leftpad", "1.0").package("leftpad"),
        &sb2.path("wheels"),
        &[],
    );
    env2.add_history("2099-01-01 00:00:00", "conda env config vars set X=1", &[]);
    assert!(findings_for(&sb2, &args(&target(&env2)), "conda-after-pip").is_empty());
}

#[test]
fn env_without_pip_gets_pip_from_elsewhere_on_path() {
    let mut sb = sandbox();
    let env = CondaEnv::new(&sb.home.join("miniconda3/envs/nopip"), false);
    // `pip` on PATH belongs to a venv elsewhere.
    let other = sb.path("other");
    make_venv(&python("3.12"), &other, &[]);
    std::fs::write(
        other.join("bin/pip"),
        format!("#!{}\nimport sys\n", other.join("bin/python").display()),
    )
    .unwrap();
    run_ok(Command::new("chmod").arg("+x").arg(other.join("bin/pip")));
    sb.set_env(
        "PATH",
        format!(
            "{}:{}:/usr/bin:/bin",
            env.prefix.join("bin").display(),
            other.join("bin").display()
        ),
    );
    sb.set_env("CONDA_PREFIX", env.prefix.to_str().unwrap());
    let f = findings_for(&sb, &args(&target(&env)), "conda-env-missing-pip");
    assert_eq!(f.len(), 1, "{f:#?}");
    let msg = f[0]["message"].as_str().unwrap();
    assert!(msg.contains("with it activated runs"), "{msg}");
    assert!(
        msg.contains(&format!("installs into `{}`", other.display())),
        "{msg}"
    );
    assert!(fix(&f[0]).contains("install -y -p"));

    // With pip in the env (conda's pip record and bin/pip) it is quiet.
    let (sb, env) = clean_env();
    let mut sb = sb;
    sb.set_env(
        "PATH",
        format!("{}:/usr/bin:/bin", other.join("bin").display()),
    );
    assert!(findings_for(&sb, &args(&target(&env)), "conda-env-missing-pip").is_empty());
}

#[test]
fn user_site_leaking_into_a_conda_env() {
    let (sb, env) = clean_env();
    let user = sb.home.join(format!(".local/lib/python{PY}/site-packages"));
    std::fs::create_dir_all(&user).unwrap();
    // `pip install --user` of an older numpy, and of an unrelated package.
    let wheels = sb.path("wheels");
    for w in [
        numpy("1.24.0"),
        Wheel::new("unrelated", "1.0").package("unrelated"),
    ] {
        let whl = w.build(&wheels);
        pip_install(
            &python(PY),
            &["--target", user.to_str().unwrap(), whl.to_str().unwrap()],
        );
    }
    // The real interpreter imports the user's numpy: the static view agrees.
    let out = run_ok(
        Command::new(env.python())
            .args(["-c", "import numpy; print(numpy.__version__)"])
            .env_clear()
            .env("HOME", &sb.home),
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1.24.0");
    let f = findings_for(&sb, &args(&target(&env)), "user-site-leaks-into-conda");
    assert_eq!(f.len(), 1, "{f:#?}");
    let msg = f[0]["message"].as_str().unwrap();
    assert!(msg.contains("`numpy 1.24.0` (the env has 1.26.4)"), "{msg}");
    assert!(!msg.contains("unrelated"), "{msg}");
    // Another version than the env's: an error, as shadowed-package judges it.
    assert_eq!(f[0]["severity"], "error");
    assert!(fix(&f[0]).contains("PYTHONNOUSERSITE=1"));
    // One finding for one problem: the generic shadowing rule leaves it here.
    assert!(findings_for(&sb, &args(&target(&env)), "shadowed-package").is_empty());

    // With PYTHONNOUSERSITE set the user site is off: quiet.
    let mut sb = sb;
    sb.set_env("PYTHONNOUSERSITE", "1");
    assert!(findings_for(&sb, &args(&target(&env)), "user-site-leaks-into-conda").is_empty());
}

#[test]
fn user_site_providing_a_dependency_the_env_needs() {
    let (sb, env) = clean_env();
    env.conda_install(
        &Wheel::new("pandas", "2.2.0").package("pandas"),
        "pandas",
        &["python >=3.11", "pytz >=2020.1"],
        &sb.path("wheels"),
    );
    let user = sb.home.join(format!(".local/lib/python{PY}/site-packages"));
    let whl = Wheel::new("pytz", "2019.1")
        .package("pytz")
        .build(&sb.path("wheels"));
    pip_install(
        &python(PY),
        &["--target", user.to_str().unwrap(), whl.to_str().unwrap()],
    );
    let f = findings_for(&sb, &args(&target(&env)), "user-site-leaks-into-conda");
    assert_eq!(f.len(), 1, "{f:#?}");
    let msg = f[0]["message"].as_str().unwrap();
    assert!(msg.contains("`pytz 2019.1` (needed by `pandas`)"), "{msg}");
    assert_eq!(f[0]["severity"], "info");
}

#[test]
fn deleted_conda_files_are_found_by_stat_and_bytecode_is_ignored() {
    let (sb, env) = clean_env();
    let t = target(&env);
    // Bytecode caches come and go: not a missing file.
    let pyc = format!("lib/python{PY}/site-packages/numpy/__pycache__/core.cpython-311.pyc");
    let rec_path = env.prefix.join("conda-meta/numpy-1.26.4-pyhd8ed1ab_0.json");
    let mut rec: Value = serde_json::from_slice(&std::fs::read(&rec_path).unwrap()).unwrap();
    rec["files"].as_array_mut().unwrap().push(json!(pyc));
    std::fs::write(&rec_path, serde_json::to_vec(&rec).unwrap()).unwrap();
    assert!(findings_for(&sb, &args(&t), "conda-files-missing").is_empty());

    std::fs::remove_file(env.site().join("numpy/core.py")).unwrap();
    let f = findings_for(&sb, &args(&t), "conda-files-missing");
    assert_eq!(f.len(), 1, "{f:#?}");
    let msg = f[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("is missing 1 file(s) that conda installed"),
        "{msg}"
    );
    assert!(msg.contains("`numpy 1.26.4` (1 of"), "{msg}");
    assert!(msg.contains("site-packages/numpy/core.py"), "{msg}");
}

#[test]
fn hostile_conda_meta_is_noted_not_fatal() {
    let (sb, env) = clean_env();
    let meta = env.prefix.join("conda-meta");
    std::fs::write(
        meta.join("garbage-1.0-0.json"),
        b"{\"name\": \"x\", \"files\": 5",
    )
    .unwrap();
    std::fs::write(meta.join("wrongtype-1.0-0.json"), b"[1,2,3]").unwrap();
    let fifo = meta.join("fifo-1.0-0.json");
    run_ok(Command::new("mkfifo").arg(&fifo));
    std::fs::write(
        meta.join("history"),
        b"\xff\xfe==> not a date <==\n+::\n-\n",
    )
    .unwrap();
    // A record of tens of thousands of files (all gone but one), and a name
    // that is not UTF-8.
    let mut files: Vec<String> = (0..40_000).map(|i| format!("share/big/f{i}.dat")).collect();
    files.push(format!("bin/python{PY}"));
    env.record("big", "1.0", "0", &files, &[]);
    std::fs::write(
        meta.join(std::ffi::OsStr::from_bytes(b"bad-\xff-1.0-0.json")),
        b"{}",
    )
    .unwrap();
    let (scan, code) = sb.json(&["scan"]);
    assert_eq!(code, 0);
    let notes = scan["notes"].to_string();
    assert!(notes.contains("garbage-1.0-0.json"), "{notes}");
    assert!(notes.contains("wrongtype-1.0-0.json"), "{notes}");
    assert!(notes.contains("fifo-1.0-0.json"), "{notes}");
    let c = conda_of(&scan, &env.prefix);
    assert_eq!(c["records_unreadable"], 3);
    let records = c["records"].as_array().unwrap();
    assert_eq!(records.len(), 5, "{records:#?}");
    let big = records.iter().find(|r| r["name"] == "big").unwrap();
    assert_eq!(big["files"], 40_001);
    assert_eq!(big["missing_count"], 40_000);
    assert_eq!(big["missing_files"].as_array().unwrap().len(), 5);
    let f = findings_for(&sb, &args(&target(&env)), "conda-files-missing");
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .contains("`big 1.0` (40000 of 40001 files"),
        "{f:#?}"
    );
}

#[test]
fn base_pip_on_path_counts_only_when_activation_keeps_it() {
    let mut sb = sandbox();
    let root = sb.home.join("miniconda3");
    let base = CondaEnv::new(&root, true);
    std::fs::create_dir_all(root.join("condabin")).unwrap();
    std::fs::write(root.join("condabin/conda"), "").unwrap();
    run_ok(Command::new("chmod").arg("+x").arg(root.join("bin/pip")));
    let env = CondaEnv::new(&root.join("envs/nopip"), false);
    sb.set_env(
        "PATH",
        format!("{}:/usr/bin:/bin", root.join("bin").display()),
    );
    // base's bin put on PATH by hand (old installers did): activating the
    // env keeps it, so `pip` installs into base.
    let f = findings_for(&sb, &args(&target(&env)), "conda-env-missing-pip");
    assert_eq!(f.len(), 1, "{f:#?}");
    let msg = f[0]["message"].as_str().unwrap();
    assert!(msg.contains("even with it activated"), "{msg}");
    assert!(
        msg.contains(&format!("installs into `{}`", base.prefix.display())),
        "{msg}"
    );
    // base is on PATH because it is the active env: `conda activate nopip`
    // replaces it, so nothing can be said.
    sb.set_env("CONDA_PREFIX", root.to_str().unwrap());
    assert!(findings_for(&sb, &args(&target(&env)), "conda-env-missing-pip").is_empty());
}

#[test]
fn pip_ignore_installed_leaves_both_metadata_dirs() {
    let (sb, env) = clean_env();
    // `pip install -I`, the usual answer to "Cannot uninstall ...": pip
    // writes its copy without removing conda's.
    env.pip_install(
        &numpy("1.26.4"),
        &sb.path("wheels2"),
        &["--ignore-installed"],
    );
    // Same version, same directory name: the RECORD is at the path conda's
    // record lists, so by conda's own test it is still conda's: nothing to say.
    let f = findings_for(&sb, &args(&target(&env)), "pip-overrides-conda");
    assert!(f.is_empty(), "same files, same version: {f:#?}");
    env.pip_install(&numpy("2.0.0"), &sb.path("wheels"), &["--ignore-installed"]);
    assert!(env.site().join("numpy-1.26.4.dist-info").exists());
    let f = findings_for(&sb, &args(&target(&env)), "pip-overrides-conda");
    assert_eq!(f.len(), 1, "{f:#?}");
    let msg = f[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("pip's `numpy 2.0.0` and conda's `numpy 1.26.4` (conda-forge, build `pyhd8ed1ab_0`) are both installed"),
        "{msg}"
    );
    assert_eq!(f[0]["severity"], "error");
}

#[test]
fn conda_after_pip_inside_a_root_reads_dates_as_utc() {
    let (mut sb, env) = clean_env();
    env.pip_install(
        &Wheel::new("leftpad", "1.0").package("leftpad"),
        &sb.path("wheels"),
        &[],
    );
    let info = env.site().join("leftpad-1.0.dist-info");
    run_ok(
        Command::new("touch")
            .args(["-d", "2024-06-20 14:29:00"])
            .arg(info.join("INSTALLER"))
            .env("TZ", "UTC"),
    );
    env.add_history(
        "2024-06-20 14:31:00",
        "conda install x",
        &["+conda-forge/noarch::x-1-0"],
    );
    // The host's zone must not matter inside a root: both sides are UTC.
    sb.set_env("TZ", "Asia/Kolkata");
    let inside = Path::new("/").join(env.prefix.strip_prefix(sb.dir.path()).unwrap());
    let root = sb.dir.path().to_str().unwrap().to_string();
    let f = findings_for(
        &sb,
        &["--root", &root, "--python", inside.to_str().unwrap()],
        "conda-after-pip",
    );
    assert_eq!(f.len(), 1, "{f:#?}");
    let msg = f[0]["message"].as_str().unwrap();
    assert!(msg.contains("`leftpad 1.0` (2024-06-20 14:29:00)"), "{msg}");
}

#[test]
fn conda_rule_names_and_codes_are_the_contract() {
    let sb = sandbox();
    let (v, _) = sb.json(&["rules"]);
    let rules = v.as_array().unwrap();
    for (code, name, severity) in [
        ("ED501", "pip-conda-mixed", "info"),
        ("ED502", "pip-overrides-conda", "warning"),
        ("ED503", "conda-after-pip", "warning"),
        ("ED504", "conda-env-missing-pip", "warning"),
        ("ED505", "user-site-leaks-into-conda", "warning"),
        ("ED506", "conda-files-missing", "warning"),
        ("ED507", "conda-environments-txt-stale", "info"),
    ] {
        let r = rules
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no rule {name}"));
        assert_eq!(
            (r["code"].as_str(), r["severity"].as_str()),
            (Some(code), Some(severity))
        );
        let doc = sb.run(&["explain", name]);
        let doc = String::from_utf8_lossy(&doc.stdout);
        assert!(
            doc.starts_with(code) && doc.contains("Why is this bad?"),
            "{doc}"
        );
    }
}
