//! A short, stable-toolchain mutation run over every parser entry point
//! (`envdoctor::fuzz`), the same ones the cargo-fuzz targets in `fuzz/`
//! drive for longer: valid seeds, then deterministic mutations that splice
//! in what broke parsers before (deep nesting, control characters, `%`
//! before a multibyte character, `@` in credentials, huge lines). A panic
//! fails the test; `ENVDOCTOR_FUZZ_SECONDS` lengthens the run.

use std::time::{Duration, Instant};

const SEEDS: &[(&str, &str)] = &[
    ("metadata", "Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\nRequires-Dist: numpy>=1.2; python_version >= \"3.8\" and extra == \"x\"\nRequires-Dist: b[c,d] (>=2)\nProvides-Extra: x\nSummary: s\n continued\n\nbody\n"),
    ("pkg_info", "Metadata-Version: 1.1\nName: old\nVersion: 0.1\nRequires: six\n"),
    ("record", "pkg/__init__.py,sha256=abc,10\npkg/x.so,,\n\"quoted,name\",,\n../escape.py,,\n/abs.py,,\n"),
    ("direct_url", "{\"url\": \"file:///tmp/x%20y\", \"dir_info\": {\"editable\": true}}"),
    ("pth", "/tmp\n# c\nimport os; os.getcwd()\n../rel\n"),
    ("pyvenv_cfg", "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.12.1\nprompt = 'x'\n"),
    ("conda_record", "{\"name\": \"numpy\", \"version\": \"1.26.4\", \"build\": \"py312h0\", \"channel\": \"https://conda.anaconda.org/conda-forge/linux-64\", \"files\": [\"lib/python3.12/site-packages/numpy/__init__.py\"], \"depends\": [\"python >=3.12\"]}"),
    ("conda_history", "==> 2024-01-05 10:00:00 <==\n# cmd: /opt/conda/bin/conda install numpy\n+conda-forge/linux-64::numpy-1.26.4-py312h0\n-defaults::numpy-1.26.0-py312h1\n"),
    ("condarc", "channels:\n  - conda-forge\npkgs_dirs:\n  - ~/pkgs\nenvs_dirs: [/opt/envs]\n"),
    ("pip_conf", "[global]\nindex-url = https://u:p@h/simple\ncache-dir = ~/c\n[install]\ntrusted-host = h\n  other\n"),
    ("uv_toml", "cache-dir = \"/tmp/c\"\n[pip]\nindex-url = \"https://h/simple\"\n"),
    ("requirements", "numpy==1.26.4 ; python_version < \"3.13\"\n-r other.txt\n--index-url https://h/simple\npkg @ git+https://t@github.com/o/r.git\nx[y]>=1 \\\n  ,<2\n"),
    ("pyproject", "[project]\nname = \"p\"\ndependencies = [\"numpy>=1\", \"b[c] ; os_name == 'posix'\"]\n"),
    ("snapshot", "{\"schema_version\": 1, \"interpreters\": [], \"site_dirs\": []}"),
    ("wheel_zip", "PK\u{3}\u{4}"),
];

/// Fragments that broke parsers before, spliced in by the mutator.
const TOKENS: &[&str] = &[
    "((((((((((((((((((((((((((((((((((((((((",
    "]]]]]]]]",
    "\u{1b}[2J",
    "\n::error title=x::y\n",
    "%\u{e9}",
    "%",
    "@@",
    "\u{0}",
    "\r\n",
    "\"",
    "\\",
    "dep-`x`",
    "; extra == \"",
    "file:///%",
    "\u{feff}",
    "{\"a\":",
    "[[[[[[[[[[[[[[[[",
];

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(6) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                let times = if rng.below(8) == 0 {
                    1 + rng.below(500)
                } else {
                    1
                };
                for _ in 0..times {
                    v.splice(at..at, t.iter().copied());
                }
            }
            2 if !v.is_empty() => {
                let end = (at + rng.below(16)).min(v.len());
                v.drain(at.min(end)..end);
            }
            3 => {
                let b = rng.below(256) as u8;
                v.insert(at, b);
            }
            4 if !v.is_empty() => {
                // Duplicate a slice (lines repeated, nesting grown).
                let start = rng.below(v.len());
                let end = (start + 1 + rng.below(64)).min(v.len());
                let chunk: Vec<u8> = v[start..end].to_vec();
                v.splice(at..at, chunk);
            }
            _ => v.truncate(at),
        }
    }
    v
}

#[test]
fn every_parser_survives_mutated_input() {
    let per_target = std::env::var("ENVDOCTOR_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(Duration::from_secs_f64)
        .unwrap_or(Duration::from_millis(1000));
    let names: Vec<&str> = envdoctor::fuzz::TARGETS.iter().map(|t| t.0).collect();
    for (name, _) in SEEDS {
        assert!(
            names.contains(name),
            "a seed for an unknown target `{name}`"
        );
    }
    let mut report = Vec::new();
    for (name, target) in envdoctor::fuzz::TARGETS {
        let seeds: Vec<&[u8]> = SEEDS
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, s)| s.as_bytes())
            .collect();
        assert!(!seeds.is_empty(), "no seed for `{name}`");
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ name.len() as u64);
        let start = Instant::now();
        let mut runs = 0u64;
        for s in &seeds {
            target(s);
            runs += 1;
        }
        let mut corpus: Vec<Vec<u8>> = seeds.iter().map(|s| s.to_vec()).collect();
        while start.elapsed() < per_target {
            let base = corpus[rng.below(corpus.len())].clone();
            let input = mutate(&mut rng, &base);
            target(&input);
            runs += 1;
            if corpus.len() < 64 && input.len() < 1 << 16 {
                corpus.push(input);
            }
        }
        report.push(format!("{name}: {runs}"));
    }
    println!("executions per target: {}", report.join(", "));
}
