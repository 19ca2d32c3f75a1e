//! Renderers: one file per format, all from the same findings.

pub mod github;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod text;
pub mod why;

use crate::config::Suppressed;
use crate::rules::{Catalog, Finding, Selection, Settings, Severity};
use crate::snapshot::Snapshot;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};

static COLOR: AtomicBool = AtomicBool::new(false);

/// Turns colors on or off for every renderer (from `--color` and `NO_COLOR`).
pub fn set_color(on: bool) {
    COLOR.store(on, Ordering::Relaxed);
}

/// `text` in `style` when colors are on, plain otherwise.
pub fn paint(text: impl std::fmt::Display, style: owo_colors::Style) -> String {
    if COLOR.load(Ordering::Relaxed) {
        format!("{}", owo_colors::OwoColorize::style(&text, style))
    } else {
        text.to_string()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    /// Environments checked.
    pub environments: usize,
    /// Distributions read in the checked environments.
    pub distributions: usize,
    /// Findings accepted by an `[[ignore]]` entry of the configuration file.
    pub suppressed: usize,
}

/// Everything a renderer may need about one check run.
pub struct Run<'a> {
    pub snapshot: &'a Snapshot,
    pub catalog: &'a Catalog,
    pub settings: &'a Settings,
    pub selection: &'a Selection,
    pub findings: &'a [Finding],
    pub suppressed: &'a [Suppressed],
    pub summary: &'a Summary,
    /// Findings at or above this fail the run (`--fail-on`); `None` never fails.
    pub fail_on: Option<Severity>,
}

impl Run<'_> {
    /// Whether this finding makes the run fail (exit 1).
    pub fn fails(&self, f: &Finding) -> bool {
        self.fail_on.is_some_and(|t| f.severity >= t)
    }
}

impl Summary {
    pub fn new(snap: &Snapshot, selection: &Selection, findings: &[Finding]) -> Summary {
        let count = |s| findings.iter().filter(|f| f.severity == s).count();
        // Each distinct site dir visible to a target counts once.
        let mut dirs = std::collections::HashSet::new();
        for &i in &selection.targets {
            if let Some(it) = snap.interpreters.get(i) {
                for e in &it.sys_path {
                    dirs.insert(e.path.as_str());
                }
            }
        }
        let distributions = snap
            .site_dirs
            .iter()
            .filter(|d| dirs.contains(d.path.as_str()))
            .map(|d| d.distributions.len())
            .sum();
        Summary {
            errors: count(Severity::Error),
            warnings: count(Severity::Warning),
            infos: count(Severity::Info),
            environments: selection.targets.len(),
            distributions,
            suppressed: 0,
        }
    }
}

pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `1.2 GB` (decimal units, as `df -H` and pip print them).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1000.0 && i < UNITS.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}
