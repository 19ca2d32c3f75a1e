//! Gives the command line its meaning: probe (or load a snapshot), select
//! targets, run the rules, render, and map the result to an exit code.

use crate::cli::{
    CheckArgs, CheckFormat, Cli, ColorChoice, Command, FailOn, ReportArgs, RuleArgs, ScanFormat,
    WhyArgs,
};
use crate::config::{Config, Suppressed};
use crate::probe::{self, Options};
use crate::render;
use crate::rules::{self, Finding, Selection};
use crate::snapshot::{Snapshot, SCHEMA_VERSION};
use crate::Error;
use clap::Parser;
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::Path;

pub fn run(args: impl IntoIterator<Item = OsString>) -> Result<u8, Error> {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return Ok(code);
        }
    };
    set_color(cli.global.color);
    let opts = Options {
        root: cli.global.root.clone(),
        user: cli.global.user.clone(),
        env: cli.global.env.clone(),
        exec: cli.global.exec,
        python: None,
        skip_site_packages: false,
        requested_only: false,
        rule_facts_only: false,
    };
    if opts.exec && opts.root.is_some() {
        return Err(Error::Usage(
            "--exec cannot run interpreters inside --root (they would run against the host); drop one of them".into(),
        ));
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match cli.command {
        Command::Scan(a) => {
            let snap = probe::scan(&opts)?;
            match a.format {
                ScanFormat::Json => {
                    serde_json::to_writer_pretty(&mut out, &snap).map_err(std::io::Error::from)?;
                    writeln!(out)?;
                }
                ScanFormat::Text => render::text::scan(&mut out, &snap, a.verbose)?,
            }
            Ok(0)
        }
        Command::Check(a) => check(&mut out, &opts, &a),
        Command::Why(a) => why(&mut out, &opts, &a),
        Command::Report(a) => report(&mut out, &opts, &a),
        Command::Rules(a) => {
            // With the config's extra rules, so a CI's own rules are listed too.
            let catalog = Config::load(&RuleArgs::default())?.catalog;
            match a.format {
                ScanFormat::Json => {
                    serde_json::to_writer_pretty(&mut out, &catalog.rules)
                        .map_err(std::io::Error::from)?;
                    writeln!(out)?;
                }
                ScanFormat::Text => render::text::rules(&mut out, &catalog)?,
            }
            Ok(0)
        }
        Command::Explain(a) => {
            let catalog = Config::load(&RuleArgs::default())?.catalog;
            let Some(rule) = catalog.find(&a.rule) else {
                return Err(Error::Usage(format!(
                    "no rule named `{}`; `envdoctor rules` lists them",
                    a.rule
                )));
            };
            render::text::explain(&mut out, rule)?;
            Ok(0)
        }
    }
}

fn set_color(choice: ColorChoice) {
    let on = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    };
    render::set_color(on);
}

fn check(out: &mut impl Write, opts: &Options, a: &CheckArgs) -> Result<u8, Error> {
    // The configuration is read first: a broken config file fails fast,
    // before any probing.
    let mut config = Config::load(&a.rules)?;
    for file in &a.requirements {
        config
            .settings
            .requirements
            .extend(crate::requirements::load(file)?);
    }
    let mut snap = match &a.snapshot {
        Some(path) => {
            reject_live_options(opts)?;
            load_snapshot(path)?
        }
        None => {
            let mut opts = opts.clone();
            opts.python = a.python.clone();
            opts.skip_site_packages = true;
            opts.requested_only = a.python.is_some();
            probe::scan(&opts)?
        }
    };
    let selection = select(&snap, a)?;
    if a.snapshot.is_none() {
        // Only the targets' site-packages: `check` stays fast on a machine
        // with hundreds of environments.
        let mut opts = opts.clone();
        opts.python = a.python.clone();
        opts.rule_facts_only = true;
        probe::read_site_packages(&opts, &mut snap, &selection.targets)?;
    }
    let (findings, suppressed, summary) = evaluate(&config, &snap, &selection);
    let run = render::Run {
        snapshot: &snap,
        catalog: &config.catalog,
        settings: &config.settings,
        selection: &selection,
        findings: &findings,
        suppressed: &suppressed,
        summary: &summary,
        fail_on: a.fail_on.threshold(),
    };
    match a.format {
        CheckFormat::Json => render::json::check(out, &findings, &summary)?,
        CheckFormat::Text => {
            render::text::check(out, &snap, &selection, &findings, &summary)?;
            // In a project whose `.venv` is not active, what was checked is
            // the PATH python; say so, and how to check the venv instead.
            if a.python.is_none() && !a.all {
                for (i, it) in snap.interpreters.iter().enumerate() {
                    if it.sources.iter().any(|s| s == "project .venv")
                        && !selection.targets.contains(&i)
                    {
                        writeln!(
                            out,
                            "Not checked: the project venv `{}` (not active); `envdoctor check --python {}` checks it",
                            it.prefix, it.prefix
                        )?;
                    }
                }
            }
        }
        CheckFormat::Sarif => render::sarif::check(out, &run)?,
        CheckFormat::Github => render::github::check(out, &run)?,
        CheckFormat::Junit => render::junit::check(out, &run)?,
    }
    Ok(exit_code(&findings, a.fail_on))
}

/// Runs the rules, applies the config's ignore list, and counts.
fn evaluate(
    config: &Config,
    snap: &Snapshot,
    selection: &Selection,
) -> (Vec<Finding>, Vec<Suppressed>, render::Summary) {
    let findings = rules::run(&config.catalog, snap, selection, &config.settings);
    let (findings, suppressed) = config.suppress(findings, snap);
    let mut summary = render::Summary::new(snap, selection, &findings);
    summary.suppressed = suppressed.len();
    (findings, suppressed, summary)
}

/// `report`: every environment and the machine-wide checks, as Markdown.
fn report(out: &mut impl Write, opts: &Options, a: &ReportArgs) -> Result<u8, Error> {
    let config = Config::load(&a.rules)?;
    let snap = match &a.snapshot {
        Some(path) => {
            reject_live_options(opts)?;
            load_snapshot(path)?
        }
        None => probe::scan(opts)?,
    };
    let selection = Selection {
        targets: (0..snap.interpreters.len()).collect(),
        machine: true,
    };
    let (findings, suppressed, summary) = evaluate(&config, &snap, &selection);
    let run = render::Run {
        snapshot: &snap,
        catalog: &config.catalog,
        settings: &config.settings,
        selection: &selection,
        findings: &findings,
        suppressed: &suppressed,
        summary: &summary,
        fail_on: None,
    };
    let shown = a.snapshot.as_ref().map(|p| p.display().to_string());
    render::markdown::report(out, &run, shown.as_deref())?;
    Ok(0)
}

/// A snapshot holds the facts of another machine: options that change how
/// this machine is read make no sense with it.
fn reject_live_options(opts: &Options) -> Result<(), Error> {
    if opts.root.is_some() || opts.exec || opts.user.is_some() || !opts.env.is_empty() {
        return Err(Error::Usage(
            "--root, --user, --env and --exec change how a machine is read; a snapshot was read already on the customer's machine, so drop them".into(),
        ));
    }
    Ok(())
}

pub fn exit_code(findings: &[Finding], fail_on: FailOn) -> u8 {
    match fail_on.threshold() {
        Some(t) => u8::from(findings.iter().any(|f| f.severity >= t)),
        None => 0,
    }
}

fn why(out: &mut impl Write, opts: &Options, a: &WhyArgs) -> Result<u8, Error> {
    let mut opts = opts.clone();
    opts.python = a.python.clone();
    opts.skip_site_packages = true;
    opts.requested_only = a.python.is_some();
    let mut snap = probe::scan(&opts)?;
    let selection = select_one(&snap, a.python.as_deref(), false)?;
    let Some(&target) = selection.targets.first() else {
        return Err(Error::Usage(
            "no environment to ask: no active venv or conda env and no python3 on PATH; pass `--python PATH`".into(),
        ));
    };
    probe::read_site_packages(&opts, &mut snap, &[target])?;
    let report = rules::why::why(&snap, &snap.interpreters[target], &a.name);
    match a.format {
        ScanFormat::Json => render::why::json(out, &report)?,
        ScanFormat::Text => render::why::text(out, &report)?,
    }
    Ok(u8::from(
        report.imports.is_empty() && report.distributions.is_empty(),
    ))
}

/// The environments `check` looks at.
fn select(snap: &Snapshot, a: &CheckArgs) -> Result<Selection, Error> {
    if a.all {
        return Ok(Selection {
            targets: (0..snap.interpreters.len()).collect(),
            machine: true,
        });
    }
    select_one(snap, a.python.as_deref(), a.snapshot.is_some())
}

/// `--python PATH`, else the active environment, else what python3 on PATH runs.
fn select_one(
    snap: &Snapshot,
    python: Option<&Path>,
    from_snapshot: bool,
) -> Result<Selection, Error> {
    if let Some(p) = python {
        // Live checks take paths relative to the cwd; a snapshot's paths are
        // the customer's, so they must be given as the snapshot shows them.
        let p = match (from_snapshot, p.is_relative()) {
            (false, true) => crate::fs::normpath(&std::env::current_dir()?.join(p)),
            _ => p.to_path_buf(),
        };
        let p = p.to_string_lossy();
        let p = p.trim_end_matches('/');
        let found = snap
            .interpreter_by_path(p)
            .or_else(|| snap.interpreter_by_prefix(p));
        return match found {
            Some((i, _)) => Ok(Selection {
                targets: vec![i],
                machine: false,
            }),
            None => Err(Error::Usage(format!(
                "`{p}` is not a Python interpreter or environment envdoctor can find; `envdoctor scan` lists the ones it sees"
            ))),
        };
    }
    let active = ["VIRTUAL_ENV", "CONDA_PREFIX"]
        .iter()
        .filter_map(|v| snap.env_var(v))
        .find_map(|p| snap.interpreter_by_prefix(p.trim_end_matches('/')))
        .map(|(i, _)| i)
        .or_else(|| {
            ["python3", "python"]
                .iter()
                .find_map(|n| snap.command_target(n))
                .map(|(i, _)| i)
        });
    Ok(Selection {
        targets: active.into_iter().collect(),
        machine: true,
    })
}

/// Reads a snapshot written by `scan --format json`, refusing with a clear
/// message what is missing, cut off, something else, or from a newer envdoctor.
pub fn load_snapshot(path: &Path) -> Result<Snapshot, Error> {
    let err = |message: String| Error::Snapshot {
        path: path.display().to_string(),
        message,
    };
    const WRITE_ONE: &str =
        "on the machine to check, write one with `envdoctor scan --format json > snapshot.json`";
    let fs = crate::fs::Fs::new("/");
    let abs = std::path::absolute(path).map_err(|e| err(e.to_string()))?;
    let (text, truncated) = fs.read_text_limited(&abs, 512 << 20).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            err(format!("no such file; {WRITE_ONE}"))
        } else {
            err(format!("cannot read it: {e}"))
        }
    })?;
    if truncated {
        return Err(err("larger than 512 MiB; not an envdoctor snapshot".into()));
    }
    if text.trim().is_empty() {
        return Err(err(format!("the file is empty; {WRITE_ONE}")));
    }
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        if e.is_eof() {
            err(format!(
                "the JSON ends early at line {} (a truncated copy or upload?); ask for the whole file, or {WRITE_ONE}",
                e.line()
            ))
        } else {
            err(format!("not valid JSON ({e}); {WRITE_ONE}"))
        }
    })?;
    let Some(obj) = value.as_object() else {
        return Err(err(format!(
            "a JSON document but not an envdoctor snapshot (not an object); {WRITE_ONE}"
        )));
    };
    if obj.contains_key("findings") {
        return Err(err(format!(
            "this is the output of `envdoctor check --format json` (findings), not a snapshot (facts); {WRITE_ONE}"
        )));
    }
    let version = obj.get("schema_version").and_then(|v| v.as_u64());
    let Some(version) = version.filter(|_| obj.contains_key("interpreters")) else {
        return Err(err(format!(
            "a JSON document but not an envdoctor snapshot (no `schema_version` and `interpreters`); {WRITE_ONE}"
        )));
    };
    if version > u64::from(SCHEMA_VERSION) {
        return Err(err(format!(
            "it has schema_version {version}, newer than this envdoctor understands ({SCHEMA_VERSION}); upgrade envdoctor to read it"
        )));
    }
    serde_json::from_value(value).map_err(|e| {
        err(format!(
            "it looks like an envdoctor snapshot but does not match schema_version {version}: {e}"
        ))
    })
}
