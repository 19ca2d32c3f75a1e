//! Renderers: one file per format, all from the same findings.

pub mod json;
pub mod text;
pub mod why;

use crate::rules::{Finding, Selection, Severity};
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
