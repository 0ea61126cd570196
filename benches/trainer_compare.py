#!/usr/bin/env python3
"""Training throughput of evoflow's trainer against the equivalent PyTorch eager script, on the
CPU, in one invocation (the anchor is PyTorch: ratios > 1 mean evoflow is faster).

Usage: benches/trainer_compare.py [--python PYTHON] [--threads 2] [--rounds 3]

evoflow: `cargo bench -p trainer --bench throughput` (tch, the stdlib two-tower and BPR-MF, BPR
+ Adam, batch 1024 and 8192). PyTorch: `engine/trainer/benches/throughput.py` with the same
models, loss, optimizer, batches and thread count, run by PYTHON (which must import torch; the
PyTorch wheel from the package index runs on a CPU-only machine). The two alternate, ROUNDS
times, so a change in the machine's load falls on both; each figure is the median of its rounds.
"""

import argparse
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rates(cmd, env):
    """{(model, batch): examples/s} from a throughput table on stdout."""
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    out = {}
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] in ("two_tower", "bpr_mf") and parts[1].isdigit():
            out[(parts[0], int(parts[1]))] = float(parts[2])
    if not out:
        sys.exit(f"{' '.join(cmd)} printed no throughput table:\n{done.stdout[-2000:]}")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", default=sys.executable, help="a Python that imports torch")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    probe = subprocess.run([args.python, "-c", "import torch; print(torch.__version__)"], capture_output=True, text=True)
    if probe.returncode != 0:
        sys.exit(f"{args.python} cannot import torch (pip install torch, or --python PATH)")
    env = dict(os.environ, BENCH_THREADS=str(args.threads))
    rust_cmd = ["cargo", "bench", "--locked", "-p", "trainer", "--bench", "throughput"]
    torch_cmd = [args.python, "engine/trainer/benches/throughput.py", "--threads", str(args.threads)]
    ours, theirs = [], []
    for _ in range(args.rounds):
        ours.append(rates(rust_cmd, env))
        theirs.append(rates(torch_cmd, env))
    print(f"CPU, {args.threads} threads, median of {args.rounds} alternating rounds; "
          f"PyTorch {probe.stdout.strip()} eager is the anchor; load average {os.getloadavg()[0]:.2f}")
    print()
    print("| model | batch | evoflow trainer, examples/s | PyTorch eager, examples/s | ratio |")
    print("| --- | --- | --- | --- | --- |")
    for key in sorted(ours[0], key=lambda k: (k[0] != "two_tower", k[1])):
        mine = statistics.median(r[key] for r in ours)
        anchor = statistics.median(r[key] for r in theirs)
        print(f"| {key[0]} | {key[1]} | {mine:,.0f} | {anchor:,.0f} | **{mine / anchor:.2f}x** |")


if __name__ == "__main__":
    main()
