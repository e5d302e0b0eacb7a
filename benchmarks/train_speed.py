"""Training speed on MNIST, side by side in one process: the seed's loop, snnTorch, and the fast path.

Variants (T = 10 steps, batches of 128 real MNIST images, Adam, lr 1e-3):
  (a) seed_loop          - the seed's code: step-by-step forward, its Poisson encoder, Adam as the seed builds it
  (b) snntorch           - the same network from ``snn.Leaky`` (reset to zero, sigmoid surrogate slope 10),
                           seed encoder
  (c) default            - what ``SNN()`` and ``fit`` run with no arguments (``backend="auto"``: the engine
                           measured fastest on this machine, see snn_helpers.engine.backend)
  (d) fast_fp32_compiled - ``snn_helpers`` as ``fit`` trains: spikes of the lit pixels only (``encode_batch``),
                           each layer's product once over all T*B rows, then ``FusedLIF``; with the compiled
                           kernels (``SNN(backend="compiled")``: products with spikes skip silent inputs)
  (e) fast_fp32_torch    - (d) in plain torch (``SNN(backend="torch")``): dense products, torch's LIF loop
  (f) fast_bf16          - (d) with the matrix products in bfloat16 (``SNN(precision="bf16")``), LIF compiled

Steady state: before any timing, one SNN is trained for ``--warmup`` batches (a part of
the first epoch), and every variant starts from its weights, so the timings see what a
user's later epochs see (sparser spikes, potentials far below the threshold, subnormal
gradients), not a fresh model's. By default subnormal floats are flushed to zero for every variant
(:func:`snn_helpers.engine.cpu.subnormals_flushed`), as the package does when it trains; ``--no-flush`` keeps them.

A timed training step covers encoding, forward, loss, backward and the optimizer
step. Rounds are interleaved (each round times every variant, the order rotating),
and each round also times the matrix products of one training step on their own
(fp32 and bf16): this machine's GEMM ceiling. A ratio (variant against variant, or
against the ceiling) is taken within each round and the median over the rounds is
reported, so a slow spell of a shared machine, which slows a whole round, cancels
out. Prints a table, then one JSON line, which names the CPU and its vector extensions;
``--record`` also appends it to the results file that the README quotes
(``results/measurements.json``, :mod:`snn_helpers.course.results`).

    python benchmarks/train_speed.py [--rounds 15] [--batches 8] [--warmup 150] [--threads N] [--record]

bf16 pays where the CPU multiplies bfloat16 natively (AMX, or AVX512-BF16) and on GPUs;
elsewhere the products are emulated and slower than fp32.

snntorch is pinned in requirements.txt (notebook 06 reads NIR graphs with it).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from itertools import islice

import torch
from torch import nn

from snn_helpers import SNN, BatchLoader, as_tensors, load_mnist
from snn_helpers.core.encoding import encode_batch
from snn_helpers.course import results
from snn_helpers.engine.cpu import subnormals_flushed
from snn_helpers.system.machine import cpu_info

T, BATCH, LR = 10, 128, 1e-3
SIZES = (784, 512, 256, 10)


# ---- (a) the seed's code, as in the seed notebook (comments trimmed) ----
def poisson_spike_encoding(images, num_steps=100):
    batch_size = images.shape[0]
    image_shape = images.shape[1:]
    rand_vals = torch.rand((num_steps, batch_size, *image_shape), device=images.device)
    spike_trains = rand_vals < images.unsqueeze(0)
    return spike_trains.float()


class SurrogateSpike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return (input >= 1.0).float()

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        grad_input = grad_output.clone()
        sigmoid_grad = 1 / (1 + torch.exp(-10 * (input - 1)))
        return grad_input * sigmoid_grad * (1 - sigmoid_grad)


class LIFNeuron(nn.Module):
    def __init__(self, beta=0.95, threshold=1.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input_current, membrane_potential):
        membrane_potential = self.beta * membrane_potential + input_current
        spike = SurrogateSpike.apply(membrane_potential)
        membrane_potential = membrane_potential * (1.0 - spike)
        return spike, membrane_potential

    def init_leaky(self, shape, device):
        return torch.zeros(shape, device=device)


class SNNModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(28 * 28, 512)
        self.lif1 = LIFNeuron(beta=0.95)
        self.fc2 = nn.Linear(512, 256)
        self.lif2 = LIFNeuron(beta=0.95)
        self.fc3 = nn.Linear(256, 10)
        self.lif3 = LIFNeuron(beta=0.95)

    def forward(self, x, num_steps=100):
        batch_size = x.shape[1]
        mem1 = self.lif1.init_leaky((batch_size, 512), x.device)
        mem2 = self.lif2.init_leaky((batch_size, 256), x.device)
        mem3 = self.lif3.init_leaky((batch_size, 10), x.device)
        spk3_rec = []
        for step in range(num_steps):
            x_t = self.flatten(x[step])
            spk1, mem1 = self.lif1(self.fc1(x_t), mem1)
            spk2, mem2 = self.lif2(self.fc2(spk1), mem2)
            spk3, mem3 = self.lif3(self.fc3(spk2), mem3)
            spk3_rec.append(spk3)
        return torch.stack(spk3_rec)


# ---- (b) the same network from snnTorch ----
def snntorch_model() -> nn.Module:
    import snntorch as snn
    from snntorch import surrogate

    class LeakyNet(nn.Module):
        def __init__(self):
            super().__init__()
            grad = surrogate.sigmoid(slope=10)
            self.fcs = nn.ModuleList(nn.Linear(i, o) for i, o in zip(SIZES[:-1], SIZES[1:]))
            self.lifs = nn.ModuleList(snn.Leaky(beta=0.95, threshold=1.0, spike_grad=grad,
                                                reset_mechanism="zero") for _ in SIZES[1:])

        def forward(self, x, num_steps):
            mems = [lif.init_leaky() for lif in self.lifs]
            out = []
            for step in range(num_steps):
                spk = x[step].flatten(1)
                for i, (fc, lif) in enumerate(zip(self.fcs, self.lifs)):
                    spk, mems[i] = lif(fc(spk), mems[i])
                out.append(spk)
            return torch.stack(out)

    return LeakyNet()


# ---- one training step per variant: encode, forward, loss on spike counts, backward, Adam ----
class Variant:
    """A model, its optimizer and how it encodes and runs one batch."""

    def __init__(self, name, model, optimizer, encode, scores):
        self.name, self.model, self.optimizer = name, model, optimizer
        self.encode, self.scores = encode, scores
        self.loss_fn = nn.CrossEntropyLoss()

    def step(self, images, labels):
        loss = self.loss_fn(self.scores(self.encode(images)), labels)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()


def warm_weights(batches, generator: torch.Generator) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(weight, bias) of each layer of an SNN trained on ``batches`` as ``fit`` trains it (untimed)."""
    torch.manual_seed(0)
    model = SNN(SIZES, backend="compiled" if SNN(SIZES).engine().compiled else "torch")
    variant = Variant("warmup", model, torch.optim.Adam(model.parameters(), lr=LR, fused=True),
                      lambda images: encode_batch(images, T, generator), lambda x: model.scores(*x))
    for images, labels in batches:
        variant.step(images, labels)
    return [(fc.weight.detach().clone(), fc.bias.detach().clone()) for fc in model.fcs]


def build_variants(generator: torch.Generator, weights) -> list[Variant]:
    """Every variant, each starting from ``weights`` (a list of (weight, bias) per layer)."""
    torch.manual_seed(0)
    seed = SNNModel()
    leaky = snntorch_model()
    fast = {"default": SNN(SIZES), "fast_fp32_compiled": SNN(SIZES, backend="compiled"),
            "fast_fp32_torch": SNN(SIZES, backend="torch"), "fast_bf16": SNN(SIZES, precision="bf16")}
    for fc, (w, b) in zip((seed.fc1, seed.fc2, seed.fc3), weights):
        fc.load_state_dict({"weight": w, "bias": b})
    for model in (leaky, *fast.values()):  # every variant starts from the same weights
        for fc, (w, b) in zip(model.fcs, weights):
            fc.load_state_dict({"weight": w, "bias": b})

    def seed_encode(images):
        return poisson_spike_encoding(images, T)

    def fast_encode(images):  # as fit() encodes: spikes of the lit pixels only, and their indices
        return encode_batch(images, T, generator)

    variants = [
        Variant("seed_loop", seed, torch.optim.Adam(seed.parameters(), lr=LR), seed_encode,
                lambda x: seed(x, T).sum(0)),
        Variant("snntorch", leaky, torch.optim.Adam(leaky.parameters(), lr=LR), seed_encode,
                lambda x: leaky(x, T).sum(0)),
    ]
    for name, model in fast.items():  # the optimizer exactly as snn_helpers.fit builds it
        variants.append(Variant(name, model,
                                torch.optim.Adam(model.parameters(), lr=LR, fused=True),
                                fast_encode, lambda x, model=model: model.scores(*x)))
    return variants


# ---- the matrix products of one training step, on their own ----
def gemm_shapes():
    """(m, k, n) of every product in one training step: forward, weight gradients, and the
    input gradients of layers 2 and 3 (the input spikes need none)."""
    m = T * BATCH
    layers = list(zip(SIZES[:-1], SIZES[1:]))
    forward = [(m, i, o) for i, o in layers]  # [T*B, in] x [in, out]
    weight_grad = [(o, m, i) for i, o in layers]  # [out, T*B] x [T*B, in]
    input_grad = [(m, o, i) for i, o in layers[1:]]  # [T*B, out] x [out, in]
    return forward + weight_grad + input_grad


FLOPS_PER_STEP = sum(2 * m * k * n for m, k, n in gemm_shapes())
FLOPS_PER_SAMPLE = FLOPS_PER_STEP / BATCH
FIRST_LAYER_FLOPS_PER_SAMPLE = 2 * 2 * T * SIZES[0] * SIZES[1]  # its forward and weight-gradient products


def live_input_fraction(batches) -> float:
    """Mean fraction of the input pixels that are lit in some image of the batch: the columns
    the fast path's first product keeps (pixels black in the whole batch can never spike)."""
    return statistics.mean((images.flatten(1).amax(0) > 0).float().mean().item() for images, _ in batches)


def gemm_operands(dtype):
    gen = torch.Generator().manual_seed(0)
    return [((torch.rand(m, k, generator=gen) < 0.2).to(dtype), torch.randn(k, n, generator=gen).to(dtype))
            for m, k, n in gemm_shapes()]


def time_gemms(operands, repeats: int) -> float:
    """GFLOP/s of the training step's products, run back to back ``repeats`` times."""
    for a, b in operands:
        torch.mm(a, b)
    start = time.perf_counter()
    for _ in range(repeats):
        for a, b in operands:
            torch.mm(a, b)
    return FLOPS_PER_STEP * repeats / (time.perf_counter() - start) / 1e9


def paired_median(numerators, denominators) -> float:
    """Median over rounds of ``numerator / denominator``, the two measured in the same round."""
    return statistics.median(a / b for a, b in zip(numerators, denominators, strict=True))


def time_training(variant: Variant, batches) -> float:
    """Samples per second over ``batches`` after one untimed warm-up step."""
    variant.step(*batches[0])
    start = time.perf_counter()
    for images, labels in batches:
        variant.step(images, labels)
    return sum(len(labels) for _, labels in batches) / (time.perf_counter() - start)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds (median reported)")
    parser.add_argument("--batches", type=int, default=8, help="timed training steps per variant and round")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--warmup", type=int, default=150,
                        help="batches to train first, untimed, so that every variant starts from a trained "
                             "state (default 150, about a third of an epoch)")
    parser.add_argument("--no-flush", action="store_true",
                        help="keep subnormal floats (default: flush them to zero, torch.set_flush_denormal)")
    parser.add_argument("--record", nargs="?", const=str(results.RESULTS_FILE), default=None, metavar="FILE",
                        help="append the JSON to the results file (default: results/measurements.json)")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.batches < 1 or args.warmup < 0 or (args.threads is not None and args.threads < 1):
        parser.error("--rounds, --batches and --threads must be at least 1, --warmup at least 0")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    flush = not args.no_flush
    flushing = contextlib.ExitStack()  # held until main returns: for the whole run, as the package trains
    if flush:
        flushing.enter_context(subnormals_flushed())
    print("subnormal floats " + ("flushed to zero (snn_helpers.engine.cpu.subnormals_flushed), "
                                 "for every variant" if flush else "kept (not flushed)"))
    load_start, commit = os.getloadavg(), results.commit()  # the code that runs, before any edit
    generator = torch.Generator().manual_seed(0)
    images, labels = as_tensors(load_mnist(train=True))
    loader = iter(BatchLoader(images, labels, BATCH, shuffle=True, generator=generator))
    weights = warm_weights(list(islice(loader, args.warmup)), generator)
    batches = list(islice(loader, args.batches))
    variants = build_variants(generator, weights)
    operands = {"fp32": gemm_operands(torch.float32), "bf16": gemm_operands(torch.bfloat16)}
    speed = {v.name: [] for v in variants}
    gemm = {p: [] for p in operands}
    for r in range(args.rounds):
        for p, ops in operands.items():
            gemm[p].append(time_gemms(ops, repeats=5))
        for v in variants[r % len(variants):] + variants[:r % len(variants)]:
            speed[v.name].append(time_training(v, batches))
        print(f"round {r + 1}/{args.rounds}: " + ", ".join(f"{k} {s[-1]:,.0f}/s" for k, s in speed.items())
              + ", GEMM " + ", ".join(f"{p} {g[-1]:.0f} GFLOP/s" for p, g in gemm.items()), flush=True)

    gflops = {p: statistics.median(g) for p, g in gemm.items()}
    ceiling = {p: g * 1e9 / FLOPS_PER_SAMPLE for p, g in gflops.items()}
    round_ceiling = {p: [g * 1e9 / FLOPS_PER_SAMPLE for g in gs] for p, gs in gemm.items()}
    live = live_input_fraction(batches)
    fast_flops = FLOPS_PER_SAMPLE - (1 - live) * FIRST_LAYER_FLOPS_PER_SAMPLE
    table = {}
    for name, values in speed.items():
        vs_seed = [a / b for a, b in zip(values, speed["seed_loop"], strict=True)]
        table[name] = {
            "samples_per_s": round(statistics.median(values)),
            "vs_seed_loop": round(statistics.median(vs_seed), 3),
            "vs_seed_loop_range": [round(min(vs_seed), 3), round(max(vs_seed), 3)],
            "vs_snntorch": round(paired_median(values, speed["snntorch"]), 3),
            "fraction_of_fp32_gemm_ceiling": round(paired_median(values, round_ceiling["fp32"]), 3),
        }
    table["fast_bf16"]["fraction_of_bf16_gemm_ceiling"] = round(  # against its own precision's ceiling
        paired_median(speed["fast_bf16"], round_ceiling["bf16"]), 3)
    # The dense products the torch fast path runs (black pixels left out); the compiled one runs fewer.
    table["fast_fp32_torch"]["fraction_of_fp32_gemm_ceiling_executed_flops"] = round(
        table["fast_fp32_torch"]["fraction_of_fp32_gemm_ceiling"] * fast_flops / FLOPS_PER_SAMPLE, 3)

    print(f"\nmatrix products per sample: {FLOPS_PER_SAMPLE / 1e6:.2f} MFLOP; GEMM ceiling "
          + ", ".join(f"{p} {gflops[p]:.0f} GFLOP/s = {ceiling[p]:,.0f} samples/s" for p in gflops))
    print(f"the fast path leaves out pixels black in the whole batch: it keeps {live:.0%} of them, "
          f"{fast_flops / 1e6:.2f} MFLOP per sample (fractions below count the full {FLOPS_PER_SAMPLE / 1e6:.2f}); "
          "the compiled kernels also skip the inputs silent in a block of steps, so they can pass 100%")
    five_epochs = {p: 5 * 60_000 * fast_flops / (g * 1e9) for p, g in gflops.items()}
    print("the products alone of a 5-epoch run (300,000 samples) take "
          + ", ".join(f"{five_epochs[p]:.1f} s in {p}" for p in gflops) + " at those rates")
    print(f"ratios: median over the {args.rounds} rounds of the ratio within each round "
          "(range: smallest and largest round)")
    print(f"{'variant':<20}{'samples/s':>11}{'vs (a)':>8}{'range':>12}{'vs (b)':>8}{'of fp32 ceiling':>17}")
    for name, r in table.items():
        low, high = r["vs_seed_loop_range"]
        print(f"{name:<20}{r['samples_per_s']:>11,}{r['vs_seed_loop']:>8.2f}{f'{low:.2f}-{high:.2f}':>12}"
              f"{r['vs_snntorch']:>8.2f}{r['fraction_of_fp32_gemm_ceiling']:>17.0%}")
    native = [flag for flag in ("amx_bf16", "avx512_bf16") if flag in cpu_info()["flags"]]
    bf16_gain = table["fast_bf16"]["samples_per_s"] / table["default"]["samples_per_s"]
    print("bf16 (--precision bf16, opt-in: it changes results) can pay only where the hardware multiplies "
          "bfloat16 natively (AMX or AVX512-BF16 CPUs, and GPUs); this CPU has "
          + (", ".join(native) if native else "neither, so its bf16 products are emulated")
          + f": here its products ran at {gflops['bf16'] / gflops['fp32']:.2f}x fp32's rate and its training at "
          f"{bf16_gain:.2f}x the default engine's ({'faster' if bf16_gain > 1 else 'not faster'})")
    summary = {
        "benchmark": "train_speed", "num_steps": T, "batch_size": BATCH, "rounds": args.rounds,
        "batches_per_round": args.batches, "torch": torch.__version__, "threads": torch.get_num_threads(),
        "cpu": cpu_info(), "flush_denormal": bool(flush), "warmup_batches": args.warmup,
        "load_average_start_end": [round(load_start[0], 2), round(os.getloadavg()[0], 2)],
        "flops_per_sample": FLOPS_PER_SAMPLE, "fast_path_live_inputs": round(live, 3),
        "fast_path_flops_per_sample": round(fast_flops),
        "gemm_gflops": {p: round(g, 1) for p, g in gflops.items()},
        "gemm_ceiling_samples_per_s": {p: round(c) for p, c in ceiling.items()},
        "default_engine": SNN(SIZES).engine().as_dict(),
        "five_epoch_gemm_seconds": {p: round(t, 1) for p, t in five_epochs.items()},
        "variants": table,
    }
    print(json.dumps(summary))
    if args.record:
        results.record("bench", " ".join(["python", "benchmarks/train_speed.py", *(argv or sys.argv[1:])]),
                       summary, args.record, commit=commit)
        print(f"recorded in {args.record}")
    return summary


if __name__ == "__main__":
    main()
