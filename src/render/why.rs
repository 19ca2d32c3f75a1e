//! `envdoctor why`: plain text meant to be pasted into a ticket as is (no
//! table borders, one copy per line, the loaded one first-marked), or JSON.

use super::paint;
use crate::rules::why::{DistRef, WhyReport};
use crate::snapshot::ModuleKind;
use owo_colors::Style as S;
use std::io::{self, Write};

fn kind(k: ModuleKind) -> &'static str {
    match k {
        ModuleKind::Package => "package",
        ModuleKind::Namespace => "namespace package portion",
        ModuleKind::Module => "module",
        ModuleKind::Extension => "extension module",
    }
}

fn dist_line(d: &DistRef) -> String {
    let mut s = format!(
        "{} {}",
        d.name,
        d.version.as_deref().unwrap_or("(no version)")
    );
    match &d.installer {
        Some(i) => s.push_str(&format!(", installed by {i}")),
        None => s.push_str(", installer unknown"),
    }
    if d.requested {
        s.push_str(", requested");
    }
    if let Some(e) = &d.editable {
        s.push_str(&format!(", editable from {e}"));
    }
    s
}

fn status(s: &str) -> String {
    let style = match s {
        "imported" | "seen by pip" => S::new().green().bold(),
        "shadowed" => S::new().yellow(),
        _ => S::new().dimmed(),
    };
    paint(format!("[{s}]"), style)
}

pub fn text(out: &mut impl Write, r: &WhyReport) -> io::Result<()> {
    writeln!(
        out,
        "{} as seen by {} (Python {}, {}, prefix {})",
        paint(format!("`{}`", r.name), S::new().bold()),
        r.executable.as_deref().unwrap_or("?"),
        r.version.as_deref().unwrap_or("?"),
        r.kind,
        r.environment
    )?;
    writeln!(out)?;
    let top = r.name.split('.').next().unwrap_or(&r.name);
    // PYTHONPATH comes before the standard library: a copy there wins.
    let before_stdlib = r.imports.iter().any(|c| c.origin == "PYTHONPATH");
    if let (Some(std), false) = (&r.stdlib, before_stdlib) {
        writeln!(
            out,
            "`import {top}`: {} {std}; it comes before every site directory on sys.path, so that is what loads{}",
            paint("[imported]", S::new().green().bold()),
            if r.imports.is_empty() {
                String::new()
            } else {
                " and the copies below are never imported".to_string()
            }
        )?;
    } else if r.imports.is_empty() {
        writeln!(
            out,
            "`import {top}`: not found in any site directory of this interpreter (the standard library is not searched)"
        )?;
    }
    let mut shown: Option<&str> = None;
    for c in &r.imports {
        if shown != Some(c.name.as_str()) {
            if shown.is_some() {
                writeln!(out)?;
            }
            writeln!(
                out,
                "`import {}` (sys.path order, #N is the position on sys.path):",
                c.name
            )?;
            shown = Some(&c.name);
        }
        let own = c
            .own_version
            .as_deref()
            .map(|v| format!("; its own files say {v}"))
            .unwrap_or_default();
        writeln!(
            out,
            "  {} #{} {} ({}{own})",
            status(&c.status),
            c.position,
            c.path,
            kind(c.kind)
        )?;
        let mut why = format!("from {}", c.origin);
        if let Some(p) = &c.pth {
            why.push_str(&format!(" `{p}`"));
        }
        if c.distributions.is_empty() {
            writeln!(out, "      no distribution's RECORD lists it; {why}")?;
        }
        for d in &c.distributions {
            let meta = d.metadata.rsplit('/').next().unwrap_or(&d.metadata);
            writeln!(out, "      {} ({meta}); {why}", dist_line(d))?;
        }
    }
    writeln!(out)?;
    if r.distributions.is_empty() {
        writeln!(
            out,
            "Distribution `{}`: not installed where this interpreter looks",
            r.name
        )?;
    } else {
        writeln!(out, "Distribution `{}` (sys.path order):", r.name)?;
        for d in &r.distributions {
            writeln!(
                out,
                "  {} #{} {}",
                status(&d.status),
                d.position,
                dist_line(&d.dist)
            )?;
            let provides = if d.provides.is_empty() {
                String::new()
            } else {
                format!("; provides {}", d.provides.join(", "))
            };
            writeln!(
                out,
                "      {}; from {}{provides}",
                d.dist.metadata, d.origin
            )?;
        }
    }
    writeln!(out)?;
    writeln!(out, "Searched, in order:")?;
    for s in &r.searched {
        writeln!(out, "  {s}")?;
    }
    Ok(())
}

pub fn json(out: &mut impl Write, r: &WhyReport) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, r).map_err(io::Error::from)?;
    writeln!(out)
}
