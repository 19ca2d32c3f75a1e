//! The built-in rules and knowledge tables, as JSON converted from
//! `rules/*.toml` and `rules/knowledge/*.toml` by build.rs. A leaf: the rule
//! catalogue and the knowledge tables both read it.

include!(concat!(env!("OUT_DIR"), "/rules.rs"));
