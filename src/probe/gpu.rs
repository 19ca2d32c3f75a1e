//! NVIDIA GPU facts, read from files only: the kernel driver's version,
//! the GPUs, the CUDA libraries the dynamic loader would find, system CUDA
//! toolkits, and what each installed framework was built with. Nothing is
//! loaded or run (no `nvidia-smi`, no `import tensorflow`), so a broken
//! driver or a framework that crashes on import cannot stop the check.
//! Under `--root` everything is read inside the root; a driver no file
//! shows is unknown, not missing.

use super::Ctx;
use crate::fs::display;
use crate::snapshot::{CudaToolkit, Gpu, GpuBuild, GpuDriver, Module};
use regex::Regex;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Small files only: version files, build records.
const MAX_FILE: u64 = 64 * 1024;
/// Library directories examined, and names kept per directory.
const MAX_DIRS: usize = 64;
const MAX_LIBS: usize = 256;

/// The libraries whose presence decides whether a CUDA build can start on
/// the GPU: the runtime, cuDNN and cuBLAS (by versioned soname).
const CUDA_LIB_PREFIXES: [&str; 3] = ["libcudart.so.", "libcudnn.so.", "libcublas.so."];

/// Where distributions put the driver's user-space `libcuda.so.<version>`.
const DRIVER_LIB_DIRS: [&str; 5] = [
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/usr/local/nvidia/lib64",
];

/// The loader's default directories (after `LD_LIBRARY_PATH` and the
/// `ld.so.cache` built from `/etc/ld.so.conf`).
const DEFAULT_LIB_DIRS: [&str; 6] = [
    "/lib",
    "/usr/lib",
    "/lib64",
    "/usr/lib64",
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
];

pub fn host(ctx: &Ctx) -> Gpu {
    let driver = driver(ctx);
    let mut gpu = Gpu {
        devices: devices(ctx),
        ..Default::default()
    };
    // Libraries and toolkits matter only where a driver could use them:
    // a machine without one is not read further (every GPU rule is silent).
    if driver.is_some() || !gpu.devices.is_empty() {
        gpu.system_libs = system_libs(ctx);
        gpu.toolkits = toolkits(ctx);
    }
    gpu.driver = driver;
    gpu
}

fn read(ctx: &Ctx, p: &str) -> Option<String> {
    ctx.fs
        .read_text_limited(Path::new(p), MAX_FILE)
        .ok()
        .map(|(s, _)| s)
}

/// The driver version: `/sys/module/nvidia/version` (bare), then
/// `/proc/driver/nvidia/version` (proprietary and open module wordings),
/// then the version in `libcuda.so.<version>` where the driver's libraries
/// are injected (containers), then WSL2's `/usr/lib/wsl/lib/libcuda.so.1`
/// (present, version unknown). `/usr/local/cuda*/compat` holds the
/// forward-compatibility package, not the driver, and is not read.
fn driver(ctx: &Ctx) -> Option<GpuDriver> {
    let p = "/sys/module/nvidia/version";
    if let Some(v) = read(ctx, p).and_then(|s| bare_version(s.trim())) {
        return Some(GpuDriver {
            version: Some(v),
            source: p.into(),
        });
    }
    let p = "/proc/driver/nvidia/version";
    if let Some(v) = read(ctx, p).and_then(|s| proc_version(&s)) {
        return Some(GpuDriver {
            version: Some(v),
            source: p.into(),
        });
    }
    for dir in DRIVER_LIB_DIRS {
        let Ok(names) = ctx.fs.read_dir_names(Path::new(dir)) else {
            continue;
        };
        let found = names.iter().filter_map(|n| n.to_str()).find_map(|n| {
            n.strip_prefix("libcuda.so.")
                .and_then(|v| bare_version(v).filter(|v| v.contains('.') && v != "1.1"))
                .map(|v| (n.to_string(), v))
        });
        if let Some((name, v)) = found {
            return Some(GpuDriver {
                version: Some(v),
                source: format!("{dir}/{name}"),
            });
        }
    }
    let wsl = "/usr/lib/wsl/lib/libcuda.so.1";
    if ctx.fs.exists(Path::new(wsl)) {
        return Some(GpuDriver {
            version: None,
            source: wsl.into(),
        });
    }
    None
}

/// `535.129.03`: digits and dots only, two to four parts.
fn bare_version(s: &str) -> Option<String> {
    let parts: Vec<&str> = s.split('.').collect();
    let ok = (2..=4).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 6 && p.bytes().all(|b| b.is_ascii_digit()));
    ok.then(|| s.to_string())
}

/// `NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.129.03  <date>` or
/// `NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  565.57.01
/// Release Build  (...)  <date>`: fields are separated by two spaces and
/// the version is the second (as uv reads it). Jetson's L4T release
/// (`for aarch64  35.3.1`) is no desktop driver version and is not taken.
fn proc_version(s: &str) -> Option<String> {
    let line = s.lines().find(|l| l.starts_with("NVRM version:"))?;
    if line.contains("for aarch64") {
        return None;
    }
    line.split("  ")
        .map(str::trim)
        .nth(1)
        .and_then(bare_version)
}

fn devices(ctx: &Ctx) -> Vec<String> {
    let dir = Path::new("/proc/driver/nvidia/gpus");
    let Ok(names) = ctx.fs.read_dir_names(dir) else {
        return Vec::new();
    };
    names
        .iter()
        .take(MAX_DIRS)
        .map(|n| {
            let info = dir.join(n).join("information");
            ctx.fs
                .read_text_limited(&info, MAX_FILE)
                .ok()
                .and_then(|(s, _)| {
                    s.lines()
                        .find_map(|l| l.strip_prefix("Model:"))
                        .map(|m| m.trim().to_string())
                })
                .unwrap_or_else(|| n.to_string_lossy().into_owned())
        })
        .collect()
}

/// The directories the dynamic loader searches, in its order:
/// `LD_LIBRARY_PATH`, `/etc/ld.so.conf` with its `include`s, then the
/// defaults.
fn loader_dirs(ctx: &Ctx) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(v) = ctx.env.get("LD_LIBRARY_PATH") {
        dirs.extend(
            v.split(':')
                .filter(|d| d.starts_with('/'))
                .map(PathBuf::from),
        );
    }
    let mut seen_conf = BTreeSet::new();
    ld_so_conf(
        ctx,
        Path::new("/etc/ld.so.conf"),
        &mut dirs,
        &mut seen_conf,
        0,
    );
    dirs.extend(DEFAULT_LIB_DIRS.iter().map(PathBuf::from));
    let mut seen = BTreeSet::new();
    dirs.retain(|d| seen.insert(d.clone()));
    dirs.truncate(MAX_DIRS);
    dirs
}

fn ld_so_conf(
    ctx: &Ctx,
    file: &Path,
    dirs: &mut Vec<PathBuf>,
    seen: &mut BTreeSet<PathBuf>,
    depth: usize,
) {
    if depth > 4 || seen.len() > MAX_DIRS || !seen.insert(file.to_path_buf()) {
        return;
    }
    let Ok((text, _)) = ctx.fs.read_text_limited(file, MAX_FILE) else {
        return;
    };
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if let Some(pattern) = line.strip_prefix("include") {
            let pattern = pattern.trim();
            let base = file.parent().unwrap_or(Path::new("/"));
            let pattern = if pattern.starts_with('/') {
                PathBuf::from(pattern)
            } else {
                base.join(pattern)
            };
            for f in glob_files(ctx, &pattern) {
                ld_so_conf(ctx, &f, dirs, seen, depth + 1);
            }
        } else if line.starts_with('/') {
            dirs.push(PathBuf::from(line));
        }
    }
}

/// `/etc/ld.so.conf.d/*.conf`: a `*` in the last component only, as every
/// distribution writes it.
fn glob_files(ctx: &Ctx, pattern: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(name)) = (
        pattern.parent(),
        pattern.file_name().and_then(|n| n.to_str()),
    ) else {
        return Vec::new();
    };
    let Some((pre, post)) = name.split_once('*') else {
        return vec![pattern.to_path_buf()];
    };
    let Ok(names) = ctx.fs.read_dir_names(dir) else {
        return Vec::new();
    };
    names
        .iter()
        .filter_map(|n| n.to_str())
        .filter(|n| n.starts_with(pre) && n.ends_with(post) && n.len() >= pre.len() + post.len())
        .take(MAX_DIRS)
        .map(|n| dir.join(n))
        .collect()
}

fn cuda_lib_names(names: &[std::ffi::OsString]) -> impl Iterator<Item = &str> {
    names
        .iter()
        .filter_map(|n| n.to_str())
        .filter(|n| CUDA_LIB_PREFIXES.iter().any(|p| n.starts_with(p)))
        .take(MAX_LIBS)
}

fn system_libs(ctx: &Ctx) -> Vec<String> {
    let mut out = Vec::new();
    for dir in loader_dirs(ctx) {
        let Ok(names) = ctx.fs.read_dir_names(&dir) else {
            continue;
        };
        out.extend(cuda_lib_names(&names).map(|n| display(&dir.join(n))));
    }
    out
}

/// `/usr/local/cuda*`: `version.json` (`"cuda": {"version": "12.2.140"}`)
/// or `version.txt` (`CUDA Version 10.1.243`), and cuDNN's
/// `include/cudnn_version.h` (or `cudnn.h` before cuDNN 8) there or in
/// `/usr/include`.
fn toolkits(ctx: &Ctx) -> Vec<CudaToolkit> {
    let Ok(names) = ctx.fs.read_dir_names(Path::new("/usr/local")) else {
        return Vec::new();
    };
    let system_cudnn = cudnn_header(ctx, Path::new("/usr/include"));
    names
        .iter()
        .filter_map(|n| n.to_str())
        .filter(|n| *n == "cuda" || n.starts_with("cuda-"))
        .take(MAX_DIRS)
        .map(|n| {
            let dir = Path::new("/usr/local").join(n);
            let version = ctx
                .fs
                .read_text_limited(&dir.join("version.json"), MAX_FILE)
                .ok()
                .and_then(|(s, _)| {
                    serde_json::from_str::<serde_json::Value>(&s)
                        .ok()?
                        .pointer("/cuda/version")?
                        .as_str()
                        .map(str::to_string)
                })
                .or_else(|| {
                    let (s, _) = ctx
                        .fs
                        .read_text_limited(&dir.join("version.txt"), MAX_FILE)
                        .ok()?;
                    s.split_whitespace()
                        .skip_while(|w| *w != "Version")
                        .nth(1)
                        .map(str::to_string)
                })
                .filter(|v| v.len() <= 32);
            CudaToolkit {
                path: display(&dir),
                version,
                cudnn: cudnn_header(ctx, &dir.join("include")).or_else(|| system_cudnn.clone()),
            }
        })
        .collect()
}

fn cudnn_header(ctx: &Ctx, include: &Path) -> Option<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"(?m)^#define CUDNN_(MAJOR|MINOR|PATCHLEVEL)\s+(\d{1,4})\s*$").unwrap()
    });
    ["cudnn_version.h", "cudnn.h"].iter().find_map(|f| {
        let (s, _) = ctx.fs.read_text_limited(&include.join(f), MAX_FILE).ok()?;
        let mut parts = [None, None, None];
        for c in re.captures_iter(&s) {
            let i = match &c[1] {
                "MAJOR" => 0,
                "MINOR" => 1,
                _ => 2,
            };
            parts[i] = Some(c[2].to_string());
        }
        let major = parts[0].clone()?;
        Some(
            std::iter::once(major)
                .chain(parts[1..].iter().flatten().cloned())
                .collect::<Vec<_>>()
                .join("."),
        )
    })
}

/// What the frameworks in site directory `dir` were built with, and the
/// CUDA libraries shipped there.
pub fn site(ctx: &Ctx, dir: &Path, modules: &[Module]) -> (Vec<GpuBuild>, Vec<String>) {
    let has = |name: &str| modules.iter().any(|m| m.name == name);
    let mut builds = Vec::new();
    if has("tensorflow") {
        let p = dir.join("tensorflow/python/platform/build_info.py");
        if let Ok((s, _)) = ctx.fs.read_text_limited(&p, MAX_FILE) {
            builds.push(tensorflow_build(&s, &display(&p)));
        }
    }
    let mut libs = Vec::new();
    if has("torch") {
        let p = dir.join("torch/version.py");
        if let Ok((s, _)) = ctx.fs.read_text_limited(&p, MAX_FILE) {
            builds.push(torch_build(&s, &display(&p)));
        }
        if let Ok(names) = ctx.fs.read_dir_names(&dir.join("torch/lib")) {
            libs.extend(cuda_lib_names(&names).map(|n| format!("torch/lib/{n}")));
        }
    }
    if has("nvidia") {
        if let Ok(components) = ctx.fs.read_dir_names(&dir.join("nvidia")) {
            for c in components.iter().filter_map(|c| c.to_str()).take(MAX_DIRS) {
                let lib = dir.join("nvidia").join(c).join("lib");
                if let Ok(names) = ctx.fs.read_dir_names(&lib) {
                    libs.extend(cuda_lib_names(&names).map(|n| format!("nvidia/{c}/lib/{n}")));
                }
            }
        }
    }
    libs.truncate(MAX_LIBS);
    (builds, libs)
}

/// A string value of `key` in any of the forms TensorFlow has written:
/// `('cuda_version', '11.2')` (OrderedDict items), `'cuda_version': '11.2'`
/// (dict), `cuda_version_number = '10.1'` (module level, before 2.2).
fn py_value(s: &str, keys: &[&str]) -> Option<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(
            r#"['"]?([a-z_]{1,40})['"]?\s*(?::\s*Optional\[str\]\s*)?[,:=]\s*(?:['"]([^'"\n]{0,64})['"]|(True|False|None))"#,
        )
        .unwrap()
    });
    re.captures_iter(s)
        .find(|c| keys.contains(&&c[1]))
        .map(|c| {
            c.get(2)
                .or_else(|| c.get(3))
                .map_or(String::new(), |m| m.as_str().to_string())
        })
}

fn tensorflow_build(s: &str, path: &str) -> GpuBuild {
    let cuda_build = py_value(s, &["is_cuda_build"]).map(|v| v == "True");
    let rocm = py_value(s, &["is_rocm_build"]).is_some_and(|v| v == "True");
    let clean = |v: Option<String>| v.filter(|v| !v.is_empty() && v != "None" && v != "False");
    let cuda = clean(py_value(s, &["cuda_version", "cuda_version_number"]));
    GpuBuild {
        framework: "tensorflow".into(),
        path: path.into(),
        // A build that says it is no CUDA build has no CUDA, whatever
        // version string the template left.
        cuda: if cuda_build == Some(false) || rocm {
            None
        } else {
            cuda
        },
        cudnn: clean(py_value(s, &["cudnn_version", "cudnn_version_number"])),
        rocm,
        version: None,
    }
}

fn torch_build(s: &str, path: &str) -> GpuBuild {
    let clean = |v: Option<String>| v.filter(|v| !v.is_empty() && v != "None");
    GpuBuild {
        framework: "torch".into(),
        path: path.into(),
        cuda: clean(py_value(s, &["cuda"])),
        cudnn: None,
        rocm: clean(py_value(s, &["hip"])).is_some(),
        version: clean(py_value(s, &["__version__"])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_versions_in_every_wording() {
        assert_eq!(
            proc_version("NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.129.03  Thu Oct 19 18:56:32 UTC 2023\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n"),
            Some("535.129.03".into())
        );
        assert_eq!(
            proc_version("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  565.57.01  Release Build  (dvs-builder@U16-I3-B03-4-3)  Thu Oct 10 12:02:01 UTC 2024\n"),
            Some("565.57.01".into())
        );
        assert_eq!(
            proc_version(
                "NVRM version: NVIDIA UNIX Open Kernel Module for aarch64  35.3.1  Release Build\n"
            ),
            None
        );
        assert_eq!(bare_version("550.144.03"), Some("550.144.03".into()));
        assert_eq!(bare_version("1"), None);
        assert_eq!(bare_version("5x.1"), None);
    }

    #[test]
    fn build_files_of_real_releases() {
        let tf = "# Copyright 2020 The TensorFlow Authors.\nimport collections\n\nbuild_info = collections.OrderedDict([('cpu_compiler', '/dt9/usr/bin/gcc'), ('cuda_compute_capabilities', ['sm_35', 'sm_50', 'sm_60', 'sm_70', 'sm_75', 'compute_80']), ('cuda_version', '11.2'), ('cudnn_version', '8'), ('is_cuda_build', True), ('is_rocm_build', False), ('is_tensorrt_build', True)])\n";
        let b = tensorflow_build(tf, "x");
        assert_eq!(
            (b.cuda.as_deref(), b.cudnn.as_deref(), b.rocm),
            (Some("11.2"), Some("8"), false)
        );
        // 2.2/2.3: a plain dict.
        let tf = "build_info = {'cuda_version': '10.1', 'cudnn_version': '7', 'is_cuda_build': True, 'is_rocm_build': False}\n";
        assert_eq!(tensorflow_build(tf, "x").cuda.as_deref(), Some("10.1"));
        // CPU build (tensorflow-cpu, aarch64).
        let tf = "build_info = collections.OrderedDict([('cpu_compiler', 'clang 18'), ('is_cuda_build', False), ('is_rocm_build', False), ('is_tensorrt_build', False)])\n";
        assert_eq!(tensorflow_build(tf, "x").cuda, None);
        // Before 2.2: module-level names.
        let tf = "is_cuda_build = True\ncuda_version_number = '10.0'\ncudnn_version_number = '7'\n";
        assert_eq!(tensorflow_build(tf, "x").cuda.as_deref(), Some("10.0"));
        let t = "__version__ = '2.2.1+cu121'\ndebug = False\ncuda: Optional[str] = '12.1'\ngit_version = '6c8c5ad5eaf47a62fafbb4a2747198cbffbf1ff0'\nhip: Optional[str] = None\n";
        let b = torch_build(t, "x");
        assert_eq!(
            (b.cuda.as_deref(), b.version.as_deref(), b.rocm),
            (Some("12.1"), Some("2.2.1+cu121"), false)
        );
        let t = "__version__ = '2.3.0+cpu'\ndebug = False\ncuda: Optional[str] = None\nhip: Optional[str] = None\n";
        assert_eq!(torch_build(t, "x").cuda, None);
        let t = "__version__ = '2.5.1+rocm6.2'\ncuda: Optional[str] = None\nhip: Optional[str] = '6.2.41133'\n";
        assert!(torch_build(t, "x").rocm);
    }
}
