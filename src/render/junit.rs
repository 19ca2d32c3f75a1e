//! `--format junit`: JUnit XML for CI test reports. One `<testsuite>` per
//! checked environment (and one for the machine-wide checks), one
//! `<testcase>` per rule in it, so a rule's history is stable from run to run.
//! A testcase fails when it has a finding at or above `--fail-on`, exactly
//! when the exit code would say so; findings below it are listed in
//! `<system-out>` of a passing testcase.

use super::Run;
use crate::rules::checks::{self, Kind};
use crate::rules::{Finding, Severity};
use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;
use std::io::{self, Write};

/// The suite name of machine-wide checks (PATH, environment variables).
pub const MACHINE: &str = "machine";

/// XML 1.0 cannot carry most control characters, escaped or not.
fn xml_safe(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect()
}

struct Case<'a> {
    code: &'a str,
    name: &'a str,
    findings: Vec<&'a Finding>,
    accepted: Vec<(&'a Finding, &'a str)>,
    /// Why the rule did not apply here (a `<skipped>` testcase).
    skipped: Option<&'static str>,
}

/// Why a per-environment rule has nothing to judge in `it`, if it has not.
fn not_applicable(
    r: &crate::rules::Rule,
    run: &Run,
    it: &crate::snapshot::Interpreter,
) -> Option<&'static str> {
    use crate::rules::checks::CONDA_ENV_KINDS as CONDA;
    match r.check.as_str() {
        "requirements-drift" if run.settings.requirements.is_empty() => {
            Some("no requirements were given (--requirements)")
        }
        "exec-mismatch" if it.exec.is_none() => Some("the interpreter was not run (--exec)"),
        c if CONDA.contains(&c) && it.kind != crate::snapshot::Kind::Conda => {
            Some("not a conda environment")
        }
        _ => None,
    }
}

struct Suite<'a> {
    name: String,
    /// `<properties>`: what the suite judged and how it was selected.
    props: Vec<(&'static str, String)>,
    cases: Vec<Case<'a>>,
}

fn describe(f: &Finding) -> String {
    let mut s = format!("[{}] {}\n", f.severity, f.message);
    if let Some(env) = &f.environment {
        s.push_str(&format!("environment: {env}\n"));
    }
    if !f.paths.is_empty() {
        s.push_str(&format!("paths: {}\n", f.paths.join(", ")));
    }
    s.push_str(&format!("fix: {}\n", f.fix));
    s
}

fn suites<'a>(run: &'a Run) -> Vec<Suite<'a>> {
    let mut suites: Vec<Suite> = Vec::new();
    let rules: Vec<_> = run
        .catalog
        .rules
        .iter()
        .filter(|r| run.settings.enabled(r))
        .map(|r| (r, checks::lookup(&r.check)))
        .collect();
    let case = |r: &'a crate::rules::Rule| Case {
        code: &r.code,
        name: &r.name,
        findings: Vec::new(),
        accepted: Vec::new(),
        skipped: None,
    };
    if run.selection.machine {
        suites.push(Suite {
            name: MACHINE.to_string(),
            props: run
                .selection
                .unresolved
                .iter()
                .map(|u| ("unresolved", format!("{} ({})", u.what, u.how)))
                .collect(),
            cases: rules
                .iter()
                .filter(|(_, k)| matches!(k, Some(Kind::Machine(_) | Kind::Target(_))))
                .map(|(r, _)| case(r))
                .collect(),
        });
    }
    for &i in &run.selection.targets {
        let Some(it) = run.snapshot.interpreters.get(i) else {
            continue;
        };
        let mut props = vec![(
            "environment",
            format!("{} ({})", it.prefix, run.selection.how_of(i)),
        )];
        props.extend(it.version.clone().map(|v| ("python", v)));
        props.push(("kind", it.kind.as_str().to_string()));
        suites.push(Suite {
            name: it.prefix.clone(),
            props,
            cases: rules
                .iter()
                .filter(|(_, k)| matches!(k, Some(Kind::Environment(_))))
                .map(|(r, _)| Case {
                    skipped: not_applicable(r, run, it),
                    ..case(r)
                })
                .collect(),
        });
    }
    // Machine-wide rules report in the machine suite even when a finding
    // names an environment, so that their testcases do not come and go.
    let machine_rule = |f: &Finding| {
        rules
            .iter()
            .any(|(r, k)| r.name == f.rule && matches!(k, Some(Kind::Machine(_) | Kind::Target(_))))
    };
    let mut place = |f: &'a Finding, reason: Option<&'a str>| {
        let suite_name = if machine_rule(f) {
            MACHINE.to_string()
        } else {
            f.environment.clone().unwrap_or_else(|| MACHINE.to_string())
        };
        let si = match suites.iter().position(|s| s.name == suite_name) {
            Some(i) => i,
            None => {
                suites.push(Suite {
                    name: suite_name,
                    props: Vec::new(),
                    cases: Vec::new(),
                });
                suites.len() - 1
            }
        };
        let suite = &mut suites[si];
        let ci = match suite.cases.iter().position(|c| c.name == f.rule) {
            Some(i) => i,
            None => {
                suite.cases.push(Case {
                    code: &f.code,
                    name: &f.rule,
                    findings: Vec::new(),
                    accepted: Vec::new(),
                    skipped: None,
                });
                suite.cases.len() - 1
            }
        };
        match reason {
            None => suite.cases[ci].findings.push(f),
            Some(r) => suite.cases[ci].accepted.push((f, r)),
        }
    };
    for f in run.findings {
        place(f, None);
    }
    for s in run.suppressed {
        place(&s.finding, Some(&s.reason));
    }
    suites
}

pub fn check(out: &mut impl Write, run: &Run) -> io::Result<()> {
    // Control characters from the machine are shown escaped, so that no
    // line of the report (printed by a CI step) can be a workflow command.
    let findings = super::cleaned(&run.findings.to_vec());
    let suppressed = super::cleaned(&run.suppressed.to_vec());
    let run = &Run {
        findings: &findings,
        suppressed: &suppressed,
        ..*run
    };
    let suites = suites(run);
    let failed = |c: &Case| c.findings.iter().any(|f| run.fails(f));
    let tests: usize = suites.iter().map(|s| s.cases.len()).sum();
    let failures: usize = suites
        .iter()
        .map(|s| s.cases.iter().filter(|c| failed(c)).count())
        .sum();
    let mut w = Writer::new_with_indent(&mut *out, b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("testsuites")
        .with_attributes([
            ("name", "envdoctor"),
            ("tests", tests.to_string().as_str()),
            ("failures", failures.to_string().as_str()),
            ("errors", "0"),
        ])
        .write_inner_content(|w| {
            for s in &suites {
                let name = xml_safe(&s.name);
                let n_fail = s.cases.iter().filter(|c| failed(c)).count();
                let n_skip = s
                    .cases
                    .iter()
                    .filter(|c| c.skipped.is_some() && c.findings.is_empty())
                    .count();
                w.create_element("testsuite")
                    .with_attributes([
                        ("name", name.as_str()),
                        ("tests", s.cases.len().to_string().as_str()),
                        ("failures", n_fail.to_string().as_str()),
                        ("errors", "0"),
                        ("skipped", n_skip.to_string().as_str()),
                    ])
                    .write_inner_content(|w| {
                        if !s.props.is_empty() {
                            w.create_element("properties").write_inner_content(|w| {
                                for (k, v) in &s.props {
                                    w.create_element("property")
                                        .with_attributes([
                                            ("name", *k),
                                            ("value", xml_safe(v).as_str()),
                                        ])
                                        .write_empty()?;
                                }
                                Ok(())
                            })?;
                        }
                        for c in &s.cases {
                            write_case(w, run, &name, c, failed(c))?;
                        }
                        Ok(())
                    })?;
            }
            Ok(())
        })?;
    drop(w);
    writeln!(out)
}

fn write_case<W: Write>(
    w: &mut Writer<W>,
    run: &Run,
    classname: &str,
    c: &Case,
    failed: bool,
) -> io::Result<()> {
    let name = format!("{} {}", c.code, c.name);
    let el = w
        .create_element("testcase")
        .with_attributes([("classname", classname), ("name", name.as_str())]);
    if c.findings.is_empty() && c.accepted.is_empty() {
        if let Some(why) = c.skipped {
            el.write_inner_content(|w| {
                w.create_element("skipped")
                    .with_attribute(("message", why))
                    .write_empty()?;
                Ok(())
            })?;
        } else {
            el.write_empty()?;
        }
        return Ok(());
    }
    el.write_inner_content(|w| {
        let (failing, other): (Vec<&Finding>, Vec<&Finding>) =
            c.findings.iter().partition(|f| run.fails(f));
        if failed {
            let worst = failing
                .iter()
                .map(|f| f.severity)
                .max()
                .unwrap_or(Severity::Error);
            let mut message = failing[0].message.clone();
            if failing.len() > 1 {
                message.push_str(&format!(" (+{} more)", failing.len() - 1));
            }
            let body: String = failing
                .iter()
                .map(|f| describe(f))
                .collect::<Vec<_>>()
                .join("\n");
            let message = xml_safe(&message);
            w.create_element("failure")
                .with_attributes([("message", message.as_str()), ("type", worst.as_str())])
                .write_text_content(BytesText::new(&xml_safe(&body)))?;
        }
        let mut text = String::new();
        for f in &other {
            text.push_str(&describe(f));
            text.push('\n');
        }
        for (f, reason) in &c.accepted {
            text.push_str(&format!(
                "accepted by the config file ({reason}):\n{}\n",
                describe(f)
            ));
        }
        if !text.is_empty() {
            w.create_element("system-out")
                .write_text_content(BytesText::new(&xml_safe(text.trim_end())))?;
        }
        Ok(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_do_not_break_xml() {
        assert_eq!(xml_safe("a\u{1}b\tc"), "a\u{FFFD}b\tc");
    }
}
