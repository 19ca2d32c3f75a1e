//! Commands in fixes are code a user pastes, often as root. Every argument
//! goes through [`quote`], so a path with a space, a quote or `$(` stays one
//! word and runs nothing.

/// One POSIX shell word for `arg`: as is when it holds only characters no
/// shell treats specially, else in single quotes (a `'` inside becomes
/// `'\''`). Control characters are kept literally inside the quotes, where
/// the shell gives them no meaning.
pub fn quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'-' | b'+' | b',' | b':' | b'@' | b'%' | b'=')
        })
        // `=` first would be read as an assignment by some shells, `-` as
        // an option; both stay plain as arguments, but not as the command.
        && !arg.starts_with('=');
    if plain {
        arg.to_string()
    } else if arg.chars().any(char::is_control) {
        // Bash's `$'...'`: a newline or ESC in a name stays one word and is
        // shown escaped, so the command is one line a terminal shows as is.
        let mut out = String::from("$'");
        for c in arg.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\'' => out.push_str("\\'"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                c if c.is_control() && (c as u32) < 0x100 => {
                    out.push_str(&format!("\\x{:02x}", c as u32))
                }
                c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('\'');
        out
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// A command line from its words, each quoted.
pub fn join<S: AsRef<str>>(words: &[S]) -> String {
    words
        .iter()
        .map(|w| quote(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One simple command, built word by word: every word from the machine
/// (a path, a name, a version) is quoted; operators and redirections come
/// only from envdoctor's own code (`&'static str`), never from input.
#[derive(Debug, Clone)]
pub struct Cmd(Vec<String>);

impl Cmd {
    pub fn new(program: &str) -> Cmd {
        Cmd(vec![quote(program)])
    }

    pub fn arg(mut self, a: impl AsRef<str>) -> Cmd {
        self.0.push(quote(a.as_ref()));
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for a in args {
            self.0.push(quote(a.as_ref()));
        }
        self
    }

    /// Shell syntax written by envdoctor itself (`> "$req"`, `"$req"`).
    pub fn raw(mut self, code: &'static str) -> Cmd {
        self.0.push(code.to_string());
        self
    }

    pub fn build(self) -> String {
        self.0.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_that_need_no_quotes_stay_plain() {
        assert_eq!(quote("/usr/bin/python3.11"), "/usr/bin/python3.11");
        assert_eq!(quote("numpy==1.26.4"), "numpy==1.26.4");
    }

    #[test]
    fn hostile_words_stay_one_inert_word() {
        assert_eq!(quote("my proj"), "'my proj'");
        assert_eq!(quote("a'b"), r"'a'\''b'");
        assert_eq!(quote("bar-1.0$(touch${IFS}x)"), "'bar-1.0$(touch${IFS}x)'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("~/x"), "'~/x'");
        assert_eq!(join(&["rm", "-rf", "/a b/c"]), "rm -rf '/a b/c'");
    }

    /// What bash makes of the quoted words is the words themselves.
    #[test]
    fn bash_reads_back_the_same_words() {
        let words = [
            "a b",
            "it's",
            "$(touch x)",
            "`id`",
            "new\nline",
            "\\",
            "*",
            "!x",
        ];
        let script = format!("printf '%s\\0' {}", join(&words));
        let out = std::process::Command::new("bash")
            .args(["-c", &script])
            .output()
            .expect("bash");
        let got: Vec<String> = out
            .stdout
            .split(|&b| b == 0)
            .filter(|w| !w.is_empty())
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect();
        assert_eq!(got, words);
        // No command holds a raw control character.
        assert!(!join(&words).chars().any(char::is_control));
    }
}
