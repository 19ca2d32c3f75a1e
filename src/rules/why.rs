//! `envdoctor why NAME`: every copy of an import name or distribution that
//! one interpreter can see, in sys.path order, with the one Python loads
//! marked. Built from the snapshot only, like the rules.

use super::checks::packages::{copies, installed, layers, winner};
use crate::requirements::normalize;
use crate::snapshot::{Interpreter, ModuleKind, Snapshot};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct WhyReport {
    pub name: String,
    /// The interpreter's prefix.
    pub environment: String,
    pub executable: Option<String>,
    pub version: Option<String>,
    pub kind: String,
    /// Copies of `import NAME` (for a distribution name, of each top-level
    /// name it provides), in sys.path order.
    pub imports: Vec<WhyCopy>,
    /// Installed distributions named NAME (PEP 503), in sys.path order.
    pub distributions: Vec<WhyDist>,
    /// sys.path entries that were searched (stdlib excluded).
    pub searched: Vec<String>,
    /// When the name is the standard library's: where (or "built in"). The
    /// standard library comes before every site directory on sys.path, so
    /// it is what `import` loads.
    #[serde(default)]
    pub stdlib: Option<String>,
}

/// Modules compiled into CPython 3 (`sys.builtin_module_names` common to
/// Linux builds): no file on disk names them.
const BUILTIN: &[&str] = &[
    "_abc",
    "_ast",
    "_codecs",
    "_collections",
    "_functools",
    "_imp",
    "_io",
    "_locale",
    "_operator",
    "_signal",
    "_sre",
    "_stat",
    "_string",
    "_symtable",
    "_thread",
    "_tokenize",
    "_tracemalloc",
    "_typing",
    "_warnings",
    "_weakref",
    "atexit",
    "builtins",
    "errno",
    "faulthandler",
    "gc",
    "itertools",
    "marshal",
    "posix",
    "pwd",
    "sys",
    "time",
];

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct WhyCopy {
    /// The top-level import name.
    pub name: String,
    /// 1-based position on sys.path.
    pub position: usize,
    /// `imported`, `shadowed`, or `merged` (namespace portion).
    pub status: String,
    pub path: String,
    pub kind: ModuleKind,
    /// Why the directory is on sys.path.
    pub origin: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pth: Option<String>,
    /// Owning distributions: name, version, installer.
    pub distributions: Vec<DistRef>,
    /// The version the package's own files carry (TensorFlow's `version.h`,
    /// NumPy's `version.py`): what `__version__` will say after import.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub own_version: Option<String>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct DistRef {
    pub name: String,
    pub version: Option<String>,
    pub installer: Option<String>,
    pub requested: bool,
    pub metadata: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub editable: Option<String>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct WhyDist {
    pub position: usize,
    /// `seen by pip` for the first one, `duplicate` for another in the same
    /// directory, `shadowed` for the rest.
    pub status: String,
    pub origin: String,
    pub dist: DistRef,
    /// The top-level import names it owns.
    pub provides: Vec<String>,
}

/// The version in the package's own version file, for the projects
/// rules/knowledge/version-files.toml knows.
fn own_version(dir: &crate::snapshot::SiteDir, import: &str) -> Option<String> {
    let f = crate::knowledge::version_files()
        .iter()
        .find(|f| f.import == import)?;
    dir.own_versions
        .iter()
        .find(|o| o.project == f.project)
        .and_then(|o| o.version.clone())
}

fn dist_ref(d: &crate::snapshot::Distribution) -> DistRef {
    DistRef {
        name: d.name.clone().unwrap_or_else(|| "?".into()),
        version: d.version.clone(),
        installer: d.installer.clone(),
        requested: d.requested,
        metadata: d.path.clone(),
        editable: d.editable.as_ref().map(|e| {
            if e.exists {
                e.target.clone()
            } else {
                format!("{} (missing)", e.target)
            }
        }),
    }
}

pub fn why(snap: &Snapshot, it: &Interpreter, name: &str) -> WhyReport {
    let layers = layers(snap, it);
    let position = |layer: usize| {
        it.sys_path
            .iter()
            .position(|e| std::ptr::eq(e, layers[layer].entry))
            .map(|p| p + 1)
            .unwrap_or(0)
    };
    let wanted = normalize(name);
    let first = installed(&layers)
        .get(wanted.as_str())
        .map(|(d, _)| d.path.clone());
    let mut distributions = Vec::new();
    let mut first_layer = None;
    for (i, l) in layers.iter().enumerate() {
        for d in &l.dir.distributions {
            if d.normalized.as_deref() != Some(wanted.as_str()) {
                continue;
            }
            distributions.push(WhyDist {
                position: position(i),
                status: if first.as_deref() == Some(d.path.as_str()) {
                    first_layer = Some(i);
                    "seen by pip"
                } else if first_layer == Some(i) {
                    "duplicate"
                } else {
                    "shadowed"
                }
                .to_string(),
                origin: l.entry.origin.describe().to_string(),
                dist: dist_ref(d),
                provides: d.top_level.clone(),
            });
        }
    }
    let all = copies(&layers, it);
    let mut imports = Vec::new();
    // `import google.protobuf`: the top-level package decides. For a
    // distribution name (`opencv-python`), the names it provides (`cv2`).
    let top = name.split('.').next().unwrap_or(name);
    let mut names: Vec<&str> = vec![top];
    if !all.contains_key(top) {
        if let Some(d) = distributions.first() {
            names = d.provides.iter().map(String::as_str).collect();
        }
    }
    for (n, cs) in names.iter().filter_map(|n| all.get_key_value(n)) {
        let w = winner(cs);
        for (i, c) in cs.iter().enumerate() {
            let l = &layers[c.layer];
            let status = if c.kind == ModuleKind::Namespace
                && cs.iter().all(|x| x.kind == ModuleKind::Namespace)
            {
                "merged"
            } else if Some(i) == w {
                "imported"
            } else {
                "shadowed"
            };
            imports.push(WhyCopy {
                name: n.to_string(),
                position: position(c.layer),
                status: status.to_string(),
                path: format!("{}/{}", l.entry.path, c.file),
                kind: c.kind,
                origin: l.entry.origin.describe().to_string(),
                pth: l.entry.pth.clone(),
                distributions: c.owners.iter().map(|d| dist_ref(d)).collect(),
                own_version: own_version(l.dir, n),
            });
        }
    }
    WhyReport {
        name: name.to_string(),
        environment: it.prefix.clone(),
        executable: it.executable.clone(),
        version: it.version.clone(),
        kind: it.kind.as_str().to_string(),
        imports,
        distributions,
        searched: layers.iter().map(|l| l.entry.path.clone()).collect(),
        stdlib: stdlib_of(it, name),
    }
}

/// Where the standard library of `it` holds the top-level module of `name`.
fn stdlib_of(it: &Interpreter, name: &str) -> Option<String> {
    let top = name.split('.').next().unwrap_or(name);
    if BUILTIN.contains(&top) {
        return Some("built into the interpreter".into());
    }
    if !it.stdlib_modules.iter().any(|m| m == top) {
        return None;
    }
    let dir = it
        .sys_path
        .iter()
        .find(|e| e.origin == crate::snapshot::Origin::Stdlib && !e.path.ends_with(".zip"))
        .map(|e| e.path.clone())
        .unwrap_or_default();
    Some(format!("the standard library (`{dir}`)"))
}
