//! `check --requirements FILE`: the project's pinned requirements, read from
//! a `requirements.txt` (pip's format: `-r` includes followed, options and
//! constraints skipped) or from `pyproject.toml` `[project] dependencies`.
//! They are the project's input, not facts of the machine, so they reach the
//! rules beside the snapshot (in the rule engine's `Selection`), never in it.

use crate::fs::Fs;
use crate::Error;
use pep508_rs::Requirement;
use std::path::{Path, PathBuf};
use std::str::FromStr;

const MAX_FILE: u64 = 4 << 20;
const MAX_DEPTH: usize = 8;

/// A requirement string longer than this is not one (pip's own lines are
/// far shorter); refusing it bounds the parser's work.
pub const MAX_REQUIREMENT: usize = 16 * 1024;
pub use crate::markers::MAX_NESTING;

/// A parsed requirement, with its marker kept for packaging's evaluation
/// when pep508_rs would judge it differently ([`crate::markers`]).
#[derive(Debug, Clone)]
pub struct Req {
    pub requirement: Requirement,
    marker: Option<crate::markers::PackagingMarker>,
}

impl std::ops::Deref for Req {
    type Target = Requirement;
    fn deref(&self) -> &Requirement {
        &self.requirement
    }
}

impl Req {
    /// Whether it has no marker: it applies everywhere.
    pub fn unconditional(&self) -> bool {
        self.marker.is_none() && self.requirement.marker.is_true()
    }

    /// Whether the requirement applies to this environment with these
    /// extras requested, as pip decides it.
    pub fn applies(
        &self,
        env: &pep508_rs::MarkerEnvironment,
        extras: &[pep508_rs::ExtraName],
    ) -> bool {
        match &self.marker {
            Some(m) => m.evaluate(env, extras),
            None => self.requirement.evaluate_markers(env, extras),
        }
    }
}

/// PEP 503: lowercase, runs of `-`, `_`, `.` become one `-`.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
            continue;
        }
        if sep && !out.is_empty() {
            out.push('-');
        }
        sep = false;
        out.extend(c.to_lowercase());
    }
    out
}

/// [`parse`], remembered: requirement strings repeat across environments
/// (the same packages in many venvs). Per thread, as a global lock here was
/// taken ~300,000 times per run and kept two threads from scaling; bounded,
/// so hostile metadata with endless distinct lines cannot grow it without
/// end. `None` for a line that does not parse (ask [`parse`] why).
pub fn parse_cached(s: &str) -> Option<std::sync::Arc<Req>> {
    use std::sync::Arc;
    thread_local! {
        static CACHE: std::cell::RefCell<rustc_hash::FxHashMap<Box<str>, Option<Arc<Req>>>> =
            Default::default();
    }
    if let Some(hit) = CACHE.with(|c| c.borrow().get(s).cloned()) {
        return hit;
    }
    let parsed = parse(s).ok().map(Arc::new);
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= 100_000 {
            c.clear();
        }
        c.insert(s.into(), parsed.clone());
    });
    parsed
}

/// Parses one PEP 508 requirement, refusing input that is too long or
/// nested too deep before the parser sees it.
pub fn parse(s: &str) -> Result<Req, String> {
    let requirement = parse_pep508(s)?;
    let marker = crate::markers::PackagingMarker::of(s);
    Ok(Req {
        requirement,
        marker,
    })
}

fn parse_pep508(s: &str) -> Result<Requirement, String> {
    if s.len() > MAX_REQUIREMENT {
        return Err(format!(
            "longer than {MAX_REQUIREMENT} bytes ({} bytes)",
            s.len()
        ));
    }
    let mut depth = 0usize;
    for b in s.bytes() {
        match b {
            b'(' | b'[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(format!("brackets nested more than {MAX_NESTING} deep"));
                }
            }
            b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    // PEP 508 requirements are printable ASCII in practice (names, versions
    // and URLs must be; marker values are names of platforms). pep508_rs
    // 0.9 slices inside multibyte characters, parsing after `[` and
    // formatting its own errors (found by the `requirements` and `pyproject`
    // fuzz targets), so anything else is refused before it.
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_graphic() || *c == ' ' || *c == '\t'))
    {
        return Err(format!(
            "the character {c:?}: a requirement is printable ASCII (PEP 508)"
        ));
    }
    // pep508_rs 0.9 panics on a name that ends in `-`, `.` or `_` followed
    // by something it then rejects ("`PackageName` validation should match
    // PEP 508 parsing"): such a name is invalid anyway (PEP 508's name
    // grammar ends in a letter or digit), so it is refused here, and any
    // other panic in the parser is an error too, never an abort.
    // The same for extras (`b[c_]`, found by the `pyproject` fuzz target):
    // every name before the marker and any URL, each a run of name
    // characters starting with a letter, must end in a letter or digit
    // (versions start with a digit and are left to the parser).
    let head = s.split(';').next().unwrap_or(s);
    let head = head.split(" @ ").next().unwrap_or(head);
    let b = head.as_bytes();
    let is_name = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.');
    let mut i = 0;
    let mut in_extras = false;
    while i < b.len() {
        if !is_name(b[i]) {
            match b[i] {
                b'[' => in_extras = true,
                b']' => in_extras = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && is_name(b[i]) {
            i += 1;
        }
        let token = &head[start..i];
        // The project name may start with a digit (`1password`), and so
        // may an extra (`pkg[6x-]`, found by the `requirements` fuzz
        // target); other names start with a letter; versions with a digit.
        let starts_like_name =
            in_extras || start_of_name(head, start) || b[start].is_ascii_alphabetic();
        if starts_like_name && token.ends_with(['-', '_', '.']) {
            return Err(format!(
                "the name `{token}` does not end in a letter or digit"
            ));
        }
    }
    // Its error's Display slices the input too (found by the `pyproject`
    // fuzz target): formatted inside the guard as well.
    crate::quiet_panics(|| Requirement::from_str(s).map_err(|e| e.to_string()))
        .map_err(|_| "the requirement parser failed on it".to_string())?
}

/// Whether the token at `start` is the project name: the first one.
fn start_of_name(head: &str, start: usize) -> bool {
    head[..start].trim().is_empty()
}

/// A line of a file, as an error message may quote it: credentials hidden,
/// cut to a readable length.
pub fn quoted_line(s: &str) -> String {
    let s = crate::redact::text(s);
    match s.char_indices().nth(160) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s,
    }
}

/// One requirement and where it was written.
#[derive(Debug, Clone)]
pub struct Required {
    /// The file, as given (or as included).
    pub file: String,
    /// 1-based line where it is written (for pyproject.toml, from the TOML
    /// parser's span of the `dependencies` entry).
    pub line: usize,
    pub requirement: Req,
}

impl Required {
    /// `requirements.txt:3`
    pub fn origin(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

fn err(file: &Path, message: impl std::fmt::Display) -> Error {
    Error::Usage(format!("requirements `{}`: {message}", file.display()))
}

fn read(file: &Path) -> Result<String, Error> {
    let fs = Fs::new("/");
    let abs = std::path::absolute(file).map_err(|e| err(file, e))?;
    // Kernel files (`/proc/self/environ`) and devices are no requirements
    // file, and quoting them in an error would print the process's secrets.
    let real = std::fs::canonicalize(&abs).unwrap_or_else(|_| abs.clone());
    if ["/proc", "/sys", "/dev"]
        .iter()
        .any(|p| real.starts_with(p))
    {
        return Err(err(
            file,
            "a kernel or device file, not a requirements file; give a requirements.txt or pyproject.toml",
        ));
    }
    match fs.read_text_limited(&abs, MAX_FILE) {
        Ok((_, true)) => Err(err(file, "larger than 4 MiB; not a requirements file")),
        Ok((text, false)) => Ok(text),
        Err(e) => Err(err(file, format!("cannot read it: {e}"))),
    }
}

/// Reads `file` (by its name: `pyproject.toml` or pip's requirements format).
pub fn load(file: &Path) -> Result<Vec<Required>, Error> {
    if file.file_name().is_some_and(|n| n == "pyproject.toml") {
        return pyproject(file);
    }
    let mut out = Vec::new();
    let mut seen = Vec::new();
    requirements_txt(file, 0, &mut seen, &mut out)?;
    Ok(out)
}

fn pyproject(file: &Path) -> Result<Vec<Required>, Error> {
    let text = read(file)?;
    let doc: toml::Table = toml::from_str(&text).map_err(|e| err(file, e.message()))?;
    let Some(project) = doc.get("project").and_then(|p| p.as_table()) else {
        return Err(err(
            file,
            "has no `[project]` table; give a requirements.txt instead",
        ));
    };
    let dynamic = project
        .get("dynamic")
        .and_then(|d| d.as_array())
        .is_some_and(|d| d.iter().any(|v| v.as_str() == Some("dependencies")));
    let Some(deps) = project.get("dependencies") else {
        if dynamic {
            return Err(err(
                file,
                "`[project] dependencies` is dynamic (computed by the build backend); give a requirements.txt instead",
            ));
        }
        return Ok(Vec::new());
    };
    let Some(deps) = deps.as_array() else {
        return Err(err(file, "`[project] dependencies` is not a list"));
    };
    // Where each entry stands in the file, from the TOML parser's spans.
    #[derive(serde::Deserialize)]
    struct Spans {
        project: SpansProject,
    }
    #[derive(serde::Deserialize)]
    struct SpansProject {
        dependencies: Vec<toml::Spanned<toml::Value>>,
    }
    let lines: Vec<usize> = toml::from_str::<Spans>(&text)
        .map(|sp| {
            sp.project
                .dependencies
                .iter()
                .map(|d| text[..d.span().start.min(text.len())].matches('\n').count() + 1)
                .collect()
        })
        .unwrap_or_default();
    let mut out = Vec::new();
    for (i, d) in deps.iter().enumerate() {
        let Some(s) = d.as_str() else {
            return Err(err(file, format!("`dependencies[{i}]` is not a string")));
        };
        let requirement = parse(s).map_err(|e| {
            err(
                file,
                format!(
                    "`dependencies[{i}]` `{}`: {}",
                    quoted_line(s),
                    quoted_line(&e)
                ),
            )
        })?;
        out.push(Required {
            file: file.display().to_string(),
            line: lines.get(i).copied().unwrap_or(i + 1),
            requirement,
        });
    }
    Ok(out)
}

/// Logical lines: `\` continuations joined, comments removed; each with the
/// number of the line it starts on.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut start = 0;
    for (i, raw) in text.lines().enumerate() {
        if cur.is_empty() {
            start = i + 1;
        }
        // pip: a comment starts at `#` at the line start or after whitespace.
        let mut line = raw;
        if let Some(at) = raw
            .char_indices()
            .find(|&(j, c)| c == '#' && (j == 0 || raw[..j].ends_with([' ', '\t'])))
            .map(|(j, _)| j)
        {
            line = &raw[..at];
        }
        if let Some(cont) = line.strip_suffix('\\') {
            cur.push_str(cont);
            cur.push(' ');
            continue;
        }
        cur.push_str(line);
        let done = std::mem::take(&mut cur);
        if !done.trim().is_empty() {
            out.push((start, done.trim().to_string()));
        }
    }
    if !cur.trim().is_empty() {
        out.push((start, cur.trim().to_string()));
    }
    out
}

fn requirements_txt(
    file: &Path,
    depth: usize,
    seen: &mut Vec<PathBuf>,
    out: &mut Vec<Required>,
) -> Result<(), Error> {
    if depth > MAX_DEPTH {
        return Err(err(file, "`-r` includes nest too deep (a cycle?)"));
    }
    let abs = crate::fs::normpath(&std::path::absolute(file).map_err(|e| err(file, e))?);
    if seen.contains(&abs) {
        return Ok(());
    }
    seen.push(abs.clone());
    let text = read(file)?;
    let dir = abs.parent().map(Path::to_path_buf).unwrap_or_default();
    for (lineno, line) in logical_lines(&text) {
        let include = ["-r", "--requirement"].iter().find_map(|o| {
            line.strip_prefix(o)
                .filter(|rest| rest.starts_with([' ', '=', '\t']))
                .map(|rest| rest.trim_start_matches(['=', ' ', '\t']).trim())
        });
        if let Some(inc) = include {
            requirements_txt(&dir.join(inc), depth + 1, seen, out)?;
            continue;
        }
        // Options (`-c`, `-e`, `--index-url`, `-f`, ...) say where to get
        // packages, not which must be installed; editables have no pinned
        // version to compare.
        if line.starts_with('-') {
            continue;
        }
        // Per-requirement options (`--hash=...`) follow the requirement.
        let spec = match line.find(" -") {
            Some(at) => line[..at].trim(),
            None => line.as_str(),
        };
        // A bare path or URL (`./pkg`, `https://host/x.whl`) names no project.
        let bare_location = !spec.contains(" @ ")
            && (spec.starts_with('.')
                || spec.starts_with('/')
                || spec.contains("://")
                || spec.ends_with(".whl")
                || spec.ends_with(".tar.gz")
                || spec.ends_with(".zip"));
        if bare_location {
            continue;
        }
        let requirement = parse(spec).map_err(|e| {
            err(
                file,
                format!(
                    "line {lineno}: `{}`: {}",
                    quoted_line(spec),
                    quoted_line(&e)
                ),
            )
        })?;
        out.push(Required {
            file: file.display().to_string(),
            line: lineno,
            requirement,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503() {
        assert_eq!(normalize("TensorFlow_GPU"), "tensorflow-gpu");
        assert_eq!(normalize("zope.interface"), "zope-interface");
        assert_eq!(normalize("a__-b"), "a-b");
    }

    /// Every shape the fuzz targets found pep508_rs 0.9 panicking on is
    /// refused before the parser sees it (the panic guard behind it is the
    /// last line, not the first).
    #[test]
    fn parser_panic_shapes_are_refused_before_parsing() {
        for s in [
            "b[cdyname \u{d4}= 'p\u{c4}six'",
            "b[c] ; platform_version == '\u{e9}' and (",
            "b[c_ ; os_name == 'posix'",
            "p2.* ; kg n@u",
            "1uT_=mpy>TTTTTe== 'po'",
            "6.%un4[bu",
            "nu66[6666667_vhttU9-------------",
            "x[\u{d6}",
        ] {
            let e = parse(s).unwrap_err();
            assert_ne!(e, "the requirement parser failed on it", "{s:?}");
        }
    }

    #[test]
    fn pip_format_lines() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("base.txt");
        std::fs::write(&base, "six==1.16.0 # pinned\n").unwrap();
        let main = dir.path().join("requirements.txt");
        std::fs::write(
            &main,
            "# comment\n--index-url https://example/simple\n-r base.txt\nnumpy>=1.26,<2 \\\n  ; python_version >= \"3.9\"\ntensorflow --hash=sha256:abc\n-e ./local\n./wheels/x.whl\nname@1 #not-a-comment? no: a comment needs a space\n-c constraints.txt\n",
        )
        .unwrap();
        let e = load(&main).unwrap_err().to_string();
        assert!(
            e.contains("line 9") && e.contains("requirements.txt"),
            "{e}"
        );
        std::fs::write(
            &main,
            "# comment\n--index-url https://example/simple\n-r base.txt\nnumpy>=1.26,<2 \\\n  ; python_version >= \"3.9\"\ntensorflow --hash=sha256:abc\n-e ./local\n./wheels/x.whl\n-c constraints.txt\n",
        )
        .unwrap();
        let r = load(&main).unwrap();
        let names: Vec<String> = r.iter().map(|q| q.requirement.name.to_string()).collect();
        assert_eq!(names, ["six", "numpy", "tensorflow"]);
        assert_eq!(r[1].line, 4);
        assert!(r[1].requirement.requirement.marker.contents().is_some());
        assert_eq!(r[0].file, base.display().to_string());
    }

    #[test]
    fn pyproject_dependencies() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pyproject.toml");
        std::fs::write(
            &p,
            "[project]\nname = \"a\"\ndependencies = [\"tensorflow==2.15.1\", \"numpy<2\"]\n",
        )
        .unwrap();
        let r = load(&p).unwrap();
        assert_eq!(r.len(), 2);
        std::fs::write(
            &p,
            "[project]\nname = \"a\"\ndynamic = [\"dependencies\"]\n",
        )
        .unwrap();
        assert!(load(&p).unwrap_err().to_string().contains("dynamic"));
    }
}
