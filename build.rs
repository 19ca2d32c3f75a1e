//! Embeds every `rules/*.toml` and `rules/knowledge/*.toml` in the binary,
//! so the catalogue is data that ships with it and a new rule is a new file.
//! Each is embedded as JSON, converted here: parsing the TOML at every run
//! cost half a millisecond, a few percent of a one-environment check.
use std::fmt::Write as _;
use std::path::Path;

fn main() {
    build_info();
    println!("cargo:rerun-if-changed=rules");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("rules/ directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut out = String::from("/// (file name, its TOML as JSON)\n");
    out.push_str("pub static BUILTIN_RULES: &[(&str, &str)] = &[\n");
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        writeln!(out, "    ({name:?}, {:?}),", as_json(&f)).unwrap();
    }
    out.push_str("];\n");
    for (konst, file) in [
        ("TENSORFLOW", "tensorflow.toml"),
        ("WHEELS", "wheels.toml"),
        ("VERSION_FILES", "version-files.toml"),
        ("GPU", "gpu.toml"),
    ] {
        let json = as_json(&dir.join("knowledge").join(file));
        writeln!(out, "/// `rules/knowledge/{file}` as JSON.").unwrap();
        writeln!(out, "pub static {konst}: &str = {json:?};").unwrap();
    }
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("rules.rs");
    std::fs::write(dest, out).unwrap();
}

/// A TOML file as JSON (same tables, arrays, strings and numbers). A file
/// that is no TOML fails the build with its name and the parser's message.
fn as_json(path: &Path) -> String {
    println!("cargo:rerun-if-changed={}", path.display());
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let table: toml::Table = toml::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not valid TOML: {e}", path.display()));
    if let Some(d) = find_datetime(&toml::Value::Table(table.clone())) {
        panic!(
            "{}: `{d}` is a TOML datetime, which has no JSON form; quote it",
            path.display()
        );
    }
    serde_json::to_string(&table).expect("TOML values are JSON values")
}

fn find_datetime(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::Datetime(d) => Some(d.to_string()),
        toml::Value::Array(a) => a.iter().find_map(find_datetime),
        toml::Value::Table(t) => t.values().find_map(find_datetime),
        _ => None,
    }
}

/// `ENVDOCTOR_VERSION`: `0.1.0 (1a2b3c4d5 2026-12-01)` when built from a git
/// checkout (as uv prints it), the bare version otherwise (a source archive).
fn build_info() {
    let version = std::env::var("CARGO_PKG_VERSION").unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let git = |args: &[&str]| -> Option<String> {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .ok()?;
        let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
        (out.status.success() && !s.is_empty()).then_some(s)
    };
    let full = match (
        git(&["rev-parse", "--short=9", "HEAD"]),
        git(&["log", "-1", "--date=short", "--format=%cd"]),
    ) {
        (Some(commit), Some(date)) => format!("{version} ({commit} {date})"),
        _ => version,
    };
    println!("cargo:rustc-env=ENVDOCTOR_VERSION={full}");
    for f in [".git/HEAD", ".git/refs/heads", ".git/packed-refs"] {
        if root.join(f).exists() {
            println!("cargo:rerun-if-changed={f}");
        }
    }
}
