//! Shared test support: a fresh sandbox per test (its own HOME, a minimal
//! PATH, no inherited Python variables), real venvs made by the machine's
//! Pythons, wheels written by the test itself, and real `pip install`s of
//! them (`--no-index`, no network).
#![allow(dead_code)]

use serde_json::Value;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub home: PathBuf,
    /// Extra environment for envdoctor runs (PATH, VIRTUAL_ENV, ...).
    pub env: Vec<(String, String)>,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix("envdoctor-test-")
            .tempdir()
            .expect("tempdir");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        Sandbox {
            dir,
            home,
            env: vec![("PATH".into(), "/usr/bin:/bin".into())],
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn set_env(&mut self, k: &str, v: impl Into<String>) {
        self.env.retain(|(x, _)| x != k);
        self.env.push((k.to_string(), v.into()));
    }

    /// envdoctor with a clean environment: HOME is the sandbox's, the cwd
    /// is the sandbox, nothing from the test runner's shell leaks in.
    pub fn envdoctor(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_envdoctor"));
        c.env_clear()
            .env("HOME", &self.home)
            .env("NO_COLOR", "1")
            .current_dir(self.dir.path());
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.envdoctor().args(args).output().expect("run envdoctor")
    }

    /// Runs envdoctor with `--format json` appended; returns the document
    /// and the exit code. Panics with stderr when the output is not JSON.
    pub fn json(&self, args: &[&str]) -> (Value, i32) {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--format", "json"]);
        let out = self.run(&all);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "envdoctor {all:?} did not print JSON ({e}); exit {:?}\nstdout:\n{}\nstderr:\n{}",
                out.status.code(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (v, out.status.code().unwrap_or(-1))
    }

    /// `check --format json` findings of one rule.
    pub fn findings(&self, args: &[&str], rule: &str) -> Vec<Value> {
        let mut all = vec!["check"];
        all.extend(args);
        let (v, _) = self.json(&all);
        findings_of(&v, rule)
    }
}

/// The machine's CPython `X.Y` (pyenv's first, then the system's).
/// The findings of one rule in a `check --format json` document.
pub fn findings_of(v: &Value, rule: &str) -> Vec<Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .cloned()
        .collect()
}

pub fn python(minor: &str) -> PathBuf {
    if let Ok(names) = std::fs::read_dir("/root/.pyenv/versions") {
        let mut found: Vec<PathBuf> = names
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&format!("{minor}.")))
            })
            .map(|p| p.join("bin").join(format!("python{minor}")))
            .filter(|p| p.exists())
            .collect();
        found.sort();
        if let Some(p) = found.pop() {
            return p;
        }
    }
    which::which(format!("python{minor}"))
        .unwrap_or_else(|_| panic!("no python{minor} on this machine"))
}

pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `python -m venv` (without pip: fast; install with [`pip_install`]).
pub fn make_venv(python: &Path, dir: &Path, extra: &[&str]) {
    run_ok(
        Command::new(python)
            .args(["-m", "venv", "--without-pip"])
            .args(extra)
            .arg(dir)
            .env_remove("PYTHONPATH"),
    );
}

/// `python -m venv` with pip (slower: ensurepip), as users make them.
pub fn make_venv_with_pip(python: &Path, dir: &Path) {
    run_ok(
        Command::new(python)
            .args(["-m", "venv"])
            .arg(dir)
            .env_remove("PYTHONPATH"),
    );
}

/// A private copy of one of the machine's Python installs (hard links, so
/// it is cheap), for tests that delete or damage a base interpreter.
pub fn copy_python_install(minor: &str, dest: &Path) -> PathBuf {
    let exe = python(minor);
    let prefix = exe.parent().unwrap().parent().unwrap();
    let linked = Command::new("cp")
        .arg("-al")
        .arg(prefix)
        .arg(dest)
        .status()
        .unwrap();
    if !linked.success() {
        run_ok(Command::new("cp").arg("-a").arg(prefix).arg(dest));
    }
    dest.join("bin").join(format!("python{minor}"))
}

/// pip 23 of the machine's Python 3.11, installing for `target_python`
/// (pip's `--python`), from local wheels only.
pub fn pip_install(target_python: &Path, args: &[&str]) -> Output {
    let pip_host = python("3.11");
    run_ok(
        Command::new(pip_host)
            .args(["-m", "pip", "--python"])
            .arg(target_python)
            .args([
                "install",
                "--no-index",
                "--no-cache-dir",
                "--disable-pip-version-check",
                "--no-warn-script-location",
                "--no-deps",
            ])
            .args(args)
            .env_remove("PYTHONPATH")
            .env("PIP_NO_INPUT", "1"),
    )
}

/// A wheel the test writes itself.
#[derive(Clone, Debug, Default)]
pub struct Wheel {
    pub name: String,
    pub version: String,
    /// Files inside the wheel (besides the dist-info): path, content.
    pub files: Vec<(String, String)>,
    pub requires: Vec<String>,
    pub requires_python: Option<String>,
    /// Console scripts: name, "module:function".
    pub scripts: Vec<(String, String)>,
    /// More METADATA header lines (`Provides-Extra: x\n`).
    pub meta: String,
}

impl Wheel {
    pub fn new(name: &str, version: &str) -> Wheel {
        Wheel {
            name: name.into(),
            version: version.into(),
            ..Default::default()
        }
    }

    /// A package `import_name/__init__.py` carrying `__version__`.
    pub fn package(mut self, import_name: &str) -> Wheel {
        self.files.push((
            format!("{import_name}/__init__.py"),
            format!("__version__ = {:?}\n", self.version),
        ));
        self
    }

    pub fn file(mut self, path: &str, content: &str) -> Wheel {
        self.files.push((path.into(), content.into()));
        self
    }

    pub fn requires(mut self, req: &str) -> Wheel {
        self.requires.push(req.into());
        self
    }

    /// More METADATA header lines, each ending in a newline.
    pub fn file_meta(mut self, lines: &str) -> Wheel {
        self.meta.push_str(lines);
        self
    }

    pub fn requires_python(mut self, spec: &str) -> Wheel {
        self.requires_python = Some(spec.into());
        self
    }

    pub fn script(mut self, name: &str, target: &str) -> Wheel {
        self.scripts.push((name.into(), target.into()));
        self
    }

    /// Writes `{name}-{version}-py3-none-any.whl` into `dir`.
    pub fn build(&self, dir: &Path) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        let norm = self.name.replace(['-', '.'], "_");
        let dist_info = format!("{norm}-{}.dist-info", self.version);
        let mut metadata = format!(
            "Metadata-Version: 2.1\nName: {}\nVersion: {}\n",
            self.name, self.version
        );
        if let Some(rp) = &self.requires_python {
            metadata.push_str(&format!("Requires-Python: {rp}\n"));
        }
        metadata.push_str(&self.meta);
        for r in &self.requires {
            metadata.push_str(&format!("Requires-Dist: {r}\n"));
        }
        let mut files = self.files.clone();
        files.push((format!("{dist_info}/METADATA"), metadata));
        files.push((
            format!("{dist_info}/WHEEL"),
            "Wheel-Version: 1.0\nGenerator: envdoctor-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n".into(),
        ));
        if !self.scripts.is_empty() {
            let mut ep = String::from("[console_scripts]\n");
            for (n, t) in &self.scripts {
                ep.push_str(&format!("{n} = {t}\n"));
            }
            files.push((format!("{dist_info}/entry_points.txt"), ep));
        }
        let mut record = String::new();
        for (p, c) in &files {
            record.push_str(&format!(
                "{p},sha256={},{}\n",
                b64(&Sha256::digest(c.as_bytes())),
                c.len()
            ));
        }
        record.push_str(&format!("{dist_info}/RECORD,,\n"));
        files.push((format!("{dist_info}/RECORD"), record));

        let path = dir.join(format!("{norm}-{}-py3-none-any.whl", self.version));
        let f = std::fs::File::create(&path).unwrap();
        let mut zip = zip::ZipWriter::new(f);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (p, c) in &files {
            zip.start_file(p.as_str(), opts).unwrap();
            zip.write_all(c.as_bytes()).unwrap();
        }
        zip.finish().unwrap();
        path
    }
}

/// URL-safe base64 without padding, as wheel RECORDs use.
fn b64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// The interpreters array of `scan --format json`.
pub fn interpreters(scan: &Value) -> &Vec<Value> {
    scan["interpreters"].as_array().expect("interpreters array")
}

/// The scan entry whose prefix is `prefix`.
pub fn by_prefix<'a>(scan: &'a Value, prefix: &Path) -> &'a Value {
    let p = prefix.to_string_lossy();
    interpreters(scan)
        .iter()
        .find(|i| i["prefix"] == *p)
        .unwrap_or_else(|| panic!("no interpreter with prefix {p} in scan: {scan:#}"))
}

/// A finding's fix as one text: its words, then each command on a line.
pub fn fix(finding: &Value) -> String {
    let mut s = finding["fix"]["text"].as_str().unwrap_or("").to_string();
    for c in finding["fix"]["commands"].as_array().into_iter().flatten() {
        s.push('\n');
        s.push_str(c.as_str().unwrap_or(""));
    }
    s
}

/// A Python install tree for `--root`/`--python` tests of facts no real
/// interpreter here has (a 32-bit executable, an old glibc).
pub fn fake_install(root: &Path, minor: &str, elf_class: u8, elf_machine: u8) -> PathBuf {
    let prefix = root.join("opt/py");
    let lib = prefix.join(format!("lib/python{minor}"));
    std::fs::create_dir_all(lib.join("site-packages")).unwrap();
    std::fs::create_dir_all(lib.join("lib-dynload")).unwrap();
    std::fs::write(lib.join("os.py"), "").unwrap();
    std::fs::write(lib.join("site.py"), "").unwrap();
    std::fs::create_dir_all(prefix.join(format!("include/python{minor}"))).unwrap();
    std::fs::write(
        prefix.join(format!("include/python{minor}/patchlevel.h")),
        format!("#define PY_VERSION \"{minor}.4\"\n"),
    )
    .unwrap();
    let mut elf = vec![0u8; 64];
    elf[..4].copy_from_slice(b"\x7fELF");
    elf[4] = elf_class;
    elf[5] = 1;
    elf[18] = elf_machine;
    std::fs::create_dir_all(prefix.join("bin")).unwrap();
    let exe = prefix.join(format!("bin/python{minor}"));
    std::fs::write(&exe, elf).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    lib.join("site-packages")
}

pub fn write_dist_info(site: &Path, name: &str, version: &str, requires: &[&str]) {
    let di = site.join(format!("{}-{version}.dist-info", name.replace('-', "_")));
    std::fs::create_dir_all(&di).unwrap();
    let mut meta = format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n");
    for r in requires {
        meta.push_str(&format!("Requires-Dist: {r}\n"));
    }
    std::fs::write(di.join("METADATA"), meta).unwrap();
    std::fs::write(di.join("RECORD"), "").unwrap();
}
