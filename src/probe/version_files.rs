//! The version a package carries inside its own files (TensorFlow's
//! `version.h`, NumPy's `version.py`), read for the projects listed in
//! `rules/knowledge/version-files.toml`. What `import` loads can then be
//! compared with what pip's metadata says, without importing anything.

use super::Ctx;
use crate::fs::display;
use crate::knowledge;
use crate::snapshot::{Module, ModuleKind, OwnVersion};
use regex::Regex;
use std::path::Path;
use std::sync::OnceLock;

pub fn read(ctx: &Ctx, dir: &Path, modules: &[Module]) -> Vec<OwnVersion> {
    static PATTERNS: OnceLock<Vec<Option<Regex>>> = OnceLock::new();
    let files = knowledge::version_files();
    let patterns =
        PATTERNS.get_or_init(|| files.iter().map(|f| Regex::new(&f.pattern).ok()).collect());
    let mut out = Vec::new();
    for (f, re) in files.iter().zip(patterns) {
        let present = modules
            .iter()
            .any(|m| m.name == f.import && m.kind == ModuleKind::Package);
        let Some(re) = re.as_ref().filter(|_| present) else {
            continue;
        };
        let path = dir.join(&f.path);
        let Ok((text, _)) = ctx.fs.read_text_limited(&path, 256 * 1024) else {
            continue;
        };
        let version = re.captures(&text).map(|c| {
            c.iter()
                .skip(1)
                .flatten()
                .map(|m| m.as_str())
                .collect::<Vec<_>>()
                .join(".")
        });
        out.push(OwnVersion {
            project: f.project.clone(),
            path: display(&path),
            version,
        });
    }
    out
}
