//! The layering holds: probes -> snapshot -> rules -> renderers, with no
//! module reaching back up. A cycle (a rule importing a renderer, a probe
//! importing the probe that imports it) fails this test, naming the edge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// `crate::NAME` references (and, with `inner`, `super::NAME` /
/// `crate::PARENT::NAME` ones) of each module file, comments skipped.
fn graph(dir: &Path, parent: Option<&str>, skip: &[&str]) -> Graph {
    let mut g = Graph::new();
    let files = walk(dir);
    let names: BTreeSet<String> = files.iter().map(|(m, _)| m.clone()).collect();
    for (module, text) in files {
        if skip.contains(&module.as_str()) {
            continue;
        }
        let edges = g.entry(module.clone()).or_default();
        for line in text.lines() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            let prefixes: Vec<String> = match parent {
                None => vec!["crate::".into()],
                Some(p) => vec!["super::".into(), format!("crate::{p}::")],
            };
            for pre in &prefixes {
                for (i, _) in code.match_indices(pre.as_str()) {
                    let rest = &code[i + pre.len()..];
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit())
                        .collect();
                    if name != module && names.contains(&name) && !skip.contains(&name.as_str()) {
                        edges.insert(name);
                    }
                }
            }
        }
    }
    g
}

/// (module name, its text): `x.rs` and `x/**.rs` are module `x`.
fn walk(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
        if p.is_dir() {
            let mut text = String::new();
            for f in walkdir(&p) {
                text.push_str(&std::fs::read_to_string(f).unwrap());
                text.push('\n');
            }
            out.push((stem, text));
        } else if p.extension().is_some_and(|x| x == "rs") {
            match out.iter_mut().find(|(m, _)| *m == stem) {
                Some((_, t)) => t.push_str(&std::fs::read_to_string(&p).unwrap()),
                None => out.push((stem, std::fs::read_to_string(&p).unwrap())),
            }
        }
    }
    out
}

fn walkdir(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walkdir(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

/// An edge a -> b where b also reaches a, if any.
fn cycle(g: &Graph) -> Option<(String, String)> {
    let reaches = |from: &str, to: &str| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_string()];
        while let Some(n) = stack.pop() {
            if n == to {
                return true;
            }
            if seen.insert(n.clone()) {
                stack.extend(g.get(&n).into_iter().flatten().cloned());
            }
        }
        false
    };
    g.iter()
        .flat_map(|(a, bs)| bs.iter().map(move |b| (a.clone(), b.clone())))
        .find(|(a, b)| reaches(b, a))
}

#[test]
fn the_crates_modules_form_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    // The entry points and the fuzz harness sit above everything.
    let g = graph(&src, None, &["app", "main", "lib", "fuzz"]);
    assert!(g.contains_key("rules") && g.contains_key("render"), "{g:?}");
    assert!(g["render"].contains("rules"), "the test reads edges: {g:?}");
    if let Some((a, b)) = cycle(&g) {
        panic!("`{a}` uses `{b}`, which leads back to `{a}`: {g:#?}");
    }
    // The named layers, bottom-up: nothing below reaches a layer above.
    let order = [
        "fs",
        "markers",
        "requirements",
        "snapshot",
        "probe",
        "rules",
        "render",
    ];
    for (i, low) in order.iter().enumerate() {
        for high in &order[i + 1..] {
            assert!(
                !g[*low].contains(*high),
                "`{low}` uses `{high}`, a layer above it"
            );
        }
    }
}

#[test]
fn each_probe_can_be_read_alone() {
    let probe = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/probe");
    let g = graph(&probe, Some("probe"), &["mod"]);
    assert!(
        g["commands"].contains("identify"),
        "the test reads edges: {g:?}"
    );
    if let Some((a, b)) = cycle(&g) {
        panic!("probe `{a}` uses `{b}`, which leads back to `{a}`: {g:#?}");
    }
}
