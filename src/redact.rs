//! Credentials never leave envdoctor: not in text, JSON, SARIF, reports or
//! snapshots. Redaction happens where a value is first read, so that nothing
//! downstream can print the secret by mistake.

use regex::Regex;
use std::sync::OnceLock;

/// Replaces the user-info part of every URL in `s` (`https://user:pass@host`
/// becomes `https://***:***@host`, `https://token@host` becomes
/// `https://***@host`). The host stays: it is what a reader needs.
pub fn urls(s: &str) -> String {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/@\s]+)@")
            .expect("static regex")
    });
    re.replace_all(s, |c: &regex::Captures| {
        let hidden = if c["userinfo"].contains(':') {
            "***:***"
        } else {
            "***"
        };
        format!("{}{}@", &c["scheme"], hidden)
    })
    .into_owned()
}

/// Whether an environment variable's name says its value is a secret.
pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    [
        "PASSWORD",
        "TOKEN",
        "SECRET",
        "API_KEY",
        "APIKEY",
        "CREDENTIAL",
        "AUTH",
    ]
    .iter()
    .any(|w| n.contains(w))
}

/// An environment variable's value as envdoctor may show it.
pub fn env_value(name: &str, value: &str) -> String {
    if is_secret_name(name) {
        "***".to_string()
    } else {
        urls(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_userinfo_keeps_host() {
        assert_eq!(
            urls("https://alice:s3cr3t@pypi.example.com/simple"),
            "https://***:***@pypi.example.com/simple"
        );
        assert_eq!(urls("http://tok3n@proxy:3128"), "http://***@proxy:3128");
        assert_eq!(
            urls("https://a.example/simple https://u:p@b.example/simple"),
            "https://a.example/simple https://***:***@b.example/simple"
        );
        assert_eq!(urls("no url here"), "no url here");
        assert_eq!(env_value("UV_INDEX_PRIVATE_PASSWORD", "hunter2"), "***");
    }
}
