//! The I/O floor `bench/bench.py` measures envdoctor against: the least a
//! dependency checker must do, on two threads. It lists each site dir
//! given, and for every `*.dist-info` reads METADATA and RECORD whole,
//! nothing else (no parsing, no rules, no output but a count).
//!
//!   cargo build --release --example floor
//!   target/release/examples/floor SITE_DIR...

use rayon::prelude::*;
use std::path::PathBuf;

fn main() {
    let dirs: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("a thread pool");
    let bytes: usize = pool.install(|| {
        dirs.par_iter()
            .map(|d| {
                let Ok(rd) = std::fs::read_dir(d) else {
                    return 0;
                };
                let dists: Vec<PathBuf> = rd
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "dist-info"))
                    .collect();
                dists
                    .par_iter()
                    .map(|p| {
                        ["METADATA", "RECORD"]
                            .iter()
                            .map(|f| std::fs::read(p.join(f)).map_or(0, |b| b.len()))
                            .sum::<usize>()
                    })
                    .sum::<usize>()
            })
            .sum()
    });
    println!("{bytes}");
}
