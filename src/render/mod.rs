//! Renderers: one file per format, all from the same findings.

pub mod github;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod text;
pub mod why;

use crate::rules::Suppressed;
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

/// Untrusted text (a package name, a path, METADATA) made safe for a
/// terminal or Markdown: control characters (newlines, ESC, C1, DEL) are
/// shown escaped (`\n`, `\x1b`), so nothing from the machine can move the
/// cursor, recolour the screen, or start a line of its own.
pub fn clean(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_control(c) => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A copy of `v` with every string [`clean`]ed (keys too).
pub fn clean_value(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::String(s) => Value::String(clean(&s).into_owned()),
        Value::Array(a) => Value::Array(a.into_iter().map(clean_value).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, v)| (clean(&k).into_owned(), clean_value(v)))
                .collect(),
        ),
        other => other,
    }
}

/// `x` with every string in it [`clean`]ed, for human formats; `x` itself
/// when it cannot be round-tripped (it always can: plain serde structs).
pub fn cleaned<T: serde::Serialize + serde::de::DeserializeOwned + Clone>(x: &T) -> T {
    serde_json::to_value(x)
        .ok()
        .map(clean_value)
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_else(|| x.clone())
}

fn is_control(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// A line of human output that starts (after blanks) with `::` is one a CI
/// runner executes as a workflow command; its colons are escaped.
pub fn defuse_workflow_commands(text: &str) -> String {
    if !text.contains("::") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.trim_start();
        if let Some(rest) = body.strip_prefix("::") {
            out.push_str(&line[..line.len() - body.len()]);
            out.push_str("\\:\\:");
            out.push_str(rest);
        } else {
            out.push_str(line);
        }
    }
    out
}

pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}
