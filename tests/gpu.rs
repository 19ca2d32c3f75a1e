//! GPU readiness on hand-made machine images under `--root` (these machines
//! have no GPU): NVIDIA driver files of several versions and wordings,
//! TensorFlow and PyTorch distributions carrying the build files of real
//! releases, NVIDIA's wheels with their real names, versions and library
//! files. Each rule fires where the combination cannot use the GPU and
//! stays quiet where it works; without a driver every rule is silent.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use support::*;

const GPU_RULES: [&str; 5] = [
    "gpu-driver-too-old",
    "cuda-libraries-missing",
    "cuda-libraries-mismatched",
    "tensorflow-gpu-unsupported-platform",
    "gpu-present-cpu-only-framework",
];

/// TensorFlow's `build_info.py` as a CUDA release writes it (one line,
/// keys sorted; conda-forge/tensorflow-feedstock#157 shows the format).
fn tf_build_info(cuda: &str, cudnn: &str) -> String {
    format!(
        "# Copyright 2020 The TensorFlow Authors. All Rights Reserved.\n\"\"\"Auto-generated module providing information about the build.\"\"\"\nimport collections\n\nbuild_info = collections.OrderedDict([('cpu_compiler', '/dt9/usr/bin/gcc'), ('cuda_compute_capabilities', ['sm_35', 'sm_50', 'sm_60', 'sm_70', 'sm_75', 'compute_80']), ('cuda_version', '{cuda}'), ('cudnn_version', '{cudnn}'), ('is_cuda_build', True), ('is_rocm_build', False), ('is_tensorrt_build', True)])\n"
    )
}

const TF_CPU_BUILD_INFO: &str = "import collections\n\nbuild_info = collections.OrderedDict([('cpu_compiler', 'clang 18'), ('is_cuda_build', False), ('is_rocm_build', False), ('is_tensorrt_build', False)])\n";

struct Image {
    sb: Sandbox,
    root: PathBuf,
    site: PathBuf,
}

impl Image {
    fn new() -> Image {
        let sb = Sandbox::new();
        let root = sb.path("img");
        // x86-64 interpreter (ELFCLASS64, EM_X86_64).
        let site = fake_install(&root, "3.11", 2, 62);
        Image { sb, root, site }
    }

    fn write(&self, rel: &str, content: &str) {
        let p = self.root.join(rel.trim_start_matches('/'));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    /// The proprietary kernel module's wording.
    fn driver(&self, v: &str) -> &Self {
        self.write(
            "/proc/driver/nvidia/version",
            &format!("NVRM version: NVIDIA UNIX x86_64 Kernel Module  {v}  Thu Oct 19 18:56:32 UTC 2023\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n"),
        );
        self.write(
            "/proc/driver/nvidia/gpus/0000:00:1e.0/information",
            "Model: \t\t Tesla T4\nIRQ:   \t\t 36\nGPU UUID: \t GPU-5e1a2b3c\n",
        );
        self
    }

    fn dist(&self, name: &str, version: &str, requires: &[&str]) -> &Self {
        write_dist_info(&self.site, name, version, requires);
        self
    }

    fn file(&self, rel: &str, content: &str) -> &Self {
        let p = self.site.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
        self
    }

    fn tensorflow(&self, name: &str, version: &str, build_info: &str) -> &Self {
        self.dist(name, version, &[])
            .file("tensorflow/__init__.py", "")
            .file("tensorflow/python/platform/build_info.py", build_info)
    }

    /// An NVIDIA wheel (`nvidia-cudnn-cu12` 8.9.4.25) with its library
    /// files under `nvidia/<component>/lib`.
    fn nvidia(&self, name: &str, version: &str, component: &str, libs: &[&str]) -> &Self {
        self.dist(name, version, &[]);
        self.file(&format!("nvidia/{component}/__init__.py"), "");
        for l in libs {
            self.file(&format!("nvidia/{component}/lib/{l}"), "\x7fELF");
        }
        self
    }

    /// NVIDIA's CUDA 12 runtime wheel (`libcudart.so.12`).
    fn cudart12(&self, version: &str) -> &Self {
        self.nvidia(
            "nvidia-cuda-runtime-cu12",
            version,
            "cuda_runtime",
            &["libcudart.so.12"],
        )
    }

    /// The CUDA 12 wheels `tensorflow[and-cuda]==2.15.0.post1` pins.
    fn tf215_cuda_wheels(&self) -> &Self {
        self.cudart12("12.2.140")
            .nvidia(
                "nvidia-cudnn-cu12",
                "8.9.4.25",
                "cudnn",
                &["libcudnn.so.8", "libcudnn_adv_infer.so.8"],
            )
            .nvidia(
                "nvidia-cublas-cu12",
                "12.2.5.6",
                "cublas",
                &["libcublas.so.12", "libcublasLt.so.12"],
            )
    }

    fn check(&self, extra: &[&str]) -> Value {
        let mut args = vec![
            "--root",
            self.root.to_str().unwrap(),
            "check",
            "--python",
            "/opt/py/bin/python3.11",
        ];
        args.extend_from_slice(extra);
        self.sb.json(&args).0
    }

    fn findings(&self, rule: &str) -> Vec<Value> {
        findings_of(&self.check(&[]), rule)
    }

    fn gpu_findings(&self) -> Vec<Value> {
        let v = self.check(&[]);
        GPU_RULES.iter().flat_map(|r| findings_of(&v, r)).collect()
    }
}

fn msg(f: &Value) -> &str {
    f["message"].as_str().unwrap()
}

#[test]
fn a_driver_older_than_the_cuda_of_the_build() {
    // TensorFlow 2.15 is built with CUDA 12.2: driver 470 (CUDA 11.4's)
    // cannot run it; 525.60.13 can (minor-version compatibility).
    let img = Image::new();
    img.driver("470.82.01")
        .tensorflow("tensorflow", "2.15.0", &tf_build_info("12.2", "8"))
        .tf215_cuda_wheels();
    let f = img.findings("gpu-driver-too-old");
    assert_eq!(f.len(), 1, "{f:#?}");
    let m = msg(&f[0]);
    for part in [
        "tensorflow 2.15.0",
        "CUDA 12.2",
        "525.60.13",
        "470.82.01",
        "build_info.py",
        "/proc/driver/nvidia/version",
    ] {
        assert!(m.contains(part), "{part}: {m}");
    }
    assert_eq!(f[0]["severity"], "error");
    // The way out on this driver: the newest TensorFlow whose CUDA (11.8)
    // it runs, with NVIDIA's wheels.
    assert!(
        fix(&f[0]).contains("'tensorflow[and-cuda]==2.14.*'") && fix(&f[0]).contains("2.14"),
        "{}",
        fix(&f[0])
    );
    assert!(
        fix(&f[0]).contains("/opt/py/bin/python3.11"),
        "{}",
        fix(&f[0])
    );

    // The same environment on driver 535 (and on the minimum 525.60.13):
    // every GPU rule is quiet.
    for ok in ["535.129.03", "525.60.13"] {
        img.driver(ok);
        assert!(
            img.gpu_findings().is_empty(),
            "{ok}: {:#?}",
            img.gpu_findings()
        );
    }
}

#[test]
fn the_driver_version_is_read_in_every_wording() {
    let img = Image::new();
    img.tensorflow("tensorflow", "2.15.0", &tf_build_info("12.2", "8"))
        .tf215_cuda_wheels();
    // The open kernel module's line, then /sys/module, then an injected
    // libcuda.so.<version> (a container).
    img.write(
        "/proc/driver/nvidia/version",
        "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  470.256.02  Release Build  (dvs-builder@U16-I3-B03-4-3)  Thu Oct 10 12:02:01 UTC 2024\n",
    );
    let f = img.findings("gpu-driver-too-old");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(msg(&f[0]).contains("470.256.02"), "{}", msg(&f[0]));
    img.write("/sys/module/nvidia/version", "460.32.03\n");
    let f = img.findings("gpu-driver-too-old");
    assert!(msg(&f[0]).contains("460.32.03 (from `/sys/module/nvidia/version`)"));

    let img = Image::new();
    img.tensorflow("tensorflow", "2.15.0", &tf_build_info("12.2", "8"))
        .tf215_cuda_wheels();
    img.write("/usr/lib/x86_64-linux-gnu/libcuda.so.450.80.02", "\x7fELF");
    img.write("/usr/lib/x86_64-linux-gnu/libcuda.so.1", "\x7fELF");
    let f = img.findings("gpu-driver-too-old");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(
        msg(&f[0]).contains("libcuda.so.450.80.02"),
        "{}",
        msg(&f[0])
    );
    // CUDA's forward-compatibility package is not the driver.
    let img = Image::new();
    img.tensorflow("tensorflow", "2.15.0", &tf_build_info("12.2", "8"))
        .tf215_cuda_wheels();
    img.write(
        "/usr/local/cuda-12.2/compat/libcuda.so.535.104.05",
        "\x7fELF",
    );
    assert!(img.gpu_findings().is_empty(), "{:#?}", img.gpu_findings());
}

#[test]
fn cuda_libraries_found_nowhere() {
    // A CUDA 11.2 build (TensorFlow 2.11) with a driver and no CUDA
    // anywhere: libcudart.so.11.0 and libcudnn.so.8 are missing. 2.11 has
    // no `and-cuda` extra: the fix says what to install instead.
    let img = Image::new();
    img.driver("535.129.03")
        .tensorflow("tensorflow", "2.11.0", &tf_build_info("11.2", "8"));
    let f = img.findings("cuda-libraries-missing");
    assert_eq!(f.len(), 1, "{f:#?}");
    let m = msg(&f[0]);
    assert!(
        m.contains("`libcudart.so.11.0`") && m.contains("`libcudnn.so.8`") && m.contains("CPU"),
        "{m}"
    );
    assert!(fix(&f[0]).contains("CUDA 11.2") && fix(&f[0]).contains("LD_LIBRARY_PATH"));

    // A system CUDA 11.2 in a directory of /etc/ld.so.conf.d: found.
    img.write("/etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n");
    img.write(
        "/etc/ld.so.conf.d/cuda.conf",
        "/usr/local/cuda-11.2/lib64\n",
    );
    img.write("/usr/local/cuda-11.2/lib64/libcudart.so.11.0", "\x7fELF");
    let f = img.findings("cuda-libraries-missing");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(!msg(&f[0]).contains("libcudart") && msg(&f[0]).contains("`libcudnn.so.8`"));
    // cuDNN through LD_LIBRARY_PATH: nothing missing.
    img.write("/opt/cudnn/lib/libcudnn.so.8", "\x7fELF");
    let v = img.check(&["--env", "LD_LIBRARY_PATH=/opt/cudnn/lib"]);
    assert!(
        findings_of(&v, "cuda-libraries-missing").is_empty(),
        "{v:#}"
    );

    // TensorFlow 2.15 without its wheels: the fix installs its own pins.
    let img = Image::new();
    img.driver("535.129.03")
        .tensorflow("tensorflow", "2.15.0", &tf_build_info("12.2", "8"));
    let f = img.findings("cuda-libraries-missing");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(msg(&f[0]).contains("`libcudart.so.12`"), "{}", msg(&f[0]));
    assert_eq!(
        f[0]["fix"]["commands"][0],
        "/opt/py/bin/python3.11 -m pip install 'tensorflow[and-cuda]==2.15.0'"
    );
    // With them: quiet.
    img.tf215_cuda_wheels();
    assert!(img.gpu_findings().is_empty(), "{:#?}", img.gpu_findings());
}

#[test]
fn wheels_of_two_cuda_majors_and_a_wrong_cudnn() {
    // TensorFlow 2.14 (CUDA 11.8, cuDNN 8) with its cu11 wheels, and cu12
    // wheels beside them (from another package's install).
    let img = Image::new();
    img.driver("535.129.03")
        .tensorflow("tensorflow", "2.14.0", &tf_build_info("11.8", "8"))
        .nvidia(
            "nvidia-cuda-runtime-cu11",
            "11.8.89",
            "cuda_runtime",
            &["libcudart.so.11.0"],
        )
        .nvidia("nvidia-cudnn-cu11", "8.7.0.84", "cudnn", &["libcudnn.so.8"])
        .nvidia(
            "nvidia-cusolver-cu12",
            "11.5.2.141",
            "cusolver",
            &["libcusolver.so.11"],
        )
        .nvidia(
            "nvidia-nvjitlink-cu12",
            "12.2.140",
            "nvjitlink",
            &["libnvJitLink.so.12"],
        );
    let f = img.findings("cuda-libraries-mismatched");
    assert_eq!(f.len(), 1, "{f:#?}");
    let m = msg(&f[0]);
    assert!(
        m.contains("CUDA 11: nvidia-cuda-runtime-cu11, nvidia-cudnn-cu11"),
        "{m}"
    );
    assert!(
        m.contains("CUDA 12: nvidia-cusolver-cu12, nvidia-nvjitlink-cu12"),
        "{m}"
    );
    // TensorFlow uses CUDA 11: the fix removes the cu12 wheels only.
    assert_eq!(
        f[0]["fix"]["commands"][0],
        "/opt/py/bin/python3.11 -m pip uninstall -y nvidia-cusolver-cu12 nvidia-nvjitlink-cu12"
    );
    assert!(img.findings("cuda-libraries-missing").is_empty());

    // TensorFlow 2.15 (cuDNN 8.9) over a cuDNN 9 wheel: mismatched, and
    // not also "missing" for the same cause.
    let img = Image::new();
    img.driver("535.129.03")
        .tensorflow("tensorflow", "2.15.0", &tf_build_info("12.2", "8"))
        .cudart12("12.2.140")
        .nvidia("nvidia-cudnn-cu12", "9.1.0.70", "cudnn", &["libcudnn.so.9"]);
    let f = img.findings("cuda-libraries-mismatched");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(msg(&f[0]).contains("cuDNN 9.1.0.70"), "{}", msg(&f[0]));
    assert!(img.findings("cuda-libraries-missing").is_empty());

    // cuDNN 8.8 where 2.15 needs 8.9: older minor.
    let img = Image::new();
    img.driver("535.129.03")
        .tensorflow("tensorflow", "2.15.0", &tf_build_info("12.2", "8"))
        .cudart12("12.2.140")
        .nvidia(
            "nvidia-cudnn-cu12",
            "8.8.0.121",
            "cudnn",
            &["libcudnn.so.8"],
        );
    let f = img.findings("cuda-libraries-mismatched");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(msg(&f[0]).contains("8.9 or a later 8.x"), "{}", msg(&f[0]));
}

#[test]
fn tensorflow_and_torch_wanting_different_cudnn_majors() {
    // TensorFlow 2.18 (cuDNN 9.3) and torch 2.3.1 (pins cuDNN 8.9.2.26).
    let img = Image::new();
    img.driver("560.35.03")
        .tensorflow("tensorflow", "2.18.0", &tf_build_info("12.5.1", "9"))
        .dist(
            "torch",
            "2.3.1",
            &[
                "nvidia-cuda-runtime-cu12==12.1.105; platform_system == \"Linux\" and platform_machine == \"x86_64\"",
                "nvidia-cudnn-cu12==8.9.2.26; platform_system == \"Linux\" and platform_machine == \"x86_64\"",
            ],
        )
        .file("torch/__init__.py", "")
        .file(
            "torch/version.py",
            "from typing import Optional\n\n__all__ = ['__version__', 'debug', 'cuda', 'git_version', 'hip']\n__version__ = '2.3.1'\ndebug = False\ncuda: Optional[str] = '12.1'\ngit_version = '63d5e9221bedd1546b7d364b5ce4171547db12a9'\nhip: Optional[str] = None\n",
        )
        .cudart12("12.1.105")
        .nvidia("nvidia-cudnn-cu12", "9.3.0.75", "cudnn", &["libcudnn.so.9"]);
    let f = img.findings("cuda-libraries-mismatched");
    assert_eq!(f.len(), 1, "{f:#?}");
    let m = msg(&f[0]);
    assert!(
        m.contains("tensorflow 2.18.0 (cuDNN 9") && m.contains("torch 2.3.1 (cuDNN 8"),
        "{m}"
    );
    assert!(img.findings("gpu-driver-too-old").is_empty());
}

#[test]
fn a_cpu_build_on_a_gpu_machine_is_information() {
    let img = Image::new();
    img.driver("550.54.15")
        .tensorflow("tensorflow-cpu", "2.15.0", TF_CPU_BUILD_INFO);
    let f = img.findings("gpu-present-cpu-only-framework");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["severity"], "info");
    assert!(msg(&f[0]).contains("Tesla T4"), "{}", msg(&f[0]));
    assert_eq!(
        f[0]["fix"]["commands"],
        serde_json::json!([
            "/opt/py/bin/python3.11 -m pip uninstall -y tensorflow-cpu",
            "/opt/py/bin/python3.11 -m pip install 'tensorflow[and-cuda]==2.15.0'"
        ])
    );
    // A `+cpu` torch: the fix reinstalls it from a CUDA index this driver
    // runs (550.54 runs CUDA 12.8 by minor-version compatibility).
    let img = Image::new();
    img.driver("550.54.15")
        .dist("torch", "2.3.0+cpu", &[])
        .file("torch/__init__.py", "")
        .file(
            "torch/version.py",
            "__version__ = '2.3.0+cpu'\ndebug = False\ncuda: Optional[str] = None\nhip: Optional[str] = None\n",
        );
    let f = img.findings("gpu-present-cpu-only-framework");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(
        fix(&f[0]).contains(
            "--force-reinstall torch==2.3.0 --index-url https://download.pytorch.org/whl/cu128"
        ),
        "{}",
        fix(&f[0])
    );
}

#[test]
fn without_a_driver_every_gpu_rule_is_silent() {
    // The worst combinations, on an image with no driver file at all (an
    // image at rest, or a CPU machine): the driver is unknown, nothing is
    // said.
    let img = Image::new();
    img.tensorflow("tensorflow", "2.15.0", &tf_build_info("12.2", "8"))
        .tensorflow("tensorflow-cpu", "2.15.0", TF_CPU_BUILD_INFO)
        .nvidia(
            "nvidia-cudnn-cu11",
            "8.6.0.163",
            "cudnn",
            &["libcudnn.so.8"],
        )
        .nvidia("nvidia-cudnn-cu12", "9.1.0.70", "cudnn", &["libcudnn.so.9"]);
    assert!(img.gpu_findings().is_empty(), "{:#?}", img.gpu_findings());
    // And this machine's own Python (no NVIDIA driver here) is quiet too.
    let sb = Sandbox::new();
    let (v, _) = sb.json(&["check", "--python", python("3.11").to_str().unwrap()]);
    for r in GPU_RULES {
        assert!(findings_of(&v, r).is_empty(), "{r}: {v:#}");
    }
}

/// A snapshot of the image, as a support engineer receives it, with the
/// host's operating system set to `os`.
fn snapshot_as(img: &Image, os: &str) -> PathBuf {
    let (mut v, _) = img.sb.json(&["--root", img.root.to_str().unwrap(), "scan"]);
    v["host"]["os"] = Value::from(os);
    let p = img.sb.path(&format!("snap-{os}.json"));
    std::fs::write(&p, serde_json::to_vec(&v).unwrap()).unwrap();
    p
}

fn check_snapshot(img: &Image, snap: &Path) -> Value {
    img.sb
        .json(&["check", "--snapshot", snap.to_str().unwrap(), "--all"])
        .0
}

#[test]
fn gpu_tensorflow_where_no_cuda_build_exists() {
    // TensorFlow 2.20 with its `and-cuda` wheels on native Windows, where
    // GPU support ended with 2.10.
    let img = Image::new();
    img.tensorflow("tensorflow", "2.20.0", TF_CPU_BUILD_INFO)
        .nvidia("nvidia-cublas-cu12", "12.5.3.2", "cublas", &[]);
    let v = check_snapshot(&img, &snapshot_as(&img, "windows"));
    let f = findings_of(&v, "tensorflow-gpu-unsupported-platform");
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(f[0]["severity"], "warning");
    assert!(msg(&f[0]).contains("after 2.10") && msg(&f[0]).contains("nvidia-cublas-cu12"));
    assert!(fix(&f[0]).contains("pip uninstall -y nvidia-cublas-cu12"));
    // macOS: the same is a warning pointing at tensorflow-metal.
    let v = check_snapshot(&img, &snapshot_as(&img, "macos"));
    let f = findings_of(&v, "tensorflow-gpu-unsupported-platform");
    assert_eq!(f.len(), 1, "{v:#}");
    assert!(msg(&f[0]).contains("tensorflow-metal"));
    // tensorflow-metal installed, and nothing CUDA: quiet on macOS.
    let img = Image::new();
    img.tensorflow("tensorflow", "2.16.1", TF_CPU_BUILD_INFO)
        .dist("tensorflow-metal", "1.1.0", &[]);
    let v = check_snapshot(&img, &snapshot_as(&img, "macos"));
    assert!(findings_of(&v, "tensorflow-gpu-unsupported-platform").is_empty());
    // Plain TensorFlow 2.15 on Windows: information only (the Windows note
    // moved here from tensorflow-gpu-deprecated, said once).
    let v = check_snapshot(&img, &snapshot_as(&img, "windows"));
    let f = findings_of(&v, "tensorflow-gpu-unsupported-platform");
    assert_eq!(f.len(), 1, "{v:#}");
    assert_eq!(f[0]["severity"], "info");
    assert!(findings_of(&v, "tensorflow-gpu-deprecated").is_empty());
    // Linux: never.
    let v = img.check(&[]);
    assert!(findings_of(&v, "tensorflow-gpu-unsupported-platform").is_empty());
}

#[test]
fn explain_cites_the_sources_of_the_numbers() {
    let sb = Sandbox::new();
    for r in GPU_RULES {
        let out = sb.run(&["explain", r]);
        assert_eq!(out.status.code(), Some(0), "{r}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("http") || text.contains('#'), "{r}: {text}");
    }
    let out = sb.run(&["explain", "gpu-driver-too-old"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for src in [
        "cuda-toolkit-release-notes",
        "cuda-compatibility",
        "tensorflow.org/install/source",
    ] {
        assert!(text.contains(src), "{src}: {text}");
    }
}

#[test]
fn the_snapshot_carries_the_gpu_facts() {
    let img = Image::new();
    img.driver("535.129.03")
        .tensorflow("tensorflow", "2.15.0", &tf_build_info("12.2", "8"))
        .tf215_cuda_wheels();
    img.write(
        "/usr/local/cuda-12.2/version.json",
        "{\"cuda\": {\"name\": \"CUDA SDK\", \"version\": \"12.2.140\"}}",
    );
    img.write(
        "/usr/local/cuda-12.2/include/cudnn_version.h",
        "#define CUDNN_MAJOR 8\n#define CUDNN_MINOR 9\n#define CUDNN_PATCHLEVEL 4\n",
    );
    let (v, _) = img.sb.json(&["--root", img.root.to_str().unwrap(), "scan"]);
    let g = &v["gpu"];
    assert_eq!(g["driver"]["version"], "535.129.03", "{g:#}");
    assert_eq!(g["devices"][0], "Tesla T4");
    assert_eq!(g["toolkits"][0]["version"], "12.2.140");
    assert_eq!(g["toolkits"][0]["cudnn"], "8.9.4");
    let site = v["site_dirs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| !d["gpu_builds"].is_null())
        .expect("a site dir with gpu_builds");
    assert_eq!(site["gpu_builds"][0]["cuda"], "12.2");
    assert!(site["cuda_libs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l == "nvidia/cudnn/lib/libcudnn.so.8"));
    // `report` has a GPU section a support engineer can read.
    let out = img
        .sb
        .run(&["--root", img.root.to_str().unwrap(), "report"]);
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.contains("## GPU"), "{md}");
    assert!(md.contains("| NVIDIA driver | 535.129.03"), "{md}");
    assert!(md.contains("| tensorflow | CUDA 12.2, cuDNN 8"), "{md}");
}

#[test]
fn hostile_gpu_files_are_bounded_and_escaped() {
    // The driver's version file is a FIFO, ld.so.conf includes itself and a
    // glob of itself, a GPU directory holds a thousand entries, and the
    // build record carries a terminal escape and a workflow command in its
    // CUDA version.
    let img = Image::new();
    img.tensorflow(
        "tensorflow",
        "2.15.0",
        "build_info = {'cuda_version': '12.2\u{1b}]0;pwned\u{7}', 'cudnn_version': '::error::x', 'is_cuda_build': True}\n",
    );
    let fifo = img.root.join("proc/driver/nvidia/version");
    std::fs::create_dir_all(fifo.parent().unwrap()).unwrap();
    run_ok(std::process::Command::new("mkfifo").arg(&fifo));
    // Alone, the FIFO is refused (never opened for a blocking read).
    let (v, _) = img.sb.json(&["--root", img.root.to_str().unwrap(), "scan"]);
    assert!(v["gpu"]["driver"].is_null(), "{:#}", v["gpu"]);
    img.write("/sys/module/nvidia/version", "470.82.01\n");
    img.write(
        "/etc/ld.so.conf",
        "include /etc/ld.so.conf\ninclude /etc/ld.so.conf.d/*.conf\n/usr/local/cuda/lib64\n",
    );
    img.write("/etc/ld.so.conf.d/a.conf", "include /etc/ld.so.conf\n");
    for i in 0..1000 {
        img.write(
            &format!("/proc/driver/nvidia/gpus/0000:{i:04}.0/information"),
            "Model: \t\t Tesla \u{1b}[31mT4\n",
        );
    }
    let start = std::time::Instant::now();
    for format in ["text", "json", "github", "sarif", "junit"] {
        let out = img.sb.run(&[
            "--root",
            img.root.to_str().unwrap(),
            "check",
            "--python",
            "/opt/py/bin/python3.11",
            "--format",
            format,
        ]);
        assert!(
            matches!(out.status.code(), Some(0..=1)),
            "{format}: {out:?}"
        );
        let all = [out.stdout, out.stderr].concat();
        assert!(
            !all.contains(&0x1b),
            "{format}: a raw ESC reached the output"
        );
        assert!(
            !all.contains(&0x07),
            "{format}: a raw BEL reached the output"
        );
        if format == "github" {
            let text = String::from_utf8_lossy(&all);
            assert!(!text.lines().any(|l| l.starts_with("::error::x")), "{text}");
        }
    }
    let out = img
        .sb
        .run(&["--root", img.root.to_str().unwrap(), "report"]);
    assert!(!out.stdout.contains(&0x1b));
    assert!(start.elapsed() < std::time::Duration::from_secs(60));
    // The driver version came from /sys (the FIFO was refused, not read);
    // a CUDA version that is no version is not judged.
    let (v, _) = img.sb.json(&["--root", img.root.to_str().unwrap(), "scan"]);
    assert_eq!(v["gpu"]["driver"]["source"], "/sys/module/nvidia/version");
    assert_eq!(v["gpu"]["driver"]["version"], "470.82.01");
    assert!(v["gpu"]["devices"].as_array().unwrap().len() <= 64);
    assert!(img.findings("gpu-driver-too-old").is_empty());
}
