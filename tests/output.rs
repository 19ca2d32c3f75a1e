//! Output for the CI gate and the support desk, on real venvs: SARIF checked
//! against the OASIS 2.1.0 schema (vendored beside this file), JUnit parsed
//! back, GitHub annotation lines, exit codes for every `--fail-on`, the
//! configuration file, snapshots checked on "another desk", and the report.

mod support;

use quick_xml::events::Event;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;
use support::*;

/// A venv with one console script, then moved: the script's shebang names
/// the old location, which is gone (a real `pip install`, a real `mv`).
/// Returns the moved venv's prefix.
fn moved_venv(sb: &Sandbox) -> PathBuf {
    let old = sb.home.join("old-venv");
    let new = sb.home.join("proj venv");
    make_venv(&python("3.11"), &old, &[]);
    let wheel = Wheel::new("tool", "1.0")
        .package("tool")
        .script("tool", "tool:main")
        .build(&sb.path("wheels"));
    pip_install(&old.join("bin/python"), &[wheel.to_str().unwrap()]);
    std::fs::rename(&old, &new).unwrap();
    new
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn sarif_validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(include_str!("sarif-schema-2.1.0.json")).unwrap();
    jsonschema::draft4::new(&schema).expect("the vendored SARIF schema compiles")
}

fn assert_valid_sarif(doc: &Value) {
    let v = sarif_validator();
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF is not valid: {errors:#?}\n{doc:#}"
    );
}

#[test]
fn sarif_is_valid_against_the_2_1_0_schema_and_carries_rule_docs() {
    let mut sb = Sandbox::new();
    let venv = moved_venv(&sb);
    sb.set_env("PYTHONPATH", "/nonexistent/checkout");
    sb.set_env("VIRTUAL_ENV", s(&venv));
    sb.set_env("PATH", format!("{}/bin:/usr/bin:/bin", venv.display()));
    let out = sb.run(&["check", "--format", "sarif"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid_sarif(&doc);

    // The validator is not a rubber stamp: a result without a message fails.
    let mut broken = doc.clone();
    broken["runs"][0]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("message");
    assert!(!sarif_validator().is_valid(&broken));

    let run = &doc["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "envdoctor");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let (catalog, _) = sb.json(&["rules"]);
    let ed102 = catalog
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "ED102")
        .unwrap();
    let desc = rules.iter().find(|r| r["id"] == "ED102").unwrap();
    assert_eq!(desc["name"], "script-bad-interpreter");
    assert_eq!(desc["shortDescription"]["text"], ed102["summary"]);
    assert_eq!(
        desc["fullDescription"]["text"],
        ed102["why"].as_str().unwrap().trim()
    );
    assert!(desc["help"]["text"]
        .as_str()
        .unwrap()
        .contains(fix(ed102).trim()));
    assert_eq!(desc["defaultConfiguration"]["level"], "error");

    let results = run["results"].as_array().unwrap();
    let r = results.iter().find(|r| r["ruleId"] == "ED102").unwrap();
    assert_eq!(r["level"], "error");
    assert_eq!(
        rules[r["ruleIndex"].as_u64().unwrap() as usize]["id"],
        "ED102"
    );
    // The first path is the script; the space in the venv name is encoded.
    let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        uri.starts_with("file:///") && uri.ends_with("/proj%20venv/bin/tool"),
        "{uri}"
    );
    assert_eq!(r["properties"]["environment"], s(&venv));
    // PYTHONPATH is reported as a note.
    let r = results.iter().find(|r| r["ruleId"] == "ED104").unwrap();
    assert_eq!(r["level"], "note");
}

#[test]
fn github_annotations_are_one_escaped_line_per_finding() {
    let mut sb = Sandbox::new();
    let venv = moved_venv(&sb);
    sb.set_env("PYTHONPATH", "/nonexistent/a:/nonexistent/b");
    sb.set_env("VIRTUAL_ENV", s(&venv));
    sb.set_env("PATH", format!("{}/bin:/usr/bin:/bin", venv.display()));
    let (json, _) = sb.json(&["check"]);
    let findings = json["findings"].as_array().unwrap();
    let out = sb.run(&["check", "--format", "github"]);
    assert_eq!(code(&out), 1);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    let annotations: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("::"))
        .collect();
    assert_eq!(annotations.len(), findings.len(), "{text}");
    for (line, f) in annotations.iter().zip(findings) {
        let cmd = match f["severity"].as_str().unwrap() {
            "error" => "error",
            "warning" => "warning",
            _ => "notice",
        };
        let prefix = format!(
            "::{cmd} title={} {}::",
            f["code"].as_str().unwrap(),
            f["rule"].as_str().unwrap()
        );
        assert!(line.starts_with(&prefix), "{line}");
        let data = &line[prefix.len()..];
        // Newlines are escaped, and the data decodes back to the finding.
        let decoded = data
            .replace("%0A", "\n")
            .replace("%0D", "\r")
            .replace("%25", "%");
        assert!(
            decoded.starts_with(f["message"].as_str().unwrap()),
            "{decoded}"
        );
        assert!(decoded.contains(&format!("\nFix: {}", f["fix"]["text"].as_str().unwrap())));
        for c in f["fix"]["commands"].as_array().unwrap() {
            assert!(
                decoded.contains(&format!("`{}`", c.as_str().unwrap())),
                "{decoded}"
            );
        }
    }
    // The PYTHONPATH finding's message holds `:` in the data part, unescaped
    // (only properties escape `:`), and the summary is a plain last line.
    assert!(annotations
        .iter()
        .any(|l| l.starts_with("::notice title=ED104 python-env-vars::")));
    assert!(
        lines.last().unwrap().starts_with("envdoctor: 1 error"),
        "{text}"
    );
}

/// `(suite, testcase) -> failure message` from a JUnit document, checking
/// the counts it declares on the way.
fn parse_junit(xml: &str) -> Vec<(String, String, Option<String>)> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut cases = Vec::new();
    let mut suite = String::new();
    let mut declared = (0usize, 0usize);
    let attr = |e: &quick_xml::events::BytesStart, name: &str| -> Option<String> {
        e.attributes()
            .filter_map(|a| a.ok())
            .find(|a| a.key.0 == name)
            .map(|a| {
                a.normalized_value(quick_xml::XmlVersion::Explicit1_0)
                    .unwrap()
                    .into_owned()
            })
    };
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) if e.name().0 == "testsuites" => {
                declared = (
                    attr(&e, "tests").unwrap().parse().unwrap(),
                    attr(&e, "failures").unwrap().parse().unwrap(),
                );
            }
            Event::Start(e) if e.name().0 == "testsuite" => {
                suite = attr(&e, "name").unwrap();
            }
            Event::Start(e) if e.name().0 == "testcase" => {
                cases.push((suite.clone(), attr(&e, "name").unwrap(), None));
            }
            Event::Empty(e) if e.name().0 == "testcase" => {
                cases.push((suite.clone(), attr(&e, "name").unwrap(), None));
            }
            Event::Start(e) | Event::Empty(e) if e.name().0 == "failure" => {
                cases.last_mut().unwrap().2 = Some(attr(&e, "message").unwrap());
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(declared.0, cases.len(), "declared tests");
    assert_eq!(
        declared.1,
        cases.iter().filter(|c| c.2.is_some()).count(),
        "declared failures"
    );
    cases
}

#[test]
fn junit_has_a_testcase_per_rule_and_environment_and_fails_like_the_exit_code() {
    let mut sb = Sandbox::new();
    let venv = moved_venv(&sb);
    let other = sb.home.join("fine-venv");
    make_venv(&python("3.12"), &other, &[]);
    sb.set_env("PYTHONPATH", "/nonexistent/checkout");
    // virtualenvwrapper's directory: how `--all` finds both venvs.
    let home = sb.home.clone();
    sb.set_env("WORKON_HOME", s(&home));
    let out = sb.run(&["check", "--all", "--format", "junit"]);
    assert_eq!(code(&out), 1);
    let cases = parse_junit(&stdout(&out));
    let env_rules = ["ED101 broken-venv", "ED102 script-bad-interpreter"];
    for env in [&venv, &other] {
        for r in env_rules {
            assert_eq!(
                cases.iter().filter(|c| c.0 == s(env) && c.1 == r).count(),
                1,
                "{r} in {}: {cases:#?}",
                env.display()
            );
        }
    }
    let failed: Vec<_> = cases.iter().filter(|c| c.2.is_some()).collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0].0, s(&venv));
    assert_eq!(failed[0].1, "ED102 script-bad-interpreter");
    assert!(failed[0].2.as_deref().unwrap().contains("old-venv"));
    // The PYTHONPATH info is a machine-wide testcase that passes at the
    // default --fail-on error, and fails at --fail-on info.
    assert!(cases
        .iter()
        .any(|c| c.0 == "machine" && c.1 == "ED104 python-env-vars" && c.2.is_none()));
    let out = sb.run(&["check", "--all", "--format", "junit", "--fail-on", "info"]);
    let cases = parse_junit(&stdout(&out));
    assert!(cases
        .iter()
        .any(|c| c.0 == "machine" && c.1 == "ED104 python-env-vars" && c.2.is_some()));
    let out = sb.run(&["check", "--all", "--format", "junit", "--fail-on", "never"]);
    assert_eq!(code(&out), 0);
    assert!(parse_junit(&stdout(&out)).iter().all(|c| c.2.is_none()));
}

#[test]
fn exit_codes_for_every_fail_on_and_severity_override() {
    let mut sb = Sandbox::new();
    let venv = moved_venv(&sb);
    sb.set_env("PYTHONPATH", "/nonexistent/checkout");
    let v = s(&venv);
    let exit = |extra: &[&str]| {
        let mut args = vec!["check", "--python", v];
        args.extend(extra);
        let o = sb.run(&args);
        (code(&o), stderr(&o))
    };
    // An error finding (ED102) fails every level but never.
    for (level, want) in [("error", 1), ("warning", 1), ("info", 1), ("never", 0)] {
        assert_eq!(exit(&["--fail-on", level]).0, want, "--fail-on {level}");
    }
    // Lowered to a warning, it no longer fails --fail-on error.
    for (level, want) in [("error", 0), ("warning", 1), ("info", 1), ("never", 0)] {
        assert_eq!(
            exit(&[
                "--severity",
                "script-bad-interpreter=warning",
                "--fail-on",
                level
            ])
            .0,
            want,
            "warning, --fail-on {level}"
        );
    }
    // Lowered to info (by code), it fails only --fail-on info.
    for (level, want) in [("error", 0), ("warning", 0), ("info", 1), ("never", 0)] {
        assert_eq!(
            exit(&["--severity", "ED102=info", "--fail-on", level]).0,
            want,
            "info, --fail-on {level}"
        );
    }
    // Off, ignored, or not selected: nothing to fail on.
    assert_eq!(exit(&["--severity", "ED102=off", "--fail-on", "info"]).0, 0);
    assert_eq!(
        exit(&["--ignore", "script-bad-interpreter", "--fail-on", "info"]).0,
        0
    );
    assert_eq!(exit(&["--select", "ED101", "--fail-on", "info"]).0, 0);
    assert_eq!(exit(&["--select", "ED101,ED102"]).0, 1);
    // Machine-wide info (PYTHONPATH) through the default selection.
    let o = sb.run(&[
        "check",
        "--select",
        "python-env-vars",
        "--fail-on",
        "warning",
    ]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let o = sb.run(&["check", "--select", "python-env-vars", "--fail-on", "info"]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    // Mistakes are envdoctor's own errors: exit 2, saying what is wrong.
    let (c, err) = exit(&["--select", "no-such-rule"]);
    assert_eq!(c, 2);
    assert!(err.contains("--select `no-such-rule`"), "{err}");
    let (c, err) = exit(&["--severity", "ED102=fatal"]);
    assert_eq!(c, 2);
    assert!(err.contains("`fatal` is not a level"), "{err}");
}

fn write(p: &Path, text: &str) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn rules_of(o: &Output) -> Vec<String> {
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(o), stderr(o)));
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn config_file_is_found_upward_and_merged_under_the_flags() {
    let mut sb = Sandbox::new();
    let venv = moved_venv(&sb);
    sb.set_env("PYTHONPATH", "/nonexistent/checkout");
    sb.set_env("VIRTUAL_ENV", s(&venv));
    sb.set_env("PATH", format!("{}/bin:/usr/bin:/bin", venv.display()));
    let deep = sb.path("repo/sub/dir");
    std::fs::create_dir_all(&deep).unwrap();
    let run = |dir: &Path, args: &[&str]| {
        let mut c = sb.envdoctor();
        c.current_dir(dir)
            .arg("check")
            .args(args)
            .args(["--format", "json"]);
        c.output().unwrap()
    };
    // No config: both findings.
    let base = rules_of(&run(&deep, &[]));
    assert!(
        base.contains(&"script-bad-interpreter".into()) && base.contains(&"python-env-vars".into())
    );

    write(
        &sb.path("repo/envdoctor.toml"),
        "select = [\"ED104\"]\n[severity]\npython-env-vars = \"error\"\n",
    );
    let o = run(&deep, &[]);
    assert_eq!(rules_of(&o), vec!["python-env-vars"]);
    assert_eq!(code(&o), 1, "severity raised to error by the config");
    // --select replaces the config's select; --severity overrides per rule.
    let o = run(&deep, &["--select", "ED102"]);
    assert_eq!(rules_of(&o), vec!["script-bad-interpreter"]);
    let o = run(&deep, &["--severity", "ED104=info"]);
    assert_eq!(code(&o), 0);
    let o = run(&deep, &["--no-config"]);
    assert_eq!(rules_of(&o).len(), base.len());

    // A nearer pyproject.toml with [tool.envdoctor] wins; one without does not count.
    write(
        &sb.path("repo/sub/pyproject.toml"),
        "[project]\nname = \"x\"\n[tool.ruff]\nline-length = 1\n",
    );
    assert_eq!(rules_of(&run(&deep, &[])), vec!["python-env-vars"]);
    write(
        &sb.path("repo/sub/pyproject.toml"),
        "[project]\nname = \"x\"\n[tool.envdoctor]\nselect = [\"script-bad-interpreter\"]\n",
    );
    assert_eq!(rules_of(&run(&deep, &[])), vec!["script-bad-interpreter"]);
    std::fs::remove_file(sb.path("repo/sub/pyproject.toml")).unwrap();

    // [[ignore]] with a reason accepts the finding in that environment
    // (relative to the config file), and SARIF keeps it as suppressed.
    let rel = pathdiff(&venv, &sb.path("repo"));
    write(
        &sb.path("repo/envdoctor.toml"),
        &format!("[[ignore]]\nrule = \"ED102\"\nenvironment = \"{rel}\"\nreason = \"rebuilt by the image\"\n"),
    );
    let o = run(&deep, &[]);
    let kept = rules_of(&o);
    assert!(!kept.contains(&"script-bad-interpreter".into()), "{kept:?}");
    assert!(kept.contains(&"python-env-vars".into()), "{kept:?}");
    assert_eq!(code(&o), 0);
    let mut c = sb.envdoctor();
    let o = c
        .current_dir(&deep)
        .args(["check", "--format", "sarif"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_valid_sarif(&doc);
    let r = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "ED102")
        .expect("suppressed result kept");
    assert_eq!(
        r["suppressions"][0]["justification"],
        "rebuilt by the image"
    );
    // In another environment the same rule still reports.
    write(
        &sb.path("repo/envdoctor.toml"),
        "[[ignore]]\nrule = \"ED102\"\nenvironment = \"/somewhere/else\"\nreason = \"x\"\n",
    );
    assert!(rules_of(&run(&deep, &[])).contains(&"script-bad-interpreter".into()));
}

/// `to` relative to `from` (both absolute, `to` under `from`'s parent chain).
fn pathdiff(to: &Path, from: &Path) -> String {
    let mut up = String::new();
    let mut base = from.to_path_buf();
    loop {
        if let Ok(rest) = to.strip_prefix(&base) {
            return format!("{up}{}", rest.display());
        }
        up.push_str("../");
        base = base.parent().unwrap().to_path_buf();
    }
}

#[test]
fn config_errors_name_the_file_and_the_key() {
    let sb = Sandbox::new();
    let cfg = sb.path("envdoctor.toml");
    let check = |text: &str| {
        write(&cfg, text);
        let o = sb.run(&["check"]);
        assert_eq!(code(&o), 2, "{text}: {}", stdout(&o));
        let err = stderr(&o);
        assert!(err.contains(s(&cfg)), "{err}");
        err
    };
    let err = check("select = []\nselct = [\"ED101\"]\n");
    assert!(err.contains("line 2") && err.contains("selct"), "{err}");
    let err = check("[[ignore]]\nrule = \"ED101\"\n");
    assert!(err.contains("reason"), "{err}");
    let err = check("ignore = [\"ED101\"]\n");
    assert!(err.contains("ignore[0]") && err.contains("reason"), "{err}");
    let err = check("[[ignore]]\nrule = \"ED101\"\nreason = \"r\"\nuntil = \"2027\"\n");
    assert!(err.contains("ignore[0]") && err.contains("until"), "{err}");
    let err = check("[[ignore]]\nrule = \"ED101\"\nreason = \"  \"\n");
    assert!(err.contains("ignore[0].reason"), "{err}");
    let err = check("[severity]\nno-such-rule = \"off\"\n");
    assert!(err.contains("severity.no-such-rule"), "{err}");
    let err = check("[severity]\nbroken-venv = \"loud\"\n");
    assert!(
        err.contains("severity.broken-venv") && err.contains("loud"),
        "{err}"
    );
    let err = check("select = [\"ED101\", \"ED999\"]\n");
    assert!(err.contains("select[1]") && err.contains("ED999"), "{err}");
    let err = check("rules = [\"ci/rules/*.toml\"]\n");
    assert!(
        err.contains("rules[0]") && err.contains("matches no file"),
        "{err}"
    );
    // An invalid extra rule file: the config, the key, the rule file, the field.
    write(
        &sb.path("ci/rules/bad.toml"),
        "code = \"ED190\"\nname = \"my-rule\"\nseverity = \"error\"\ncheck = \"broken-venv\"\nsummary = \"s\"\nwhy = \"w\"\nfix = \"f\"\nowner = \"me\"\n",
    );
    let err = check("rules = [\"ci/rules/*.toml\"]\n");
    assert!(
        err.contains("rules[0]") && err.contains("bad.toml") && err.contains("owner"),
        "{err}"
    );
    // pyproject.toml: the table is named too.
    std::fs::remove_file(&cfg).unwrap();
    let py = sb.path("pyproject.toml");
    write(
        &py,
        "[project]\nname = \"x\"\n\n[tool.envdoctor]\nbogus = true\n",
    );
    let o = sb.run(&["check"]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(
        err.contains(s(&py))
            && err.contains("[tool.envdoctor]")
            && err.contains("line 5")
            && err.contains("bogus"),
        "{err}"
    );
}

#[test]
fn extra_rule_files_from_the_config_run_like_builtin_ones() {
    let mut sb = Sandbox::new();
    let venv = moved_venv(&sb);
    write(
        &sb.path("ci/rules/moved.toml"),
        "code = \"ED190\"\nname = \"ci-moved-scripts\"\nseverity = \"warning\"\ncheck = \"script-bad-interpreter\"\nsummary = \"Our CI's view of moved venvs\"\nwhy = \"Moved venvs break our deploys.\"\nfix = \"Rebuild the venv.\"\n",
    );
    write(
        &sb.path("envdoctor.toml"),
        "rules = [\"ci/rules/*.toml\"]\n",
    );
    sb.set_env("VIRTUAL_ENV", s(&venv));
    sb.set_env("PATH", format!("{}/bin:/usr/bin:/bin", venv.display()));
    // `rules` lists it with the built-in ones.
    let (listed, _) = sb.json(&["rules"]);
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == "ci-moved-scripts"));
    let o = sb.run(&["check", "--format", "json", "--select", "ci-moved-scripts"]);
    assert_eq!(rules_of(&o), vec!["ci-moved-scripts"]);
    let f: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(f["findings"][0]["code"], "ED190");
    assert_eq!(f["findings"][0]["severity"], "warning");
    let o = sb.run(&["check", "--format", "sarif"]);
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_valid_sarif(&doc);
    let rules = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(rules
        .iter()
        .any(|r| r["id"] == "ED190"
            && r["fullDescription"]["text"] == "Moved venvs break our deploys."));
}

#[test]
fn snapshot_reproduces_the_findings_after_the_environment_is_gone() {
    let mut sb = Sandbox::new();
    let venv = moved_venv(&sb);
    sb.set_env("PYTHONPATH", "/nonexistent/checkout");
    // The customer's shell: the moved venv activated.
    sb.set_env("VIRTUAL_ENV", s(&venv));
    sb.set_env("PATH", format!("{}/bin:/usr/bin:/bin", venv.display()));
    let out = sb.run(&["scan", "--format", "json"]);
    assert_eq!(code(&out), 0);
    let snap = sb.path("ticket/snapshot.json");
    write(&snap, &stdout(&out));

    let direct = sb.run(&["check", "--format", "json"]);
    let direct_python = sb.run(&["check", "--python", s(&venv), "--format", "json"]);
    let direct_all = sb.run(&["check", "--all", "--format", "json"]);
    assert_eq!(code(&direct), 1);
    let direct: Value = serde_json::from_slice(&direct.stdout).unwrap();
    assert!(
        direct["findings"].as_array().unwrap().len() >= 2,
        "{direct:#}"
    );

    // Gone: the support engineer's desk has none of it.
    std::fs::remove_dir_all(&venv).unwrap();
    let mut desk = Sandbox::new();
    desk.set_env("PATH", "/usr/bin:/bin");
    let run = |args: &[&str]| {
        let mut c = desk.envdoctor();
        c.args(["check", "--snapshot", s(&snap), "--format", "json"])
            .args(args);
        c.output().unwrap()
    };
    // The active environment is recorded in the snapshot (VIRTUAL_ENV and
    // what PATH ran), so the default selection is the customer's.
    let o = run(&[]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_eq!(serde_json::from_slice::<Value>(&o.stdout).unwrap(), direct);
    let o = run(&["--python", s(&venv)]);
    assert_eq!(o.stdout, direct_python.stdout);
    let o = run(&["--all"]);
    assert_eq!(o.stdout, direct_all.stdout);
    // The live check cannot see it any more.
    let o = sb.run(&["check", "--python", s(&venv)]);
    assert_eq!(code(&o), 2);
}

#[test]
fn unusable_snapshots_exit_2_with_the_reason() {
    let sb = Sandbox::new();
    let good = stdout(&sb.run(&["scan", "--format", "json"]));
    let check = |name: &str, content: Option<&str>| {
        let p = sb.path(name);
        if let Some(c) = content {
            write(&p, c);
        }
        let o = sb.run(&["check", "--snapshot", s(&p)]);
        assert_eq!(code(&o), 2, "{name}: {}", stdout(&o));
        let err = stderr(&o);
        assert!(err.contains(s(&p)), "{err}");
        err
    };
    assert!(check("missing.json", None).contains("no such file"));
    assert!(check("empty.json", Some("")).contains("empty"));
    let err = check("cut.json", Some(&good[..good.len() / 2]));
    assert!(err.contains("ends early"), "{err}");
    let err = check(
        "foreign.json",
        Some("{\"name\": \"package-lock\", \"lockfileVersion\": 3}"),
    );
    assert!(err.contains("not an envdoctor snapshot"), "{err}");
    let err = check("list.json", Some("[1, 2]"));
    assert!(err.contains("not an envdoctor snapshot"), "{err}");
    let findings = stdout(&sb.run(&["check", "--format", "json"]));
    let err = check("findings.json", Some(&findings));
    assert!(err.contains("`envdoctor check --format json`"), "{err}");
    let newer = good.replacen("\"schema_version\": 1", "\"schema_version\": 2", 1);
    assert_ne!(newer, good);
    let err = check("newer.json", Some(&newer));
    assert!(
        err.contains("schema_version 2") && err.contains("upgrade envdoctor"),
        "{err}"
    );
    let mangled = good.replacen("\"interpreters\": [", "\"interpreters\": [7,", 1);
    let err = check("mangled.json", Some(&mangled));
    assert!(err.contains("does not match schema_version 1"), "{err}");
    // A snapshot was read on the customer's machine: no live options.
    let p = sb.path("ok.json");
    write(&p, &good);
    let o = sb.run(&["check", "--snapshot", s(&p), "--root", "/"]);
    assert_eq!(code(&o), 2);
    let o = sb.run(&["check", "--snapshot", s(&p)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn report_is_markdown_with_home_as_tilde_and_no_secrets() {
    let mut sb = Sandbox::new();
    let venv = moved_venv(&sb);
    sb.set_env(
        "PIP_INDEX_URL",
        "https://alice:s3cr3t-pw@pypi.example.com/simple",
    );
    sb.set_env("HTTPS_PROXY", "http://bob:hunter2@proxy.example:3128");
    sb.set_env("VIRTUAL_ENV", s(&venv));
    sb.set_env("PATH", format!("{}/bin:/usr/bin:/bin", venv.display()));
    let out = sb.run(&["report"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let md = stdout(&out);
    for heading in [
        "# envdoctor report",
        "## Host",
        "## PATH",
        "## Interpreters and environments",
        "## Findings",
    ] {
        assert!(md.contains(heading), "{heading}\n{md}");
    }
    assert!(md.contains("| C library | glibc 2."), "{md}");
    assert!(
        md.contains("## Caches") && md.contains("| pip | `~/.cache/pip` |"),
        "{md}"
    );
    assert!(md.contains("## Disk space"), "{md}");
    assert!(
        md.contains("| `python3` | `~/proj venv/bin/python3` |"),
        "{md}"
    );
    assert!(md.contains("| venv | 3.11."), "{md}");
    assert!(md.contains("`~/proj venv`"), "{md}");
    assert!(
        md.contains("### error `ED102` script-bad-interpreter"),
        "{md}"
    );
    assert!(md.contains("- Fix: "), "{md}");
    assert!(!md.contains(s(&sb.home)), "home not shown as ~:\n{md}");
    for secret in ["s3cr3t-pw", "alice", "hunter2", "bob:"] {
        assert!(!md.contains(secret), "{secret} leaked:\n{md}");
    }
    assert!(md.contains("pypi.example.com"), "the host stays: {md}");
    // The same report from the snapshot, on another desk.
    let snap = sb.path("snap.json");
    write(&snap, &stdout(&sb.run(&["scan", "--format", "json"])));
    let desk = Sandbox::new();
    let o = desk.run(&["report", "--snapshot", s(&snap)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let md2 = stdout(&o);
    assert!(md2.contains("From the snapshot"));
    let tail = |m: &str| m[m.find("## Host").unwrap()..].to_string();
    assert_eq!(tail(&md2), tail(&md));
}

#[test]
fn requirements_drift_reports_missing_other_version_and_unpinned_tensorflow() {
    let mut sb = Sandbox::new();
    let venv = sb.home.join("app-venv");
    make_venv(&python("3.11"), &venv, &[]);
    let wheels = sb.path("wheels");
    let built: Vec<PathBuf> = [
        Wheel::new("numpy", "2.0.0").package("numpy"),
        Wheel::new("tensorflow", "2.15.1").package("tensorflow"),
        Wheel::new("requests", "2.31.0").package("requests"),
    ]
    .iter()
    .map(|w| w.build(&wheels))
    .collect();
    let args: Vec<&str> = built.iter().map(|p| p.to_str().unwrap()).collect();
    pip_install(&venv.join("bin/python"), &args);
    let req = sb.path("requirements.txt");
    write(
        &req,
        "numpy==1.26.4\nsix==1.16.0  # missing\ntensorflow>=2.15\nrequests==2.31.0\ncolorama==0.4.6 ; sys_platform == \"win32\"\n",
    );
    // The name and code are a contract.
    let (listed, _) = sb.json(&["rules"]);
    let rule = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "requirements-drift")
        .unwrap();
    assert_eq!(
        (rule["code"].as_str(), rule["severity"].as_str()),
        (Some("ED601"), Some("error"))
    );
    sb.set_env("VIRTUAL_ENV", s(&venv));
    sb.set_env("PATH", format!("{}/bin:/usr/bin:/bin", venv.display()));
    let o = sb.run(&[
        "check",
        "--requirements",
        s(&req),
        "--format",
        "json",
        "--select",
        "requirements-drift",
    ]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = v["findings"].as_array().unwrap();
    let msgs: Vec<&str> = f.iter().map(|f| f["message"].as_str().unwrap()).collect();
    assert_eq!(f.len(), 3, "{msgs:#?}");
    let find = |needle: &str| {
        f.iter()
            .find(|f| f["message"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("no finding with {needle}: {msgs:#?}"))
    };
    let numpy = find("numpy==1.26.4");
    assert_eq!(numpy["severity"], "error");
    assert!(
        numpy["message"].as_str().unwrap().contains("numpy 2.0.0"),
        "{numpy}"
    );
    assert!(
        fix(numpy).contains("-m pip install numpy==1.26.4"),
        "{numpy}"
    );
    let six = find("six==1.16.0");
    assert_eq!(six["severity"], "error");
    assert!(
        six["message"]
            .as_str()
            .unwrap()
            .contains("requirements.txt:2"),
        "{six}"
    );
    assert!(
        six["message"]
            .as_str()
            .unwrap()
            .contains("is not installed"),
        "{six}"
    );
    let tf = find("TensorFlow is not pinned");
    assert_eq!(tf["severity"], "warning");
    assert!(fix(tf).contains("tensorflow==2.15.1"), "{tf}");

    // The same from pyproject.toml's [project] dependencies, satisfied this time.
    let py = sb.path("proj/pyproject.toml");
    write(
        &py,
        "[project]\nname = \"app\"\nversion = \"1\"\ndependencies = [\"numpy>=2\", \"tensorflow==2.15.1\", \"requests\"]\n",
    );
    let o = sb.run(&[
        "check",
        "--requirements",
        s(&py),
        "--format",
        "json",
        "--select",
        "requirements-drift",
    ]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert_eq!(rules_of(&o), Vec::<String>::new());
    // An unreadable requirements file is envdoctor's own error.
    let o = sb.run(&["check", "--requirements", s(&sb.path("nope.txt"))]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("nope.txt"));
}

#[test]
fn no_credential_in_any_output_format() {
    let mut sb = Sandbox::new();
    sb.set_env("https_proxy", "http://bob:hunter2pw@proxy.corp:3128");
    sb.set_env("PIP_INDEX_URL", "https://alice:s3cr3tTok@pypi.corp/simple");
    sb.set_env(
        "PIP_EXTRA_INDEX_URL",
        "http://tok9secret@insecure.corp/simple",
    );
    let mut runs: Vec<Vec<&str>> = ["text", "json", "sarif", "github", "junit"]
        .iter()
        .map(|f| vec!["check", "--all", "--fail-on", "never", "--format", f])
        .collect();
    runs.push(vec!["report"]);
    runs.push(vec!["scan", "--format", "json"]);
    runs.push(vec!["scan", "-v"]);
    let mut redacted_seen = false;
    for args in &runs {
        let out = sb.run(args);
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for secret in ["hunter2pw", "s3cr3tTok", "tok9secret", "bob:", "alice:"] {
            assert!(!all.contains(secret), "{args:?} printed `{secret}`:\n{all}");
        }
        redacted_seen |= all.contains("***@insecure.corp") || all.contains("***:***@pypi.corp");
    }
    // The URLs are shown, host kept: the test looks at real output.
    assert!(redacted_seen);
}
