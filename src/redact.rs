//! Credentials never leave envdoctor: not in text, JSON, SARIF, reports or
//! snapshots. Redaction happens where a value is first read, so that nothing
//! downstream can print the secret by mistake.

use regex::Regex;
use std::sync::OnceLock;

/// Hides every credential in `s`, whatever it is a part of (a URL, a
/// requirement, a proxy setting, an error message):
/// - the user-info of a URL with a scheme (`https://user:pa@ss@host` becomes
///   `https://***:***@host`, `git+https://TOKEN@github.com` becomes
///   `git+https://***@github.com`); the host stays, it is what a reader needs;
/// - `user:password@host` without a scheme (`HTTPS_PROXY=u:p@proxy:3128`,
///   which requests accepts);
/// - the value of query parameters that carry secrets (`?token=...`,
///   `&access_token=`, `password=`, `sig=`, `X-Amz-Signature=`...).
///
/// Everything envdoctor writes passes through here once more on its way
/// out, so a secret that a probe did not foresee is still not printed.
pub fn text(s: &str) -> String {
    static SCHEME: OnceLock<Regex> = OnceLock::new();
    static BARE: OnceLock<Regex> = OnceLock::new();
    static QUERY: OnceLock<Regex> = OnceLock::new();
    use std::borrow::Cow;
    // Each regex runs only on text that holds what it needs to match
    // (`://` and `@`; `:` and `@`; `=` and one of `?&;`): most text holds
    // no credential, and building the three regexes cost more than reading
    // a whole environment.
    let out: Cow<str> = if s.contains('@') && s.contains("://") {
        // The authority ends at the first `/`, `?`, `#` or blank; user-info
        // is everything up to its *last* `@` (a password may hold `@`).
        let scheme = SCHEME.get_or_init(|| {
            Regex::new(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/?#\s@]*(?:@[^/?#\s@]*)*)@(?P<host>[^/?#\s@]+)")
                .expect("static regex")
        });
        scheme.replace_all(s, |c: &regex::Captures| {
            let hidden = if c["userinfo"].contains(':') {
                "***:***"
            } else {
                "***"
            };
            format!("{}{}@{}", &c["scheme"], hidden, &c["host"])
        })
    } else {
        Cow::Borrowed(s)
    };
    // `user:password@host[:port]` with no scheme before it.
    let out = if out.contains('@') && out.contains(':') {
        let bare = BARE.get_or_init(|| {
            Regex::new(r"(?P<pre>^|[\s=\x22'(,;])(?P<user>[^\s/@:=\x22'(,;*]+):(?P<pw>[^\s/@\x22']+(?:@[^\s/@\x22']+)*)@(?P<host>[A-Za-z0-9\[][A-Za-z0-9.\-\[\]:]*)")
                .expect("static regex")
        });
        Cow::Owned(
            bare.replace_all(&out, |c: &regex::Captures| {
                format!("{}***:***@{}", &c["pre"], &c["host"])
            })
            .into_owned(),
        )
    } else {
        out
    };
    if out.contains('=') && out.contains(['?', '&', ';']) {
        let query = QUERY.get_or_init(|| {
            Regex::new(r"(?i)(?P<key>[?&;](?:[a-z0-9_.\-]*(?:token|secret|password|passwd|pwd|auth|apikey|api_key|key|sig|signature|credential|session)[a-z0-9_.\-]*)=)(?P<value>[^&#\s\x22']+)")
                .expect("static regex")
        });
        return query
            .replace_all(&out, |c: &regex::Captures| format!("{}***", &c["key"]))
            .into_owned();
    }
    out.into_owned()
}

/// The same as [`text`]: the name the probes used first.
pub fn urls(s: &str) -> String {
    text(s)
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
        // A password holding `@`: nothing of it shows.
        assert_eq!(
            text("https://user:p@ss@w0rd@pypi.example.com/simple"),
            "https://***:***@pypi.example.com/simple"
        );
        // Without a scheme, as requests and pip accept proxies.
        assert_eq!(
            text("HTTPS_PROXY=user:pw@proxy:3128"),
            "HTTPS_PROXY=***:***@proxy:3128"
        );
        assert_eq!(
            text("proxy = alice:s3cr3t@10.0.0.1:3128"),
            "proxy = ***:***@10.0.0.1:3128"
        );
        assert_eq!(text("user:pa@ss@proxy.corp"), "***:***@proxy.corp");
        // VCS and direct URLs in requirements.
        assert_eq!(
            text("pkg @ git+https://ghp_TOKEN123@github.com/o/r.git"),
            "pkg @ git+https://***@github.com/o/r.git"
        );
        // Tokens in query strings.
        assert_eq!(
            text("https://h.example/simple?token=abc123&x=1"),
            "https://h.example/simple?token=***&x=1"
        );
        assert_eq!(
            text("https://b.s3.amazonaws.com/w.whl?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA"),
            "https://b.s3.amazonaws.com/w.whl?X-Amz-Signature=***&X-Amz-Credential=***"
        );
        // Things that are not secrets stay.
        assert_eq!(text("git@github.com:o/r.git"), "git@github.com:o/r.git");
        assert_eq!(text("name @ file:///home/u/x"), "name @ file:///home/u/x");
        assert_eq!(
            text("a::b and 3:4 and ::error title=x::y"),
            "a::b and 3:4 and ::error title=x::y"
        );
        assert_eq!(env_value("UV_INDEX_PRIVATE_PASSWORD", "hunter2"), "***");
    }

    /// `text` skips a regex when the text cannot match it; the answer must
    /// be the one the three regexes give when always run.
    #[test]
    fn skipping_a_regex_changes_nothing() {
        let scheme = Regex::new(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/?#\s@]*(?:@[^/?#\s@]*)*)@(?P<host>[^/?#\s@]+)").unwrap();
        let bare = Regex::new(r"(?P<pre>^|[\s=\x22'(,;])(?P<user>[^\s/@:=\x22'(,;*]+):(?P<pw>[^\s/@\x22']+(?:@[^\s/@\x22']+)*)@(?P<host>[A-Za-z0-9\[][A-Za-z0-9.\-\[\]:]*)").unwrap();
        let query = Regex::new(r"(?i)(?P<key>[?&;](?:[a-z0-9_.\-]*(?:token|secret|password|passwd|pwd|auth|apikey|api_key|key|sig|signature|credential|session)[a-z0-9_.\-]*)=)(?P<value>[^&#\s\x22']+)").unwrap();
        let always = |s: &str| -> String {
            let out = scheme.replace_all(s, |c: &regex::Captures| {
                let hidden = if c["userinfo"].contains(':') {
                    "***:***"
                } else {
                    "***"
                };
                format!("{}{}@{}", &c["scheme"], hidden, &c["host"])
            });
            let out = bare.replace_all(&out, |c: &regex::Captures| {
                format!("{}***:***@{}", &c["pre"], &c["host"])
            });
            query
                .replace_all(&out, |c: &regex::Captures| format!("{}***", &c["key"]))
                .into_owned()
        };
        let parts = [
            "https://",
            "u",
            ":",
            "p",
            "@",
            "host",
            "/",
            "?",
            "token=",
            "&",
            ";",
            "=",
            " ",
            "git+ssh://",
            "'",
            "*",
        ];
        // Every string of up to four parts (69,905 of them).
        let mut level = vec![String::new()];
        let mut n = 0;
        for _ in 0..=4 {
            let mut next = Vec::new();
            for s in &level {
                assert_eq!(text(s), always(s), "{s:?}");
                n += 1;
                next.extend(parts.iter().map(|p| format!("{s}{p}")));
            }
            level = next;
        }
        assert_eq!(n, 69_905);
    }
}
