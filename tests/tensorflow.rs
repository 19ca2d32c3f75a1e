//! TensorFlow knowledge on real venvs (Python 3.9-3.13 from this machine)
//! holding wheels the test writes with TensorFlow's real names, versions and
//! Requires-Dist lines: each rule fires where the combination is broken and
//! stays quiet where it is supported.

mod support;

use serde_json::Value;
use std::path::PathBuf;
use support::*;

const TF215_REQS: &[&str] = &[
    "numpy<2.0.0,>=1.23.5",
    "protobuf!=4.21.0,!=4.21.1,!=4.21.2,!=4.21.3,!=4.21.4,!=4.21.5,<5.0.0dev,>=3.20.3",
];

fn version_h(v: &str) -> String {
    let p: Vec<&str> = v.split('.').collect();
    format!(
        "#ifndef TENSORFLOW_CORE_PUBLIC_VERSION_H_\n#define TF_MAJOR_VERSION {}\n#define TF_MINOR_VERSION {}\n#define TF_PATCH_VERSION {}\n#define TF_VERSION_SUFFIX \"\"\n#endif\n",
        p[0], p[1], p[2]
    )
}

/// A wheel named and versioned like a TensorFlow distribution, with the
/// package files and the version header TensorFlow installs.
fn tf_wheel(name: &str, v: &str, reqs: &[&str]) -> Wheel {
    let mut w = Wheel::new(name, v).file("tensorflow/__init__.py", "").file(
        "tensorflow/include/tensorflow/core/public/version.h",
        &version_h(v),
    );
    for r in reqs {
        w = w.requires(r);
    }
    w
}

fn numpy_wheel(v: &str) -> Wheel {
    Wheel::new("numpy", v).file("numpy/__init__.py", "").file(
        "numpy/version.py",
        &format!("version = \"{v}\"\n__version__ = version\n"),
    )
}

fn protobuf_wheel(v: &str) -> Wheel {
    Wheel::new("protobuf", v).file("google/protobuf/__init__.py", "")
}

struct Env {
    sb: Sandbox,
    venv: PathBuf,
}

impl Env {
    fn new(minor: &str) -> Env {
        let mut sb = Sandbox::new();
        let venv = sb.path("venv");
        make_venv(&python(minor), &venv, &[]);
        sb.set_env(
            "PATH",
            format!("{}:/usr/bin:/bin", venv.join("bin").display()),
        );
        sb.set_env("VIRTUAL_ENV", venv.display().to_string());
        Env { sb, venv }
    }

    fn install(&self, wheels: &[Wheel]) {
        let dir = self.sb.path("wheels");
        let paths: Vec<String> = wheels
            .iter()
            .map(|w| w.build(&dir).display().to_string())
            .collect();
        let args: Vec<&str> = paths.iter().map(String::as_str).collect();
        pip_install(&self.venv.join("bin/python"), &args);
    }

    fn findings(&self, rule: &str) -> Vec<Value> {
        self.sb.findings(&[], rule)
    }
}

fn one(f: &[Value]) -> &Value {
    assert_eq!(f.len(), 1, "expected one finding: {f:#?}");
    &f[0]
}

fn msg(f: &Value) -> &str {
    f["message"].as_str().unwrap()
}

#[test]
fn numpy2_with_tensorflow_before_2_18() {
    // 2.15 declares numpy<2: pip check sees it too.
    let e = Env::new("3.10");
    e.install(&[
        tf_wheel("tensorflow", "2.15.0", TF215_REQS),
        numpy_wheel("2.1.0"),
    ]);
    let f = e.findings("tensorflow-numpy2-incompatible");
    let f = one(&f);
    assert_eq!(f["severity"], "error");
    assert!(
        msg(f).contains("`tensorflow` 2.15.0") && msg(f).contains("numpy 2.1.0"),
        "{f:#}"
    );
    assert!(msg(f).contains("_ARRAY_API not found"));
    assert!(!msg(f).contains("pip check` is silent"));
    assert!(fix(f).contains("'numpy<2'"));
    assert!(
        fix(f).contains("tensorflow>=2.18"),
        "3.10 can have 2.18: {f:#}"
    );

    // 2.14.0 declared no upper bound: only envdoctor knows.
    let e = Env::new("3.11");
    e.install(&[
        tf_wheel("tensorflow", "2.14.0", &["numpy>=1.23.5"]),
        numpy_wheel("2.0.0"),
    ]);
    let f = e.findings("tensorflow-numpy2-incompatible");
    assert!(msg(one(&f)).contains("`pip check` is silent"), "{f:#?}");

    // 2.18 is built for NumPy 2; 2.15 with NumPy 1.26 is fine.
    let e = Env::new("3.12");
    e.install(&[
        tf_wheel("tensorflow", "2.18.0", &["numpy<2.1.0,>=1.26.0"]),
        numpy_wheel("2.0.2"),
    ]);
    assert!(e.findings("tensorflow-numpy2-incompatible").is_empty());
    let e = Env::new("3.11");
    e.install(&[
        tf_wheel("tensorflow", "2.15.0", TF215_REQS),
        numpy_wheel("1.26.4"),
    ]);
    assert!(e.findings("tensorflow-numpy2-incompatible").is_empty());
}

#[test]
fn protobuf_outside_what_tensorflow_works_with() {
    let e = Env::new("3.10");
    e.install(&[
        tf_wheel("tensorflow", "2.11.0", &["protobuf<3.20,>=3.9.2"]),
        protobuf_wheel("4.21.12"),
    ]);
    let f = e.findings("tensorflow-protobuf-incompatible");
    let f = one(&f);
    assert!(
        msg(f).contains("Descriptors cannot be created directly"),
        "{f:#}"
    );
    assert!(fix(f).contains("protobuf>=3.9.2,<3.20"));

    // TF 2.4 declared protobuf>=3.9.2 without an upper bound; protobuf 4 breaks it.
    let e = Env::new("3.10");
    e.install(&[
        tf_wheel("tensorflow", "2.4.0", &["protobuf>=3.9.2"]),
        protobuf_wheel("4.21.12"),
    ]);
    assert!(
        msg(one(&e.findings("tensorflow-protobuf-incompatible"))).contains("`pip check` is silent")
    );

    let e = Env::new("3.11");
    e.install(&[
        tf_wheel("tensorflow", "2.15.0", TF215_REQS),
        protobuf_wheel("4.25.3"),
    ]);
    assert!(e.findings("tensorflow-protobuf-incompatible").is_empty());
}

#[test]
fn python_outside_tensorflows_tested_range() {
    // 2.15 was never built for 3.12 (a source build or a copied site-packages).
    let e = Env::new("3.12");
    e.install(&[tf_wheel("tensorflow", "2.15.0", TF215_REQS)]);
    let f = e.findings("tensorflow-unsupported-python");
    let f = one(&f);
    assert_eq!(f["severity"], "error");
    assert!(msg(f).contains("Python 3.9-3.11, not 3.12"), "{f:#}");
    assert!(fix(f).contains("tensorflow==2.21.*"), "{f:#}");

    // Python 3.9: upgrades stop at 2.20 (2.21 needs 3.10-3.13).
    let e = Env::new("3.9");
    e.install(&[tf_wheel("tensorflow", "2.20.0", &[])]);
    let f = e.findings("tensorflow-unsupported-python");
    let f = one(&f);
    assert_eq!(f["severity"], "info");
    assert!(
        msg(f).contains("keeps installing")
            && msg(f).contains("2.21")
            && msg(f).contains("3.10-3.13"),
        "{f:#}"
    );

    // Supported and not at a ceiling: quiet.
    for (minor, v) in [("3.13", "2.20.0"), ("3.10", "2.15.0"), ("3.11", "2.21.0")] {
        let e = Env::new(minor);
        e.install(&[tf_wheel("tensorflow", v, &[])]);
        assert!(
            e.findings("tensorflow-unsupported-python").is_empty(),
            "{minor} {v}"
        );
    }
}

#[test]
fn tensorflow_gpu_installed_or_required() {
    let e = Env::new("3.10");
    e.install(&[
        tf_wheel("tensorflow-gpu", "2.10.0", &[]),
        Wheel::new("my-model", "1.0")
            .package("my_model")
            .requires("tensorflow-gpu>=2.4"),
    ]);
    let f = e.findings("tensorflow-gpu-deprecated");
    assert_eq!(f.len(), 2, "{f:#?}");
    assert!(f
        .iter()
        .any(|x| msg(x).contains("`tensorflow-gpu` 2.10.0 is installed")));
    assert!(f
        .iter()
        .any(|x| msg(x).contains("`my-model` 1.0")
            && msg(x).contains("requires `tensorflow-gpu>=2.4`")));
    let e = Env::new("3.11");
    e.install(&[tf_wheel("tensorflow", "2.15.0", TF215_REQS)]);
    assert!(e.findings("tensorflow-gpu-deprecated").is_empty());
}

#[test]
fn pip_too_old_for_the_wanted_tensorflow_wheels() {
    let e = Env::new("3.11");
    // The pip in the venv is 19.2.3 (a wheel with pip's real name and
    // version), and TensorFlow is wanted.
    e.install(&[
        Wheel::new("pip", "19.2.3").package("pip"),
        Wheel::new("trainer", "0.1")
            .package("trainer")
            .requires("tensorflow>=2.15"),
    ]);
    let f = e.findings("pip-too-old-for-wheels");
    let f = one(&f);
    assert!(
        msg(f).contains("pip 19.2.3")
            && msg(f).contains("manylinux_2_27")
            && msg(f).contains("20.3"),
        "{f:#}"
    );
    assert!(fix(f).contains("-m pip install --upgrade pip"));

    // A new pip, or no TensorFlow wanted: quiet.
    let e = Env::new("3.11");
    e.install(&[
        Wheel::new("pip", "24.0").package("pip"),
        Wheel::new("trainer", "0.1")
            .package("trainer")
            .requires("tensorflow>=2.15"),
    ]);
    assert!(e.findings("pip-too-old-for-wheels").is_empty());
    let e = Env::new("3.11");
    e.install(&[Wheel::new("pip", "19.2.3").package("pip")]);
    assert!(e.findings("pip-too-old-for-wheels").is_empty());
}

#[test]
fn metadata_version_differs_from_what_import_loads() {
    let e = Env::new("3.11");
    e.install(&[tf_wheel("tensorflow", "2.15.0", TF215_REQS)]);
    assert!(e.findings("metadata-version-mismatch").is_empty());
    // tensorflow-gpu 2.10 installed over it rewrites tensorflow/ in place.
    e.install(&[tf_wheel("tensorflow-gpu", "2.10.0", &[])]);
    let f = e.findings("metadata-version-mismatch");
    let f = one(&f);
    assert!(
        msg(f).contains("`pip show tensorflow` says 2.15.0") && msg(f).contains("loads 2.10.0"),
        "{f:#}"
    );
    // The fix removes every variant writing `tensorflow/`, not just one.
    assert!(
        fix(f).contains("uninstall -y tensorflow tensorflow-gpu"),
        "{f:#}"
    );
    // `why` shows what the imported files say, for the ticket.
    let why = e.sb.run(&["why", "tensorflow"]);
    let why = String::from_utf8_lossy(&why.stdout);
    assert!(
        why.contains("[imported]") && why.contains("its own files say 2.10.0"),
        "{why}"
    );

    // An old NumPy checkout on PYTHONPATH wins over the installed 1.26.4.
    let mut e = Env::new("3.10");
    e.install(&[numpy_wheel("1.26.4")]);
    let checkout = e.sb.path("src");
    std::fs::create_dir_all(checkout.join("numpy")).unwrap();
    std::fs::write(checkout.join("numpy/__init__.py"), "").unwrap();
    std::fs::write(checkout.join("numpy/version.py"), "version = '1.19.0'\n").unwrap();
    e.sb.set_env("PYTHONPATH", checkout.display().to_string());
    let f = e.findings("metadata-version-mismatch");
    let f = one(&f);
    assert!(
        msg(f).contains("`pip show numpy` says 1.26.4") && msg(f).contains("loads 1.19.0"),
        "{f:#}"
    );
    assert!(msg(f).contains(checkout.to_str().unwrap()));
}

#[test]
fn thirty_two_bit_interpreter() {
    let sb = Sandbox::new();
    let root = sb.path("img");
    fake_install(&root, "3.11", 1, 3); // ELFCLASS32, EM_386
    let (v, _) = sb.json(&[
        "--root",
        root.to_str().unwrap(),
        "check",
        "--python",
        "/opt/py/bin/python3.11",
    ]);
    let f: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "interpreter-not-64bit")
        .collect();
    assert_eq!(f.len(), 1, "{v:#}");
    assert!(msg(f[0]).contains("32-bit") && msg(f[0]).contains("i686"));
    // The machine's own interpreters are 64-bit: quiet.
    let e = Env::new("3.11");
    assert!(e.findings("interpreter-not-64bit").is_empty());
}

#[test]
fn glibc_older_than_the_wheels_need() {
    // An image with glibc 2.26 (Amazon Linux 2) where TensorFlow is wanted:
    // TensorFlow 2.21's manylinux_2_27 wheels cannot install there.
    let sb = Sandbox::new();
    let root = sb.path("img");
    let site = fake_install(&root, "3.11", 2, 62);
    std::fs::create_dir_all(root.join("lib64")).unwrap();
    std::fs::write(
        root.join("lib64/libc.so.6"),
        b"\x7fELF...GNU C Library (GNU libc) stable release version 2.26, by Roland McGrath et al.\n",
    )
    .unwrap();
    write_dist_info(&site, "trainer", "0.1", &["tensorflow>=2.15"]);
    // A wheel built for glibc 2.28 copied into the image.
    write_dist_info(&site, "fastlib", "3.0", &[]);
    std::fs::write(
        site.join("fastlib-3.0.dist-info/WHEEL"),
        "Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp311-cp311-manylinux_2_28_x86_64\n",
    )
    .unwrap();
    let (v, _) = sb.json(&[
        "--root",
        root.to_str().unwrap(),
        "check",
        "--python",
        "/opt/py/bin/python3.11",
    ]);
    let f: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "glibc-too-old")
        .collect();
    assert_eq!(f.len(), 2, "{v:#}");
    assert!(f
        .iter()
        .any(|x| msg(x).contains("`fastlib` 3.0") && msg(x).contains("GLIBC_2.28")));
    assert!(f
        .iter()
        .any(|x| msg(x).contains("manylinux_2_27") && msg(x).contains("glibc 2.26")));

    // This machine's glibc (2.36) runs all of it: quiet on a real venv.
    let e = Env::new("3.11");
    e.install(&[Wheel::new("trainer", "0.1")
        .package("trainer")
        .requires("tensorflow>=2.15")]);
    assert!(e.findings("glibc-too-old").is_empty());
}

#[test]
fn every_tensorflow_rule_cites_its_source() {
    let sb = Sandbox::new();
    for rule in [
        "tensorflow-unsupported-python",
        "tensorflow-numpy2-incompatible",
        "tensorflow-protobuf-incompatible",
        "tensorflow-gpu-deprecated",
        "pip-too-old-for-wheels",
        "interpreter-not-64bit",
        "glibc-too-old",
        "metadata-version-mismatch",
    ] {
        let out = sb.run(&["explain", rule]);
        assert_eq!(out.status.code(), Some(0), "{rule}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("Sources")
                && (text.contains('#') || text.contains("PEP") || text.contains("https://")),
            "{rule}: {text}"
        );
    }
}
