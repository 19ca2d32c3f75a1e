//! `--format github`: GitHub Actions workflow commands, one line per finding
//! (`::error title=ED101 broken-venv::message`), shown as annotations on the
//! run. Errors are `::error`, warnings `::warning`, infos `::notice`.
//!
//! Escaping follows the runner's own (actions/toolkit `command.ts`): in the
//! message `%`, CR and LF become `%25`, `%0D`, `%0A`; in properties `:` and
//! `,` also become `%3A` and `%2C`. Escaping newlines is also what keeps a
//! hostile path or message from starting a workflow command of its own.

use super::{plural, Run};
use crate::rules::Severity;
use std::io::{self, Write};

pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn command(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    }
}

pub fn check(out: &mut impl Write, run: &Run) -> io::Result<()> {
    // Control characters from the machine are shown escaped, field by
    // field, before the newlines of the layout are escaped for the runner.
    let findings = super::cleaned(&run.findings.to_vec());
    for f in &findings {
        let title = format!("{} {}", f.code, f.rule);
        let mut msg = f.message.clone();
        if let Some(env) = &f.environment {
            msg.push_str(&format!("\nEnvironment: {env}"));
        }
        if !f.paths.is_empty() {
            let shown: Vec<&str> = f.paths.iter().take(8).map(String::as_str).collect();
            let more = f.paths.len().saturating_sub(shown.len());
            msg.push_str(&format!("\nPaths: {}", shown.join(", ")));
            if more > 0 {
                msg.push_str(&format!(" (+{more} more)"));
            }
        }
        msg.push_str(&format!("\nFix: {}", f.fix));
        writeln!(
            out,
            "::{} title={}::{}",
            command(f.severity),
            escape_property(&title),
            escape_data(&msg)
        )?;
    }
    let s = run.summary;
    let mut line = format!(
        "envdoctor: {}, {}, {} in {}",
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
        plural(s.infos, "info"),
        plural(s.environments, "environment"),
    );
    if s.suppressed > 0 {
        line.push_str(&format!(" ({} accepted by the config file)", s.suppressed));
    }
    writeln!(out, "{line}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_the_runner() {
        assert_eq!(escape_data("50%\r\nnext"), "50%25%0D%0Anext");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
        // A newline cannot smuggle in a command of its own.
        assert!(!escape_data("x\n::set-output name=a::b").contains('\n'));
    }
}
