//! One model per environment, built once per run and read by every rule:
//! its sys.path layers in order, the distributions Python sees (the first
//! copy of each project along sys.path), and the dependency pass that
//! both `missing-dependency` and `incompatible-dependency` report from.
//! Before it, each of some twenty rules rebuilt the layers and the
//! installed map itself (a 10,000-distribution environment spent most of
//! its rule time there).

use super::checks::packages::{copies, installed_by_name, layers, Copy, Layer};
use super::Hit;
use crate::snapshot::{Distribution, Interpreter, Snapshot};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

pub struct Model<'a> {
    pub layers: Vec<Layer<'a>>,
    /// Project (PEP 503 name) -> its distribution Python and pip see, and
    /// the index of its layer.
    pub installed: BTreeMap<&'a str, (&'a Distribution, usize)>,
    /// [`Model::installed`] hashed, for lookups by name (the dependency pass
    /// makes one per requirement; the ordered map compared strings at every
    /// level).
    pub by_name: rustc_hash::FxHashMap<&'a str, (&'a Distribution, usize)>,
    /// (missing, incompatible) requirements, computed on first use.
    pub(crate) deps: OnceLock<(Vec<Hit>, Vec<Hit>)>,
    /// The distribution that requires TensorFlow where none is installed
    /// (`` `trainer` (`tensorflow>=2.15`) ``), computed on first use.
    pub(crate) tf_wanted_by: OnceLock<Option<String>>,
    /// Every importable copy of each top-level name, in sys.path order
    /// ([`Model::copies`]).
    copies: OnceLock<BTreeMap<&'a str, Vec<Copy<'a>>>>,
    it: Option<&'a Interpreter>,
}

/// The models of a snapshot's interpreters, each built on first use (rules
/// and environments run in parallel; each model is built once). What a
/// model computes lazily must not itself use rayon: a worker waiting in
/// `get_or_init` could otherwise steal a job that waits on the same cell.
pub struct Models<'a> {
    snapshot: &'a Snapshot,
    slots: Vec<OnceLock<Model<'a>>>,
    /// For a snapshot without interpreters.
    empty: OnceLock<Model<'a>>,
    /// A rule asked what an interpreter read shallow sees.
    read_shallow: AtomicBool,
}

impl<'a> Models<'a> {
    pub fn new(snapshot: &'a Snapshot) -> Self {
        Models {
            snapshot,
            slots: snapshot
                .interpreters
                .iter()
                .map(|_| OnceLock::new())
                .collect(),
            empty: OnceLock::new(),
            read_shallow: AtomicBool::new(false),
        }
    }

    /// The other interpreters whose sys.path holds `dir` (besides `it`'s
    /// prefix), as `` `prefix` ``. Asking it of an interpreter read shallow
    /// (whose `.pth` entries are unknown) is recorded: see
    /// [`super::Outcome`].
    pub fn others_seeing(&self, it: &Interpreter, dir: &str) -> Vec<String> {
        let others = self
            .snapshot
            .interpreters
            .iter()
            .filter(|o| o.prefix != it.prefix);
        let mut out = Vec::new();
        for o in others {
            if o.sys_path.iter().any(|e| e.path == dir) {
                out.push(format!("`{}`", o.prefix));
            } else if o.shallow {
                // Its `.pth` files might add `dir`: unknown.
                self.read_shallow.store(true, Ordering::Relaxed);
            }
        }
        out
    }

    pub fn read_shallow(&self) -> bool {
        self.read_shallow.load(Ordering::Relaxed)
    }

    /// The model of `it`, one of the snapshot's interpreters (found by
    /// address, else by prefix and executable).
    pub fn get(&self, it: &Interpreter) -> &Model<'a> {
        let snap: &'a Snapshot = self.snapshot;
        let i = snap
            .interpreters
            .iter()
            .position(|x| std::ptr::eq(x, it))
            .or_else(|| {
                snap.interpreters
                    .iter()
                    .position(|x| x.prefix == it.prefix && x.executable == it.executable)
            });
        debug_assert!(
            i.is_some(),
            "an interpreter outside the snapshot: {}",
            it.prefix
        );
        let i = i.unwrap_or(0);
        match (self.slots.get(i), snap.interpreters.get(i)) {
            (Some(slot), Some(own)) => slot.get_or_init(|| build(snap, own)),
            _ => self.empty.get_or_init(|| Model {
                layers: Vec::new(),
                installed: BTreeMap::new(),
                by_name: Default::default(),
                deps: OnceLock::new(),
                tf_wanted_by: OnceLock::new(),
                copies: OnceLock::new(),
                it: None,
            }),
        }
    }
}

impl<'a> Model<'a> {
    /// Every importable copy of each top-level name along sys.path (the
    /// import-name index), built once and read by every rule that asks
    /// which copy `import x` loads.
    pub fn copies(&self) -> &BTreeMap<&'a str, Vec<Copy<'a>>> {
        self.copies.get_or_init(|| match self.it {
            Some(it) => copies(&self.layers, it),
            None => BTreeMap::new(),
        })
    }

    /// The installed TensorFlow variant (`tensorflow`, `tensorflow-cpu`,
    /// ...) and its layer; `tensorflow` first when several are. Variants in
    /// `except` are passed over.
    pub fn tensorflow(&self, except: &[&str]) -> Option<(&'a Distribution, usize)> {
        let k = crate::knowledge::tensorflow();
        let mut found: Vec<(&'a Distribution, usize)> = k
            .variants
            .iter()
            .filter(|v| !except.contains(&v.as_str()))
            .filter_map(|v| self.installed.get(v.as_str()).copied())
            .collect();
        found.sort_by_key(|(d, _)| d.normalized.as_deref() != Some("tensorflow"));
        found.first().copied()
    }
}

fn build<'a>(snapshot: &'a Snapshot, it: &'a Interpreter) -> Model<'a> {
    let layers = layers(snapshot, it);
    // Hashed first, then ordered in one sort (`collect` builds the B-tree
    // from sorted keys); inserting each name compared names at every level.
    let by_name = installed_by_name(&layers);
    let installed = by_name.iter().map(|(k, v)| (*k, *v)).collect();
    Model {
        layers,
        installed,
        by_name,
        deps: OnceLock::new(),
        tf_wanted_by: OnceLock::new(),
        copies: OnceLock::new(),
        it: Some(it),
    }
}
