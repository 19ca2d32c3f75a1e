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
                let has_p = it.minor_version().is_some_and(|v| v >= (3, 11));
                it.exec = Some(run_one(ctx, &exe, has_p));
            }
        }
    });
}

/// Runs `exe` in a sandbox of habits: `-E` (no `PYTHON*` variables, so no
/// `PYTHONPATH` code and no `PYTHONSTARTUP`), `-P` where the interpreter has
/// it and a neutral cwd (`/`) either way, so that a `json.py` in the
/// user's directory is not imported; its own process group, killed whole
/// when it answers or when the time is up, and a read of its output that
/// stops at the deadline even if a child it left behind holds the pipe.
/// The static sys.path is compared without its `PYTHONPATH` entries.
pub fn run_one(ctx: &Ctx, exe: &str, has_p: bool) -> ExecResult {
    let failed = |e: String| ExecResult {
        version: None,
        prefix: None,
        base_prefix: None,
        sys_path: Vec::new(),
        error: Some(e),
    };
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(exe);
    cmd.arg("-E").arg("-B");
    if has_p {
        cmd.arg("-P");
    }
    // With `-P` nothing is put before the standard library; without it,
    // `-c` puts the cwd first, which is no part of what is compared.
    cmd.arg("-c")
        .arg(if has_p {
            SCRIPT.replace("sys.path[1:]", "sys.path")
        } else {
            SCRIPT.to_string()
        })
        .env_clear()
        .envs(ctx.env.iter().filter(|(k, _)| !k.starts_with("PYTHON")))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .current_dir("/")
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return failed(format!("cannot run `{exe}`: {e}")),
    };
    let pgid = child.id() as libc::pid_t;
    // SAFETY: kill(2) on the process group this child leads; no memory.
    let kill_group = || unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    };
    let (tx, rx) = std::sync::mpsc::channel();
    if let Some(mut s) = child.stdout.take() {
        std::thread::spawn(move || {
            let mut out = String::new();
            let _ = s.by_ref().take(1 << 20).read_to_string(&mut out);
            let _ = tx.send(out);
        });
    }
    let start = Instant::now();
    let timed_out = loop {
        match child.try_wait() {
            Ok(Some(_)) => break false,
            Ok(None) if start.elapsed() > TIMEOUT => break true,
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => {
                kill_group();
                return failed(e.to_string());
            }
        }
    };
    // Whatever it left behind (`sleep 1000 &`) goes with it.
    kill_group();
    let _ = child.wait();
    if timed_out {
        return failed(format!(
            "`{exe}` did not answer within {}s",
            TIMEOUT.as_secs()
        ));
    }
    let left = TIMEOUT
        .saturating_sub(start.elapsed())
        .max(Duration::from_millis(500));
    let out = rx.recv_timeout(left).unwrap_or_default();
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

/// sys.path as `it` reported it, as entries the package rules can follow:
/// the static `PYTHONPATH` entries first (it ran with `-E`), then what it
/// printed, each with its static origin where the static reading knew it.
pub fn runtime_sys_path(ctx: &Ctx, it: &Interpreter) -> Vec<crate::snapshot::SysPathEntry> {
    use crate::snapshot::{Origin, SysPathEntry};
    let Some(exec) = it.exec.as_ref().filter(|e| e.error.is_none()) else {
        return Vec::new();
    };
    let mut out: Vec<SysPathEntry> = it
        .sys_path
        .iter()
        .filter(|e| e.origin == Origin::Pythonpath)
        .cloned()
        .collect();
    for p in &exec.sys_path {
        if p.is_empty() || out.iter().any(|e| &e.path == p) {
            continue;
        }
        let e = it
            .sys_path
            .iter()
            .find(|e| &e.path == p)
            .cloned()
            .unwrap_or_else(|| SysPathEntry {
                path: p.clone(),
                origin: Origin::Runtime,
                pth: None,
                exists: ctx.fs.exists(std::path::Path::new(p)),
                import_line: false,
            });
        out.push(e);
    }
    out
}
