"""Hashes of what each engine computes, to show that a change kept results bit-identical.

For each engine (``step``, ``torch``, ``compiled``; fp32 and bf16) and each recipe, train a
784-512-256-10 SNN from seed 42 on the first ``--batches`` batches of MNIST, as ``fit`` does,
and print the sha256 of the loss of every batch and of the final weights. Run it before and
after a change, on the same machine and thread count, and compare the JSON lines:

    python benchmarks/engine_hashes.py [--batches 6] [--threads 2] > before.json

Nothing is timed. Engines that cannot run here (no compiler) are left out and named.
"""
from __future__ import annotations

import argparse
import hashlib
import json
from itertools import islice

import torch

from snn_helpers import SNN, BatchLoader, as_tensors, load_mnist
from snn_helpers.core.encoding import encode_batch
from snn_helpers.core.recipes import get_recipe
from snn_helpers.core.training import set_seed
from snn_helpers.engine import kernels

RECIPES = ("baseline", "improved")
ENGINES = [("step", "fp32"), ("torch", "fp32"), ("compiled", "fp32"), ("torch", "bf16"), ("compiled", "bf16")]


def digest(tensors) -> str:
    h = hashlib.sha256()
    for t in tensors:
        h.update(t.detach().contiguous().cpu().numpy().tobytes())
    return h.hexdigest()[:16]


def run(recipe_name: str, backend: str, precision: str, batches: int) -> dict:
    recipe = get_recipe(recipe_name)
    train = getattr(recipe, "train", recipe)  # TrainSettings where the settings dataclasses have landed
    generator = set_seed(42)
    images, labels = as_tensors(load_mnist(train=True), batches * recipe.batch_size)
    loader = BatchLoader(images, labels, recipe.batch_size, shuffle=True, generator=generator)
    kwargs = recipe.model.as_dict() if hasattr(recipe.model, "as_dict") else recipe.model
    model = SNN(**kwargs, precision=precision, backend=backend)
    optimizer = torch.optim.Adam(model.parameters(), lr=train.lr, fused=True)
    losses = []
    for x, y in islice(iter(loader), batches):
        loss = torch.nn.functional.cross_entropy(model.scores(*encode_batch(x, train.num_steps, generator)), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    return {"losses": digest(losses), "weights": digest(model.state_dict().values()),
            "last_loss": round(losses[-1].item(), 6)}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    out = {"threads": args.threads, "batches": args.batches, "torch": torch.__version__, "runs": {}, "skipped": []}
    for recipe in RECIPES:
        for backend, precision in ENGINES:
            name = f"{recipe}/{backend}/{precision}"
            if backend == "compiled" and kernels.library() is None:
                out["skipped"].append(name)
                continue
            out["runs"][name] = run(recipe, backend, precision, args.batches)
            print(name, out["runs"][name], flush=True)
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
