//! The configuration file: `envdoctor.toml`, or `[tool.envdoctor]` in
//! `pyproject.toml`, found from the current directory upward (the nearest
//! directory holding either wins; a `pyproject.toml` without the table does
//! not count). Command-line flags are merged over it.
//!
//! ```toml
//! select = ["broken-venv", "ED102"]        # only these rules (default: all)
//! rules = ["ci/rules/*.toml"]              # extra rule files, relative to this file
//!
//! [severity]
//! python-env-vars = "off"                  # error | warning | info | off
//!
//! [[ignore]]                               # a known finding, accepted for a reason
//! rule = "script-bad-interpreter"
//! environment = ".venv"                    # optional: only in this environment
//! reason = "scripts are rewritten by the image build"
//! ```
//!
//! Every mistake is an error (exit 2) naming the file and the key: unknown
//! keys, unknown rules, levels, rule files that do not load, ignores without
//! a reason.

use crate::fs::Fs;
use crate::rules::{Catalog, Finding, Settings, Severity, Suppressed};
use crate::snapshot::Snapshot;
use crate::Error;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Config and rule files are small; anything bigger is not one.
const MAX_FILE: u64 = 1 << 20;

/// The file format (also the `[tool.envdoctor]` table).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    select: Vec<String>,
    #[serde(default)]
    severity: BTreeMap<String, String>,
    /// `[[ignore]]` tables, checked one by one so that a bare rule name
    /// gets a message asking for the reason.
    #[serde(default)]
    ignore: Vec<toml::Value>,
    #[serde(default)]
    rules: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct IgnoreEntry {
    rule: String,
    #[serde(default)]
    environment: Option<String>,
    reason: String,
}

/// `pyproject.toml`, of which only `[tool.envdoctor]` is read.
#[derive(Deserialize)]
struct Pyproject {
    #[serde(default)]
    tool: Option<PyprojectTool>,
}

#[derive(Deserialize)]
struct PyprojectTool {
    #[serde(default)]
    envdoctor: Option<FileConfig>,
}

/// One `[[ignore]]` entry, resolved.
#[derive(Debug, Clone)]
struct Suppression {
    /// The rule's name (codes are resolved on load).
    rule: String,
    /// As written (absolute, `~/...`, or already joined to the config's directory).
    environment: Option<String>,
    reason: String,
}

/// What the command line says over the configuration file (the `cli`
/// layer fills it from its flags; this layer knows nothing of clap).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Only these rules (names or codes); replaces the file's `select`.
    pub select: Vec<String>,
    /// Not these rules.
    pub ignore: Vec<String>,
    /// (rule, level) pairs.
    pub severity: Vec<(String, String)>,
    /// This file instead of the one found from the current directory.
    pub config: Option<PathBuf>,
    /// No configuration file at all.
    pub no_config: bool,
}

/// The rules to run and how, from the configuration file and the flags.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from, if any.
    pub file: Option<PathBuf>,
    pub catalog: Catalog,
    pub settings: Settings,
    suppressions: Vec<Suppression>,
}

impl Config {
    /// Finds and reads the configuration file (unless `--no-config`), loads
    /// its extra rules, validates everything and merges the flags over it.
    pub fn load(args: &Overrides) -> Result<Config, Error> {
        let file = if args.no_config {
            None
        } else if let Some(p) = &args.config {
            let abs = std::path::absolute(p).map_err(|e| {
                Error::Config(format!("cannot use config file `{}`: {e}", p.display()))
            })?;
            Some(read_explicit(&abs)?)
        } else {
            // A deleted cwd has no config file to find.
            match std::env::current_dir() {
                Ok(cwd) => discover(&cwd)?,
                Err(_) => None,
            }
        };
        let mut catalog = Catalog::builtin();
        let mut settings = Settings::default();
        let mut suppressions = Vec::new();
        let mut path = None;
        if let Some((p, fc)) = file {
            let ctx = FileCtx { path: &p };
            load_rule_files(&ctx, &fc.rules, &mut catalog)?;
            for (i, s) in fc.select.iter().enumerate() {
                settings
                    .select
                    .push(ctx.rule(&catalog, &format!("select[{i}]"), s)?);
            }
            for (k, level) in &fc.severity {
                let name = ctx.rule(&catalog, &format!("severity.{k}"), k)?;
                let level =
                    parse_level(level).map_err(|m| ctx.err(&format!("severity.{k}"), &m))?;
                settings.severity.insert(name, level);
            }
            for (i, v) in fc.ignore.iter().enumerate() {
                let key = format!("ignore[{i}]");
                let e = match v {
                    toml::Value::Table(_) => IgnoreEntry::deserialize(v.clone())
                        .map_err(|e| ctx.err(&key, e.message()))?,
                    _ => {
                        return Err(ctx.err(
                            &key,
                            &format!("is `{v}`; each ignore is a table with the rule and a reason: `[[ignore]]`, `rule = \"...\"`, `reason = \"...\"` (to skip a rule without one, use `[severity]` `NAME = \"off\"`)"),
                        ))
                    }
                };
                let rule = ctx.rule(&catalog, &format!("{key}.rule"), &e.rule)?;
                if e.reason.trim().is_empty() {
                    return Err(ctx.err(
                        &format!("{key}.reason"),
                        "is empty: say why this finding is accepted",
                    ));
                }
                let environment = e.environment.as_deref().map(|env| {
                    if env.starts_with('/') || env.starts_with('~') {
                        env.to_string()
                    } else {
                        let dir = p.parent().unwrap_or(Path::new("/"));
                        crate::fs::display(&crate::fs::normpath(&dir.join(env)))
                    }
                });
                suppressions.push(Suppression {
                    rule,
                    environment,
                    reason: e.reason.trim().to_string(),
                });
            }
            path = Some(p);
        }
        let flag = |what: &str, s: &str| -> Result<String, Error> {
            catalog.find(s).map(|r| r.name.clone()).ok_or_else(|| {
                Error::Usage(format!(
                    "{what} `{s}`: no rule with that name or code; `envdoctor rules` lists them"
                ))
            })
        };
        if !args.select.is_empty() {
            settings.select = args
                .select
                .iter()
                .map(|s| flag("--select", s))
                .collect::<Result<_, _>>()?;
        }
        for s in &args.ignore {
            settings.ignore.push(flag("--ignore", s)?);
        }
        for (k, level) in &args.severity {
            let name = flag("--severity", k)?;
            let level = parse_level(level)
                .map_err(|m| Error::Usage(format!("--severity {k}={level}: {m}")))?;
            settings.severity.insert(name, level);
        }
        Ok(Config {
            file: path,
            catalog,
            settings,
            suppressions,
        })
    }

    /// Splits findings into those reported and those an `[[ignore]]` entry
    /// accepts.
    pub fn suppress(
        &self,
        findings: Vec<Finding>,
        snap: &Snapshot,
    ) -> (Vec<Finding>, Vec<Suppressed>) {
        let home = snap.host.user.home.as_deref();
        let mut kept = Vec::new();
        let mut suppressed = Vec::new();
        for f in findings {
            let hit = self.suppressions.iter().find(|s| {
                s.rule == f.rule
                    && match &s.environment {
                        None => true,
                        Some(env) => f
                            .environment
                            .as_deref()
                            .is_some_and(|fe| same_path(&expand_home(env, home), fe)),
                    }
            });
            match hit {
                Some(s) => suppressed.push(Suppressed {
                    finding: f,
                    reason: s.reason.clone(),
                }),
                None => kept.push(f),
            }
        }
        (kept, suppressed)
    }
}

fn expand_home(p: &str, home: Option<&str>) -> String {
    match (p.strip_prefix('~'), home) {
        (Some(rest), Some(h)) if rest.is_empty() || rest.starts_with('/') => {
            format!("{}{rest}", h.trim_end_matches('/'))
        }
        _ => p.to_string(),
    }
}

fn same_path(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

fn parse_level(s: &str) -> Result<Option<Severity>, String> {
    match s {
        "off" => Ok(None),
        other => Severity::parse(other).map(Some).ok_or_else(|| {
            format!("`{other}` is not a level; use one of error, warning, info, off")
        }),
    }
}

/// Names the file (and the table, for pyproject.toml) in every error.
struct FileCtx<'a> {
    path: &'a Path,
}

impl FileCtx<'_> {
    fn where_(&self) -> String {
        let shown = crate::fs::display(self.path);
        if self.path.file_name().is_some_and(|n| n == "pyproject.toml") {
            format!("`{shown}` [tool.envdoctor]")
        } else {
            format!("`{shown}`")
        }
    }

    fn err(&self, key: &str, message: &str) -> Error {
        Error::Config(format!("config {}: `{key}` {message}", self.where_()))
    }

    /// The rule's name, or an error naming the key.
    fn rule(&self, catalog: &Catalog, key: &str, name: &str) -> Result<String, Error> {
        catalog.find(name).map(|r| r.name.clone()).ok_or_else(|| {
            self.err(
                key,
                &format!(
                    "names `{name}`, which is no rule's name or code; `envdoctor rules` lists them"
                ),
            )
        })
    }
}

fn read(path: &Path) -> Result<Option<String>, Error> {
    let fs = Fs::new("/");
    match fs.read_text_limited(path, MAX_FILE) {
        Ok((_, true)) => Err(Error::Config(format!(
            "config `{}` is larger than 1 MiB; not a configuration file",
            path.display()
        ))),
        Ok((text, false)) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::Config(format!(
            "cannot read config `{}`: {e}",
            path.display()
        ))),
    }
}

/// A TOML error as `file: line N: message` (the message names the key).
fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> Error {
    let line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
    let suffix = if path.file_name().is_some_and(|n| n == "pyproject.toml") {
        " [tool.envdoctor]"
    } else {
        ""
    };
    match line {
        Some(l) => Error::Config(format!(
            "config `{}`{suffix}: line {l}: {}",
            path.display(),
            e.message()
        )),
        None => Error::Config(format!(
            "config `{}`{suffix}: {}",
            path.display(),
            e.message()
        )),
    }
}

/// Parses `path` as `envdoctor.toml` or `pyproject.toml` (by its name);
/// `None` for a pyproject.toml without `[tool.envdoctor]`.
fn parse(path: &Path, text: &str) -> Result<Option<FileConfig>, Error> {
    if path.file_name().is_some_and(|n| n == "pyproject.toml") {
        let p: Pyproject = toml::from_str(text).map_err(|e| toml_error(path, text, &e))?;
        Ok(p.tool.and_then(|t| t.envdoctor))
    } else {
        toml::from_str(text)
            .map(Some)
            .map_err(|e| toml_error(path, text, &e))
    }
}

fn read_explicit(path: &Path) -> Result<(PathBuf, FileConfig), Error> {
    let text = read(path)?.ok_or_else(|| {
        Error::Config(format!(
            "config `{}` does not exist; give an existing file to --config",
            path.display()
        ))
    })?;
    let fc = parse(path, &text)?.ok_or_else(|| {
        Error::Config(format!(
            "config `{}` has no [tool.envdoctor] table",
            path.display()
        ))
    })?;
    Ok((path.to_path_buf(), fc))
}

fn discover(cwd: &Path) -> Result<Option<(PathBuf, FileConfig)>, Error> {
    for dir in cwd.ancestors() {
        for name in ["envdoctor.toml", "pyproject.toml"] {
            let p = dir.join(name);
            // Only regular files: a directory or FIFO named so is not a config.
            if !std::fs::metadata(&p).is_ok_and(|m| m.is_file()) {
                continue;
            }
            if let Some(text) = read(&p)? {
                // Someone else's pyproject.toml (one envdoctor cannot even
                // parse, perhaps) is none of envdoctor's business.
                if name == "pyproject.toml" && !text.contains("envdoctor") {
                    continue;
                }
                if let Some(fc) = parse(&p, &text)? {
                    return Ok(Some((p, fc)));
                }
            }
        }
    }
    Ok(None)
}

/// How many rule files one `rules` pattern may match, and how deep.
const MAX_RULE_FILES: usize = 1_000;
const MAX_RULE_DEPTH: usize = 48;

fn load_rule_files(ctx: &FileCtx, patterns: &[String], catalog: &mut Catalog) -> Result<(), Error> {
    let dir = ctx.path.parent().unwrap_or(Path::new("/"));
    for (i, pat) in patterns.iter().enumerate() {
        let key = format!("rules[{i}]");
        let full = if Path::new(pat).is_absolute() {
            PathBuf::from(pat)
        } else {
            dir.join(pat)
        };
        let full = full.to_string_lossy().into_owned();
        let paths = glob::glob(&full)
            .map_err(|e| ctx.err(&key, &format!("`{pat}` is not a valid pattern: {e}")))?;
        let mut files: Vec<PathBuf> = Vec::new();
        // A `**` through a directory that links to itself matches without
        // end: bounded in matches, depth and time, and said so.
        let started = std::time::Instant::now();
        for p in paths {
            let p = p.map_err(|e| ctx.err(&key, &format!("`{pat}`: {e}")))?;
            if files.len() >= MAX_RULE_FILES
                || p.components().count() > MAX_RULE_DEPTH
                || started.elapsed() > std::time::Duration::from_secs(2)
            {
                return Err(ctx.err(
                    &key,
                    &format!("`{pat}` matches more than {MAX_RULE_FILES} files, or goes deeper than {MAX_RULE_DEPTH} directories (a directory linking to itself?); name the rule files more narrowly"),
                ));
            }
            if std::fs::metadata(&p).is_ok_and(|m| m.is_file()) {
                files.push(p);
            }
        }
        if files.is_empty() {
            return Err(ctx.err(
                &key,
                &format!("`{pat}` matches no file (paths are relative to the config file)"),
            ));
        }
        files.sort();
        for f in files {
            let shown = crate::fs::display(&f);
            let text = read(&f)?.ok_or_else(|| ctx.err(&key, &format!("`{shown}` vanished")))?;
            catalog
                .add(&shown, &text)
                .map_err(|e| ctx.err(&key, &e.to_string()))?;
        }
    }
    catalog.rules.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_home() {
        assert_eq!(parse_level("off"), Ok(None));
        assert_eq!(parse_level("warning"), Ok(Some(Severity::Warning)));
        assert!(parse_level("fatal").unwrap_err().contains("fatal"));
        assert_eq!(expand_home("~/v", Some("/home/u/")), "/home/u/v");
        assert_eq!(expand_home("~other/v", Some("/home/u")), "~other/v");
        assert!(same_path("/a/b/", "/a/b"));
    }

    #[test]
    fn unknown_keys_name_the_key_and_line() {
        let e = parse(Path::new("/x/envdoctor.toml"), "select = []\nbogus = 1\n").unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("/x/envdoctor.toml") && m.contains("line 2") && m.contains("bogus"),
            "{m}"
        );
        let e = parse(
            Path::new("/x/pyproject.toml"),
            "[project]\nname = \"a\"\n[tool.envdoctor]\nselct = [\"x\"]\n",
        )
        .unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("[tool.envdoctor]") && m.contains("line 4") && m.contains("selct"),
            "{m}"
        );
        assert!(
            parse(Path::new("/x/pyproject.toml"), "[tool.ruff]\nx = 1\n")
                .unwrap()
                .is_none()
        );
    }
}
