"""Several students training at once on one machine: the throughput they keep together.

Each "student" is a fresh Python process, as a JupyterHub user's kernel is. It imports the
package, reads MNIST and trains once on a few images (start-up, out of the timing), then waits at
a barrier; all of them start the timed training at the same moment: the improved recipe, one
epoch on ``--images`` training images, as ``python -m snn_helpers train --recipe improved`` runs
it. Only that training is timed (``train_seconds`` of :func:`snn_helpers.core.recipes.run_recipe`).

For each setting of :data:`SETTINGS` (the environment a user's server would start with), over
``--rounds`` interleaved rounds, it times one student alone and ``--students`` at once, and reports
the share of one student's throughput that the students keep together:
``students * reference / slowest``, where ``reference`` is one student alone with nothing set (the
whole machine, the package's defaults; measured in the same round) and ``slowest`` is the training
time of the last of them to finish. 100% means the machine does as much work for four as for one
alone; the targets of the project's issue 20 on a 2-core machine were 50% with ``CPU_LIMIT=0.5`` and
35% with nothing set. A setting's own "alone" time shows what it costs a student who is alone.

    python benchmarks/shared_server.py [--students 4] [--images 25600] [--rounds 2] [--record]

``--record`` appends the run to the results file (``results/measurements.json``, kind
``"shared"``) that the README's JupyterHub section quotes. Timing lives here, never in a test.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the package of this clone

# The environment of a user's server. libgomp reads GOMP_SPINCOUNT once, when torch loads it, so each
# student is a new process started with its setting; the package sets GOMP_SPINCOUNT=10000 only
# where the user has set neither it nor OMP_WAIT_POLICY, so 300000 (libgomp's own default) gives the
# spinning that the package had before it set anything.
SETTINGS = {
    "nothing set (the package's defaults)": {},  # first: the reference of every share
    "spinning as before the package set it": {"GOMP_SPINCOUNT": "300000"},
    "half a CPU each": {"CPU_LIMIT": "0.5"},
}
REFERENCE = next(iter(SETTINGS))
_OURS = ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY", "CPU_LIMIT", "OMP_NUM_THREADS")


def student(env: dict, images: int, barrier, results) -> None:
    """One student's process: warm up, wait at ``barrier``, train, put the training seconds in ``results``."""
    for name in _OURS:
        os.environ.pop(name, None)
    os.environ.update(env)
    from snn_helpers.core.recipes import run_recipe  # imports torch: after the environment is set
    run_recipe("improved", train_limit=128, test_limit=128, epochs=1)
    barrier.wait()
    results.put(run_recipe("improved", train_limit=images, test_limit=128, epochs=1)["train_seconds"])


def run(env: dict, copies: int, images: int) -> list[float]:
    """Start ``copies`` students with ``env`` together; the training seconds of each."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(copies), context.Queue()
    procs = [context.Process(target=student, args=(env, images, barrier, results)) for _ in range(copies)]
    for proc in procs:
        proc.start()
    seconds = [results.get(timeout=3600) for _ in procs]
    for proc in procs:
        proc.join()
        if proc.exitcode:
            raise SystemExit(f"a student's training failed (exit code {proc.exitcode}) with {env or 'nothing set'}")
    return seconds


def summarise(rows: dict) -> list[dict]:
    """Per setting, in :data:`SETTINGS`'s order: the medians over rounds of one alone, the slowest of
    the students at once and the share, with the share's range."""
    return [{"name": name, "environment": SETTINGS[name],
             "alone_seconds": round(statistics.median(row["alone"]), 2),
             "slowest_together_seconds": round(statistics.median(row["slowest"]), 2),
             "share": round(statistics.median(row["share"]), 3),
             "share_range": [round(min(row["share"]), 3), round(max(row["share"]), 3)]}
            for name, row in rows.items()]


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=4)
    parser.add_argument("--images", type=int, default=25600)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--record", nargs="?", const="", default=None, metavar="FILE",
                        help="append the run to the results file (default: results/measurements.json)")
    args = parser.parse_args(argv)
    for name in ("students", "images", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1, got {getattr(args, name)}")
    from snn_helpers.course import results
    commit = results.commit()  # the code that runs, not what is checked out at the end
    machine = results.machine()
    print(f"machine: {machine['model']} ({machine['vendor']}), {machine['cores']} cores, "
          f"{' '.join(machine['flags'])}", flush=True)
    load_start = os.getloadavg()[0]
    rows = {name: {"alone": [], "slowest": [], "share": []} for name in SETTINGS}
    for round_ in range(args.rounds):
        for name, env in SETTINGS.items():
            (alone,) = run(env, 1, args.images)
            slowest = max(run(env, args.students, args.images))
            reference = alone if name == REFERENCE else rows[REFERENCE]["alone"][-1]
            share = args.students * reference / slowest
            for key, value in (("alone", alone), ("slowest", slowest), ("share", share)):
                rows[name][key].append(value)
            print(f"round {round_ + 1}, {name}: alone {alone:.1f} s, {args.students} at once: slowest "
                  f"{slowest:.1f} s; together {share:.0%} of one student's throughput alone", flush=True)
    figures = {"students": args.students, "images": args.images, "rounds": args.rounds, "recipe": "improved",
               "settings": summarise(rows),
               "load_average_start_end": [round(load_start, 2), round(os.getloadavg()[0], 2)]}
    for row in figures["settings"]:
        print(f"{row['name']}: median share {row['share']:.0%} (alone {row['alone_seconds']:.1f} s, slowest of "
              f"{args.students} at once {row['slowest_together_seconds']:.1f} s)")
    if args.record is not None:
        path = args.record or results.RESULTS_FILE
        results.record("shared", " ".join(["python", "benchmarks/shared_server.py", *(argv or sys.argv[1:])]),
                       figures, path, commit=commit)
        print(f"recorded in {path}")
    return figures


if __name__ == "__main__":
    main()
