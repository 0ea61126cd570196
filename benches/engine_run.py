#!/usr/bin/env python3
"""Engine overhead per step: `evoflow run` of N no-op steps, less the front end, over N; and the
same DAG as N no-op Snakemake rules, in the same invocation.

Usage: benches/engine_run.py EVOFLOW_BINARY [--steps 10000 --repeat 5 --jobs 2]
                             [--snakemake PATH --snakemake-limit 600]

For each shape (a wide fan-out: N independent steps; a long chain: each step after the previous)
and each repeat, in a fresh folder:
  anchor  `evoflow check noop.evo`: start-up, read, parse, check, plan (and exit), the
          part of a run that is not the engine;
  first   `evoflow run noop.evo -q --jobs J`: every step runs (journal, cache, object store);
  cached  the same command again: every step is a cache hit.
Engine overhead per step = (run - anchor) / N, from the best of the repeats of each (the work
is the same every time; a busy machine only adds to it).

Snakemake (when found: --snakemake, or on PATH) runs the same shape as N rules whose `run:` block
creates the rule's output, `--cores J`, with its greedy scheduler. At N = 10,000 it does not
finish in minutes, so it runs under a wall-clock limit and its time per step is the limit over
the rules it finished: an upper bound on its speed, so the ratio printed is a lower bound. Its
start-up (reading the Snakefile, building the DAG) counts, as evoflow's does. Where it fails (a
10,000-step chain exceeds Python's recursion limit while it builds the DAG), its own error is
printed in place of a time.
"""

import argparse
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def noop_program(n, chain):
    lines = ["use std::debug::{echo}", ""]
    for i in range(n):
        after = f", after: [e{i - 1}]" if chain and i > 0 else ""
        lines.append(f"let e{i} = echo({i}{after})")
    return "\n".join(lines) + "\n"


def noop_snakefile(n, chain):
    target = f"'out/e{n - 1}'" if chain else f"[f'out/e{{i}}' for i in range({n})]"
    out = ["rule all:", f"    input: {target}", ""]
    for i in range(n):
        out += [f"rule e{i}:"]
        if chain and i > 0:
            out += [f"    input: 'out/e{i - 1}'"]
        out += [f"    output: 'out/e{i}'", "    run:", "        open(output[0], 'w').close()", ""]
    return "\n".join(out)


def timed(cmd, cwd):
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    return elapsed


def snakemake_run(snakemake, n, chain, jobs, limit):
    """Seconds Snakemake ran, the rules it finished (all n unless the limit stopped it), and its
    error when it failed."""
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "Snakefile"), "w") as f:
            f.write(noop_snakefile(n, chain))
        cmd = [snakemake, "all", "--cores", str(jobs), "--scheduler", "greedy", "--quiet", "progress", "rules", "host"]
        start = time.perf_counter()
        child = subprocess.Popen(cmd, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                 text=True, start_new_session=True)
        try:
            _, err = child.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.communicate()
            err = None
        elapsed = time.perf_counter() - start
        failed = None
        if err is not None and child.returncode != 0:
            # Its own words, e.g. a RecursionError building a deep DAG.
            lines = [line for line in err.splitlines() if "Error" in line] or err.splitlines()[-1:]
            failed = lines[-1].strip() if lines else f"exit status {child.returncode}"
        return elapsed, len(glob.glob(os.path.join(tmp, "out", "e*"))), failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("evoflow")
    ap.add_argument("--steps", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--snakemake", default=shutil.which("snakemake"), help="the snakemake executable")
    ap.add_argument("--snakemake-limit", type=float, default=600, help="seconds Snakemake may run per shape")
    args = ap.parse_args()
    evoflow = os.path.abspath(args.evoflow)
    n = args.steps
    print(f"load average before: {os.getloadavg()[0]:.2f}; best of {args.repeat} runs; --jobs {args.jobs}")
    print()
    print(f"| {n} no-op steps | front end (anchor) s | run s | engine µs/step |")
    print("| --- | --- | --- | --- |")
    per_step = {}
    for shape, chain in [("wide fan-out", False), ("long chain", True)]:
        anchor, first, cached = [], [], []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                with open(os.path.join(tmp, "noop.evo"), "w") as f:
                    f.write(noop_program(n, chain))
                run = [evoflow, "run", "noop.evo", "-q", "--jobs", str(args.jobs)]
                anchor.append(timed([evoflow, "check", "noop.evo"], tmp))
                first.append(timed(run, tmp))
                cached.append(timed(run, tmp))
        a = min(anchor)
        for label, runs in [("first run", first), ("all cached", cached)]:
            r = min(runs)
            print(f"| {shape}, {label} | {a:.3f} | {r:.3f} | **{(r - a) / n * 1e6:.0f}** |")
        per_step[shape] = min(first) / n
    if not args.snakemake:
        print("\nSnakemake not found (pip install snakemake, or --snakemake PATH): no comparison.")
        return
    version = subprocess.run([args.snakemake, "--version"], capture_output=True, text=True).stdout.strip()
    print()
    print(f"Snakemake {version}, the same DAGs, `--cores {args.jobs} --scheduler greedy`, "
          f"at most {args.snakemake_limit:.0f} s each; evoflow: its whole first run (front end included)")
    print()
    print(f"| {n} no-op steps | Snakemake s | rules done | Snakemake per step | evoflow per step | evoflow faster by |")
    print("| --- | --- | --- | --- | --- | --- |")
    for shape, chain in [("wide fan-out", False), ("long chain", True)]:
        secs, done, failed = snakemake_run(args.snakemake, n, chain, args.jobs, args.snakemake_limit)
        if failed:
            print(f"| {shape} | {secs:.1f} | {done} | fails: {failed} | {per_step[shape] * 1e6:.0f} µs | — |")
            continue
        bound = "" if done == n else "≥ "
        snake_step = secs / max(done, 1)
        print(f"| {shape} | {secs:.1f} | {done} | {snake_step * 1e3:.1f} ms | {per_step[shape] * 1e6:.0f} µs "
              f"| {bound}{snake_step / per_step[shape]:,.0f}x |")


if __name__ == "__main__":
    main()
