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

/// Columns to wrap prose to: `COLUMNS`, else the terminal's when stdout is
/// one; `None` (no wrapping) when piped without `COLUMNS`.
fn width() -> Option<usize> {
    if let Some(c) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
    {
        return Some(c.max(40));
    }
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return None;
    }
    terminal_size::terminal_size().map(|(w, _)| (w.0 as usize).max(40))
}

/// `text` after `first`, wrapped at blanks to the width with `rest`
/// before each following line; a word longer than a line (a path) is never
/// broken.
fn wrapped(first: &str, rest: &str, text: &str) -> String {
    match width() {
        Some(w) => {
            // A `code span` (a command to paste) stays on one line.
            let mut in_code = false;
            let glued: String = text
                .chars()
                .map(|c| {
                    if c == '`' {
                        in_code = !in_code;
                    }
                    if c == ' ' && in_code {
                        '\u{a0}'
                    } else {
                        c
                    }
                })
                .collect();
            textwrap::fill(
                &glued,
                textwrap::Options::new(w)
                    .initial_indent(first)
                    .subsequent_indent(rest)
                    .break_words(false)
                    .word_splitter(textwrap::WordSplitter::NoHyphenation)
                    .word_separator(textwrap::WordSeparator::AsciiSpace),
            )
            .replace('\u{a0}', " ")
        }
        None => format!("{first}{text}"),
    }
}

/// One finding: its head line, message, where, and fix.
fn finding(out: &mut impl Write, f: &Finding, indent: &str, in_section: bool) -> io::Result<()> {
    writeln!(
        out,
        "{indent}{}{} {}",
        severity_label(f.severity),
        paint(format!("[{}]", f.code), S::new().dimmed()),
        paint(&f.rule, S::new().bold())
    )?;
    let body = format!("{indent}  ");
    writeln!(out, "{}", wrapped(&body, &body, &f.message))?;
    if let Some(env) = f.environment.as_ref().filter(|_| !in_section) {
        writeln!(
            out,
            "{body}{} {}",
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
        writeln!(out, "{body}{} {}", paint("paths:", S::new().dimmed()), line)?;
    }
    writeln!(
        out,
        "{}",
        wrapped(
            &format!("{body}{} ", paint("fix:", S::new().green().bold())),
            &format!("{body}     "),
            &f.fix.text
        )
    )?;
    for c in &f.fix.commands {
        writeln!(out, "{body}  {} {c}", paint("$", S::new().dimmed()))?;
    }
    writeln!(out)
}

fn env_line(it: &Interpreter) -> String {
    format!(
        "{} (Python {}, {})",
        super::clean(&it.prefix),
        super::clean(it.version.as_deref().unwrap_or("?")),
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
                    format!("Nothing checked: {} cannot be read", super::clean(&u.what)),
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
    // One section per environment (when there are several), then the
    // machine-wide findings: brew and flutter doctor's layout.
    let many = targets.len() > 1;
    let mut sections: Vec<(Option<&Interpreter>, Vec<&Finding>)> =
        targets.iter().map(|t| (Some(*t), Vec::new())).collect();
    let mut machine: Vec<&Finding> = Vec::new();
    for f in findings {
        let at = f
            .environment
            .as_deref()
            .and_then(|e| targets.iter().position(|t| t.prefix == e));
        match at {
            Some(k) => sections[k].1.push(f),
            None => machine.push(f),
        }
    }
    if !machine.is_empty() || (many && selection.machine) {
        sections.push((None, machine));
    }
    for (k, (env, fs)) in sections.iter().enumerate() {
        let indent = if many { "  " } else { "" };
        if many {
            let title = match env {
                Some(it) => format!(
                    "{} {}",
                    paint(env_line(it), S::new().bold()),
                    paint(
                        format!("(selected by {})", selection.how_of(selection.targets[k])),
                        S::new().dimmed()
                    )
                ),
                None => paint("Machine-wide (PATH, variables, caches)", S::new().bold()),
            };
            writeln!(out, "{title}")?;
            if fs.is_empty() {
                writeln!(out, "  {}\n", paint("no problems", S::new().green()))?;
                continue;
            }
        } else if env.is_none() && !fs.is_empty() && !targets.is_empty() {
            writeln!(out, "{}", paint("Machine-wide", S::new().bold()))?;
        }
        for f in fs {
            finding(out, f, indent, many)?;
        }
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
        let mut line = format!("  {:<11} ", c.name);
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
            // Inside its prefix, the executable is shown relative to it:
            // shorter, and the table fits without breaking a path.
            executable: match &it.executable {
                Some(e) => e
                    .strip_prefix(&format!("{}/", it.prefix.trim_end_matches('/')))
                    .map(str::to_string)
                    .unwrap_or_else(|| e.clone()),
                None => "-".into(),
            },
            // What was measured, not a verdict `check` might contradict:
            // whether it can start, and scripts whose interpreter is gone.
            status: {
                let dead = it
                    .foreign_scripts
                    .iter()
                    .filter(|s| !s.interpreter_exists)
                    .count();
                let foreign = it.foreign_scripts.len() - dead;
                let mut st = match (&it.error, &it.not_runnable) {
                    (Some(e), _) => format!("broken: {e}"),
                    (None, Some(why)) => format!("not runnable by this user: {why}"),
                    (None, None) => "starts".into(),
                };
                if dead > 0 {
                    st.push_str(&format!("; {dead} script(s) name a missing interpreter"));
                }
                if foreign > 0 {
                    st.push_str(&format!(
                        "; {foreign} script(s) run another env's interpreter"
                    ));
                }
                st
            },
        })
        .collect();
    let mut table = Table::new(rows);
    table.with(Style::sharp());
    if let Some(w) = width() {
        // Cells wrap (paths at `/`) so that the table fits the terminal.
        table.with(
            tabled::settings::Width::wrap(w)
                .keep_words(true)
                .priority(tabled::settings::peaker::PriorityMax::new(true)),
        );
    }
    writeln!(out, "{table}")?;
    writeln!(
        out,
        "{}",
        paint(
            wrapped(
                "",
                "  ",
                "status: `starts` = its executable and standard library are in place (not a verdict on its packages: `envdoctor check --python PREFIX` judges those); version `?` = no version file could be read"
            ),
            S::new().dimmed()
        )
    )?;
    conda_envs(out, snap)?;
    if verbose {
        writeln!(
            out,
            "\n{}",
            paint(
                "sys.path, in order (`?` = the directory does not exist; Python keeps it on sys.path all the same)",
                S::new().dimmed()
            )
        )?;
        for it in &snap.interpreters {
            writeln!(out, "\n{}", paint(env_line(it), S::new().bold()))?;
            for a in &it.aliases {
                writeln!(out, "  {} {a}", paint("also:", S::new().dimmed()))?;
            }
            for e in &it.sys_path {
                // `?`: on sys.path but absent (site.py keeps such entries).
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
            writeln!(
                out,
                "{}",
                wrapped("  ", "    ", &format!("{}: {}", n.path, n.message))
            )?;
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
                crate::units::bytes_si(a.bytes),
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
            "{}",
            wrapped(
                &format!("  {:<7} ", c.tool),
                "          ",
                &format!("{} ({}; {state})", c.path, c.source)
            )
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
                "{}",
                wrapped(
                    &format!("  {:<7} ", s.tool),
                    "          ",
                    &format!("{section}{} = {} ({})", s.key, s.value, s.source)
                )
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
    let widest = |f: fn(&RuleRow) -> usize| rows.iter().map(f).max().unwrap_or(0);
    // Levels wrap after a comma past 14 columns ("warning, error," / "info"),
    // or one level a line where the terminal is narrow.
    let names = widest(|r| r.code.len()).max(4) + widest(|r| r.name.len()).max(4);
    let levels_wide = widest(|r| r.severity.len()).clamp(8, 14);
    let mut table = Table::new(rows);
    table.with(Style::sharp());
    if let Some(w) = width() {
        let mut levels = levels_wide;
        if names + levels + 5 + 8 + 16 > w {
            levels = 8;
        }
        let fixed = names + levels;
        // Code, name and levels keep their width; the summary wraps at
        // blanks into what is left (5 borders, 2 blanks per column).
        let left = w.saturating_sub(fixed + 5 + 8).max(16);
        table.with(
            tabled::settings::Modify::new(tabled::settings::object::Columns::new(3..4))
                .with(tabled::settings::Width::wrap(left).keep_words(true)),
        );
        table.with(
            tabled::settings::Modify::new(tabled::settings::object::Columns::new(2..3))
                .with(tabled::settings::Width::wrap(levels).keep_words(true)),
        );
    }
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
