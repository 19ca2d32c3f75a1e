//! `--format json`: `{"schema_version", "environments", "findings", "summary"}`.

use super::{Run, Summary};
use crate::rules::{Finding, Unresolved};
use crate::snapshot::SCHEMA_VERSION;
use serde::Serialize;
use std::io::Write;

#[derive(Serialize)]
struct CheckOutput<'a> {
    schema_version: u32,
    /// What the check judged, and how each was selected.
    environments: Vec<Judged<'a>>,
    /// What the check was meant to judge and could not read.
    unresolved: &'a [Unresolved],
    findings: &'a [Finding],
    summary: &'a Summary,
}

/// One environment a check judged, as every format names it.
#[derive(Debug, Serialize)]
pub struct Judged<'a> {
    pub prefix: &'a str,
    pub executable: Option<&'a str>,
    pub version: Option<&'a str>,
    pub kind: &'a str,
    /// `--python`, `VIRTUAL_ENV`, `CONDA_PREFIX`, `PATH python3`, `--all`.
    pub selected_by: &'a str,
}

/// The environments of a run, in the order they were selected.
pub fn judged<'a>(run: &Run<'a>) -> Vec<Judged<'a>> {
    run.selection
        .targets
        .iter()
        .zip(run.selection.how.iter())
        .filter_map(|(&i, how)| {
            let it = run.snapshot.interpreters.get(i)?;
            Some(Judged {
                prefix: &it.prefix,
                executable: it.executable.as_deref(),
                version: it.version.as_deref(),
                kind: it.kind.as_str(),
                selected_by: how,
            })
        })
        .collect()
}

pub fn check(out: &mut impl Write, run: &Run) -> std::io::Result<()> {
    let doc = CheckOutput {
        schema_version: SCHEMA_VERSION,
        environments: judged(run),
        unresolved: &run.selection.unresolved,
        findings: run.findings,
        summary: run.summary,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
