#!/usr/bin/env python3
"""Engine overhead per step: `evoflow run` of N no-op steps, less the front end, over N.

Usage: benches/engine_run.py EVOFLOW_BINARY [--steps 10000 --repeat 5 --jobs 2]

For each shape (a wide fan-out: N independent steps; a long chain: each step after the previous)
and each repeat, in a fresh folder:
  anchor  `evoflow graph noop.evo --format json`: start-up, read, parse, check, plan, print, the
          part of a run that is not the engine;
  first   `evoflow run noop.evo -q --jobs J`: every step runs (journal, cache, object store);
  cached  the same command again: every step is a cache hit.
Engine overhead per step = (run - anchor) / N, from the medians of the repeats. Every figure
comes from the same binary in the same invocation, so a loaded machine moves them together.
"""

import argparse
import os
import statistics
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


def timed(cmd, cwd):
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    return elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("evoflow")
    ap.add_argument("--steps", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    evoflow = os.path.abspath(args.evoflow)
    n = args.steps
    print(f"load average before: {os.getloadavg()[0]:.2f}; median of {args.repeat} runs; --jobs {args.jobs}")
    print()
    print(f"| {n} no-op steps | front end (anchor) s | run s | engine µs/step |")
    print("| --- | --- | --- | --- |")
    for shape, chain in [("wide fan-out", False), ("long chain", True)]:
        anchor, first, cached = [], [], []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                with open(os.path.join(tmp, "noop.evo"), "w") as f:
                    f.write(noop_program(n, chain))
                run = [evoflow, "run", "noop.evo", "-q", "--jobs", str(args.jobs)]
                anchor.append(timed([evoflow, "graph", "noop.evo", "--format", "json"], tmp))
                first.append(timed(run, tmp))
                cached.append(timed(run, tmp))
        a = statistics.median(anchor)
        for label, runs in [("first run", first), ("all cached", cached)]:
            r = statistics.median(runs)
            print(f"| {shape}, {label} | {a:.3f} | {r:.3f} | **{(r - a) / n * 1e6:.0f}** |")


if __name__ == "__main__":
    main()
