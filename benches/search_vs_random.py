#!/usr/bin/env python3
"""The agent's search against random search with the same budget and operators, on
MovieLens-100K under RecBole's protocol (workflows/movielens_100k.evo), over split seeds.

Per seed and arm it runs the workflow in a run dir of its own (`--set seed=S --set search=ARM`,
OMP_NUM_THREADS=1 so that `--parallel` runs share the cores fairly) and reads the journal: the
EASE anchor, the baseline and the candidate each arm keeps (best on validation), all on test.
Then the paired difference agent - random over seeds with a 95% t interval, and candidates per
CPU-hour (user + system time of the whole run, from wait4).

usage: benches/search_vs_random.py BIN [--seeds 2020 2021 2022] [--budget 24] [--parallel 2]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

WORKFLOW = "workflows/movielens_100k.evo"
# Two-sided 95% Student t quantiles by degrees of freedom.
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228}


def sql(bin_, run_dir, query):
    out = subprocess.run(
        [bin_, "journal", WORKFLOW, "--run-dir", run_dir, "--format", "json", "--sql", query],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out)["rows"]


def results(bin_, run_dir):
    # What `top(k: 1)` keeps: confirmed better than the baseline beyond seed noise first, then
    # the best validation score.
    kept = sql(bin_, run_dir, "SELECT offline_score, test_score, "
                              "coalesce(json_extract(offline_metrics, '$.seeds.better')::BOOLEAN, false) AS better "
                              "FROM experiments WHERE status = 'trained' AND kind <> 'baseline' "
                              "ORDER BY better DESC, offline_score DESC, id LIMIT 1")[0]
    base = sql(bin_, run_dir, "SELECT offline_score, test_score FROM experiments WHERE kind = 'baseline' LIMIT 1")[0]
    trained = sql(bin_, run_dir, "SELECT count(*) FROM experiments WHERE status = 'trained' AND kind <> 'baseline'")[0][0]
    ease = sql(bin_, run_dir, "SELECT CAST(meta->>'$.test.\"ndcg@10\"' AS DOUBLE) FROM artifacts "
                              "WHERE step = 'std::train::ease' LIMIT 1")[0][0]
    return {"valid": kept[0], "test": kept[1], "better": kept[2], "base_valid": base[0], "base_test": base[1], "trained": trained, "ease": ease}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin")
    ap.add_argument("--seeds", type=int, nargs="+", default=[2020, 2021, 2022])
    ap.add_argument("--budget", type=int, default=24)
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--keep", help="keep the run dirs under this folder")
    a = ap.parse_args()
    root = a.keep or tempfile.mkdtemp(prefix="search-vs-random-")
    jobs = [(seed, arm) for seed in a.seeds for arm in ("agent", "random")]
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    running, done = {}, {}
    started = time.time()
    while jobs or running:
        while jobs and len(running) < a.parallel:
            seed, arm = jobs.pop(0)
            run_dir = os.path.join(root, f"{seed}-{arm}")
            cmd = [a.bin, "run", WORKFLOW, "--run-dir", run_dir, "-q",
                   "--set", f"seed={seed}", "--set", f"search={arm}", "--set", f"budget={a.budget}",
                   "--set", f"rounds={-(-a.budget // 8)}"]
            p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            running[p.pid] = (p, seed, arm, run_dir, time.time())
        pid, status, usage = os.wait4(-1, 0)
        if pid not in running:
            continue
        p, seed, arm, run_dir, t0 = running.pop(pid)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"seed {seed} {arm} failed:\n{p.stderr.read().decode()}")
        r = results(a.bin, run_dir)
        r["cpu_s"] = usage.ru_utime + usage.ru_stime
        r["wall_s"] = time.time() - t0
        done[(seed, arm)] = r
        print(f"  seed {seed} {arm}: done in {r['wall_s']:.0f} s", file=sys.stderr, flush=True)

    print(f"MovieLens-100K, RecBole protocol, budget {a.budget} per arm, {len(a.seeds)} split seeds, "
          f"{time.time() - started:.0f} s in all")
    print()
    print("| seed | EASE (anchor) | baseline bpr_mf | agent's best | random's best | agent - random | "
          "agent: candidates, CPU min | random: candidates, CPU min |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    diffs = []
    for seed in a.seeds:
        ag, rd = done[(seed, "agent")], done[(seed, "random")]
        d = ag["test"] - rd["test"]
        diffs.append(d)
        mark = lambda r: "*" if r["better"] else ""
        print(f"| {seed} | {ag['ease']:.4f} | {ag['base_test']:.4f} | {ag['test']:.4f}{mark(ag)} (valid {ag['valid']:.4f}) | "
              f"{rd['test']:.4f}{mark(rd)} (valid {rd['valid']:.4f}) | {d:+.4f} | {ag['trained']}, {ag['cpu_s'] / 60:.1f} | "
              f"{rd['trained']}, {rd['cpu_s'] / 60:.1f} |")
    mean = statistics.mean
    print("(* confirmed better than the baseline beyond seed noise on validation)")
    print()
    for arm in ("agent", "random"):
        runs = [done[(s, arm)] for s in a.seeds]
        per_hour = sum(r["trained"] for r in runs) / (sum(r["cpu_s"] for r in runs) / 3600)
        print(f"{arm}: best test NDCG@10 mean {mean(r['test'] for r in runs):.4f} "
              f"(EASE {mean(r['ease'] for r in runs):.4f}, target 0.321); {per_hour:.0f} candidates per CPU-hour")
    if len(diffs) >= 2:
        half = T975.get(len(diffs) - 1, 1.96) * statistics.stdev(diffs) / len(diffs) ** 0.5
        lo, hi = mean(diffs) - half, mean(diffs) + half
        verdict = "the agent beat random search" if lo > 0 else (
            "random search beat the agent" if hi < 0 else "no difference shown")
        print(f"agent - random on test NDCG@10: {mean(diffs):+.4f}, 95% t interval [{lo:+.4f}, {hi:+.4f}] "
              f"over {len(diffs)} seeds: {verdict}")


if __name__ == "__main__":
    main()
