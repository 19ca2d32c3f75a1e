//! `envdoctor report`: one Markdown document to paste into a support ticket:
//! the host, what PATH runs, every interpreter and environment, the Python
//! variables, the findings with their fixes, and what could not be read.
//! Credentials are redacted (the snapshot holds them redacted already; the
//! whole document is passed through the URL redaction once more) and paths
//! under the user's home are shown as `~`.

use super::{plural, Run};
use crate::redact;
use crate::rules::Finding;
use std::fmt::Write as _;
use std::io::{self, Write};

/// Text safe inside a table cell: no newlines, no column breaks (prose in
/// it went through [`md_text`] or [`code`] already).
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// `s` as inline code, fenced with more backticks than its longest run,
/// so nothing inside can close the span early.
fn code(s: &str) -> String {
    if s.is_empty() {
        return String::new();
    }
    let s = super::clean(s);
    let fence = "`".repeat(longest_backtick_run(&s) + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// Untrusted prose for Markdown: control characters escaped, and every
/// ASCII punctuation character Markdown could act on backslash-escaped, so
/// a package's metadata cannot add headings, links, images or raw HTML.
fn md_text(s: &str) -> String {
    let s = super::clean(s);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '!' | '#' | '~' | '&'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Replaces the home directory by `~` where it starts a path (`/root/x`,
/// `/root` alone), not inside a longer name (`/rootfs`).
pub fn tilde(doc: &str, home: Option<&str>) -> String {
    let Some(home) = home
        .map(|h| h.trim_end_matches('/'))
        .filter(|h| h.len() > 1)
    else {
        return doc.to_string();
    };
    let mut out = String::with_capacity(doc.len());
    let mut rest = doc;
    while let Some(at) = rest.find(home) {
        let after = &rest[at + home.len()..];
        let boundary = after.chars().next().is_none_or(|c| {
            matches!(
                c,
                '/' | '`' | ' ' | '|' | '\n' | ')' | ',' | ':' | '"' | '\''
            )
        });
        // Not in the middle of a longer path (`/x/root/...` for home `/root`).
        let before_ok = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || matches!(c, '/' | '.' | '_' | '-')));
        out.push_str(&rest[..at]);
        if boundary && before_ok {
            out.push('~');
        } else {
            out.push_str(home);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

fn finding(doc: &mut String, f: &Finding, accepted: Option<&str>) {
    let _ = writeln!(
        doc,
        "### {} `{}` {}\n",
        f.severity,
        md_text(&f.code),
        md_text(&f.rule)
    );
    let _ = writeln!(doc, "{}\n", md_text(&f.message));
    if let Some(env) = &f.environment {
        let _ = writeln!(doc, "- Environment: {}", code(env));
    }
    if !f.paths.is_empty() {
        let shown: Vec<String> = f.paths.iter().take(20).map(|p| code(p)).collect();
        let more = f.paths.len().saturating_sub(shown.len());
        let _ = write!(doc, "- Paths: {}", shown.join(", "));
        if more > 0 {
            let _ = write!(doc, " (+{more} more)");
        }
        doc.push('\n');
    }
    let _ = writeln!(doc, "- Fix: {}", md_text(&f.fix.text));
    if !f.fix.commands.is_empty() {
        let body = super::clean(&f.fix.commands.join("\n")).into_owned();
        let fence = "`".repeat(3.max(longest_backtick_run(&body) + 1));
        let _ = writeln!(doc, "\n  {fence}sh");
        for c in &f.fix.commands {
            let _ = writeln!(doc, "  {}", super::clean(c));
        }
        let _ = writeln!(doc, "  {fence}");
    }
    if let Some(r) = accepted {
        let _ = writeln!(doc, "- Accepted by the configuration file: {}", md_text(r));
    }
    doc.push('\n');
}

pub fn report(out: &mut impl Write, run: &Run, from_snapshot: Option<&str>) -> io::Result<()> {
    let snap = run.snapshot;
    let host = &snap.host;
    let mut d = String::new();
    let _ = writeln!(d, "# envdoctor report\n");
    let generator = if snap.generator.is_empty() {
        "an unknown envdoctor".to_string()
    } else {
        snap.generator.clone()
    };
    match from_snapshot {
        Some(file) => {
            let _ = writeln!(
                d,
                "From the snapshot {} (written by {generator}, schema version {}), checked by envdoctor {}.\n",
                code(file),
                snap.schema_version,
                env!("CARGO_PKG_VERSION")
            );
        }
        None => {
            let _ = writeln!(
                d,
                "Written by envdoctor {} (snapshot schema version {}). Nothing was executed to write it.\n",
                env!("CARGO_PKG_VERSION"),
                snap.schema_version
            );
        }
    }

    let _ = writeln!(d, "## Host\n\n| | |\n|---|---|");
    let os = match &host.distro {
        Some(distro) => format!("{} ({distro})", host.os),
        None => host.os.clone(),
    };
    let _ = writeln!(d, "| OS | {} |", cell(&md_text(&os)));
    let _ = writeln!(d, "| Architecture | {} |", cell(&md_text(&host.arch)));
    let libc = match &host.libc {
        Some(l) => match &l.version {
            Some(v) => format!("{} {} ({})", md_text(&l.family), md_text(v), code(&l.path)),
            None => format!("{} ({})", md_text(&l.family), code(&l.path)),
        },
        None => "unknown".to_string(),
    };
    let _ = writeln!(d, "| C library | {} |", cell(&libc));
    let user = match (&host.user.name, host.user.uid) {
        (Some(n), Some(u)) => format!("{n} (uid {u})"),
        (None, Some(u)) => format!("uid {u}"),
        (Some(n), None) => n.clone(),
        (None, None) => "unknown".into(),
    };
    let _ = writeln!(d, "| User | {} |", cell(&md_text(&user)));
    let _ = writeln!(d, "| Working directory | {} |", cell(&code(&host.cwd)));
    if host.root != "/" && !host.root.is_empty() {
        let _ = writeln!(d, "| Inspected root | {} |", cell(&code(&host.root)));
    }
    d.push('\n');

    let _ = writeln!(d, "## PATH\n\n| command | found at | runs |\n|---|---|---|");
    for c in &snap.commands {
        let found = c
            .path
            .as_deref()
            .map(code)
            .unwrap_or_else(|| "not on PATH".into());
        let mut runs = match (&c.interpreter, &c.error) {
            (_, Some(e)) => format!("cannot tell: {}", md_text(e)),
            (Some(i), None) => code(i),
            (None, None) => String::new(),
        };
        if !c.via.is_empty() {
            runs.push_str(&format!(" (via {})", md_text(&c.via.join(" → "))));
        }
        let _ = writeln!(
            d,
            "| {} | {} | {} |",
            code(&c.name),
            cell(&found),
            cell(&runs)
        );
    }
    d.push('\n');

    let _ = writeln!(
        d,
        "## Interpreters and environments ({})\n\n| kind | version | prefix | executable | status |\n|---|---|---|---|---|",
        snap.interpreters.len()
    );
    for it in &snap.interpreters {
        let status = match &it.error {
            Some(e) => format!("broken: {}", md_text(e)),
            None => "ok".into(),
        };
        let _ = writeln!(
            d,
            "| {} | {} | {} | {} | {} |",
            it.kind.as_str(),
            cell(&md_text(it.version.as_deref().unwrap_or("?"))),
            cell(&code(&it.prefix)),
            cell(
                &it.executable
                    .as_deref()
                    .map(code)
                    .unwrap_or_else(|| "-".into())
            ),
            cell(&status)
        );
    }
    d.push('\n');

    if !snap.caches.is_empty() {
        let _ = writeln!(
            d,
            "## Caches\n\n| tool | path | from | state |\n|---|---|---|---|"
        );
        for c in &snap.caches {
            let mut state = Vec::new();
            if let Some(by) = &c.disabled_by {
                state.push(format!("disabled by {}", md_text(by)));
            }
            if !c.exists {
                state.push("does not exist yet".to_string());
            }
            if c.exists && !c.reachable {
                state.push("a directory on the way cannot be entered".to_string());
            }
            if let Some(a) = &c.audit {
                state.push(format!(
                    "{} entries, {}",
                    a.entries,
                    crate::units::bytes_iec(a.bytes)
                ));
                if a.other_owner.count > 0 {
                    state.push(format!("{} owned by another user", a.other_owner.count));
                }
                if a.blocked.count > 0 {
                    state.push(format!("{} unusable", a.blocked.count));
                }
                if a.corrupt_count > 0 {
                    state.push(format!("{} corrupt archives", a.corrupt_count));
                }
                if let Some(b) = &a.bounded {
                    state.push(format!("walk stopped: {}", md_text(b)));
                }
            }
            if !c.environments.is_empty() {
                let envs: Vec<String> = c.environments.iter().map(|e| code(e)).collect();
                state.push(format!("for {}", envs.join(", ")));
            }
            let _ = writeln!(
                d,
                "| {} | {} | {} | {} |",
                cell(&md_text(&c.tool)),
                cell(&code(&c.path)),
                cell(&md_text(&c.source)),
                cell(&state.join("; "))
            );
        }
        d.push('\n');
    }

    if !snap.storage.is_empty() {
        // One row per filesystem, with what lives on it.
        let _ = writeln!(
            d,
            "## Disk space\n\n| filesystem | free | holds |\n|---|---|---|"
        );
        let mut groups: Vec<(String, &crate::snapshot::Storage, Vec<String>)> = Vec::new();
        for st in &snap.storage {
            let key = match (&st.mount_point, st.device) {
                (Some(m), _) => m.clone(),
                (None, Some(dev)) => format!("device {dev}"),
                (None, None) => st.path.clone(),
            };
            let what = format!("{} {}", md_text(&st.label), code(&st.path));
            match groups.iter_mut().find(|g| g.0 == key) {
                Some(g) => {
                    if !g.2.contains(&what) {
                        g.2.push(what)
                    }
                }
                None => groups.push((key, st, vec![what])),
            }
        }
        for (_, st, what) in &groups {
            let fs = match (&st.mount_point, &st.fs_type) {
                (Some(m), Some(t)) => format!("{} ({})", code(m), md_text(t)),
                (Some(m), None) => code(m),
                (None, Some(t)) => md_text(t),
                (None, None) => "?".into(),
            };
            let mut free = match (st.free_bytes, st.total_bytes) {
                (Some(f), Some(t)) => format!(
                    "{} of {}",
                    crate::units::bytes_iec(f),
                    crate::units::bytes_iec(t)
                ),
                (Some(f), None) => crate::units::bytes_iec(f),
                _ => "?".into(),
            };
            if st.read_only {
                free.push_str(", read-only");
            }
            let _ = writeln!(
                d,
                "| {} | {} | {} |",
                cell(&fs),
                cell(&free),
                cell(&what.join("; "))
            );
        }
        d.push('\n');
    }

    let builds: Vec<&crate::snapshot::GpuBuild> =
        snap.site_dirs.iter().flat_map(|s| &s.gpu_builds).collect();
    if !snap.gpu.is_empty() || !builds.is_empty() {
        let g = &snap.gpu;
        let _ = writeln!(d, "## GPU\n\n| | |\n|---|---|");
        let driver = match &g.driver {
            Some(x) => format!(
                "{} ({})",
                md_text(x.version.as_deref().unwrap_or("present, version unknown")),
                code(&x.source)
            ),
            None => "no driver file found (unknown, not missing)".into(),
        };
        let _ = writeln!(d, "| NVIDIA driver | {} |", cell(&driver));
        if !g.devices.is_empty() {
            let _ = writeln!(d, "| GPUs | {} |", cell(&md_text(&g.devices.join(", "))));
        }
        for t in &g.toolkits {
            let _ = writeln!(
                d,
                "| CUDA toolkit | {} {}{} |",
                cell(&code(&t.path)),
                cell(&md_text(t.version.as_deref().unwrap_or("?"))),
                cell(
                    &t.cudnn
                        .as_deref()
                        .map(|c| format!(", cuDNN {}", md_text(c)))
                        .unwrap_or_default()
                )
            );
        }
        if !g.system_libs.is_empty() {
            let shown: Vec<String> = g.system_libs.iter().take(12).map(|l| code(l)).collect();
            let more = g.system_libs.len().saturating_sub(shown.len());
            let _ = writeln!(
                d,
                "| CUDA libraries the loader finds | {}{} |",
                cell(&shown.join(", ")),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            );
        }
        for b in builds {
            let what = if b.rocm {
                "ROCm build".to_string()
            } else {
                match &b.cuda {
                    Some(c) => format!(
                        "CUDA {}{}",
                        md_text(c),
                        b.cudnn
                            .as_deref()
                            .map(|n| format!(", cuDNN {}", md_text(n)))
                            .unwrap_or_default()
                    ),
                    None => "CPU-only build".into(),
                }
            };
            let _ = writeln!(
                d,
                "| {} | {} ({}) |",
                cell(&md_text(&b.framework)),
                cell(&what),
                cell(&code(&b.path))
            );
        }
        d.push('\n');
    }

    if !snap.env.is_empty() {
        let _ = writeln!(
            d,
            "## Environment variables\n\n| variable | value |\n|---|---|"
        );
        for (k, v) in &snap.env {
            let _ = writeln!(
                d,
                "| {} | {} |",
                code(k),
                cell(&code(&redact::env_value(k, v)))
            );
        }
        d.push('\n');
    }

    let s = run.summary;
    let _ = writeln!(
        d,
        "## Findings\n\n{}, {}, {} in {}.\n",
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
        plural(s.infos, "info"),
        plural(s.environments, "environment")
    );
    for f in run.findings {
        finding(&mut d, f, None);
    }
    if !run.suppressed.is_empty() {
        let _ = writeln!(d, "## Accepted findings\n");
        for sp in run.suppressed {
            finding(&mut d, &sp.finding, Some(&sp.reason));
        }
    }

    if !snap.notes.is_empty() {
        let _ = writeln!(d, "## Could not be read\n");
        for n in &snap.notes {
            let _ = writeln!(d, "- {}: {}", code(&n.path), md_text(&n.message));
        }
        d.push('\n');
    }
    let doc = tilde(&redact::urls(&d), host.user.home.as_deref());
    out.write_all(doc.trim_end().as_bytes())?;
    writeln!(out)
}

/// The longest run of backticks in `s`: a fence must be longer.
fn longest_backtick_run(s: &str) -> usize {
    s.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_becomes_tilde_only_at_path_starts() {
        let home = Some("/root");
        assert_eq!(
            tilde("`/root/.venv` and `/root`", home),
            "`~/.venv` and `~`"
        );
        assert_eq!(tilde("/rootfs/x /x/root/y", home), "/rootfs/x /x/root/y");
        assert_eq!(tilde("/root/a", Some("/")), "/root/a");
    }

    #[test]
    fn cells_and_code() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
        assert_eq!(code("a`b"), "``a`b``");
    }
}
