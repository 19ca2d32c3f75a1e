//! Configuration that decides where tools cache and download from: pip's
//! config files in pip's own order, `PIP_*` variables, uv's `uv.toml`,
//! poetry's `config.toml`, conda's `pkgs_dirs`, and the proxy variables.
//! Every value is redacted as it is read: nothing downstream can print a
//! password from an `index-url`.

use super::Ctx;
use crate::fs::display;
use crate::redact;
use crate::snapshot::{Config, ConfigFile, Interpreter, Kind, Setting};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The proxy variables pip (requests) and uv read; the lowercase twin wins
/// in both.
pub const PROXY_VARS: &[&str] = &[
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

/// `PIP_*` variables that are not pip options.
const PIP_NOT_OPTIONS: &[&str] = &["PIP_CONFIG_FILE", "PIP_VERSION", "PIP_HELP"];

/// uv's variables that matter here, with the `uv.toml` key they stand for.
const UV_VARS: &[(&str, &str)] = &[
    ("UV_CACHE_DIR", "cache-dir"),
    ("UV_NO_CACHE", "no-cache"),
    ("UV_INDEX_URL", "index-url"),
    ("UV_DEFAULT_INDEX", "index-url"),
    ("UV_EXTRA_INDEX_URL", "extra-index-url"),
    ("UV_INDEX", "extra-index-url"),
];

/// uv.toml keys recorded.
const UV_KEYS: &[&str] = &["cache-dir", "no-cache", "index-url", "extra-index-url"];

pub fn probe(ctx: &Ctx, interpreters: &[Interpreter]) -> Config {
    let mut cfg = Config::default();
    pip(ctx, interpreters, &mut cfg);
    uv(ctx, &mut cfg);
    poetry(ctx, &mut cfg);
    conda(ctx, interpreters, &mut cfg);
    for name in PROXY_VARS {
        if let Some(v) = ctx.var(name) {
            cfg.settings.push(Setting {
                tool: "proxy".into(),
                key: name.to_string(),
                section: None,
                value: redact::urls(v),
                source: name.to_string(),
                environment: None,
            });
        }
    }
    cfg
}

/// `$XDG_CONFIG_HOME` or `~/.config`.
fn user_config_dir(ctx: &Ctx) -> Option<PathBuf> {
    ctx.var("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| ctx.home().map(|h| h.join(".config")))
}

/// `$XDG_CONFIG_DIRS` (default `/etc/xdg`), as platformdirs splits it.
fn system_config_dirs(ctx: &Ctx) -> Vec<PathBuf> {
    ctx.var("XDG_CONFIG_DIRS")
        .unwrap_or("/etc/xdg")
        .split(':')
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .collect()
}

/// pip's configuration files, lowest precedence first, as pip's
/// `Configuration.iter_config_files` yields them: global (`site_config_dirs`
/// then `/etc/pip.conf`), user (`~/.pip/pip.conf` then
/// `~/.config/pip/pip.conf`, skipped when `PIP_CONFIG_FILE` names an existing
/// file), the environment's own `sys.prefix/pip.conf`, then `PIP_CONFIG_FILE`.
/// `PIP_CONFIG_FILE=/dev/null` turns every file off.
fn pip(ctx: &Ctx, interpreters: &[Interpreter], cfg: &mut Config) {
    let env_file = ctx.var("PIP_CONFIG_FILE").map(PathBuf::from);
    let devnull = env_file.as_deref() == Some(Path::new("/dev/null"));
    let env_file_exists = env_file.as_deref().is_some_and(|p| ctx.fs.exists(p));
    let mut files: Vec<(PathBuf, &str, Option<String>)> = Vec::new();
    for d in system_config_dirs(ctx) {
        files.push((d.join("pip/pip.conf"), "global", None));
    }
    files.push((PathBuf::from("/etc/pip.conf"), "global", None));
    if let Some(h) = ctx.home() {
        files.push((h.join(".pip/pip.conf"), "user", None));
    }
    if let Some(c) = user_config_dir(ctx) {
        files.push((c.join("pip/pip.conf"), "user", None));
    }
    let mut prefixes: Vec<&str> = interpreters.iter().map(|i| i.prefix.as_str()).collect();
    prefixes.sort_unstable();
    prefixes.dedup();
    for p in prefixes {
        let f = Path::new(p).join("pip.conf");
        // Only present site files are worth listing: every prefix has a slot.
        if ctx.fs.is_file(&f) {
            files.push((f, "site", Some(p.to_string())));
        }
    }
    if let Some(f) = &env_file {
        files.push((f.clone(), "env", None));
    }
    for (path, role, environment) in files {
        let skipped = if devnull && role != "env" {
            Some("`PIP_CONFIG_FILE=/dev/null` turns off every pip config file".to_string())
        } else if role == "user" && env_file_exists {
            Some(
                "`PIP_CONFIG_FILE` names an existing file, so pip skips the user's config files"
                    .to_string(),
            )
        } else {
            None
        };
        let exists = ctx.fs.exists(&path);
        let mut file = ConfigFile {
            tool: "pip".into(),
            path: display(&path),
            role: role.into(),
            exists,
            environment: environment.clone(),
            skipped,
            error: None,
        };
        if exists && file.skipped.is_none() && !(devnull && role == "env") {
            match read_ini(ctx, &path) {
                Ok(sections) => {
                    for (section, key, value) in sections {
                        cfg.settings.push(Setting {
                            tool: "pip".into(),
                            value: redact::env_value(&key, &value),
                            key,
                            section: Some(section),
                            source: display(&path),
                            environment: environment.clone(),
                        });
                    }
                }
                Err(e) => file.error = Some(redact::urls(&e)),
            }
        }
        cfg.files.push(file);
    }
    // `PIP_<OPTION>` for every option, as pip's `_get_environ_vars`.
    for (k, v) in &ctx.env {
        let Some(name) = k.strip_prefix("PIP_") else {
            continue;
        };
        if PIP_NOT_OPTIONS.contains(&k.as_str()) || v.is_empty() || name.is_empty() {
            continue;
        }
        let key = name.to_ascii_lowercase().replace('_', "-");
        cfg.settings.push(Setting {
            tool: "pip".into(),
            value: redact::env_value(k, v),
            key,
            section: None,
            source: k.clone(),
            environment: None,
        });
    }
}

/// A pip config file as Python's `RawConfigParser` reads it: sections,
/// lowercased keys (`_` and `-` both accepted by pip), indented continuation
/// lines. Returns (section, key, value) in file order.
pub(crate) fn read_ini(ctx: &Ctx, path: &Path) -> Result<Vec<(String, String, String)>, String> {
    let text = ctx.fs.read_text(path).map_err(|e| e.to_string())?;
    let mut ini = configparser::ini::Ini::new();
    ini.set_multiline(true);
    ini.set_inline_comment_symbols(None);
    let map = ini
        .read(text)
        .map_err(|e| format!("not a valid config file: {e}"))?;
    // configparser does not keep file order; order keys as they first appear
    // in the text so `source` ordering stays stable.
    let mut out: Vec<(String, String, String)> = Vec::new();
    let mut sections: Vec<(&String, &HashMap<String, Option<String>>)> = map.iter().collect();
    sections.sort_by(|a, b| a.0.cmp(b.0));
    for (section, keys) in sections {
        let mut keys: Vec<(&String, &Option<String>)> = keys.iter().collect();
        keys.sort_by(|a, b| a.0.cmp(b.0));
        for (k, v) in keys {
            let Some(v) = v else { continue };
            out.push((section.clone(), k.replace('_', "-"), v.trim().to_string()));
        }
    }
    Ok(out)
}

/// uv's settings: system `uv.toml` (`$XDG_CONFIG_DIRS/uv`, `/etc/uv`), the
/// user's (`~/.config/uv/uv.toml`), the nearest project `uv.toml` from the
/// working directory up, then `UV_*` variables (highest).
fn uv(ctx: &Ctx, cfg: &mut Config) {
    let mut files: Vec<(PathBuf, &str)> = Vec::new();
    for d in system_config_dirs(ctx) {
        files.push((d.join("uv/uv.toml"), "global"));
    }
    files.push((PathBuf::from("/etc/uv/uv.toml"), "global"));
    if let Some(c) = user_config_dir(ctx) {
        files.push((c.join("uv/uv.toml"), "user"));
    }
    if let Some(p) = ctx
        .cwd
        .ancestors()
        .map(|d| d.join("uv.toml"))
        .find(|p| ctx.fs.is_file(p))
    {
        files.push((p, "project"));
    }
    for (path, role) in files {
        let exists = ctx.fs.exists(&path);
        if !exists && role == "project" {
            continue;
        }
        let mut file = ConfigFile {
            tool: "uv".into(),
            path: display(&path),
            role: role.into(),
            exists,
            environment: None,
            skipped: None,
            error: None,
        };
        if exists {
            match read_toml(ctx, &path) {
                Ok(t) => {
                    for key in UV_KEYS {
                        for v in toml_values(t.get(*key)) {
                            cfg.settings.push(setting("uv", key, &v, &path));
                        }
                    }
                    // `[[index]] url = ...` (uv >= 0.4.23).
                    if let Some(toml::Value::Array(ix)) = t.get("index") {
                        for i in ix {
                            if let Some(u) = i.get("url").and_then(|u| u.as_str()) {
                                let key =
                                    if i.get("default").and_then(|d| d.as_bool()) == Some(true) {
                                        "index-url"
                                    } else {
                                        "extra-index-url"
                                    };
                                cfg.settings.push(setting("uv", key, u, &path));
                            }
                        }
                    }
                }
                Err(e) => file.error = Some(redact::urls(&e)),
            }
        }
        cfg.files.push(file);
    }
    for (var, key) in UV_VARS {
        if let Some(v) = ctx.var(var) {
            cfg.settings.push(Setting {
                tool: "uv".into(),
                key: key.to_string(),
                section: None,
                value: redact::env_value(var, v),
                source: var.to_string(),
                environment: None,
            });
        }
    }
}

fn setting(tool: &str, key: &str, value: &str, path: &Path) -> Setting {
    Setting {
        tool: tool.into(),
        key: key.into(),
        section: None,
        value: redact::env_value(key, value),
        source: display(path),
        environment: None,
    }
}

pub(crate) fn read_toml(ctx: &Ctx, path: &Path) -> Result<toml::Table, String> {
    let text = ctx.fs.read_text(path).map_err(|e| e.to_string())?;
    text.parse::<toml::Table>()
        .map_err(|e| format!("not valid TOML: {}", e.message()))
}

fn toml_values(v: Option<&toml::Value>) -> Vec<String> {
    match v {
        Some(toml::Value::String(s)) => vec![s.clone()],
        Some(toml::Value::Boolean(b)) => vec![b.to_string()],
        Some(toml::Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// poetry's `cache-dir` from `~/.config/pypoetry/config.toml`, then
/// `POETRY_CACHE_DIR`.
fn poetry(ctx: &Ctx, cfg: &mut Config) {
    if let Some(c) = user_config_dir(ctx) {
        let path = c.join("pypoetry/config.toml");
        if ctx.fs.exists(&path) {
            let mut file = ConfigFile {
                tool: "poetry".into(),
                path: display(&path),
                role: "user".into(),
                exists: true,
                environment: None,
                skipped: None,
                error: None,
            };
            match read_toml(ctx, &path) {
                Ok(t) => {
                    for v in toml_values(t.get("cache-dir")) {
                        cfg.settings.push(setting("poetry", "cache-dir", &v, &path));
                    }
                }
                Err(e) => file.error = Some(redact::urls(&e)),
            }
            cfg.files.push(file);
        }
    }
    if let Some(v) = ctx.var("POETRY_CACHE_DIR") {
        cfg.settings.push(Setting {
            tool: "poetry".into(),
            key: "cache-dir".into(),
            section: None,
            value: v.to_string(),
            source: "POETRY_CACHE_DIR".into(),
            environment: None,
        });
    }
}

/// The conda installations' roots: conda envs whose prefix holds `pkgs/` or
/// `condabin/` (the base env), and `CONDA_EXE`'s. Env discovery itself is
/// the interpreters probe's; this only needs the roots' `.condarc`.
pub fn conda_roots(ctx: &Ctx, interpreters: &[Interpreter]) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = interpreters
        .iter()
        .filter(|i| i.kind == Kind::Conda)
        .map(|i| PathBuf::from(&i.prefix))
        .filter(|p| ctx.fs.is_dir(&p.join("condabin")) || ctx.fs.is_dir(&p.join("pkgs")))
        .collect();
    if let Some(exe) = ctx.var("CONDA_EXE") {
        // `<root>/bin/conda` or `<root>/condabin/conda`.
        if let Some(root) = Path::new(exe).parent().and_then(Path::parent) {
            roots.push(root.to_path_buf());
        }
    }
    roots.sort();
    roots.dedup();
    roots
}

/// conda's `pkgs_dirs`, from every `.condarc` in conda's search order
/// (`/etc/conda`, `/var/lib/conda`, the root's, `~/.config/conda`,
/// `~/.conda`, `~/.condarc`, `$CONDARC`), then `CONDA_PKGS_DIRS`.
fn conda(ctx: &Ctx, interpreters: &[Interpreter], cfg: &mut Config) {
    let mut files: Vec<(PathBuf, &str)> = vec![
        (PathBuf::from("/etc/conda/.condarc"), "global"),
        (PathBuf::from("/etc/conda/condarc"), "global"),
        (PathBuf::from("/var/lib/conda/.condarc"), "global"),
    ];
    for r in conda_roots(ctx, interpreters) {
        files.push((r.join(".condarc"), "global"));
    }
    if let Some(c) = user_config_dir(ctx) {
        files.push((c.join("conda/.condarc"), "user"));
        files.push((c.join("conda/condarc"), "user"));
    }
    if let Some(h) = ctx.home() {
        files.push((h.join(".conda/.condarc"), "user"));
        files.push((h.join(".condarc"), "user"));
    }
    if let Some(c) = ctx.var("CONDARC") {
        files.push((PathBuf::from(c), "env"));
    }
    let mut seen = std::collections::HashSet::new();
    for (path, role) in files {
        if !seen.insert(path.clone()) || !ctx.fs.is_file(&path) {
            continue;
        }
        let mut file = ConfigFile {
            tool: "conda".into(),
            path: display(&path),
            role: role.into(),
            exists: true,
            environment: None,
            skipped: None,
            error: None,
        };
        match ctx
            .fs
            .read_text(&path)
            .map_err(|e| e.to_string())
            .and_then(|t| {
                if t.trim().is_empty() {
                    return Ok(serde_yaml_ng::Value::Null);
                }
                serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&t)
                    .map_err(|e| format!("not valid YAML: {e}"))
            }) {
            Ok(doc) => {
                if let Some(list) = doc.get("pkgs_dirs").and_then(|v| v.as_sequence()) {
                    for item in list.iter().filter_map(|v| v.as_str()) {
                        cfg.settings
                            .push(setting("conda", "pkgs_dirs", item, &path));
                    }
                }
            }
            Err(e) => file.error = Some(redact::urls(&e)),
        }
        cfg.files.push(file);
    }
    if let Some(v) = ctx.var("CONDA_PKGS_DIRS") {
        for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            cfg.settings.push(Setting {
                tool: "conda".into(),
                key: "pkgs_dirs".into(),
                section: None,
                value: item.to_string(),
                source: "CONDA_PKGS_DIRS".into(),
                environment: None,
            });
        }
    }
}
