//! `--format sarif`: SARIF 2.1.0 (OASIS, errata 01), as GitHub code scanning
//! and other SARIF viewers read it. One run; the rules that ran are
//! `tool.driver.rules` with their documentation from the rule files; each
//! finding is a result whose locations are the finding's paths. Findings an
//! `[[ignore]]` entry accepts are kept as suppressed results with its reason,
//! so the acceptance stays visible to reviewers.

use super::Run;
use crate::rules::{Finding, Rule, Severity};
use serde_json::{json, Map, Value};
use std::io::{self, Write};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// An absolute path as a `file://` URI, a relative one (a requirements file
/// given as `requirements.txt`) as a relative reference, which code scanning
/// resolves against the repository. RFC 3986: everything but unreserved
/// characters and `/` percent-encoded, byte by byte.
pub fn file_uri(path: &str) -> String {
    let mut out = String::new();
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn location(path: &str, id: Option<usize>) -> Value {
    let mut loc = json!({
        "physicalLocation": { "artifactLocation": { "uri": file_uri(path) } }
    });
    if let Some(id) = id {
        loc["id"] = json!(id);
    }
    loc
}

fn rule_descriptor(rule: &Rule, severity: Severity) -> Value {
    let why = rule.why.trim();
    let fix = rule.fix.trim();
    let mut markdown = format!(
        "{}\n\n**Why is this bad?**\n\n{why}\n\n**Fix**\n\n{fix}",
        rule.summary
    );
    if !rule.sources.is_empty() {
        markdown.push_str("\n\n**Sources**\n");
        for s in &rule.sources {
            markdown.push_str(&format!("\n- {s}"));
        }
    }
    json!({
        "id": rule.code,
        "name": rule.name,
        "shortDescription": { "text": rule.summary },
        "fullDescription": { "text": why },
        "help": { "text": format!("{why}\n\nFix: {fix}"), "markdown": markdown },
        "defaultConfiguration": { "level": level(severity) },
        "properties": { "sources": rule.sources },
    })
}

fn result(f: &Finding, rule_index: Option<usize>) -> Value {
    let mut r = Map::new();
    r.insert("ruleId".into(), json!(f.code));
    if let Some(i) = rule_index {
        r.insert("ruleIndex".into(), json!(i));
    }
    r.insert("level".into(), json!(level(f.severity)));
    r.insert(
        "message".into(),
        json!({ "text": format!("{}\n\nFix: {}", f.message, f.fix) }),
    );
    // The first path is where the problem is; the others are related to it.
    // A finding without paths is located at its environment, if it has one.
    let primary = f.paths.first().or(f.environment.as_ref());
    if let Some(p) = primary {
        r.insert("locations".into(), json!([location(p, None)]));
    }
    if f.paths.len() > 1 {
        let related: Vec<Value> = f.paths[1..]
            .iter()
            .enumerate()
            .map(|(i, p)| location(p, Some(i + 1)))
            .collect();
        r.insert("relatedLocations".into(), Value::Array(related));
    }
    let mut props = Map::new();
    props.insert("rule".into(), json!(f.rule));
    props.insert("fix".into(), json!(f.fix.to_string()));
    props.insert("fixCommands".into(), json!(f.fix.commands));
    if let Some(env) = &f.environment {
        props.insert("environment".into(), json!(env));
    }
    r.insert("properties".into(), Value::Object(props));
    Value::Object(r)
}

pub fn check(out: &mut impl Write, run: &Run) -> io::Result<()> {
    let rules: Vec<&Rule> = run
        .catalog
        .rules
        .iter()
        .filter(|r| run.settings.enabled(r))
        .collect();
    let descriptors: Vec<Value> = rules
        .iter()
        .map(|r| {
            let sev = run
                .settings
                .severity
                .get(&r.name)
                .copied()
                .flatten()
                .unwrap_or(r.severity);
            rule_descriptor(r, sev)
        })
        .collect();
    let index = |f: &Finding| rules.iter().position(|r| r.code == f.code);
    let mut results: Vec<Value> = run.findings.iter().map(|f| result(f, index(f))).collect();
    for s in run.suppressed {
        let mut r = result(&s.finding, index(&s.finding));
        r["suppressions"] = json!([{ "kind": "external", "justification": s.reason }]);
        results.push(r);
    }
    let doc = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "envdoctor",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": descriptors,
                }
            },
            "results": results,
            "properties": {
                "summary": run.summary,
                "environments": super::json::judged(run),
                "unresolved": run.selection.unresolved,
            },
        }]
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_are_percent_encoded() {
        assert_eq!(file_uri("/a b/c%d#e"), "file:///a%20b/c%25d%23e");
        assert_eq!(
            file_uri("/venv/bin/python3.11"),
            "file:///venv/bin/python3.11"
        );
        assert_eq!(file_uri("/é"), "file:///%C3%A9");
        assert_eq!(file_uri("ci/requirements.txt"), "ci/requirements.txt");
    }
}
