"""Four students training at once on one machine: the throughput they keep together.

Runs ``python -m snn_helpers train`` (improved recipe, one epoch on ``--images`` training images)
once alone, then ``--students`` copies at once, for each setting of :data:`SETTINGS`, interleaved
over ``--rounds``. It reports, per setting, the wall time of one run alone, the wall time until the last of the copies finished (whole processes, start-up included), and the share of one run's
throughput the copies keep together: ``students * alone / together``. It names the CPU and writes
nothing but its output; timing lives here, never in a test.

    python benchmarks/shared_server.py --rounds 2
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

SETTINGS = {"nothing set": {}, "CPU_LIMIT=0.5": {"CPU_LIMIT": "0.5"}}


def train_command(images: int) -> list[str]:
    return [sys.executable, "-m", "snn_helpers", "train", "--recipe", "improved", "--epochs", "1",
            "--train-limit", str(images), "--test-limit", "500", "--no-progress"]


def run(env_extra: dict, copies: int, images: int) -> float:
    """Start ``copies`` trainings at once; the wall seconds until the last one ends."""
    env = {**os.environ, **env_extra}
    start = time.perf_counter()
    procs = [subprocess.Popen(train_command(images), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True) for _ in range(copies)]
    outputs = [proc.communicate()[0] for proc in procs]
    wall = time.perf_counter() - start
    for proc, out in zip(procs, outputs):
        if proc.returncode:
            raise SystemExit(f"train failed ({proc.returncode}):\n{out}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=4)
    parser.add_argument("--images", type=int, default=25600)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    from snn_helpers.machine import cpu_info
    cpu = cpu_info()
    print(f"machine: {cpu['model']} ({cpu['vendor']}), {cpu['cores']} cores, {' '.join(cpu['flags'])}")
    rows = {name: {"alone": [], "together": [], "share": []} for name in SETTINGS}
    for round_ in range(args.rounds):
        for name, extra in SETTINGS.items():
            alone = run(extra, 1, args.images)
            together = run(extra, args.students, args.images)
            rows[name]["alone"].append(alone)
            rows[name]["together"].append(together)
            rows[name]["share"].append(args.students * alone / together)
            print(f"round {round_ + 1}, {name}: alone {alone:.1f} s, {args.students} at once {together:.1f} s, "
                  f"share {args.students * alone / together:.0%}", flush=True)
    for name, row in rows.items():
        print(f"{name}: median share {statistics.median(row['share']):.0%} "
              f"(alone {statistics.median(row['alone']):.1f} s, {args.students} at once "
              f"{statistics.median(row['together']):.1f} s; whole-process wall times)")


if __name__ == "__main__":
    main()
