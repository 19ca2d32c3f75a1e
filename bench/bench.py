#!/usr/bin/env python3
"""Benchmark: `envdoctor check` against `uv pip check` and `pip check`.

Generates a synthetic machine in a temporary directory: ENVS real venvs
(`python -m venv --without-pip`), each with DISTS distributions written as
wheels install them (dist-info with METADATA, RECORD, INSTALLER, a package
with a few modules, Requires-Dist on earlier distributions, some markers and
extras). Then times, side by side in one run:

  one env:   envdoctor check --python ENV   vs  uv pip check --python ENV
             vs  pip check (pip of the base Python, --python ENV)
  default:   envdoctor check  vs  uv pip check, with ENV activated
             (VIRTUAL_ENV and PATH): the active environment plus the
             machine-wide probes
  all envs:  envdoctor check --all (finds the venvs through WORKON_HOME)

and prints medians and ratios. Nothing here is a test: a busy machine gives
other numbers. Usage:

  cargo build --release && cargo build --release --example floor
  python3 bench/bench.py [--envs 50] [--dists 200] [--runs 15] \
      [--uv PATH] [--python python3.11] [--envdoctor target/release/envdoctor]

uv is on PyPI: `python3 -m venv /tmp/uvtool && /tmp/uvtool/bin/pip install uv`
then `--uv /tmp/uvtool/bin/uv`.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def write_dist(site, i, n_dists, rng_seed):
    name = f"synth-pkg-{i:04d}"
    mod = f"synth_pkg_{i:04d}"
    version = f"{1 + i % 7}.{i % 13}.{i % 5}"
    di = os.path.join(site, f"{mod}-{version}.dist-info")
    os.makedirs(di)
    pkg = os.path.join(site, mod)
    os.makedirs(pkg)
    files = []
    for f in ("__init__.py", "core.py", "util.py", "_version.py"):
        with open(os.path.join(pkg, f), "w") as fh:
            fh.write(f"# {name}\n__version__ = {version!r}\n")
        files.append(f"{mod}/{f}")
    reqs = []
    # Each depends on up to three earlier ones, satisfied; some with markers
    # and extras that must be evaluated (not counted) for CPython 3 on Linux.
    for k in range(1, 4):
        j = i - k * 7
        if j >= 0:
            reqs.append(f"synth-pkg-{j:04d}>=1.0")
    reqs.append('synth-missing-on-windows ; sys_platform == "win32"')
    reqs.append('synth-py2-only ; python_version < "3"')
    reqs.append('synth-test-extra>=1 ; extra == "test"')
    meta = [
        "Metadata-Version: 2.1",
        f"Name: {name}",
        f"Version: {version}",
        "Summary: synthetic distribution for envdoctor's benchmark",
        "Requires-Python: >=3.8",
        "Provides-Extra: test",
    ] + [f"Requires-Dist: {r}" for r in reqs]
    body = "\n".join(meta) + "\n\n" + ("Long description line.\n" * 200)
    entries = {
        "METADATA": body,
        "WHEEL": "Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        "INSTALLER": "pip\n",
        "top_level.txt": mod + "\n",
    }
    for fname, content in entries.items():
        with open(os.path.join(di, fname), "w") as fh:
            fh.write(content)
        files.append(f"{os.path.basename(di)}/{fname}")
    with open(os.path.join(di, "RECORD"), "w") as fh:
        for f in files:
            fh.write(f"{f},sha256=AAAA,10\n")
        fh.write(f"{os.path.basename(di)}/RECORD,,\n")


def make_env(python, path, n_dists):
    subprocess.run([python, "-m", "venv", "--without-pip", path], check=True)
    site = next(
        os.path.join(path, "lib", d, "site-packages")
        for d in os.listdir(os.path.join(path, "lib"))
        if d.startswith("python")
    )
    for i in range(n_dists):
        write_dist(site, i, n_dists, 0)


def clone_env(src, dst, python):
    # Copy the site-packages of the first env into a fresh venv: same dists,
    # a venv of its own (pyvenv.cfg, bin/python).
    subprocess.run([python, "-m", "venv", "--without-pip", dst], check=True)
    lib = os.path.join(src, "lib")
    for d in os.listdir(lib):
        s = os.path.join(lib, d, "site-packages")
        t = os.path.join(dst, "lib", d, "site-packages")
        shutil.rmtree(t)
        shutil.copytree(s, t, symlinks=True)


def median_times(cmds, env, runs, ok_codes=(0, 1)):
    """Medians of several commands run in turn (one of each per round), so
    that a burst of load on a shared machine hits them all alike."""
    times = [[] for _ in cmds]
    for r in range(runs):
        # Each round starts with another command: the first of a round ran
        # measurably slower on this VM (3% in an A/B of one binary against
        # itself), and a fixed order gave that to the same command always.
        k = r % len(cmds)
        for cmd, ts in list(zip(cmds, times))[k:] + list(zip(cmds, times))[:k]:
            t0 = time.perf_counter()
            p = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            ts.append(time.perf_counter() - t0)
            if p.returncode not in ok_codes:
                sys.exit(f"{cmd[0]} failed ({p.returncode}): {p.stderr.decode(errors='replace')}")
    return [statistics.median(ts) for ts in times]


def median_time(cmd, env, runs, ok_codes=(0, 1)):
    return median_times([cmd], env, runs, ok_codes)[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--envs", type=int, default=50)
    ap.add_argument("--dists", type=int, default=200)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--python", default=shutil.which("python3.11") or sys.executable)
    ap.add_argument("--uv", default=shutil.which("uv"))
    ap.add_argument("--envdoctor", default=os.path.join(os.path.dirname(__file__), "..", "target", "release", "envdoctor"))
    ap.add_argument("--keep", action="store_true", help="keep the generated machine")
    ap.add_argument(
        "--floor",
        default=os.path.join(os.path.dirname(__file__), "..", "target", "release", "examples", "floor"),
        help="the floor program (`cargo build --release --example floor`): lists each site dir "
        "and reads every METADATA and RECORD on two threads, nothing else",
    )
    ap.add_argument(
        "--baseline",
        help="another envdoctor binary (e.g. built from main): timed the same way, and its "
        "`check --all --format json` must equal this one's",
    )
    a = ap.parse_args()
    if not a.uv:
        sys.exit("no uv: install it with `python3 -m venv /tmp/uvtool && /tmp/uvtool/bin/pip install uv` and pass --uv /tmp/uvtool/bin/uv")
    if not os.path.exists(a.envdoctor):
        sys.exit(f"no {a.envdoctor}: run `cargo build --release` first")

    root = tempfile.mkdtemp(prefix="envdoctor-bench-")
    try:
        envs_dir = os.path.join(root, "envs")
        home = os.path.join(root, "home")
        os.makedirs(envs_dir)
        os.makedirs(home)
        t0 = time.perf_counter()
        first = os.path.join(envs_dir, "env-000")
        make_env(a.python, first, a.dists)
        for k in range(1, a.envs):
            clone_env(first, os.path.join(envs_dir, f"env-{k:03d}"), a.python)
        print(f"generated {a.envs} venvs x {a.dists} distributions in {time.perf_counter() - t0:.1f}s ({root})")
        # The generated files written back now, not while being timed.
        os.sync()

        env = {
            "HOME": home,
            "PATH": "/usr/bin:/bin",
            "WORKON_HOME": envs_dir,
            "NO_COLOR": "1",
        }
        py = os.path.join(first, "bin", "python")
        # Warm the page cache once for everyone.
        for cmd in ([a.envdoctor, "check", "--python", py], [a.uv, "pip", "check", "--python", py]):
            subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        sites = [
            os.path.join(envs_dir, e, "lib", d, "site-packages")
            for e in sorted(os.listdir(envs_dir))
            for d in os.listdir(os.path.join(envs_dir, e, "lib"))
            if d.startswith("python")
        ]
        # The floor runs in the same rounds as what it is compared with: on
        # a shared VM the speed of the machine drifts within a minute, and a
        # ratio of medians taken minutes apart measured the drift.
        has_floor = os.path.exists(a.floor)
        one = [[a.envdoctor, "check", "--python", py], [a.uv, "pip", "check", "--python", py]]
        if a.baseline:
            one.append([a.baseline, "check", "--python", py])
        if has_floor:
            one.append([a.floor, sites[0]])
        ed_one, uv_one, *rest = median_times(one, env, a.runs)
        base_one = rest[:1] if a.baseline else []
        floor_one = rest[-1] if has_floor else None
        pip_one = median_time(
            [a.python, "-m", "pip", "--python", py, "--disable-pip-version-check", "check"],
            env,
            max(3, a.runs // 5),
        )
        # The default check, as in an activated venv.
        active = dict(env, VIRTUAL_ENV=first, PATH=os.path.join(first, "bin") + ":" + env["PATH"])
        ed_default, uv_default = median_times([[a.envdoctor, "check"], [a.uv, "pip", "check"]], active, a.runs)
        every = [[a.envdoctor, "check", "--all"]]
        if a.baseline:
            every.append([a.baseline, "check", "--all"])
        if has_floor:
            every.append([a.floor, *sites])
        ed_all, *rest = median_times(every, env, a.runs)
        base_all = rest[:1] if a.baseline else []
        floor_all = rest[-1] if has_floor else None
        if a.baseline:
            base_one, base_all = base_one[0], base_all[0]
            outs = [
                subprocess.run([b, "check", "--all", "--format", "json"], env=env, capture_output=True).stdout
                for b in (a.envdoctor, a.baseline)
            ]
        n_checked = subprocess.run(
            [a.envdoctor, "check", "--all", "--format", "json"], env=env, capture_output=True, text=True
        ).stdout
        import json

        summary = json.loads(n_checked)["summary"]

        print()
        print(f"{'one env, ' + str(a.dists) + ' dists':<40} median of {a.runs}")
        print(f"  envdoctor check --python ENV      {ed_one * 1000:8.1f} ms")
        print(f"  uv pip check --python ENV         {uv_one * 1000:8.1f} ms")
        print(f"  pip check                         {pip_one * 1000:8.1f} ms")
        print(f"  envdoctor check (active venv)     {ed_default * 1000:8.1f} ms")
        print(f"  uv pip check (active venv)        {uv_default * 1000:8.1f} ms")
        print(f"all envs: envdoctor check --all     {ed_all * 1000:8.1f} ms  "
              f"({summary['environments']} environments, {summary['distributions']} distributions)")
        print()
        print("ratios (lower is better for envdoctor):")
        print(f"  envdoctor / uv pip check, one env      {ed_one / uv_one:6.2f}  (target <= 0.8)")
        print(f"  default check / uv pip check           {ed_default / uv_default:6.2f}  (target <= 1)")
        print(f"  envdoctor / pip check, one env         {ed_one / pip_one:6.3f}")
        print(f"  envdoctor --all / uv pip check one env {ed_all / uv_one:6.2f}  (target < 5)")
        if floor_one:
            print(f"  envdoctor / floor, one env             {ed_one / floor_one:6.2f}  (floor {floor_one * 1000:.1f} ms)")
            print(f"  envdoctor --all / floor, all envs      {ed_all / floor_all:6.2f}  (floor {floor_all * 1000:.1f} ms; target <= 1.5)")
        else:
            print(f"  (no floor program at {a.floor}: `cargo build --release --example floor`)")
        if a.baseline:
            print(f"  baseline / uv pip check, one env       {base_one / uv_one:6.2f}")
            print(f"  baseline --all / uv pip check one env  {base_all / uv_one:6.2f}")
            if floor_all:
                print(f"  baseline --all / floor, all envs       {base_all / floor_all:6.2f}")
            print(f"  check --all findings equal the baseline's: {'yes' if outs[0] == outs[1] else 'NO'}")
    finally:
        if a.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
