//! `--exec`: the only place envdoctor runs anything it found. Each
//! interpreter is asked for its version, prefixes and sys.path, with a time
//! limit, without writing bytecode, and the answer is kept beside the static
//! facts so that a rule can say where they differ.

use super::Ctx;
use crate::snapshot::{ExecResult, Interpreter};
use rayon::prelude::*;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(10);

/// Works on Python 2.7 and 3.x; prints one JSON object.
const SCRIPT: &str = "import sys, json, platform\n\
print(json.dumps({'version': platform.python_version(), 'prefix': sys.prefix, \
'base_prefix': getattr(sys, 'base_prefix', getattr(sys, 'real_prefix', sys.prefix)), \
'sys_path': sys.path[1:]}))";

pub fn run_all(ctx: &Ctx, interpreters: &mut [Interpreter]) {
    interpreters.par_iter_mut().for_each(|it| {
        if let Some(exe) = it.executable.clone() {
            if it.error.is_none() {
                it.exec = Some(run_one(ctx, &exe));
            }
        }
    });
}

pub fn run_one(ctx: &Ctx, exe: &str) -> ExecResult {
    let failed = |e: String| ExecResult {
        version: None,
        prefix: None,
        base_prefix: None,
        sys_path: Vec::new(),
        error: Some(e),
    };
    let mut cmd = Command::new(exe);
    cmd.arg("-B")
        .arg("-c")
        .arg(SCRIPT)
        .env_clear()
        .envs(&ctx.env)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .current_dir(&ctx.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return failed(format!("cannot run `{exe}`: {e}")),
    };
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return failed(format!(
                    "`{exe}` did not answer within {}s",
                    TIMEOUT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return failed(e.to_string()),
        }
    }
    let mut out = String::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = s.by_ref().take(1 << 20).read_to_string(&mut out);
    }
    let Some(line) = out.lines().rev().find(|l| l.starts_with('{')) else {
        return failed(format!("`{exe}` printed no answer"));
    };
    match serde_json::from_str::<serde_json::Value>(line) {
        Ok(v) => ExecResult {
            version: v["version"].as_str().map(str::to_string),
            prefix: v["prefix"].as_str().map(str::to_string),
            base_prefix: v["base_prefix"].as_str().map(str::to_string),
            sys_path: v["sys_path"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            error: None,
        },
        Err(e) => failed(format!("unreadable answer from `{exe}`: {e}")),
    }
}
