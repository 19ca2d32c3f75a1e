//! The rule engine. A rule is data (`rules/*.toml`: code, name, severity,
//! documentation, the check kind it uses and that kind's parameters); a check
//! kind is Rust written once ([`checks`]). The engine reads only the
//! snapshot: rules never touch the disk.

pub mod checks;
pub mod model;
pub mod why;

use crate::snapshot::{Interpreter, Snapshot};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::fmt;

use crate::embedded;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "info" => Some(Severity::Info),
            "warning" | "warn" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Rule {
    /// `error`, or `error, warning` when findings take other levels.
    pub fn levels_label(&self) -> String {
        let mut all = vec![self.severity.as_str()];
        all.extend(self.levels.keys().rev().map(|s| s.as_str()));
        all.join(", ")
    }
}

/// One rule of the catalogue, as written in its TOML file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable code (`ED101`); never reused for another rule.
    pub code: String,
    /// Stable kebab-case name (`broken-venv`): a contract.
    pub name: String,
    pub severity: Severity,
    /// The check kind (Rust) this rule runs.
    pub check: String,
    /// One line: what it finds.
    pub summary: String,
    /// Why it matters: what the user sees when it happens.
    pub why: String,
    /// The general fix (each finding carries its own concrete one).
    pub fix: String,
    /// Where the knowledge comes from (bug reports, docs).
    #[serde(default)]
    pub sources: Vec<String>,
    /// The other levels a finding of this rule takes, each with when:
    /// `[levels] warning = "when both copies have the same version"`.
    /// `severity` is the level otherwise.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub levels: BTreeMap<Severity, String>,
    /// Parameters for the check kind (tables of facts, thresholds).
    #[serde(default)]
    pub params: toml::Table,
    /// The file it came from (filled in on load).
    #[serde(skip_deserializing, default)]
    pub file: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("rule file `{file}`: {message}")]
    Invalid { file: String, message: String },
}

#[derive(Debug, Clone)]
pub struct Catalog {
    pub rules: Vec<Rule>,
}

impl Catalog {
    /// The rules compiled into the binary.
    pub fn builtin() -> Catalog {
        let mut c = Catalog { rules: Vec::new() };
        for (file, json) in embedded::BUILTIN_RULES {
            // A broken built-in rule is a build defect; the catalogue test
            // catches it before release, so this cannot fail at run time.
            let rule = serde_json::from_str(json)
                .map_err(|e| CatalogError::Invalid {
                    file: file.to_string(),
                    message: e.to_string(),
                })
                .and_then(|rule| c.admit(file, rule));
            rule.unwrap_or_else(|e| panic!("built-in rule catalogue is invalid: {e}"));
        }
        c.rules.sort_by(|a, b| a.code.cmp(&b.code));
        c
    }

    /// Parses and validates one rule file into the catalogue.
    pub fn add(&mut self, file: &str, text: &str) -> Result<(), CatalogError> {
        let rule: Rule = toml::from_str(text).map_err(|e| CatalogError::Invalid {
            file: file.to_string(),
            message: e.message().to_string(),
        })?;
        self.admit(file, rule)
    }

    /// Validates one parsed rule into the catalogue.
    fn admit(&mut self, file: &str, mut rule: Rule) -> Result<(), CatalogError> {
        let invalid = |message: String| CatalogError::Invalid {
            file: file.to_string(),
            message,
        };
        rule.file = file.to_string();
        if !is_kebab(&rule.name) {
            return Err(invalid(format!("name `{}` is not kebab-case", rule.name)));
        }
        if rule.code.is_empty() || !rule.code.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(invalid(format!(
                "code `{}` must be letters and digits",
                rule.code
            )));
        }
        if rule.levels.contains_key(&rule.severity) {
            return Err(invalid(format!(
                "`levels` repeats the default severity `{}`; list only the other levels",
                rule.severity
            )));
        }
        if checks::lookup(&rule.check).is_none() {
            return Err(invalid(format!(
                "check `{}` is not a known check kind (known: {})",
                rule.check,
                checks::KINDS
                    .iter()
                    .map(|k| k.0)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        if let Some(other) = self
            .rules
            .iter()
            .find(|r| r.code == rule.code || r.name == rule.name)
        {
            return Err(invalid(format!(
                "code `{}` or name `{}` is already used by `{}`",
                rule.code, rule.name, other.file
            )));
        }
        self.rules.push(rule);
        Ok(())
    }

    pub fn find(&self, name_or_code: &str) -> Option<&Rule> {
        self.rules
            .iter()
            .find(|r| r.name == name_or_code || r.code.eq_ignore_ascii_case(name_or_code))
    }
}

fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.ends_with('-')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The concrete fix for one finding: what to do in words, and the shell
/// commands that do it, in order. Commands are built with
/// [`crate::shell::Cmd`], so every argument is quoted; a fix with no
/// commands is a manual step.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Fix {
    pub text: String,
    #[serde(default)]
    pub commands: Vec<String>,
}

impl Fix {
    /// Words and the commands that carry them out.
    pub fn run(text: impl Into<String>, commands: Vec<String>) -> Fix {
        Fix {
            text: text.into(),
            commands,
        }
    }
}

impl From<String> for Fix {
    fn from(text: String) -> Fix {
        Fix {
            text,
            commands: Vec::new(),
        }
    }
}

impl From<&str> for Fix {
    fn from(text: &str) -> Fix {
        Fix::from(text.to_string())
    }
}

/// On one line: the words, then each command in backticks.
impl fmt::Display for Fix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)?;
        for (i, c) in self.commands.iter().enumerate() {
            let sep = match (i, self.text.is_empty()) {
                (0, true) => "",
                (0, false) => ": ",
                _ => ", then ",
            };
            write!(f, "{sep}`{c}`")?;
        }
        Ok(())
    }
}

/// What a check kind reports; the engine turns it into a [`Finding`].
#[derive(Debug, Clone, Default)]
pub struct Hit {
    pub message: String,
    pub paths: Vec<String>,
    /// The concrete fix for this case.
    pub fix: Fix,
    /// Overrides the rule's severity for this hit (e.g. shadowing is an error
    /// when the versions differ, a warning otherwise).
    pub severity: Option<Severity>,
    /// Set by machine-wide checks that still concern one environment.
    pub environment: Option<String>,
}

/// A finding the configuration accepts, with the reason it gives.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Suppressed {
    pub finding: Finding,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Finding {
    pub code: String,
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    pub paths: Vec<String>,
    /// The environment (its prefix) the finding is about, or null for
    /// machine-wide findings.
    pub environment: Option<String>,
    pub fix: Fix,
}

/// Which environments a check run looks at.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Indexes into `snapshot.interpreters`.
    pub targets: Vec<usize>,
    /// How each target was chosen, parallel to `targets`: `--python`,
    /// `VIRTUAL_ENV`, `CONDA_PREFIX`, `PATH python3`, `--all`.
    pub how: Vec<String>,
    /// Run the machine-wide checks (PATH, environment variables).
    pub machine: bool,
    /// What the run was meant to check but could not read: the gate must
    /// not pass on it, so a rule turns each into an error.
    pub unresolved: Vec<Unresolved>,
}

impl Selection {
    /// How the target at `snapshot.interpreters[i]` was chosen.
    pub fn how_of(&self, i: usize) -> &str {
        self.targets
            .iter()
            .position(|&t| t == i)
            .and_then(|k| self.how.get(k))
            .map(String::as_str)
            .unwrap_or("")
    }
}

/// An environment the user meant (the active one, `--python X`) that
/// resolves to nothing envdoctor can read.
#[derive(Debug, Clone, Serialize)]
pub struct Unresolved {
    /// What was meant, as the user would say it: "`python3` on PATH".
    pub what: String,
    /// How it was selected (`--python`, `VIRTUAL_ENV`, `PATH python3`).
    pub how: String,
    pub reason: String,
    pub fix: String,
    pub paths: Vec<String>,
}

/// Per-run adjustments: severity overrides and rule selection.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Rule name or code to severity; `None` turns the rule off.
    pub severity: BTreeMap<String, Option<Severity>>,
    /// Only these rules (names or codes), when not empty.
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    /// The project's requirements (`check --requirements FILE`): input of
    /// the run, not facts of the machine, so they are not in the snapshot.
    pub requirements: Vec<crate::requirements::Required>,
}

impl Settings {
    fn matches(rule: &Rule, keys: &[String]) -> bool {
        keys.iter()
            .any(|k| *k == rule.name || k.eq_ignore_ascii_case(&rule.code))
    }

    /// Whether `rule` runs at all (selected, not ignored).
    pub fn enabled(&self, rule: &Rule) -> bool {
        (self.select.is_empty() || Self::matches(rule, &self.select))
            && !Self::matches(rule, &self.ignore)
            && !self.severity.iter().any(|(k, v)| {
                v.is_none() && (*k == rule.name || k.eq_ignore_ascii_case(&rule.code))
            })
    }

    fn severity_of(&self, rule: &Rule, hit: Option<Severity>) -> Option<Severity> {
        for (k, v) in &self.severity {
            if *k == rule.name || k.eq_ignore_ascii_case(&rule.code) {
                return *v;
            }
        }
        Some(hit.unwrap_or(rule.severity))
    }
}

/// What a check kind sees.
pub struct CheckCtx<'a> {
    pub snapshot: &'a Snapshot,
    pub rule: &'a Rule,
    pub selection: &'a Selection,
    /// The project's requirements, when given (`check --requirements`).
    pub requirements: &'a [crate::requirements::Required],
    /// Each environment's model, shared by every rule of the run.
    pub models: &'a model::Models<'a>,
}

impl<'a> CheckCtx<'a> {
    /// The model of one of the snapshot's interpreters.
    pub fn model(&self, it: &Interpreter) -> &'a model::Model<'a> {
        self.models.get(it)
    }

    pub fn targets(&self) -> impl Iterator<Item = &Interpreter> {
        self.selection
            .targets
            .iter()
            .filter_map(|&i| self.snapshot.interpreters.get(i))
    }
}

/// What a run of the rules found, and whether it read an interpreter that
/// discovery left shallow ([`Interpreter::shallow`]): then the caller
/// reads those in full and runs the rules again.
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub read_shallow: bool,
}

pub fn run(
    catalog: &Catalog,
    snapshot: &Snapshot,
    selection: &Selection,
    settings: &Settings,
) -> Vec<Finding> {
    evaluate(catalog, snapshot, selection, settings).findings
}

/// Builds each target's model, and what several rules share of it (the
/// dependency pass, the import-name index), before the rules run: one
/// environment per task. Built by whichever rule asked first, they kept the
/// rules on the other core waiting on the same cell.
fn warm<'a>(
    catalog: &'a Catalog,
    snapshot: &'a Snapshot,
    selection: &'a Selection,
    settings: &'a Settings,
    models: &'a model::Models<'a>,
) {
    let enabled = |check: &str| {
        catalog
            .rules
            .iter()
            .find(|r| r.check == check && settings.enabled(r))
    };
    let deps = enabled("missing-dependency").or_else(|| enabled("incompatible-dependency"));
    let copies =
        enabled("shadowed-package").is_some() || enabled("metadata-version-mismatch").is_some();
    // Where no TensorFlow is installed, these ask which distribution wants
    // one: a pass over every requirement, done beside the dependency pass
    // (after the import index, on the same core), not in the first of them.
    let tf = [
        "tensorflow-unsupported-python",
        "tensorflow-numpy2-incompatible",
        "tensorflow-protobuf-incompatible",
        "pip-too-old-for-wheels",
        "glibc-too-old",
    ]
    .iter()
    .any(|c| enabled(c).is_some());
    let targets: Vec<&Interpreter> = selection
        .targets
        .iter()
        .filter_map(|&i| snapshot.interpreters.get(i))
        .collect();
    let ctx = deps.map(|rule| CheckCtx {
        snapshot,
        rule,
        selection,
        requirements: &settings.requirements,
        models,
    });
    // One environment at a time, everything of it: its few hundred
    // distributions stay in cache from the model to the last pass (a pass
    // over every environment before the next pass fetched them again).
    // Within one, the import index and the dependency pass apart: with one
    // environment of 10,000 distributions each is the longest task there
    // is, and the dependency pass runs in chunks on both cores.
    targets.par_iter().for_each(|it| {
        let model = models.get(it);
        rayon::join(
            || {
                if copies {
                    model.copies();
                }
                if tf {
                    checks::tensorflow::warm(model);
                }
            },
            || {
                if let Some(ctx) = &ctx {
                    checks::packages::warm_dependencies(ctx, it);
                }
            },
        );
    });
}

pub fn evaluate(
    catalog: &Catalog,
    snapshot: &Snapshot,
    selection: &Selection,
    settings: &Settings,
) -> Outcome {
    let mut findings = Vec::new();
    let models = model::Models::new(snapshot);
    warm(catalog, snapshot, selection, settings, &models);
    // Rules run in parallel as well as environments: one environment of
    // 10,000 distributions would otherwise run every rule on one core. The
    // models are built once whichever rule asks first; hits keep the
    // catalogue's order.
    let per_rule: Vec<(&Rule, Vec<Hit>)> = catalog
        .rules
        .par_iter()
        .filter(|rule| settings.enabled(rule))
        .filter_map(|rule| {
            let kind = checks::lookup(&rule.check)?;
            let ctx = CheckCtx {
                snapshot,
                rule,
                selection,
                requirements: &settings.requirements,
                models: &models,
            };
            let hits: Vec<Hit> = match kind {
                checks::Kind::Target(f) => f(&ctx),
                checks::Kind::Machine(f) => {
                    if selection.machine {
                        f(&ctx)
                    } else {
                        Vec::new()
                    }
                }
                checks::Kind::Environment(f) => {
                    // Environments are independent: both cores when there are many.
                    let targets: Vec<&Interpreter> = ctx.targets().collect();
                    targets
                        .par_iter()
                        .flat_map_iter(|it| {
                            f(&ctx, it).into_iter().map(|mut h| {
                                h.environment.get_or_insert_with(|| it.prefix.clone());
                                h
                            })
                        })
                        .collect()
                }
            };
            Some((rule, hits))
        })
        .collect();
    for (rule, hits) in per_rule {
        for h in hits {
            // Every level a rule takes is documented in its file (`rules`
            // and `explain` show them): the test suite, run in debug
            // builds, fails on a level that is not.
            debug_assert!(
                h.severity
                    .is_none_or(|s| s == rule.severity || rule.levels.contains_key(&s)),
                "rule `{}` emitted {:?} but its file documents only {} and {:?}",
                rule.name,
                h.severity,
                rule.severity,
                rule.levels.keys().collect::<Vec<_>>()
            );
            let Some(severity) = settings.severity_of(rule, h.severity) else {
                continue;
            };
            findings.push(Finding {
                code: rule.code.clone(),
                rule: rule.name.clone(),
                severity,
                message: h.message,
                paths: h.paths,
                environment: h.environment,
                fix: h.fix,
            });
        }
    }
    let mut seen = HashSet::new();
    findings.retain(|f| seen.insert((f.code.clone(), f.environment.clone(), f.message.clone())));
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.environment.cmp(&b.environment))
            .then_with(|| a.code.cmp(&b.code))
    });
    Outcome {
        findings,
        read_shallow: models.read_shallow(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Like cargo-deny's code snapshot: every built-in rule loads, and codes
    /// and names are unique (enforced by `add`).
    #[test]
    fn embedded_json_is_the_toml_in_the_repository() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        let mut pairs: Vec<(std::path::PathBuf, &str)> = embedded::BUILTIN_RULES
            .iter()
            .map(|(f, json)| (root.join(f), *json))
            .collect();
        for (f, json) in [
            ("tensorflow.toml", embedded::TENSORFLOW),
            ("wheels.toml", embedded::WHEELS),
            ("version-files.toml", embedded::VERSION_FILES),
            ("gpu.toml", embedded::GPU),
        ] {
            pairs.push((root.join("knowledge").join(f), json));
        }
        let on_disk = std::fs::read_dir(&root)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "toml")
            })
            .count();
        assert_eq!(on_disk, embedded::BUILTIN_RULES.len());
        for (path, json) in pairs {
            let text = std::fs::read_to_string(&path).unwrap();
            let want: serde_json::Value = toml::from_str(&text).unwrap();
            let got: serde_json::Value = serde_json::from_str(json).unwrap();
            assert_eq!(got, want, "{}", path.display());
            // And the rule reads the same through both.
            if path.parent() == Some(root.as_path()) {
                let a: Rule = toml::from_str(&text).unwrap();
                let b: Rule = serde_json::from_str(json).unwrap();
                assert_eq!(format!("{a:?}"), format!("{b:?}"), "{}", path.display());
            }
        }
    }

    #[test]
    fn builtin_catalogue_is_valid() {
        let c = Catalog::builtin();
        assert!(c.rules.len() >= 5);
        for r in &c.rules {
            assert!(r.code.starts_with("ED"), "{} has a code outside ED", r.name);
            assert!(!r.why.trim().is_empty() && !r.fix.trim().is_empty());
            assert!(
                !r.summary.ends_with('.'),
                "{}: summary ends with a period",
                r.name
            );
        }
    }

    #[test]
    fn invalid_rule_files_name_the_file_and_the_problem() {
        let mut c = Catalog { rules: Vec::new() };
        let e = c
            .add("x.toml", "code = \"X1\"\nname = \"Bad_Name\"\nseverity = \"error\"\ncheck = \"broken-venv\"\nsummary = \"s\"\nwhy = \"w\"\nfix = \"f\"\n")
            .unwrap_err();
        assert!(e.to_string().contains("x.toml") && e.to_string().contains("kebab"));
        let e = c.add("y.toml", "code = \"X1\"\nbogus = 1\n").unwrap_err();
        assert!(e.to_string().contains("bogus"), "{e}");
    }
}
