//! Gives the command line its meaning: probe (or load a snapshot), select
//! targets, run the rules, render, and map the result to an exit code.

use crate::cli::{
    CheckArgs, CheckFormat, Cli, ColorChoice, Command, FailOn, ReportArgs, ScanFormat, WhyArgs,
};
use crate::config::Config;
use crate::probe::{self, Options};
use crate::render;
use crate::rules::Suppressed;
use crate::rules::{self, Finding, Selection, Unresolved};
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
        stdlib_modules: false,
    };
    // The catalogue and completions read no machine: options about how a
    // machine is read mean nothing there, and silence would mislead.
    let machine_free = match &cli.command {
        Command::Rules(_) => Some("rules"),
        Command::Explain(_) => Some("explain"),
        Command::GenerateShellCompletion(_) => Some("generate-shell-completion"),
        _ => None,
    };
    if let Some(cmd) = machine_free {
        let given: Vec<&str> = [
            ("--root", opts.root.is_some()),
            ("--user", opts.user.is_some()),
            ("--exec", opts.exec),
            ("--env", !opts.env.is_empty()),
        ]
        .iter()
        .filter(|(_, on)| *on)
        .map(|(f, _)| *f)
        .collect();
        if !given.is_empty() {
            return Err(Error::Usage(format!(
                "{} {} how a machine is read; `envdoctor {cmd}` reads none, so drop {}",
                given.join(", "),
                if given.len() == 1 {
                    "changes"
                } else {
                    "change"
                },
                if given.len() == 1 { "it" } else { "them" }
            )));
        }
    }
    if opts.exec && opts.root.is_some() {
        return Err(Error::Usage(
            "--exec cannot run interpreters inside --root (they would run against the host); drop one of them".into(),
        ));
    }
    // Everything is rendered into memory first, then passes the one exit
    // gate (`emit`): redaction for every format, and for what a terminal or
    // CI log shows, no line that could start a workflow command.
    let mut buf: Vec<u8> = Vec::new();
    let plain = match &cli.command {
        Command::Scan(a) => a.format == ScanFormat::Text,
        Command::Check(a) => a.format == CheckFormat::Text,
        Command::Why(a) => a.format == ScanFormat::Text,
        Command::Report(_) | Command::Explain(_) | Command::GenerateShellCompletion(_) => true,
        Command::Rules(a) => a.format == ScanFormat::Text,
    };
    let code = dispatch(cli, &opts, &mut buf)?;
    match emit(&buf, plain) {
        // `check | head`: the reader left, the verdict stands.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(code),
        Err(e) => Err(e.into()),
        Ok(()) => Ok(code),
    }
}

/// Writes the rendered output: credentials redacted whatever the format,
/// and in human formats a line that a CI runner would read as a workflow
/// command (`::error ...`, `::stop-commands::`) is defused.
fn emit(buf: &[u8], plain: bool) -> std::io::Result<()> {
    let text = crate::fs::lossy(buf);
    let mut text = crate::redact::text(&text);
    if plain {
        text = crate::render::defuse_workflow_commands(&text);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

fn dispatch(cli: Cli, opts: &Options, out: &mut Vec<u8>) -> Result<u8, Error> {
    let opts = opts.clone();
    let mut out = out;
    match cli.command {
        Command::Scan(a) => {
            let snap = probe::scan(&opts)?;
            match a.format {
                ScanFormat::Json => {
                    serde_json::to_writer_pretty(&mut out, &snap).map_err(std::io::Error::from)?;
                    writeln!(out)?;
                }
                ScanFormat::Text => {
                    render::text::scan(&mut out, &render::cleaned(&snap), a.verbose)?
                }
            }
            Ok(0)
        }
        Command::Check(a) => check(&mut out, &opts, &a),
        Command::GenerateShellCompletion(a) => {
            use clap::CommandFactory;
            clap_complete::generate(a.shell, &mut Cli::command(), "envdoctor", &mut out);
            Ok(0)
        }
        Command::Why(a) => why(&mut out, &opts, &a),
        Command::Report(a) => report(&mut out, &opts, &a),
        Command::Rules(a) => {
            // With the config's extra rules, so a CI's own rules are listed too.
            let catalog = Config::load(&Default::default())?.catalog;
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
            let catalog = Config::load(&Default::default())?.catalog;
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
    let mut config = Config::load(&a.rules.overrides())?;
    for file in &a.requirements {
        config
            .settings
            .requirements
            .extend(crate::requirements::load(file)?);
    }
    // `--python X` as the user meant it: a shim, a name on PATH, a project
    // dir. Not a Python at all: exit 2. A Python that cannot run: a finding.
    // A live check reads through one context: resolving `--python`, the
    // scan and the targets' site-packages share its notes and stat cache.
    // `check`'s snapshot is never shown, so only what a rule reads is read.
    let ctx = match &a.snapshot {
        Some(_) => None,
        None => Some(probe::Ctx::new(&Options {
            rule_facts_only: true,
            ..opts.clone()
        })?),
    };
    let (python, broken) = match (&a.python, &ctx) {
        (Some(p), Some(ctx)) => requested(ctx, p)?,
        (p, _) => (p.clone(), None),
    };
    let mut snap = match (&a.snapshot, &ctx) {
        (Some(path), _) => {
            reject_live_options(opts)?;
            load_snapshot(path)?
        }
        (None, ctx) => {
            let mut opts = opts.clone();
            opts.python = python.clone();
            opts.skip_site_packages = true;
            opts.requested_only = a.python.is_some();
            match ctx {
                Some(ctx) => probe::scan_in(ctx, &opts)?,
                None => probe::scan(&opts)?,
            }
        }
    };
    let mut selection = match broken {
        Some(b) => Selection {
            unresolved: vec![b],
            ..Default::default()
        },
        None => select(&snap, a, python.as_deref())?,
    };
    if let Some(ctx) = &ctx {
        // Only the targets' `.pth` files and site-packages: `check` stays
        // fast on a machine with hundreds of environments.
        probe::deepen_in(ctx, &mut snap, &selection.targets);
        probe::read_site_packages_in(ctx, &mut snap, &selection.targets);
    }
    selection.how.resize(selection.targets.len(), String::new());
    let (mut findings, mut suppressed, mut summary, read_shallow) =
        evaluate(&config, &snap, &selection);
    if let (true, Some(ctx)) = (read_shallow, &ctx) {
        // A fix text asked which other interpreters see a directory, and
        // some were read shallow: read them in full and judge again, so
        // that the answer is the one a full reading gives.
        let all: Vec<usize> = (0..snap.interpreters.len()).collect();
        probe::deepen_in(ctx, &mut snap, &all);
        (findings, suppressed, summary, _) = evaluate(&config, &snap, &selection);
    }
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
    render_check(out, a, &run)?;
    let code = exit_code(&findings, a.fail_on);
    // The process ends right after: freeing every distribution of every
    // environment one by one was 4% of a `check --all`, and the context's
    // listings (20,000 names in one big site dir) another 0.4 ms. Only
    // `main` calls this, once per process.
    std::mem::forget(snap);
    std::mem::forget(ctx);
    Ok(code)
}

fn render_check(out: &mut impl Write, a: &CheckArgs, run: &render::Run) -> Result<(), Error> {
    let (snap, selection, findings, summary) =
        (run.snapshot, run.selection, run.findings, run.summary);
    match a.format {
        CheckFormat::Json => render::json::check(out, run)?,
        CheckFormat::Text => {
            // Only what the text shows of the machine is escaped: the
            // findings, and (in the renderer) the targets' names. Cleaning
            // the whole snapshot through serde cost a copy of every
            // distribution on each text check.
            let findings = render::cleaned(&findings.to_vec());
            render::text::check(out, snap, selection, &findings, summary)?;
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
                            render::clean(&it.prefix),
                            render::clean(&crate::shell::quote(&it.prefix))
                        )?;
                    }
                }
            }
        }
        CheckFormat::Sarif => render::sarif::check(out, run)?,
        CheckFormat::Github => render::github::check(out, run)?,
        CheckFormat::Junit => render::junit::check(out, run)?,
    }
    Ok(())
}

/// Resolves `--python X` for a live run: the path to probe, or why what
/// it names cannot run (reported as a finding, so the gate fails).
fn requested(
    ctx: &probe::Ctx,
    raw: &Path,
) -> Result<(Option<std::path::PathBuf>, Option<Unresolved>), Error> {
    Ok(match probe::requested::resolve_in(ctx, raw)? {
        probe::requested::Requested::Found(p) => (Some(p), None),
        probe::requested::Requested::Broken { path, reason, fix } => (
            None,
            Some(Unresolved {
                what: format!("`--python {}`", raw.display()),
                how: "--python".into(),
                reason,
                fix,
                paths: vec![path],
            }),
        ),
    })
}

/// Runs the rules, applies the config's ignore list, and counts: the
/// findings, what was suppressed, the summary, and whether a rule read an
/// interpreter that discovery left shallow ([`rules::Outcome`]).
fn evaluate(
    config: &Config,
    snap: &Snapshot,
    selection: &Selection,
) -> (Vec<Finding>, Vec<Suppressed>, render::Summary, bool) {
    let out = rules::evaluate(&config.catalog, snap, selection, &config.settings);
    let (findings, suppressed) = config.suppress(out.findings, snap);
    let mut summary = render::Summary::new(snap, selection, &findings);
    summary.suppressed = suppressed.len();
    (findings, suppressed, summary, out.read_shallow)
}

/// `report`: every environment and the machine-wide checks, as Markdown.
fn report(out: &mut impl Write, opts: &Options, a: &ReportArgs) -> Result<u8, Error> {
    let config = Config::load(&a.rules.overrides())?;
    let snap = match &a.snapshot {
        Some(path) => {
            reject_live_options(opts)?;
            load_snapshot(path)?
        }
        None => probe::scan(opts)?,
    };
    let selection = all(&snap);
    let (findings, suppressed, summary, _) = evaluate(&config, &snap, &selection);
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
    if let Some(path) = &a.snapshot {
        reject_live_options(opts)?;
        let snap = load_snapshot(path)?;
        let selection = select_one(&snap, a.python.as_deref(), true)?;
        let Some(&target) = selection.targets.first() else {
            return Err(Error::Usage(
                "the snapshot names no active environment; pass `--python PATH` as the snapshot shows it".into(),
            ));
        };
        return why_report(out, &snap, target, a);
    }
    let ctx = probe::Ctx::new(opts)?;
    let (python, broken) = match &a.python {
        Some(p) => requested(&ctx, p)?,
        None => (None, None),
    };
    if let Some(b) = broken {
        return Err(Error::Usage(format!(
            "{} cannot run: {}. {}",
            b.what, b.reason, b.fix
        )));
    }
    let mut opts = opts.clone();
    opts.python = python.clone();
    opts.skip_site_packages = true;
    opts.requested_only = a.python.is_some();
    opts.stdlib_modules = true;
    let mut snap = probe::scan_in(&ctx, &opts)?;
    let selection = select_one(&snap, python.as_deref(), false)?;
    let Some(&target) = selection.targets.first() else {
        let why = selection
            .unresolved
            .first()
            .map(|u| format!("{}: {}", u.what, u.reason))
            .unwrap_or_else(|| "no active venv or conda env and no python3 on PATH".into());
        return Err(Error::Usage(format!(
            "no environment to ask ({why}); pass `--python PATH`"
        )));
    };
    probe::read_site_packages_in(&ctx, &mut snap, &[target]);
    why_report(out, &snap, target, a)
}

/// `why` on a snapshot, live or loaded: exit 1 when nothing by that name
/// is there (not even in the standard library).
fn why_report(
    out: &mut impl Write,
    snap: &Snapshot,
    target: usize,
    a: &WhyArgs,
) -> Result<u8, Error> {
    let report = rules::why::why(snap, &snap.interpreters[target], &a.name);
    match a.format {
        ScanFormat::Json => render::why::json(out, &report)?,
        ScanFormat::Text => render::why::text(out, &render::cleaned(&report))?,
    }
    Ok(u8::from(
        report.imports.is_empty() && report.distributions.is_empty() && report.stdlib.is_none(),
    ))
}

/// Every environment of the snapshot, and the machine-wide checks.
fn all(snap: &Snapshot) -> Selection {
    Selection {
        targets: (0..snap.interpreters.len()).collect(),
        how: vec!["--all".into(); snap.interpreters.len()],
        machine: true,
        unresolved: Vec::new(),
    }
}

/// The environments `check` looks at.
fn select(snap: &Snapshot, a: &CheckArgs, python: Option<&Path>) -> Result<Selection, Error> {
    if a.all {
        return Ok(all(snap));
    }
    select_one(snap, python, a.snapshot.is_some())
}

/// `--python PATH`, else the active environment, else what python3 on PATH
/// runs. What the user meant but cannot be read is kept in `unresolved`.
fn select_one(
    snap: &Snapshot,
    python: Option<&Path>,
    from_snapshot: bool,
) -> Result<Selection, Error> {
    let one = |i: usize, how: &str, machine: bool| Selection {
        targets: vec![i],
        how: vec![how.to_string()],
        machine,
        unresolved: Vec::new(),
    };
    let unresolved = |u: Unresolved| Selection {
        machine: true,
        unresolved: vec![u],
        ..Default::default()
    };
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
            Some((i, _)) => Ok(one(i, "--python", false)),
            None => Err(Error::Usage(format!(
                "`{p}` is not a Python interpreter or environment envdoctor can find; `envdoctor scan` lists the ones it sees"
            ))),
        };
    }
    for var in ["VIRTUAL_ENV", "CONDA_PREFIX"] {
        let Some(value) = snap.env_var(var).filter(|v| !v.is_empty()) else {
            continue;
        };
        let value = value.trim_end_matches('/');
        let value = if value.is_empty() { "/" } else { value };
        return Ok(match snap.interpreter_by_prefix(value) {
            Some((i, _)) => one(i, var, true),
            None => unresolved(Unresolved {
                what: format!("the active environment `{value}` (`{var}`)"),
                how: var.into(),
                reason: "it is not an environment envdoctor can read (no `pyvenv.cfg`, `conda-meta/` or `bin/python`)".into(),
                fix: format!(
                    "Deactivate it (`{}`, or open a new shell), then activate the environment you mean, or check it by path: `envdoctor check --python PATH`",
                    if var == "VIRTUAL_ENV" { "deactivate" } else { "conda deactivate" }
                ),
                paths: vec![value.to_string()],
            }),
        });
    }
    for name in ["python3", "python"] {
        let Some(cmd) = snap.command(name).filter(|c| c.path.is_some()) else {
            continue;
        };
        let how = format!("PATH {name}");
        if let Some((i, _)) = snap.command_target(name) {
            return Ok(one(i, &how, true));
        }
        let path = cmd.path.clone().unwrap_or_default();
        let reason = cmd.error.clone().unwrap_or_else(|| {
            format!(
                "it runs `{}`, which envdoctor could not identify as an environment",
                cmd.interpreter.as_deref().unwrap_or(&path)
            )
        });
        let fix = if reason.contains("pyenv") {
            "Install the pyenv version asked for (`pyenv install VERSION`) or select an installed one (`pyenv versions` lists them; `pyenv local VERSION` rewrites `.python-version`); or check an interpreter by its path: `envdoctor check --python PATH`"
        } else {
            "Repair or remove it so that PATH reaches a working Python, or check an interpreter by its path: `envdoctor check --python PATH`"
        };
        return Ok(unresolved(Unresolved {
            what: format!("`{name}` on PATH (`{path}`)"),
            how,
            reason,
            fix: fix.into(),
            paths: vec![path],
        }));
    }
    let elsewhere: Vec<&str> = snap
        .interpreters
        .iter()
        .filter(|i| i.error.is_none())
        .filter_map(|i| i.executable.as_deref())
        .collect();
    let fix = if elsewhere.is_empty() {
        "Install Python (your distribution's `python3` package, `uv python install`, or `pyenv install`) or put it on PATH".to_string()
    } else {
        format!(
            "Put the Python you mean on PATH or activate its environment, or check it by path: `envdoctor check --python {}`",
            crate::shell::quote(elsewhere[0])
        )
    };
    let found = if elsewhere.is_empty() {
        "no interpreter was found anywhere else either".to_string()
    } else {
        format!(
            "{} interpreter(s) exist off PATH ({})",
            elsewhere.len(),
            crate::rules::checks::list_some(&crate::rules::checks::ticked(&elsewhere), 3)
        )
    };
    Ok(unresolved(Unresolved {
        what: "the Python on PATH".into(),
        how: "PATH python3".into(),
        reason: format!(
            "no `python3` or `python` on PATH (`{}`) that this user can run; {found}",
            snap.env_var("PATH").unwrap_or("")
        ),
        fix,
        paths: Vec::new(),
    }))
}

/// The largest snapshot read (a machine with 50 venvs of 200 distributions
/// writes about 15 MiB).
const MAX_SNAPSHOT: u64 = 64 << 20;

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
    // Refused by its size before a byte is read: a real snapshot of a large
    // machine is a few MiB.
    if let Ok(m) = fs.metadata(&abs) {
        if m.len() > MAX_SNAPSHOT {
            return Err(err(format!(
                "{} MiB, larger than the {} MiB a snapshot can be; not an envdoctor snapshot",
                m.len() >> 20,
                MAX_SNAPSHOT >> 20
            )));
        }
    }
    let (text, truncated) = fs.read_text_limited(&abs, MAX_SNAPSHOT).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            err(format!("no such file; {WRITE_ONE}"))
        } else {
            err(format!("cannot read it: {e}"))
        }
    })?;
    if truncated {
        return Err(err(format!(
            "larger than {} MiB; not an envdoctor snapshot",
            MAX_SNAPSHOT >> 20
        )));
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
