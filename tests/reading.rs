//! Output people read (issue 15, the parts done): a healthy run says so,
//! JUnit skips what did not apply, flags only where they mean something,
//! pyproject line numbers from the TOML parser, `why` knows the standard
//! library and answers from a snapshot, and the report lists each
//! filesystem once.

mod support;

use support::*;

fn s(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_healthy_run_says_no_problems_and_what_it_read() {
    let sb = Sandbox::new();
    let v = sb.path("v");
    make_venv(&python("3.12"), &v, &[]);
    let out = sb.run(&["check", "--python", s(&v)]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("No problems found in 1 environment (0 distributions)"),
        "{text}"
    );
}

#[test]
fn pyproject_requirements_carry_their_real_line() {
    let sb = Sandbox::new();
    let v = sb.path("v");
    make_venv(&python("3.12"), &v, &[]);
    let pp = sb.path("pyproject.toml");
    std::fs::write(
        &pp,
        "[project]\nname = \"p\"\ndependencies = [\"first-missing>=1\",\n  # a comment\n  \"second-missing\",\n]\n",
    )
    .unwrap();
    let f = sb.findings(
        &["--python", s(&v), "--requirements", s(&pp)],
        "requirements-drift",
    );
    let msgs: Vec<&str> = f.iter().map(|f| f["message"].as_str().unwrap()).collect();
    assert!(
        msgs.iter()
            .any(|m| m.contains("first-missing") && m.contains("pyproject.toml:3")),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("second-missing") && m.contains("pyproject.toml:5")),
        "{msgs:#?}"
    );
}

#[test]
fn junit_skips_the_rules_that_did_not_apply() {
    let sb = Sandbox::new();
    let v = sb.path("v");
    make_venv(&python("3.12"), &v, &[]);
    let out = sb.run(&["check", "--python", s(&v), "--format", "junit"]);
    let xml = String::from_utf8_lossy(&out.stdout);
    let case = |code: &str| {
        let at = xml
            .find(&format!("name=\"{code} "))
            .unwrap_or_else(|| panic!("{code}: {xml}"));
        let tag_end = at + xml[at..].find('>').unwrap();
        let end = if xml[..tag_end].ends_with('/') {
            tag_end
        } else {
            at + xml[at..].find("</testcase>").unwrap()
        };
        xml[at..end].to_string()
    };
    assert!(
        case("ED601").contains("<skipped message=\"no requirements were given"),
        "{}",
        case("ED601")
    );
    assert!(case("ED106").contains("<skipped message=\"the interpreter was not run"));
    assert!(case("ED501").contains("<skipped message=\"not a conda environment"));
    // A rule that ran and found nothing is a plain passing testcase.
    assert!(!case("ED201").contains("skipped"), "{}", case("ED201"));
    assert!(xml.contains("skipped=\""), "{xml}");
}

#[test]
fn options_about_reading_a_machine_are_refused_where_none_is_read() {
    let sb = Sandbox::new();
    for args in [
        &["rules", "--root", "/tmp"][..],
        &["explain", "ED101", "--exec"],
        &["generate-shell-completion", "bash", "--user", "nobody"],
        &["rules", "--env", "A=B"],
    ] {
        let out = sb.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("how a machine is read"), "{args:?}: {err}");
    }
}

#[test]
fn why_knows_the_standard_library_and_answers_from_a_snapshot() {
    let mut sb = Sandbox::new();
    let v = sb.path("v");
    make_venv(&python("3.12"), &v, &[]);
    sb.set_env("VIRTUAL_ENV", s(&v).to_string());
    for (name, says) in [
        ("json", "the standard library"),
        ("sys", "built into the interpreter"),
    ] {
        let out = sb.run(&["why", name]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{name}: {text}");
        assert!(
            text.contains(says) && text.contains("[imported]"),
            "{name}: {text}"
        );
    }
    assert_eq!(
        sb.run(&["why", "surely_not_a_module_xyz"]).status.code(),
        Some(1)
    );
    // From a snapshot, as a support engineer asks it.
    let snap = sb.path("snap.json");
    let out = sb.run(&["scan", "--format", "json"]);
    std::fs::write(&snap, &out.stdout).unwrap();
    let out = sb.run(&["why", "pip", "--snapshot", s(&snap), "--python", s(&v)]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = sb.run(&["why", "x", "--snapshot", s(&snap), "--root", "/"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_report_lists_each_filesystem_once() {
    let sb = Sandbox::new();
    let out = sb.run(&["report"]);
    let md = String::from_utf8_lossy(&out.stdout);
    let section = md.split("## Disk space").nth(1).unwrap_or("");
    let section = section.split("\n## ").next().unwrap();
    let rows: Vec<&str> = section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| l.split(" | ").next().unwrap())
        .collect();
    let mut unique = rows.clone();
    unique.sort();
    unique.dedup();
    assert!(!rows.is_empty(), "{md}");
    assert_eq!(
        rows.len(),
        unique.len(),
        "a filesystem listed twice: {rows:?}"
    );
}

/// At 80 and 120 columns, prose and tables fit; only what must stay one
/// word (a path, a command to paste) may run past the edge. Piped without
/// `COLUMNS`, nothing is wrapped.
#[test]
fn output_fits_the_terminal_width() {
    let mut sb = Sandbox::new();
    for name in ["a", "b"] {
        let v = sb.path(&format!("envs/{name}"));
        make_venv(&python("3.12"), &v, &[]);
        let w = Wheel::new("app", "1.0")
            .requires("missing-dependency-with-a-rather-long-name>=1")
            .build(&sb.path("w"));
        pip_install(&v.join("bin/python"), &[w.to_str().unwrap()]);
    }
    sb.set_env("WORKON_HOME", sb.path("envs").display().to_string());
    for cols in [80usize, 120] {
        for args in [&["check", "--all"][..], &["scan"], &["rules"]] {
            let mut c = sb.envdoctor();
            c.args(args).env("COLUMNS", cols.to_string());
            let out = c.output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            for line in text.lines() {
                let t = line.trim_start();
                let unbreakable = t.starts_with("paths:")
                    || t.starts_with("$ ")
                    || t.starts_with("->")
                    || t.starts_with("!!")
                    || !t.trim_end().contains(' ');
                assert!(
                    line.chars().count() <= cols || unbreakable,
                    "{args:?} at {cols} columns: {line:?}"
                );
            }
        }
    }
    // Piped without COLUMNS: one line per message.
    let out = sb.run(&["check", "--all"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.chars().count() > 120 && l.contains("requires missing-dependency")),
        "{text}"
    );
}
