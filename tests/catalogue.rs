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
