//! `--format json`: `{"schema_version", "findings", "summary"}`.

use super::Summary;
use crate::rules::Finding;
use crate::snapshot::SCHEMA_VERSION;
use serde::Serialize;
use std::io::Write;

#[derive(Serialize)]
struct CheckOutput<'a> {
    schema_version: u32,
    findings: &'a [Finding],
    summary: &'a Summary,
}

pub fn check(out: &mut impl Write, findings: &[Finding], summary: &Summary) -> std::io::Result<()> {
    let doc = CheckOutput {
        schema_version: SCHEMA_VERSION,
        findings,
        summary,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
