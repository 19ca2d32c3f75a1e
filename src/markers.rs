//! Markers that pep508_rs and pip's `packaging` judge differently, evaluated
//! as packaging does: any comparison of `platform_release`, and `<`, `<=`,
//! `>`, `>=`, `~=` or `===` on any other string marker.
//!
//! pep508_rs orders string markers as strings, so `platform_release >= "5"`
//! is true for a Linux release such as `6.1.0-18-amd64`. packaging (the
//! library pip vendors) instead compares `platform_release` (like the
//! Python versions) as a PEP 440 version when the right side makes a valid
//! specifier, and a release that is no PEP 440 version then matches
//! nothing: every such comparison is false, `!=` included. Other string
//! markers are never ordered: `<` and `>` are false, `<=` and `>=` mean
//! equality (packaging 26, `_eval_op`; packaging 21, in pip 23, agrees on
//! every comparison a real release or platform string can make).
//!
//! Only markers with such a comparison are evaluated here; every other
//! marker, and every atom here that is not a string comparison (versions,
//! extras), is left to pep508_rs, which is right about them.

use pep440_rs::{Version, VersionSpecifier};
use pep508_rs::{ExtraName, MarkerEnvironment, MarkerTree};
use std::str::FromStr;

/// Parentheses in a marker nest at most this deep. Real markers nest two or
/// three levels; the parser recurses per level, so 15,000 would overflow
/// the stack (and abort) instead of failing.
pub const MAX_NESTING: usize = 32;

/// A marker holding a comparison of `platform_release`, or an ordered one
/// of another string marker.
#[derive(Debug, Clone)]
pub struct PackagingMarker(Node);

#[derive(Debug, Clone)]
enum Node {
    And(Vec<Node>),
    Or(Vec<Node>),
    /// `key op "value"`, or inverted `"value" op key`.
    Str {
        key: Key,
        op: String,
        value: String,
        inverted: bool,
    },
    /// Anything else (versions, extras), judged by pep508_rs.
    Other(MarkerTree),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Key {
    ImplementationName,
    OsName,
    PlatformMachine,
    PlatformPythonImplementation,
    PlatformRelease,
    PlatformSystem,
    PlatformVersion,
    SysPlatform,
}

impl Key {
    fn of(name: &str) -> Option<Key> {
        Some(match name {
            "implementation_name" => Key::ImplementationName,
            "os_name" | "os.name" => Key::OsName,
            "platform_machine" | "platform.machine" => Key::PlatformMachine,
            "platform_python_implementation"
            | "platform.python_implementation"
            | "python_implementation" => Key::PlatformPythonImplementation,
            "platform_release" => Key::PlatformRelease,
            "platform_system" => Key::PlatformSystem,
            "platform_version" | "platform.version" => Key::PlatformVersion,
            "sys_platform" | "sys.platform" => Key::SysPlatform,
            _ => return None,
        })
    }

    fn value(self, env: &MarkerEnvironment) -> &str {
        match self {
            Key::ImplementationName => env.implementation_name(),
            Key::OsName => env.os_name(),
            Key::PlatformMachine => env.platform_machine(),
            Key::PlatformPythonImplementation => env.platform_python_implementation(),
            Key::PlatformRelease => env.platform_release(),
            Key::PlatformSystem => env.platform_system(),
            Key::PlatformVersion => env.platform_version(),
            Key::SysPlatform => env.sys_platform(),
        }
    }

    /// packaging's `MARKERS_REQUIRING_VERSION`, among the string markers.
    fn is_version(self) -> bool {
        self == Key::PlatformRelease
    }
}

const ORDERED: [&str; 6] = ["<", "<=", ">", ">=", "~=", "==="];

impl PackagingMarker {
    /// The marker of requirement `s` when it needs this evaluation; `None`
    /// for every other requirement (no marker, or none of these
    /// comparisons), which pep508_rs judges alone.
    pub fn of(s: &str) -> Option<PackagingMarker> {
        // Cheap test first: almost no requirement has one. It needs
        // `platform_release`, or an ordering operator beside some string
        // marker (all of whose names hold one of these words).
        let (_, marker) = s.split_once(';')?;
        let ordered = marker.contains(['<', '>', '~']) || marker.contains("===");
        let string_key = ["platform", "os_name", "os.name", "implementation_name"]
            .iter()
            .any(|k| marker.contains(k));
        if !(marker.contains("platform_release") || ordered && string_key) {
            return None;
        }
        // The marker follows a `;`, but a URL may hold one too: the first
        // `;` after which a whole marker parses is the one.
        for (i, _) in s.match_indices(';') {
            if let Some(node) = Parser::new(&s[i + 1..]).whole() {
                return has_ordered_string(&node).then_some(PackagingMarker(node));
            }
        }
        None
    }

    pub fn evaluate(&self, env: &MarkerEnvironment, extras: &[ExtraName]) -> bool {
        eval(&self.0, env, extras)
    }
}

fn has_ordered_string(n: &Node) -> bool {
    match n {
        Node::And(v) | Node::Or(v) => v.iter().any(has_ordered_string),
        Node::Str { key, op, .. } => {
            ORDERED.contains(&op.as_str()) || (key.is_version() && !op.ends_with("in"))
        }
        Node::Other(_) => false,
    }
}

fn eval(n: &Node, env: &MarkerEnvironment, extras: &[ExtraName]) -> bool {
    match n {
        Node::And(v) => v.iter().all(|n| eval(n, env, extras)),
        Node::Or(v) => v.iter().any(|n| eval(n, env, extras)),
        Node::Other(t) => t.evaluate(env, extras),
        Node::Str {
            key,
            op,
            value,
            inverted,
        } => {
            let env_value = key.value(env);
            // packaging evaluates `lhs op rhs` as written.
            let (lhs, rhs) = if *inverted {
                (value.as_str(), env_value)
            } else {
                (env_value, value.as_str())
            };
            eval_op(lhs, op, rhs, key.is_version())
        }
    }
}

/// packaging's `_eval_op`.
fn eval_op(lhs: &str, op: &str, rhs: &str, version_key: bool) -> bool {
    if version_key {
        if let Ok(spec) = VersionSpecifier::from_str(&format!("{op}{rhs}")) {
            // `Specifier.contains(lhs, prereleases=True)`: a left side that
            // is no version is contained in no specifier.
            return match Version::from_str(lhs) {
                Ok(v) => spec.contains(&v),
                Err(_) => false,
            };
        }
    }
    match op {
        "==" | "<=" | ">=" => lhs == rhs,
        "!=" => lhs != rhs,
        "in" => rhs.contains(lhs),
        "not in" => !rhs.contains(lhs),
        // `<`, `>` are false; `~=` and `===` are an UndefinedComparison
        // error in packaging: the requirement does not apply.
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// A PEP 508 marker parser, enough to find and keep the atoms above. Its
// input is already bounded (length, nesting) by `requirements::parse`.

struct Parser<'a> {
    s: &'a str,
    pos: usize,
    depth: usize,
}

#[derive(Debug, PartialEq)]
enum Tok {
    Name(String),
    Str(String),
    Op(String),
    Open,
    Close,
}

impl<'a> Parser<'a> {
    fn new(s: &'a str) -> Self {
        Parser {
            s,
            pos: 0,
            depth: 0,
        }
    }

    fn whole(mut self) -> Option<Node> {
        let n = self.or()?;
        self.skip_ws();
        (self.pos == self.s.len()).then_some(n)
    }

    fn skip_ws(&mut self) {
        while self.s[self.pos..].starts_with([' ', '\t']) {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<(Tok, usize)> {
        self.skip_ws();
        let rest = &self.s[self.pos..];
        let c = rest.chars().next()?;
        Some(match c {
            '(' => (Tok::Open, 1),
            ')' => (Tok::Close, 1),
            '"' | '\'' => {
                let end = rest[1..].find(c)?;
                (Tok::Str(rest[1..1 + end].to_string()), end + 2)
            }
            '<' | '>' | '=' | '!' | '~' => {
                let op = ["===", "==", "!=", "<=", ">=", "~=", "<", ">"]
                    .into_iter()
                    .find(|o| rest.starts_with(o))?;
                (Tok::Op(op.to_string()), op.len())
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
                    .unwrap_or(rest.len());
                (Tok::Name(rest[..end].to_string()), end)
            }
            _ => return None,
        })
    }

    fn next(&mut self) -> Option<Tok> {
        let (t, n) = self.peek()?;
        self.pos += n;
        Some(t)
    }

    fn keyword(&mut self, k: &str) -> bool {
        let save = self.pos;
        if self.peek().map(|t| t.0) == Some(Tok::Name(k.to_string())) {
            self.next();
            true
        } else {
            self.pos = save;
            false
        }
    }

    fn or(&mut self) -> Option<Node> {
        let mut v = vec![self.and()?];
        while self.keyword("or") {
            v.push(self.and()?);
        }
        Some(if v.len() == 1 {
            v.remove(0)
        } else {
            Node::Or(v)
        })
    }

    fn and(&mut self) -> Option<Node> {
        let mut v = vec![self.atom()?];
        while self.keyword("and") {
            v.push(self.atom()?);
        }
        Some(if v.len() == 1 {
            v.remove(0)
        } else {
            Node::And(v)
        })
    }

    fn atom(&mut self) -> Option<Node> {
        if self.peek()?.0 == Tok::Open {
            self.next();
            self.depth += 1;
            if self.depth > MAX_NESTING {
                return None;
            }
            let n = self.or()?;
            self.depth -= 1;
            return (self.next()? == Tok::Close).then_some(n);
        }
        let start = self.pos;
        let lhs = self.next()?;
        let op = match self.next()? {
            Tok::Op(o) => o,
            Tok::Name(n) if n == "in" => n,
            Tok::Name(n) if n == "not" => {
                if !self.keyword("in") {
                    return None;
                }
                "not in".to_string()
            }
            _ => return None,
        };
        let rhs = self.next()?;
        let text = self.s[start..self.pos].trim();
        let str_atom = |name: &str, value: String, inverted: bool| {
            Key::of(name).map(|key| Node::Str {
                key,
                op: op.clone(),
                value,
                inverted,
            })
        };
        match (lhs, rhs) {
            (Tok::Name(k), Tok::Str(v)) => str_atom(&k, v, false),
            (Tok::Str(v), Tok::Name(k)) => str_atom(&k, v, true),
            _ => None,
        }
        .or_else(|| MarkerTree::from_str(text).ok().map(Node::Other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pep508_rs::MarkerEnvironmentBuilder;

    fn env(release: &str) -> MarkerEnvironment {
        MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
            implementation_name: "cpython",
            implementation_version: "3.11.7",
            os_name: "posix",
            platform_machine: "x86_64",
            platform_python_implementation: "CPython",
            platform_release: release,
            platform_system: "Linux",
            platform_version: "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1",
            python_full_version: "3.11.7",
            python_version: "3.11",
            sys_platform: "linux",
        })
        .unwrap()
    }

    fn eval(req: &str, release: &str) -> Option<bool> {
        PackagingMarker::of(req).map(|m| m.evaluate(&env(release), &[]))
    }

    #[test]
    fn a_release_that_is_no_version_matches_no_version_comparison() {
        for m in [">= \"5\"", "< \"99\"", "> \"1\"", "<= \"9\"", "~= \"6.1\""] {
            let r = format!("k ; platform_release {m}");
            assert_eq!(eval(&r, "6.1.0-18-amd64"), Some(false), "{r}");
        }
    }

    #[test]
    fn a_release_that_is_a_version_compares_as_one() {
        // Darwin's releases are PEP 440 versions: 9 < 20 as versions, not
        // as strings.
        assert_eq!(eval("k ; platform_release >= \"10\"", "9.8.0"), Some(false));
        assert_eq!(eval("k ; platform_release >= \"10\"", "20.6.0"), Some(true));
        assert_eq!(eval("k ; platform_release < \"10\"", "9.8.0"), Some(true));
        // Inverted: "10" <= release.
        assert_eq!(eval("k ; \"10\" <= platform_release", "20.6.0"), Some(true));
    }

    #[test]
    fn equality_on_a_release_is_a_version_comparison_when_it_can_be() {
        // `!=5` is a valid specifier and the release no version: false.
        assert_eq!(
            eval("k ; platform_release != \"5\"", "6.1.0-18-amd64"),
            Some(false)
        );
        // `==6.1.0-18-amd64` is no specifier: compared as strings.
        assert_eq!(
            eval(
                "k ; platform_release == \"6.1.0-18-amd64\"",
                "6.1.0-18-amd64"
            ),
            Some(true)
        );
        // 20.6 == 20.6.0 as versions.
        assert_eq!(
            eval("k ; platform_release == \"20.6\"", "20.6.0"),
            Some(true)
        );
    }

    #[test]
    fn other_string_markers_are_not_ordered() {
        assert_eq!(eval("k ; sys_platform < \"z\"", "6.1"), Some(false));
        assert_eq!(eval("k ; sys_platform >= \"linux\"", "6.1"), Some(true));
        assert_eq!(eval("k ; platform_version >= \"1\"", "6.1"), Some(false));
    }

    #[test]
    fn the_rest_of_the_marker_is_judged_as_before() {
        let r = "k ; platform_release >= \"5\" or (python_version >= \"3.8\" and extra == \"x\")";
        let m = PackagingMarker::of(r).unwrap();
        let x = ExtraName::from_str("x").unwrap();
        assert!(!m.evaluate(&env("6.1.0-18-amd64"), &[]));
        assert!(m.evaluate(&env("6.1.0-18-amd64"), &[x]));
        assert!(m.evaluate(&env("6.1.0"), &[]));
    }

    #[test]
    fn markers_without_ordered_string_comparisons_are_left_alone() {
        for r in [
            "k",
            "k>=1",
            "k ; python_version >= \"3.8\"",
            "k ; sys_platform == \"linux\" and platform_machine != \"arm64\"",
            "k ; \"amzn\" in platform_release",
            "k @ https://x.invalid/a;b.whl ; os_name == \"posix\"",
            "k ; garbage >= (",
        ] {
            assert!(PackagingMarker::of(r).is_none(), "{r}");
        }
        // A `;` inside a URL is not the marker's.
        assert!(
            PackagingMarker::of("k @ https://x.invalid/a;b.whl ; platform_release > \"1\"")
                .is_some()
        );
    }

    #[test]
    fn deep_nesting_is_refused_not_recursed() {
        let r = format!(
            "k ; {}platform_release > \"1\"{}",
            "(".repeat(10_000),
            ")".repeat(10_000)
        );
        assert!(PackagingMarker::of(&r).is_none());
    }
}
