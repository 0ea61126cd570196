#!/usr/bin/env python3
"""Times evoflow against Snakemake on the same generated DAGs, in one run, and prints tables.

Usage: benches/compare.py EVOFLOW_BINARY [--datasets 1000 --splits 4000 --repeat 5 --noop 10000]

Planning: D datasets, each made by one step, and S splits each reading one dataset (D + S steps,
S edges). evoflow: `evoflow graph gen.evo --format json` (parse, check, plan, print).
Snakemake: `snakemake --dry-run` over the equivalent Snakefile (parse, build the DAG, print the
plan). Both are whole processes, timed by wall clock; the best of N runs counts.

Executing: N no-op steps, as a wide fan-out (all independent) and as a long chain (each after
the previous). evoflow: `evoflow run` of `std::debug::echo` steps with its journal and cache.
Snakemake: rules whose `run:` block creates their output file, `--cores 2`. Per-step overhead
is the wall time divided by N.
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


def noop_program(n, chain):
    lines = ["use std::debug::{echo}", ""]
    for i in range(n):
        after = f", after: [e{i - 1}]" if chain and i > 0 else ""
        lines.append(f"let e{i} = echo({i}{after})")
    return "\n".join(lines) + "\n"


def noop_snakefile(n, chain):
    out = ["rule all:", f"    input: 'e{n - 1}.out'" if chain else f"    input: [f'e{{i}}.out' for i in range({n})]", ""]
    for i in range(n):
        out += [f"rule e{i}:"]
        if chain and i > 0:
            out += [f"    input: 'e{i - 1}.out'"]
        out += [f"    output: 'e{i}.out'", "    run:", "        open(output[0], 'w').close()", ""]
    return "\n".join(out)


def timed(cmd, cwd):
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


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
    ap.add_argument("--noop", type=int, default=10000, help="evoflow steps in the execution comparison (0: skip it)")
    ap.add_argument(
        "--snakemake-noop",
        type=int,
        default=300,
        help="Snakemake rules in the execution comparison: it schedules a few jobs a second at this size, "
        "so 10,000 would take hours; a smaller DAG only flatters it (its cost per job grows with the DAG)",
    )
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
    if args.noop == 0:
        return
    n, m = args.noop, args.snakemake_noop
    print()
    print(f"| no-op steps | Snakemake ({m} rules) s | per step | evoflow ({n} steps) s | per step | ratio per step |")
    print("| --- | --- | --- | --- | --- | --- |")
    for shape, chain in [("wide fan-out", False), ("long chain", True)]:
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "noop.evo"), "w") as f:
                f.write(noop_program(n, chain))
            with open(os.path.join(tmp, "Snakefile"), "w") as f:
                f.write(noop_snakefile(m, chain))
            evo = timed([os.path.abspath(args.evoflow), "run", "noop.evo", "-q", "--jobs", "2"], tmp)
            snake = timed([snakemake, "--cores", "2", "--quiet", "all"], tmp)
        evo_step, snake_step = evo / n, snake / m
        print(
            f"| {shape} | {snake:.2f} | {snake_step * 1e3:.1f} ms | {evo:.2f} | {evo_step * 1e6:.0f} µs "
            f"| {snake_step / evo_step:.0f}x faster |"
        )


if __name__ == "__main__":
    main()
