//! Meta-tests on the rule catalogue, as clippy has for its lints: every
//! rule is exercised by some test, and codes stay unique and stable.

mod support;

use std::collections::BTreeSet;

fn catalogue() -> Vec<serde_json::Value> {
    let sb = support::Sandbox::new();
    let (v, code) = sb.json(&["rules"]);
    assert_eq!(code, 0);
    v.as_array().unwrap().clone()
}

#[test]
fn every_rule_has_a_test_that_names_it() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut text = String::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "rs") && !p.ends_with("catalogue.rs") {
            text.push_str(&std::fs::read_to_string(&p).unwrap());
        }
    }
    let untested: Vec<String> = catalogue()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .filter(|n| !text.contains(&format!("\"{n}\"")))
        .collect();
    assert!(untested.is_empty(), "rules no test names: {untested:?}");
}

#[test]
fn codes_and_names_are_unique_and_grouped() {
    let rules = catalogue();
    let codes: BTreeSet<&str> = rules.iter().map(|r| r["code"].as_str().unwrap()).collect();
    let names: BTreeSet<&str> = rules.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(codes.len(), rules.len());
    assert_eq!(names.len(), rules.len());
    for r in &rules {
        let code = r["code"].as_str().unwrap();
        assert!(code.len() == 5 && code.starts_with("ED"), "{code}");
        assert!(
            !r["why"].as_str().unwrap().trim().is_empty(),
            "{code} has no why"
        );
        assert!(
            !r["fix"].as_str().unwrap().trim().is_empty(),
            "{code} has no fix"
        );
    }
}

/// A rule whose findings take more than one level says so, and when:
/// `rules` lists every level and `explain` gives the conditions. (That
/// no rule emits a level its file does not document is asserted by the
/// engine itself in debug builds, so every test that runs a rule checks it.)
#[test]
fn levels_that_vary_are_documented_where_users_look() {
    let rules = catalogue();
    let shadow = rules
        .iter()
        .find(|r| r["name"] == "shadowed-package")
        .unwrap();
    assert_eq!(shadow["severity"], "error");
    assert!(shadow["levels"]["warning"]
        .as_str()
        .unwrap()
        .contains("same version"));
    let sb = support::Sandbox::new();
    let table = String::from_utf8(sb.run(&["rules"]).stdout).unwrap();
    let row = table.lines().find(|l| l.contains("ED201")).unwrap();
    assert!(row.contains("error, warning"), "{row}");
    let text = String::from_utf8(sb.run(&["explain", "ED207"]).stdout).unwrap();
    assert!(
        text.contains("error by default") && text.contains("info when the requiring distribution"),
        "{text}"
    );
    // A file that lists its default level again is refused.
    let mut c = envdoctor::rules::Catalog { rules: Vec::new() };
    let e = c
        .add(
            "x.toml",
            "code = \"EX1\"\nname = \"x\"\nseverity = \"error\"\ncheck = \"broken-venv\"\nsummary = \"s\"\nwhy = \"w\"\nfix = \"f\"\n[levels]\nerror = \"always\"\n",
        )
        .unwrap_err();
    assert!(e.to_string().contains("repeats the default"), "{e}");
}
