//! Knowledge that package metadata does not carry, kept as data in
//! `rules/knowledge/*.toml` (each table with its source) and compiled into the
//! binary. A new TensorFlow release is a new row there, not a code change.

use pep440_rs::{Version, VersionSpecifiers};
use serde::Deserialize;
use std::str::FromStr;
use std::sync::OnceLock;

// The tables as JSON, converted from their TOML by build.rs.
use crate::embedded::{GPU, TENSORFLOW, VERSION_FILES, WHEELS};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpuTables {
    pub tensorflow: Vec<TfCuda>,
    pub and_cuda_from: String,
    pub toolkit: Vec<ToolkitDriver>,
    pub minor_compat: Vec<MinorCompat>,
    pub torch_build: Vec<TorchBuild>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TfCuda {
    pub series: Vec<String>,
    pub cuda: String,
    pub cudnn: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolkitDriver {
    pub cuda: String,
    pub driver: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinorCompat {
    pub major: String,
    pub driver: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TorchBuild {
    pub tag: String,
    pub cuda: String,
}

pub fn gpu() -> &'static GpuTables {
    static K: OnceLock<GpuTables> = OnceLock::new();
    K.get_or_init(|| parse("gpu.toml", GPU))
}

/// An NVIDIA driver or CUDA version as numbers (`535.129.03` ->
/// `[535, 129, 3]`); driver versions are no PEP 440 versions to compare
/// with leading zeros kept, but compare as number lists.
pub fn numbers(s: &str) -> Option<Vec<u64>> {
    let v: Option<Vec<u64>> = s.trim().split('.').map(|p| p.parse().ok()).collect();
    v.filter(|v| !v.is_empty() && v.len() <= 6)
}

impl GpuTables {
    /// The CUDA and cuDNN a TensorFlow release series was built with.
    pub fn tensorflow_cuda(&self, series: &str) -> Option<&TfCuda> {
        self.tensorflow
            .iter()
            .find(|r| r.series.iter().any(|s| s == series))
    }

    /// The lowest driver that runs an application built with CUDA `cuda`
    /// (`12.2`): the floor of its major (minor-version compatibility), or
    /// for CUDA 10 the toolkit's own minimum. With the toolkit's own
    /// minimum beside it, for the message.
    pub fn driver_floor(&self, cuda: &str) -> Option<(String, Option<String>)> {
        let n = numbers(cuda)?;
        let major = n[0].to_string();
        let minor = n.get(1).copied().unwrap_or(0);
        let own = self
            .toolkit
            .iter()
            .find(|t| {
                numbers(&t.cuda)
                    .is_some_and(|c| c[0] == n[0] && c.get(1).copied().unwrap_or(0) == minor)
            })
            .map(|t| t.driver.clone());
        match self.minor_compat.iter().find(|m| m.major == major) {
            Some(m) => Some((m.driver.clone(), own)),
            None => own.map(|o| (o, None)),
        }
    }

    /// The newest TensorFlow series whose CUDA runs on `driver`.
    pub fn newest_tensorflow_for(&self, driver: &[u64]) -> Option<(&str, &TfCuda)> {
        self.tensorflow
            .iter()
            .filter(|r| {
                self.driver_floor(&r.cuda)
                    .and_then(|(f, _)| numbers(&f))
                    .is_some_and(|f| f.as_slice() <= driver)
            })
            .flat_map(|r| r.series.iter().map(move |s| (s.as_str(), r)))
            .max_by_key(|(s, _)| version(s))
    }

    /// The newest PyTorch CUDA build whose CUDA runs on `driver`.
    pub fn newest_torch_for(&self, driver: &[u64]) -> Option<&TorchBuild> {
        self.torch_build
            .iter()
            .filter(|b| {
                self.driver_floor(&b.cuda)
                    .and_then(|(f, _)| numbers(&f))
                    .is_some_and(|f| f.as_slice() <= driver)
            })
            .max_by_key(|b| version(&b.cuda))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tensorflow {
    pub variants: Vec<String>,
    /// [`Tensorflow::variants`] hashed: asked of every requirement of every
    /// distribution (60,000 in one benchmark environment), thirteen string
    /// comparisons each.
    #[serde(skip)]
    variant_set: OnceLock<rustc_hash::FxHashSet<String>>,
    /// Thin packages over another variant of the same version.
    pub shim_pairs: Vec<[String; 2]>,
    pub python: Vec<PythonRow>,
    pub numpy: Vec<Constraint>,
    pub protobuf: Vec<Constraint>,
    pub linux_wheels: Vec<WheelRow>,
    pub gpu: Gpu,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PythonRow {
    /// `2.15`
    pub series: String,
    /// `["3.9", "3.10", "3.11"]`
    pub pythons: Vec<String>,
}

/// "TensorFlow in `tensorflow` works with `works_with` of the other project".
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constraint {
    pub tensorflow: String,
    pub works_with: String,
    pub symptom: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WheelRow {
    pub tensorflow: String,
    pub tag: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gpu {
    pub gpu_package: String,
    pub gpu_package_removed: String,
    pub windows_gpu_last: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wheels {
    pub pep600: Pep600,
    pub legacy: Vec<LegacyTag>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pep600 {
    pub pip: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegacyTag {
    pub tag: String,
    pub glibc: String,
    pub pip: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionFiles {
    pub file: Vec<VersionFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionFile {
    pub project: String,
    pub import: String,
    pub path: String,
    pub pattern: String,
}

fn parse<T: for<'de> Deserialize<'de>>(name: &str, json: &str) -> T {
    // Built in and covered by tests: a parse error is a build defect.
    serde_json::from_str(json).unwrap_or_else(|e| panic!("rules/knowledge/{name} is invalid: {e}"))
}

pub fn tensorflow() -> &'static Tensorflow {
    static K: OnceLock<Tensorflow> = OnceLock::new();
    K.get_or_init(|| parse("tensorflow.toml", TENSORFLOW))
}

pub fn wheels() -> &'static Wheels {
    static K: OnceLock<Wheels> = OnceLock::new();
    K.get_or_init(|| parse("wheels.toml", WHEELS))
}

pub fn version_files() -> &'static [VersionFile] {
    static K: OnceLock<VersionFiles> = OnceLock::new();
    &K.get_or_init(|| parse("version-files.toml", VERSION_FILES))
        .file
}

pub fn version(s: &str) -> Option<Version> {
    Version::from_str(s.trim()).ok()
}

pub fn specifiers(s: &str) -> Option<VersionSpecifiers> {
    VersionSpecifiers::from_str(s).ok()
}

/// `2.15` for `2.15.1`.
pub fn series_of(v: &Version) -> String {
    let r = v.release();
    format!("{}.{}", r.first().unwrap_or(&0), r.get(1).unwrap_or(&0))
}

impl Tensorflow {
    pub fn is_variant(&self, normalized: &str) -> bool {
        self.variant_set
            .get_or_init(|| self.variants.iter().cloned().collect())
            .contains(normalized)
    }

    /// Two variant names that are one of TensorFlow's own shim pairs.
    pub fn is_shim_pair(&self, a: &str, b: &str) -> bool {
        self.shim_pairs
            .iter()
            .any(|[x, y]| (x == a && y == b) || (x == b && y == a))
    }

    /// The tested Pythons of the series `v` belongs to, if the table knows it.
    pub fn pythons_of(&self, v: &Version) -> Option<&[String]> {
        let s = series_of(v);
        self.python
            .iter()
            .find(|r| r.series == s)
            .map(|r| r.pythons.as_slice())
    }

    /// The newest series tested with Python `minor` (`3.8` -> `2.13`).
    pub fn newest_for_python(&self, minor: &str) -> Option<&PythonRow> {
        self.python
            .iter()
            .filter(|r| r.pythons.iter().any(|p| p == minor))
            .max_by_key(|r| version(&r.series))
    }

    pub fn newest(&self) -> Option<&PythonRow> {
        self.python.iter().max_by_key(|r| version(&r.series))
    }

    /// The row of a constraint table that covers TensorFlow `v`.
    pub fn constraint<'a>(table: &'a [Constraint], v: &Version) -> Option<&'a Constraint> {
        table
            .iter()
            .find(|c| specifiers(&c.tensorflow).is_some_and(|s| s.contains(v)))
    }

    /// The Linux wheel platform tag of the series `v` belongs to.
    pub fn linux_tag(&self, v: &Version) -> Option<&str> {
        self.linux_wheels
            .iter()
            .find(|r| specifiers(&r.tensorflow).is_some_and(|s| s.contains(v)))
            .map(|r| r.tag.as_str())
    }
}

/// What a manylinux platform (`manylinux_2_17_x86_64`, `manylinux2014_x86_64`,
/// or a whole `cp311-cp311-...` tag) needs: the glibc `(major, minor)` and
/// the first pip that understands it.
pub fn manylinux_needs(tag: &str) -> Option<((u32, u32), Version)> {
    let platform = tag.rsplit('-').next().unwrap_or(tag);
    let w = wheels();
    if let Some(rest) = platform.strip_prefix("manylinux_") {
        let mut it = rest.splitn(3, '_');
        let major = it.next()?.parse().ok()?;
        let minor = it.next()?.parse().ok()?;
        return Some(((major, minor), version(&w.pep600.pip)?));
    }
    for l in &w.legacy {
        if platform.starts_with(&format!("{}_", l.tag)) || platform == l.tag {
            let (a, b) = l.glibc.split_once('.')?;
            return Some(((a.parse().ok()?, b.parse().ok()?), version(&l.pip)?));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_parse_and_answer() {
        let tf = tensorflow();
        assert!(tf.is_variant("tensorflow-gpu"));
        let v215 = version("2.15.1").unwrap();
        assert_eq!(tf.pythons_of(&v215).unwrap(), ["3.9", "3.10", "3.11"]);
        assert_eq!(tf.newest_for_python("3.8").unwrap().series, "2.13");
        assert!(tf.newest_for_python("3.14").is_none());
        let c = Tensorflow::constraint(&tf.numpy, &version("2.14.0").unwrap()).unwrap();
        assert!(!specifiers(&c.works_with)
            .unwrap()
            .contains(&version("2.0.0").unwrap()));
        assert!(Tensorflow::constraint(&tf.numpy, &version("2.18.0").unwrap()).is_none());
        let p = Tensorflow::constraint(&tf.protobuf, &version("2.11.0").unwrap()).unwrap();
        assert!(!specifiers(&p.works_with)
            .unwrap()
            .contains(&version("4.25.1").unwrap()));
        assert_eq!(
            tf.linux_tag(&version("2.21.0").unwrap()),
            Some("manylinux_2_27")
        );
        assert_eq!(
            tf.linux_tag(&version("2.8.4").unwrap()),
            Some("manylinux2010")
        );
        for f in version_files() {
            regex::Regex::new(&f.pattern).unwrap();
        }
    }

    #[test]
    fn gpu_tables_answer() {
        let g = gpu();
        assert_eq!(g.tensorflow_cuda("2.15").unwrap().cuda, "12.2");
        assert_eq!(g.tensorflow_cuda("2.7").unwrap().cudnn, "8.1");
        // CUDA 12.x runs from the 12 floor; 12.2's own minimum is beside it.
        assert_eq!(
            g.driver_floor("12.2"),
            Some(("525.60.13".into(), Some("535.54.03".into())))
        );
        assert_eq!(g.driver_floor("12.5.1").unwrap().0, "525.60.13");
        // CUDA 10 has no minor-version compatibility.
        assert_eq!(g.driver_floor("10.1"), Some(("418.39".into(), None)));
        assert!(numbers("470.82.01").unwrap() < numbers("525.60.13").unwrap());
        let (series, row) = g
            .newest_tensorflow_for(&numbers("470.82.01").unwrap())
            .unwrap();
        assert_eq!((series, row.cuda.as_str()), ("2.14", "11.8"));
        assert_eq!(
            g.newest_torch_for(&numbers("470.82.01").unwrap())
                .unwrap()
                .tag,
            "cu118"
        );
        assert_eq!(
            g.newest_torch_for(&numbers("550.54.15").unwrap())
                .unwrap()
                .tag,
            "cu128"
        );
        assert!(g
            .newest_tensorflow_for(&numbers("400.1").unwrap())
            .is_none());
        assert_eq!(g.and_cuda_from, "2.14");
    }

    #[test]
    fn manylinux_tags() {
        let (g, pip) = manylinux_needs("cp311-cp311-manylinux_2_27_x86_64").unwrap();
        assert_eq!(g, (2, 27));
        assert_eq!(pip, version("20.3").unwrap());
        let (g, pip) = manylinux_needs("manylinux2014_x86_64").unwrap();
        assert_eq!(g, (2, 17));
        assert_eq!(pip, version("19.3").unwrap());
        assert!(manylinux_needs("py3-none-any").is_none());
        assert!(manylinux_needs("cp311-cp311-musllinux_1_1_x86_64").is_none());
    }
}
