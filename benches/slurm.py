#!/usr/bin/env python3
"""The Slurm executor on the one-node cluster (`scripts/slurm.sh up`), against the local executor.

Usage: benches/slurm.py EVOFLOW_BINARY [--steps 20 --chain 10 --in-flight 10,100,1000]

1. Scheduling overhead per step, same DAG, same invocation: N independent no-op steps
   (`std::debug::sleep(duration: 0s)`) and a chain of M, each run with `--executor local` (the
   anchor) and `--executor slurm` (poll every 200 ms). Per step = whole run / steps.
2. Scheduler calls per poll with K jobs in flight: K no-op steps submitted with
   `--begin=now+S` (so all K wait in the queue together), polled every second. From the run's
   `slurm/scheduler.log`: polls, squeue calls (one per poll whatever K), scontrol calls (one per
   job that left the queue), sbatch calls.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time


def program(n, chain):
    lines = ["use std::debug::{sleep}", ""]
    for i in range(n):
        after = f", after: [s{i - 1}]" if chain and i > 0 else ""
        lines.append(f'let s{i} = sleep(duration: 0s, value: {i}{after}) with {{ executor: "slurm" }}')
    return "\n".join(lines) + "\n"


def run(binary, folder, executor, toml):
    with open(os.path.join(folder, "evoflow.toml"), "w") as f:
        f.write(toml)
    start = time.perf_counter()
    done = subprocess.run([binary, "run", "w.evo", "-q", "--executor", executor, "--run-dir", executor],
                          cwd=folder, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"evoflow run --executor {executor} failed:\n{done.stderr}")
    return elapsed


def overhead(binary, n, chain):
    with tempfile.TemporaryDirectory() as folder:
        with open(os.path.join(folder, "w.evo"), "w") as f:
            f.write(program(n, chain))
        toml = '[executor]\nkind = "local"\npoll_interval = "200ms"\n'
        local = run(binary, folder, "local", toml)
        slurm = run(binary, folder, "slurm", toml)
        return local, slurm


def calls(binary, k, hold):
    with tempfile.TemporaryDirectory() as folder:
        with open(os.path.join(folder, "w.evo"), "w") as f:
            f.write(program(k, False))
        toml = ('[executor]\nkind = "slurm"\npoll_interval = "1s"\nmax_jobs = 5000\n'
                f'sbatch_flags = ["--begin=now+{hold}"]\n')
        wall = run(binary, folder, "slurm", toml)
        log = open(os.path.join(folder, "slurm", "slurm", "scheduler.log")).read()
        polls = [int(m) for m in re.findall(r"1 squeue for (\d+) jobs in flight", log)]
        totals = re.search(r"finished: (\d+) sbatch, (\d+) squeue, (\d+) scontrol, (\d+) scancel", log)
        sbatch, squeue, scontrol, _ = (int(x) for x in totals.groups())
        return wall, max(polls), len(polls), sbatch, squeue, scontrol


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--chain", type=int, default=10)
    parser.add_argument("--in-flight", default="10,100,1000")
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)

    print("| same DAG | local s | local ms/step | Slurm s | Slurm ms/step | Slurm / local |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, n, chain in [(f"{args.steps} independent no-op steps", args.steps, False),
                           (f"a chain of {args.chain}", args.chain, True)]:
        local, slurm = overhead(binary, n, chain)
        print(f"| {name} | {local:.2f} | {1000 * local / n:.0f} | {slurm:.2f} | {1000 * slurm / n:.0f} | "
              f"{slurm / local:.0f}x |")
    print()
    print("| jobs | most in flight at a poll | polls | squeue calls | squeue per poll | scontrol calls | "
          "sbatch calls | run s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for k in (int(x) for x in args.in_flight.split(",")):
        hold = 5 + k // 50  # long enough for every sbatch to return before the first job starts
        wall, most, polls, sbatch, squeue, scontrol = calls(binary, k, hold)
        print(f"| {k} | {most} | {polls} | {squeue} | {squeue / polls:.2f} | {scontrol} | {sbatch} | {wall:.1f} |")


if __name__ == "__main__":
    main()
