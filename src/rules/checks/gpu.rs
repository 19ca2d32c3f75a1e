//! GPU readiness: whether the TensorFlow and PyTorch of an environment can
//! use the machine's NVIDIA GPU, judged from files (the driver's version
//! file, each framework's own build record, the CUDA libraries where the
//! loader and the framework look). Every rule here needs a driver or a GPU
//! the files show, so a machine without one hears nothing; the platform
//! rule alone speaks of Windows and macOS, where no CUDA build works.

use super::environment::describe;
use super::packages::python_cmd;
use crate::knowledge::{self, numbers, series_of, version};
use crate::rules::{CheckCtx, Fix, Hit, Severity};
use crate::shell::Cmd;
use crate::snapshot::{Distribution, GpuBuild, Interpreter};
use pep440_rs::Version;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Tensorflow,
    Torch,
}

/// An installed framework and what it was built with.
struct Framework<'a> {
    kind: Kind,
    dist: &'a Distribution,
    version: Option<Version>,
    /// `12.2`; None for a CPU or ROCm build, or when nothing says.
    cuda: Option<String>,
    /// The cuDNN major it loads (`8`).
    cudnn: Option<String>,
    /// Where the CUDA and cuDNN versions come from.
    source: String,
    /// Known to be a CPU-only build.
    cpu_only: bool,
}

impl Framework<'_> {
    /// The version without its local label (`2.3.0` of `2.3.0+cpu`).
    fn base_version(&self) -> &str {
        let v = self.dist.version.as_deref().unwrap_or("");
        v.split('+').next().unwrap_or(v)
    }

    fn label(&self) -> String {
        format!(
            "{} {}",
            match self.kind {
                Kind::Tensorflow => self.dist.name.as_deref().unwrap_or("tensorflow"),
                Kind::Torch => "torch",
            },
            self.dist.version.as_deref().unwrap_or("?")
        )
    }
}

type Env<'a> = crate::rules::model::Model<'a>;

fn env<'a>(ctx: &CheckCtx<'a>, it: &Interpreter) -> &'a Env<'a> {
    ctx.model(it)
}

fn build_in<'a>(e: &Env<'a>, idx: usize, framework: &str) -> Option<&'a GpuBuild> {
    e.layers
        .get(idx)?
        .dir
        .gpu_builds
        .iter()
        .find(|b| b.framework == framework)
}

fn major(v: &str) -> Option<String> {
    numbers(v).map(|n| n[0].to_string())
}

fn frameworks<'a>(ctx: &CheckCtx, e: &Env<'a>) -> Vec<Framework<'a>> {
    let mut out = Vec::new();
    let linux_x86 = ctx.snapshot.host.os == "linux" && ctx.snapshot.host.arch == "x86_64";
    // Several variants overwrite each other's files (tensorflow-variants-
    // mixed says so): the one pip sees is judged.
    if let Some((d, idx)) = e.tensorflow(&[]) {
        let v = d.version.as_deref().and_then(version);
        let name = d.normalized.as_deref().unwrap_or("");
        let f = match build_in(e, idx, "tensorflow") {
            Some(b) => Some(Framework {
                kind: Kind::Tensorflow,
                dist: d,
                version: v,
                cuda: b.cuda.clone(),
                cudnn: b.cudnn.as_deref().and_then(major),
                source: b.path.clone(),
                cpu_only: b.cuda.is_none() && !b.rocm,
            }),
            // No build record: the tested configuration of its release, for
            // the variant that is a CUDA build on Linux x86_64.
            None if name == "tensorflow" && linux_x86 => {
                let row = v
                    .as_ref()
                    .and_then(|v| knowledge::gpu().tensorflow_cuda(&series_of(v)));
                row.map(|r| Framework {
                    kind: Kind::Tensorflow,
                    dist: d,
                    version: v.clone(),
                    cuda: Some(r.cuda.clone()),
                    cudnn: major(&r.cudnn),
                    source: "TensorFlow's tested build configurations".into(),
                    cpu_only: false,
                })
            }
            None if name.starts_with("tensorflow-cpu") || name == "tf-nightly-cpu" => {
                Some(Framework {
                    kind: Kind::Tensorflow,
                    dist: d,
                    version: v,
                    cuda: None,
                    cudnn: None,
                    source: format!("the `{name}` package, CPU-only"),
                    cpu_only: true,
                })
            }
            None => None,
        };
        out.extend(f);
    }
    if let Some(&(d, idx)) = e.installed.get("torch") {
        let v = d.version.as_deref().and_then(version);
        let local = d
            .version
            .as_deref()
            .and_then(|v| v.split_once('+'))
            .map(|(_, l)| l.to_string());
        let f = match build_in(e, idx, "torch") {
            Some(b) => Some(Framework {
                kind: Kind::Torch,
                dist: d,
                version: v,
                cuda: b.cuda.clone(),
                cudnn: torch_cudnn(d),
                source: b.path.clone(),
                cpu_only: b.cuda.is_none() && !b.rocm,
            }),
            None => match local.as_deref() {
                Some("cpu") => Some(Framework {
                    kind: Kind::Torch,
                    dist: d,
                    version: v,
                    cuda: None,
                    cudnn: None,
                    source: "its version's `+cpu` label".into(),
                    cpu_only: true,
                }),
                Some(l) if l.starts_with("cu") && l.len() >= 5 => {
                    let digits = &l[2..];
                    let cuda = format!(
                        "{}.{}",
                        &digits[..digits.len() - 1],
                        &digits[digits.len() - 1..]
                    );
                    Some(Framework {
                        kind: Kind::Torch,
                        dist: d,
                        version: v,
                        cuda: Some(cuda),
                        cudnn: torch_cudnn(d),
                        source: format!("its version's `+{l}` label"),
                        cpu_only: false,
                    })
                }
                _ => None,
            },
        };
        out.extend(f);
    }
    out
}

/// The cuDNN major torch pins (`nvidia-cudnn-cu12==9.1.0.70`).
fn torch_cudnn(d: &Distribution) -> Option<String> {
    d.requirements().iter().flatten().find_map(|q| {
        let n: &str = q.name.as_ref();
        if !n.starts_with("nvidia-cudnn") {
            return None;
        }
        let s = match &q.version_or_url {
            Some(pep508_rs::VersionOrUrl::VersionSpecifier(s)) => s.to_string(),
            _ => return None,
        };
        let v = s.trim_start_matches(|c: char| !c.is_ascii_digit());
        major(
            v.split(|c: char| !(c.is_ascii_digit() || c == '.'))
                .next()?,
        )
    })
}

/// The runtime's soname: `libcudart.so.10.1` (10.x carries the minor),
/// `libcudart.so.11.0` (every 11.x), `libcudart.so.12`.
fn cudart_soname(cuda: &str) -> Option<String> {
    let n = numbers(cuda)?;
    Some(match n[0] {
        ..=10 => format!("libcudart.so.{}.{}", n[0], n.get(1).copied().unwrap_or(0)),
        11 => "libcudart.so.11.0".into(),
        m => format!("libcudart.so.{m}"),
    })
}

/// The driver's version as numbers, with how the message names it.
fn driver(ctx: &CheckCtx) -> Option<(Option<Vec<u64>>, String)> {
    let g = &ctx.snapshot.gpu;
    match &g.driver {
        Some(d) => Some((
            d.version.as_deref().and_then(numbers),
            match &d.version {
                Some(v) => format!("{v} (from `{}`)", d.source),
                None => format!("present (`{}`), version unknown", d.source),
            },
        )),
        None if !g.devices.is_empty() => Some((None, "present, version unknown".into())),
        None => None,
    }
}

fn linux(ctx: &CheckCtx) -> bool {
    ctx.snapshot.host.os == "linux"
}

/// The command that installs what `f` needs, for its exact version.
fn reinstall_cmd(py: &str, f: &Framework, with_cuda: bool) -> Option<String> {
    let v = f.dist.version.as_deref()?;
    match f.kind {
        Kind::Tensorflow => {
            let from = version(&knowledge::gpu().and_cuda_from)?;
            let base = v.split('+').next().unwrap_or(v);
            (with_cuda && f.version.as_ref().is_some_and(|x| *x >= from)).then(|| {
                Cmd::new(py)
                    .args(["-m", "pip", "install"])
                    .arg(format!("tensorflow[and-cuda]=={base}"))
                    .build()
            })
        }
        Kind::Torch => {
            let local = v.split_once('+').map(|(_, l)| l);
            let mut c = Cmd::new(py)
                .args(["-m", "pip", "install"])
                .arg(format!("torch=={v}"));
            if let Some(l) = local.filter(|l| l.starts_with("cu")) {
                c = c
                    .arg("--index-url")
                    .arg(format!("https://download.pytorch.org/whl/{l}"));
            }
            Some(c.build())
        }
    }
}

// ---------------------------------------------------------------------------

pub fn gpu_driver_too_old(ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    let Some((Some(drv), drv_text)) = driver(ctx).filter(|_| linux(ctx)) else {
        return Vec::new();
    };
    let e = env(ctx, it);
    let g = knowledge::gpu();
    let py = python_cmd(it);
    let mut out = Vec::new();
    for f in frameworks(ctx, e) {
        let Some(cuda) = &f.cuda else { continue };
        let Some((floor, own)) = g.driver_floor(cuda) else {
            continue;
        };
        if numbers(&floor).is_none_or(|fl| drv >= fl) {
            continue;
        }
        let own = own
            .filter(|o| *o != floor)
            .map(|o| format!("; {o} for the CUDA {cuda} toolkit itself"))
            .unwrap_or_default();
        let (way, cmd) = match f.kind {
            Kind::Tensorflow => match g.newest_tensorflow_for(&drv) {
                Some((series, row)) => {
                    let spec = if version(series)
                        .zip(version(&g.and_cuda_from))
                        .is_some_and(|(s, from)| s >= from)
                    {
                        format!("tensorflow[and-cuda]=={series}.*")
                    } else {
                        format!("tensorflow=={series}.*")
                    };
                    (
                        format!(", or install TensorFlow {series} (CUDA {}), the newest release whose CUDA this driver runs", row.cuda),
                        Some(Cmd::new(&py).args(["-m", "pip", "install"]).arg(spec).build()),
                    )
                }
                None => (String::new(), None),
            },
            Kind::Torch => match g.newest_torch_for(&drv) {
                Some(b) => (
                    format!(
                        ", or install PyTorch's CUDA {} build ({}), which this driver runs",
                        b.cuda, b.tag
                    ),
                    Some(
                        Cmd::new(&py)
                            .args([
                                "-m",
                                "pip",
                                "install",
                                "--force-reinstall",
                                "torch",
                                "--index-url",
                            ])
                            .arg(format!("https://download.pytorch.org/whl/{}", b.tag))
                            .build(),
                    ),
                ),
                None => (String::new(), None),
            },
        };
        out.push(Hit {
            message: format!(
                "{} in {} was built with CUDA {cuda} (`{}`), which needs NVIDIA driver {floor} or newer{own}; this machine's driver is {drv_text}: the GPU is unusable (\"CUDA driver version is insufficient for CUDA runtime version\") and it runs on the CPU",
                f.label(),
                describe(it),
                f.source,
            ),
            paths: vec![f.dist.path.clone(), f.source.clone()],
            fix: Fix::run(
                format!("Install NVIDIA driver {floor} or newer{way}"),
                cmd.into_iter().collect(),
            ),
            ..Default::default()
        });
    }
    out
}

/// Every CUDA library file the environment and the loader offer, by file
/// name, with where it is.
fn libraries(ctx: &CheckCtx, e: &Env) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for l in &e.layers {
        for rel in &l.dir.cuda_libs {
            let name = rel.rsplit('/').next().unwrap_or(rel).to_string();
            out.entry(name)
                .or_insert_with(|| format!("{}/{rel}", l.dir.path));
        }
    }
    for p in &ctx.snapshot.gpu.system_libs {
        let name = p.rsplit('/').next().unwrap_or(p).to_string();
        out.entry(name).or_insert_with(|| p.clone());
    }
    out
}

fn found(libs: &BTreeMap<String, String>, soname: &str) -> bool {
    libs.keys()
        .any(|n| n == soname || n.strip_prefix(soname).is_some_and(|r| r.starts_with('.')))
}

pub fn cuda_libraries_missing(ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    if !linux(ctx) || driver(ctx).is_none() {
        return Vec::new();
    }
    // conda's own CUDA packages live in the env's `lib`, which the
    // framework reaches by RPATH: not listed here, so not judged.
    if it.conda.as_ref().is_some_and(|c| {
        c.records
            .iter()
            .any(|r| r.name == "cudatoolkit" || r.name.starts_with("cuda-") || r.name == "cudnn")
    }) {
        return Vec::new();
    }
    let e = env(ctx, it);
    let libs = libraries(ctx, e);
    let py = python_cmd(it);
    let mut out = Vec::new();
    for f in frameworks(ctx, e) {
        let Some(cuda) = &f.cuda else { continue };
        let mut missing = Vec::new();
        if let Some(s) = cudart_soname(cuda).filter(|s| !found(&libs, s)) {
            missing.push(s);
        }
        if let Some(m) = &f.cudnn {
            let s = format!("libcudnn.so.{m}");
            // A cuDNN wheel of another major is a mismatch, said by its
            // own rule.
            let wheel = e.installed.keys().any(|n| n.starts_with("nvidia-cudnn-cu"));
            if !found(&libs, &s) && !wheel {
                missing.push(s);
            }
        }
        if missing.is_empty() {
            continue;
        }
        let cmd = reinstall_cmd(&py, &f, true);
        let text = match (f.kind, &cmd) {
            (Kind::Tensorflow, Some(_)) => "Install the NVIDIA libraries this TensorFlow was built with, from NVIDIA's wheels (its `and-cuda` extra)".to_string(),
            (Kind::Tensorflow, None) => format!(
                "Install CUDA {cuda} and cuDNN {} and add their `lib64` directory to `LD_LIBRARY_PATH`, or upgrade to TensorFlow {} or later and install `tensorflow[and-cuda]`",
                f.cudnn.as_deref().unwrap_or("?"),
                knowledge::gpu().and_cuda_from
            ),
            (Kind::Torch, _) => "Reinstall this PyTorch so pip installs the NVIDIA libraries it depends on".to_string(),
        };
        out.push(Hit {
            message: format!(
                "{} in {} is a CUDA {cuda} build (`{}`) and an NVIDIA driver is present, but {} found nowhere it looks (NVIDIA's wheels in this environment, `LD_LIBRARY_PATH`, `/etc/ld.so.conf`, the system library directories): it will run on the CPU (\"Cannot dlopen some GPU libraries\")",
                f.label(),
                describe(it),
                f.source,
                match missing.as_slice() {
                    [one] => format!("`{one}` is"),
                    many => format!("{} are", many.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(" and ")),
                }
            ),
            paths: vec![f.dist.path.clone()],
            fix: Fix::run(text, cmd.into_iter().collect()),
            ..Default::default()
        });
    }
    out
}

/// `nvidia-cublas-cu12` -> `12`.
fn wheel_major(normalized: &str) -> Option<&str> {
    let (_, m) = normalized.rsplit_once("-cu")?;
    (m.len() == 2 && m.bytes().all(|b| b.is_ascii_digit())).then_some(m)
}

pub fn cuda_libraries_mismatched(ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    if !linux(ctx) || driver(ctx).is_none() {
        return Vec::new();
    }
    let e = env(ctx, it);
    let fws = frameworks(ctx, e);
    let py = python_cmd(it);
    let mut out = Vec::new();
    // NVIDIA wheels of two CUDA majors.
    let mut by_major: BTreeMap<&str, Vec<&Distribution>> = BTreeMap::new();
    for (n, (d, _)) in &e.installed {
        if n.starts_with("nvidia-") {
            if let Some(m) = wheel_major(n) {
                by_major.entry(m).or_default().push(d);
            }
        }
    }
    if by_major.len() > 1 {
        let wanted: BTreeSet<String> = fws
            .iter()
            .filter_map(|f| f.cuda.as_deref().and_then(major))
            .collect();
        let list = |ds: &[&Distribution]| {
            ds.iter()
                .map(|d| d.normalized.clone().unwrap_or_default())
                .collect::<Vec<_>>()
        };
        let majors: Vec<String> = by_major
            .iter()
            .map(|(m, ds)| format!("CUDA {m}: {}", list(ds).join(", ")))
            .collect();
        let unused: Vec<String> = by_major
            .iter()
            .filter(|(m, _)| !wanted.is_empty() && !wanted.contains(**m))
            .flat_map(|(_, ds)| list(ds))
            .collect();
        let fix = if unused.is_empty() || wanted.len() != 1 {
            Fix::from("Keep the NVIDIA wheels of the CUDA major your frameworks were built with and uninstall the others (or give each framework its own environment)")
        } else {
            Fix::run(
                format!(
                    "Uninstall the NVIDIA wheels of the CUDA major nothing here was built with (the frameworks use CUDA {})",
                    wanted.iter().next().map(String::as_str).unwrap_or("?")
                ),
                vec![Cmd::new(&py)
                    .args(["-m", "pip", "uninstall", "-y"])
                    .args(unused.iter().map(String::as_str))
                    .build()],
            )
        };
        out.push(Hit {
            message: format!(
                "{} holds NVIDIA's CUDA library wheels of {} CUDA majors ({}): they share `nvidia/<library>/lib`, one major's libraries load where the other's are wanted (a CUDA 12 cuSOLVER needs `libnvJitLink.so.12`), and uninstalling either deletes files the other's metadata still lists",
                describe(it),
                by_major.len(),
                majors.join("; ")
            ),
            paths: by_major
                .values()
                .flatten()
                .map(|d| d.path.clone())
                .collect(),
            fix,
            ..Default::default()
        });
    }
    // A cuDNN wheel of another major, or older than the build's minor.
    let cudnn_wheel = e
        .installed
        .iter()
        .find(|(n, _)| n.starts_with("nvidia-cudnn-cu"))
        .map(|(_, (d, _))| *d);
    if let Some(w) = cudnn_wheel {
        let wv = w.version.as_deref().unwrap_or("?");
        for f in fws
            .iter()
            .filter(|f| f.kind == Kind::Tensorflow && f.cuda.is_some())
        {
            let Some(m) = &f.cudnn else { continue };
            let wanted_minor = f
                .version
                .as_ref()
                .and_then(|v| knowledge::gpu().tensorflow_cuda(&series_of(v)))
                .map(|r| r.cudnn.clone())
                .filter(|c| major(c).as_deref() == Some(m.as_str()));
            let wn = numbers(wv.split('.').take(2).collect::<Vec<_>>().join(".").as_str());
            let problem = if major(wv).as_deref() != Some(m.as_str()) {
                Some(format!(
                    "it loads `libcudnn.so.{m}` and this wheel ships cuDNN {wv} (`libcudnn.so.{}`)",
                    major(wv).unwrap_or_default()
                ))
            } else if let (Some(want), Some(have)) = (wanted_minor.as_deref().and_then(numbers), wn)
            {
                (have < want).then(|| format!("it needs cuDNN {} or a later {m}.x and this wheel ships {wv} (\"Loaded runtime CuDNN library: {wv} but source was compiled with: {}\")", wanted_minor.clone().unwrap_or_default(), wanted_minor.clone().unwrap_or_default()))
            } else {
                None
            };
            let Some(problem) = problem else { continue };
            out.push(Hit {
                message: format!(
                    "{} in {} was built with cuDNN {m} (`{}`), but {problem}: it runs on the CPU",
                    f.label(),
                    describe(it),
                    f.source
                ),
                paths: vec![f.dist.path.clone(), w.path.clone()],
                fix: Fix::run(
                    "Install the cuDNN this TensorFlow pins",
                    reinstall_cmd(&py, f, true).into_iter().collect(),
                ),
                ..Default::default()
            });
        }
    }
    // TensorFlow and PyTorch wanting different cuDNN majors.
    let tf = fws
        .iter()
        .find(|f| f.kind == Kind::Tensorflow && f.cuda.is_some());
    let torch = fws
        .iter()
        .find(|f| f.kind == Kind::Torch && f.cuda.is_some());
    if let (Some(tf), Some(torch)) = (tf, torch) {
        if let (Some(a), Some(b)) = (&tf.cudnn, &torch.cudnn) {
            if a != b {
                out.push(Hit {
                    message: format!(
                        "{} (cuDNN {a}, `{}`) and {} (cuDNN {b}, from its `nvidia-cudnn` requirement) share {}: one `nvidia/cudnn/lib` holds one cuDNN, so whichever was installed last works on the GPU and the other does not",
                        tf.label(),
                        tf.source,
                        torch.label(),
                        describe(it)
                    ),
                    paths: vec![tf.dist.path.clone(), torch.dist.path.clone()],
                    fix: Fix::from(
                        "Give each framework its own environment, or pick releases built with one cuDNN major (TensorFlow 2.18 and later and torch 2.4 and later use cuDNN 9; TensorFlow 2.15 to 2.17 and torch 2.2 to 2.3 use cuDNN 8)",
                    ),
                    ..Default::default()
                });
            }
        }
    }
    out
}

pub fn tensorflow_gpu_unsupported_platform(ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    let os = ctx.snapshot.host.os.as_str();
    if os != "windows" && os != "macos" {
        return Vec::new();
    }
    let e = env(ctx, it);
    let k = knowledge::tensorflow();
    let Some((tf, _)) = e.tensorflow(&[k.gpu.gpu_package.as_str()]) else {
        return Vec::new();
    };
    let tv = tf.version.as_deref().and_then(version);
    let nvidia: Vec<&str> = e
        .installed
        .keys()
        .copied()
        .filter(|n| n.starts_with("nvidia-"))
        .collect();
    let gpu_pkg = e.installed.contains_key(k.gpu.gpu_package.as_str());
    let label = format!(
        "`{}` {}",
        tf.name.as_deref().unwrap_or("tensorflow"),
        tf.version.as_deref().unwrap_or("?")
    );
    let expects = if !nvidia.is_empty() {
        format!(
            ", yet NVIDIA's CUDA wheels are installed ({})",
            nvidia.join(", ")
        )
    } else if gpu_pkg {
        format!(", yet `{}` is installed", k.gpu.gpu_package)
    } else {
        String::new()
    };
    let severity = expects.is_empty().then_some(Severity::Info);
    let py = python_cmd(it);
    let uninstall = (!nvidia.is_empty()).then(|| {
        Cmd::new(&py)
            .args(["-m", "pip", "uninstall", "-y"])
            .args(nvidia.iter().copied())
            .build()
    });
    let hit = if os == "windows" {
        let last = version(&k.gpu.windows_gpu_last);
        let after = tv
            .as_ref()
            .zip(last.as_ref())
            .is_some_and(|(v, l)| series_of(v) != k.gpu.windows_gpu_last && v > l);
        after.then(|| Hit {
            message: format!(
                "{label} in {} is on native Windows, where TensorFlow has no GPU support after {}{expects}: it runs on the CPU",
                describe(it),
                k.gpu.windows_gpu_last
            ),
            paths: vec![tf.path.clone()],
            fix: Fix::run(
                format!(
                    "Use WSL2 for the GPU (install `tensorflow[and-cuda]` there), or pin `tensorflow=={}.*` with CUDA 11.2 and cuDNN 8.1 on Windows",
                    k.gpu.windows_gpu_last
                ),
                uninstall.clone().into_iter().collect(),
            ),
            severity,
            ..Default::default()
        })
    } else {
        let metal = e.installed.contains_key("tensorflow-metal");
        (!metal && severity.is_none()).then(|| Hit {
            message: format!(
                "{label} in {} is on macOS, which has no CUDA{expects}: the GPU on a Mac is reached through Apple's `tensorflow-metal` plugin, which is not installed, so it runs on the CPU",
                describe(it)
            ),
            paths: vec![tf.path.clone()],
            fix: Fix::run(
                "Remove the CUDA packages and install `tensorflow-metal` (Apple silicon or AMD GPU, macOS 12 or later)",
                uninstall
                    .into_iter()
                    .chain([Cmd::new(&py).args(["-m", "pip", "install", "tensorflow-metal"]).build()])
                    .collect(),
            ),
            ..Default::default()
        })
    };
    hit.into_iter().collect()
}

pub fn gpu_present_cpu_only_framework(ctx: &CheckCtx, it: &Interpreter) -> Vec<Hit> {
    let Some((drv, drv_text)) = driver(ctx).filter(|_| linux(ctx)) else {
        return Vec::new();
    };
    let e = env(ctx, it);
    let fws = frameworks(ctx, e);
    let py = python_cmd(it);
    let g = knowledge::gpu();
    let mut out = Vec::new();
    for f in fws.iter().filter(|f| f.cpu_only) {
        let x86 = ctx.snapshot.host.arch == "x86_64";
        let cmds: Vec<String> = match f.kind {
            Kind::Tensorflow if x86 => {
                let name = f.dist.normalized.clone().unwrap_or_default();
                let base = f.base_version();
                let mut v = Vec::new();
                if name != "tensorflow" {
                    v.push(
                        Cmd::new(&py)
                            .args(["-m", "pip", "uninstall", "-y"])
                            .arg(&name)
                            .build(),
                    );
                }
                let spec = if f
                    .version
                    .as_ref()
                    .zip(version(&g.and_cuda_from))
                    .is_some_and(|(a, b)| *a >= b)
                {
                    format!("tensorflow[and-cuda]=={base}")
                } else {
                    format!("tensorflow=={base}")
                };
                v.push(
                    Cmd::new(&py)
                        .args(["-m", "pip", "install"])
                        .arg(spec)
                        .build(),
                );
                v
            }
            Kind::Torch if x86 => {
                let tag = drv
                    .as_deref()
                    .and_then(|d| g.newest_torch_for(d))
                    .or_else(|| g.torch_build.last());
                let base = f.base_version();
                tag.map(|t| {
                    Cmd::new(&py)
                        .args(["-m", "pip", "install", "--force-reinstall"])
                        .arg(format!("torch=={base}"))
                        .arg("--index-url")
                        .arg(format!("https://download.pytorch.org/whl/{}", t.tag))
                        .build()
                })
                .into_iter()
                .collect()
            }
            _ => Vec::new(),
        };
        let devices = &ctx.snapshot.gpu.devices;
        let gpus = if devices.is_empty() {
            String::new()
        } else {
            format!(" ({})", devices.join(", "))
        };
        out.push(Hit {
            message: format!(
                "{} in {} is a CPU-only build ({}), but this machine has an NVIDIA GPU{gpus} and driver {drv_text}: it will not use the GPU",
                f.label(),
                describe(it),
                f.source
            ),
            paths: vec![f.dist.path.clone()],
            fix: Fix::run(
                if cmds.is_empty() {
                    "Install a CUDA build of the framework for this platform, if you want the GPU".to_string()
                } else {
                    "If you want the GPU, install the CUDA build of the same release".to_string()
                },
                cmds,
            ),
            severity: Some(Severity::Info),
            ..Default::default()
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sonames_by_cuda_release() {
        assert_eq!(cudart_soname("10.1").unwrap(), "libcudart.so.10.1");
        assert_eq!(cudart_soname("11.2").unwrap(), "libcudart.so.11.0");
        assert_eq!(cudart_soname("11.8").unwrap(), "libcudart.so.11.0");
        assert_eq!(cudart_soname("12.5.1").unwrap(), "libcudart.so.12");
        assert_eq!(wheel_major("nvidia-cublas-cu12"), Some("12"));
        assert_eq!(wheel_major("nvidia-cuda-runtime"), None);
    }
}
