"""The Poisson encoder's random numbers: ``kernels.rand`` against ``torch.rand``, side by side in one process.

Both give the same numbers from the same generator (this script checks it on the batches it
times). Two timings, in interleaved rounds, each reported as the median over rounds of the
ratio within a round:

- the draws of one training batch alone (``T`` numbers for each lit pixel strictly between 0 and 1);
- whole steady-state training steps of ``SNN()`` (the default engine, as ``fit`` trains), the
  encoder drawing with the kernel or with ``torch.rand`` (``kernels.rand`` replaced for the run).

    python benchmarks/random_draws.py [--rounds 10] [--batches 16] [--warmup 150]

Prints a table, then one JSON line that names the CPU. Nothing is recorded.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from itertools import islice
from unittest import mock

import torch
from train_speed import BATCH, T, build_variants, time_training, warm_weights

from snn_helpers import BatchLoader, as_tensors, load_mnist
from snn_helpers.engine import kernels
from snn_helpers.engine.cpu import subnormals_flushed
from snn_helpers.system.machine import cpu_info


def torch_rand(shape, generator=None):
    """What ``kernels.rand`` replaces."""
    return torch.rand(shape, generator=generator)


def time_draws(draw, count: int, repeats: int = 50) -> float:
    """Microseconds per call of ``draw((T, count), generator)``."""
    generator = torch.Generator().manual_seed(0)
    draw((T, count), generator)
    start = time.perf_counter()
    for _ in range(repeats):
        draw((T, count), generator)
    return (time.perf_counter() - start) / repeats * 1e6


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds (median reported)")
    parser.add_argument("--batches", type=int, default=16, help="timed training steps per variant and round")
    parser.add_argument("--warmup", type=int, default=150, help="batches trained first, untimed")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.batches < 1 or args.warmup < 0:
        parser.error("--rounds and --batches must be at least 1, --warmup at least 0")
    if kernels.library() is None:
        parser.error(f"the compiled kernels are not available here: {kernels.why_unavailable()}")
    with subnormals_flushed():
        generator = torch.Generator().manual_seed(0)
        images, labels = as_tensors(load_mnist(train=True))
        loader = iter(BatchLoader(images, labels, BATCH, shuffle=True, generator=generator))
        weights = warm_weights(list(islice(loader, args.warmup)), generator)
        batches = list(islice(loader, args.batches))
        count = int(statistics.median(int(((b > 0) & (b < 1)).sum()) for b, _ in batches))  # numbers per step
        same = all(torch.equal(kernels.rand((T, count), torch.Generator().manual_seed(s)),
                               torch.rand((T, count), generator=torch.Generator().manual_seed(s))) for s in range(3))
        default = next(v for v in build_variants(generator, weights) if v.name == "default")
        draws = {"torch.rand": [], "kernels.rand": []}
        steps = {"torch.rand": [], "kernels.rand": []}
        for r in range(args.rounds):
            for name in (("torch.rand", "kernels.rand") if r % 2 == 0 else ("kernels.rand", "torch.rand")):
                draw = torch_rand if name == "torch.rand" else kernels.rand
                draws[name].append(time_draws(draw, count))
                with mock.patch.object(kernels, "rand", draw):
                    steps[name].append(time_training(default, batches))
            print(f"round {r + 1}/{args.rounds}: " + ", ".join(
                f"{name} {draws[name][-1]:.0f} us per batch's draws, {steps[name][-1]:,.0f} samples/s" for name in draws),
                flush=True)
    summary = {
        "benchmark": "random_draws", "cpu": cpu_info(), "torch": torch.__version__,
        "threads": torch.get_num_threads(), "rounds": args.rounds, "batches_per_round": args.batches,
        "numbers_per_batch": T * count, "same_numbers": same,
        "draw_microseconds": {name: round(statistics.median(v), 1) for name, v in draws.items()},
        "draws_speedup": round(statistics.median(a / b for a, b in zip(draws["torch.rand"], draws["kernels.rand"])), 2),
        "training_samples_per_s": {name: round(statistics.median(v)) for name, v in steps.items()},
        "training_speedup": round(statistics.median(b / a for a, b in zip(steps["torch.rand"], steps["kernels.rand"])), 3),
    }
    print(f"\n{T * count:,} numbers per batch, the same from both: {same}")
    print(f"draws alone: torch.rand {summary['draw_microseconds']['torch.rand']} us, kernels.rand "
          f"{summary['draw_microseconds']['kernels.rand']} us ({summary['draws_speedup']}x)")
    print(f"training steps of SNN() ({default.model.engine().name}): {summary['training_speedup']}x the samples/s "
          "with kernels.rand (median over rounds of the ratio within a round)")
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
