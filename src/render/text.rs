//! Human output: colored when the terminal allows (owo-colors honours the
//! override set from `--color` and `NO_COLOR`).

use super::paint;
use super::{plural, Summary};
use crate::rules::{Catalog, Finding, Rule, Selection, Severity};
use crate::snapshot::{Interpreter, Snapshot};
use owo_colors::Style as S;
use std::io::{self, Write};
use tabled::settings::Style;
use tabled::{Table, Tabled};

fn severity_label(s: Severity) -> String {
    match s {
        Severity::Error => paint("error", S::new().red().bold()),
        Severity::Warning => paint("warning", S::new().yellow().bold()),
        Severity::Info => paint("info", S::new().cyan().bold()),
    }
}

fn env_line(it: &Interpreter) -> String {
    format!(
        "{} (Python {}, {})",
        it.prefix,
        it.version.as_deref().unwrap_or("?"),
        it.kind.as_str()
    )
}

pub fn check(
    out: &mut impl Write,
    snap: &Snapshot,
    selection: &Selection,
    findings: &[Finding],
    summary: &Summary,
) -> io::Result<()> {
    let targets: Vec<&Interpreter> = selection
        .targets
        .iter()
        .filter_map(|&i| snap.interpreters.get(i))
        .collect();
    match targets.as_slice() {
        [] => match selection.unresolved.first() {
            Some(u) => writeln!(
                out,
                "{}",
                paint(
                    format!("Nothing checked: {} cannot be read", u.what),
                    S::new().bold()
                )
            )?,
            None => writeln!(
                out,
                "{}",
                paint("No environment selected", S::new().dimmed())
            )?,
        },
        [one] => writeln!(
            out,
            "Checking {} {}",
            paint(env_line(one), S::new().bold()),
            paint(
                format!(
                    "(selected by {})",
                    selection.how.first().map(String::as_str).unwrap_or("?")
                ),
                S::new().dimmed()
            )
        )?,
        many => writeln!(out, "Checking {} environments", many.len())?,
    }
    writeln!(out)?;
    for f in findings {
        writeln!(
            out,
            "{}{} {}",
            severity_label(f.severity),
            paint(format!("[{}]", f.code), S::new().dimmed()),
            paint(&f.rule, S::new().bold())
        )?;
        writeln!(out, "  {}", f.message)?;
        if let Some(env) = &f.environment {
            writeln!(
                out,
                "  {} {}",
                paint("environment:", S::new().dimmed()),
                env
            )?;
        }
        if !f.paths.is_empty() {
            let shown: Vec<&str> = f.paths.iter().take(8).map(String::as_str).collect();
            let more = f.paths.len().saturating_sub(shown.len());
            let mut line = shown.join(", ");
            if more > 0 {
                line.push_str(&format!(" (+{more} more)"));
            }
            writeln!(out, "  {} {}", paint("paths:", S::new().dimmed()), line)?;
        }
        writeln!(
            out,
            "  {} {}",
            paint("fix:", S::new().green().bold()),
            f.fix.text
        )?;
        for c in &f.fix.commands {
            writeln!(out, "    {} {c}", paint("$", S::new().dimmed()))?;
        }
        writeln!(out)?;
    }
    if findings.is_empty() && summary.suppressed == 0 && summary.environments > 0 {
        return writeln!(
            out,
            "{}",
            paint(
                format!(
                    "No problems found in {} ({})",
                    plural(summary.environments, "environment"),
                    plural(summary.distributions, "distribution")
                ),
                S::new().green().bold()
            )
        );
    }
    let mut line = format!(
        "{}, {}, {} in {} ({})",
        plural(summary.errors, "error"),
        plural(summary.warnings, "warning"),
        plural(summary.infos, "info"),
        plural(summary.environments, "environment"),
        plural(summary.distributions, "distribution"),
    );
    if summary.suppressed > 0 {
        line.push_str(&format!(
            "; {} accepted by the config file",
            summary.suppressed
        ));
    }
    if summary.errors > 0 {
        writeln!(out, "{}", paint(&line, S::new().red().bold()))
    } else if summary.warnings > 0 {
        writeln!(out, "{}", paint(&line, S::new().yellow().bold()))
    } else {
        writeln!(out, "{}", paint(&line, S::new().green().bold()))
    }
}

#[derive(Tabled)]
struct InterpreterRow {
    kind: String,
    version: String,
    prefix: String,
    executable: String,
    status: String,
}

pub fn scan(out: &mut impl Write, snap: &Snapshot, verbose: bool) -> io::Result<()> {
    writeln!(out, "{}", paint("PATH", S::new().bold()))?;
    for c in &snap.commands {
        let mut line = format!("  {:<8}", c.name);
        match (&c.path, &c.interpreter, &c.error) {
            (None, _, _) => line.push_str(&paint("not on PATH", S::new().dimmed())),
            (Some(p), interp, err) => {
                line.push_str(p);
                for v in &c.via {
                    line.push_str(&format!(
                        "\n            {} {v}",
                        paint("->", S::new().dimmed())
                    ));
                }
                if let Some(e) = err {
                    line.push_str(&format!(
                        "\n            {} {}",
                        paint("!!", S::new().red()),
                        e
                    ));
                } else if let Some(i) = interp.as_ref().filter(|i| *i != p) {
                    line.push_str(&format!(
                        "\n            {} runs {i}",
                        paint("->", S::new().dimmed())
                    ));
                }
            }
        }
        writeln!(out, "{line}")?;
    }
    writeln!(out)?;
    let rows: Vec<InterpreterRow> = snap
        .interpreters
        .iter()
        .map(|it| InterpreterRow {
            kind: it.kind.as_str().to_string(),
            version: it.version.clone().unwrap_or_else(|| "?".into()),
            prefix: it.prefix.clone(),
            executable: it.executable.clone().unwrap_or_else(|| "-".into()),
            status: match &it.error {
                Some(e) => format!("broken: {e}"),
                None => "ok".into(),
            },
        })
        .collect();
    let mut table = Table::new(rows);
    table.with(Style::sharp());
    writeln!(out, "{table}")?;
    conda_envs(out, snap)?;
    if verbose {
        for it in &snap.interpreters {
            writeln!(out, "\n{}", paint(env_line(it), S::new().bold()))?;
            for a in &it.aliases {
                writeln!(out, "  {} {a}", paint("also:", S::new().dimmed()))?;
            }
            for e in &it.sys_path {
                let mark = if e.exists { " " } else { "?" };
                writeln!(
                    out,
                    "  {mark} {}  {}",
                    e.path,
                    paint(format!("({})", e.origin.describe()), S::new().dimmed())
                )?;
            }
            for h in &it.startup_hooks {
                writeln!(
                    out,
                    "  {} {h}",
                    paint("runs at startup:", S::new().yellow())
                )?;
            }
        }
    }
    caches(out, snap, verbose)?;
    if !snap.notes.is_empty() {
        writeln!(out, "\n{}", paint("Notes", S::new().bold()))?;
        for n in &snap.notes {
            writeln!(out, "  {}: {}", n.path, n.message)?;
        }
    }
    writeln!(
        out,
        "\nFound {}",
        plural(snap.interpreters.len(), "interpreter or environment")
            .replace("environments", "environment")
            .replace(
                "interpreter or environment",
                if snap.interpreters.len() == 1 {
                    "interpreter or environment"
                } else {
                    "interpreters and environments"
                }
            )
    )
}

/// The caches (and with `--verbose` the settings read, already redacted).
fn caches(out: &mut impl Write, snap: &Snapshot, verbose: bool) -> io::Result<()> {
    if snap.caches.is_empty() && !verbose {
        return Ok(());
    }
    writeln!(out, "\n{}", paint("Caches", S::new().bold()))?;
    for c in &snap.caches {
        let mut state = match (&c.disabled_by, &c.audit) {
            (Some(d), _) => format!("disabled by {d}"),
            (None, Some(a)) => format!(
                "{} in {} entries{}",
                crate::render::human_bytes(a.bytes),
                a.entries,
                a.bounded
                    .as_deref()
                    .map(|b| format!(", walk {b}"))
                    .unwrap_or_default()
            ),
            (None, None) => "not created yet".into(),
        };
        if !c.environments.is_empty() {
            state.push_str(&format!("; for {}", c.environments.join(", ")));
        }
        writeln!(
            out,
            "  {:<7} {}  {}",
            c.tool,
            c.path,
            paint(format!("({}; {state})", c.source), S::new().dimmed())
        )?;
    }
    if verbose && !snap.config.settings.is_empty() {
        writeln!(out, "\n{}", paint("Settings", S::new().bold()))?;
        for s in &snap.config.settings {
            let section = s
                .section
                .as_deref()
                .map(|x| format!("[{x}] "))
                .unwrap_or_default();
            writeln!(
                out,
                "  {:<7} {section}{} = {}  {}",
                s.tool,
                s.key,
                s.value,
                paint(format!("({})", s.source), S::new().dimmed())
            )?;
        }
    }
    Ok(())
}

/// One line per conda env: name, manager, Python and channel.
fn conda_envs(out: &mut impl Write, snap: &Snapshot) -> io::Result<()> {
    let envs: Vec<(&Interpreter, &crate::snapshot::CondaEnv)> = snap
        .interpreters
        .iter()
        .filter_map(|it| it.conda.as_ref().map(|c| (it, c)))
        .collect();
    if envs.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n{}", paint("Conda environments", S::new().bold()))?;
    for (it, c) in envs {
        let manager = match &c.manager {
            Some(m) => {
                let mut s = format!("manager {} ({})", m.kind, m.path);
                let others: Vec<&str> = c
                    .managers
                    .iter()
                    .filter(|o| o.kind != m.kind)
                    .map(|o| o.kind.as_str())
                    .collect();
                if !others.is_empty() {
                    s.push_str(&format!(", also {}", others.join(", ")));
                }
                s
            }
            None => "no manager found".to_string(),
        };
        let python = match &c.python_version {
            Some(v) => format!("Python {v}"),
            None => "no Python".to_string(),
        };
        let channel = match &c.channel {
            Some(ch) => format!("channel {ch}"),
            None => "channel unknown".to_string(),
        };
        let mut line = format!("  {} {}", paint(&c.name, S::new().bold()), it.prefix);
        line.push_str(&format!("\n      {manager}; {python}; {channel}"));
        if c.records_read {
            line.push_str(&format!(
                "; {} from conda, {} from pip",
                plural(c.records.len(), "package"),
                c.pip_dists.len()
            ));
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

#[derive(Tabled)]
struct RuleRow {
    code: String,
    name: String,
    severity: String,
    summary: String,
}

pub fn rules(out: &mut impl Write, catalog: &Catalog) -> io::Result<()> {
    let rows: Vec<RuleRow> = catalog
        .rules
        .iter()
        .map(|r| RuleRow {
            code: r.code.clone(),
            name: r.name.clone(),
            severity: r.levels_label(),
            summary: r.summary.clone(),
        })
        .collect();
    let mut table = Table::new(rows);
    table.with(Style::sharp());
    writeln!(out, "{table}")
}

pub fn explain(out: &mut impl Write, rule: &Rule) -> io::Result<()> {
    writeln!(
        out,
        "{} {} ({})\n",
        paint(&rule.code, S::new().bold()),
        paint(&rule.name, S::new().bold()),
        severity_label(rule.severity)
    )?;
    writeln!(out, "{}\n", rule.summary)?;
    if !rule.levels.is_empty() {
        writeln!(out, "{}", paint("Level", S::new().bold()))?;
        writeln!(out, "{} by default;", rule.severity)?;
        for (s, when) in rule.levels.iter().rev() {
            writeln!(out, "{s} {when}.")?;
        }
        writeln!(out)?;
    }
    writeln!(out, "{}", paint("Why is this bad?", S::new().bold()))?;
    writeln!(out, "{}\n", rule.why.trim())?;
    writeln!(out, "{}", paint("Fix", S::new().bold()))?;
    writeln!(out, "{}", rule.fix.trim())?;
    if !rule.sources.is_empty() {
        writeln!(out, "\n{}", paint("Sources", S::new().bold()))?;
        for s in &rule.sources {
            writeln!(out, "- {s}")?;
        }
    }
    Ok(())
}
