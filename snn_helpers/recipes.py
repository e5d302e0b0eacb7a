"""Named training recipes (the seed's settings and an improved one) and the shipped model.

A recipe fixes everything the training depends on except the random seed:
the SNN's settings, the learning rate and its schedule, epochs, time steps
and batch size. Both recipes keep the seed's 784-512-256-10 network, Poisson
input, 10 time steps, 5 epochs, batches of 128 and Adam.
"""
from __future__ import annotations

import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from . import kernels
from ._checks import check_choice, check_int
from .atomic import write_json
from .checkpoint import save_checkpoint
from .data import BatchLoader, as_tensors, load_mnist, mnist_loaders, sha256_of
from .model import SNN
from .paths import pretrained_dir
from .runtime import Timer, get_device
from .training import evaluate, fit, run_settings, set_seed

PRETRAINED_FILE = "snn_improved.pt"
CHECK_IMAGES = 1000  # the shipped model's accuracy is re-checked on the first 1000 test images
CHECK_SEED = 0  # ... with the Poisson input drawn from a generator seeded with this


@dataclass(frozen=True)
class Recipe:
    """Training settings; ``model`` holds the keyword arguments of :class:`SNN`."""
    name: str
    summary: str
    model: dict = field(default_factory=dict)
    lr: float = 1e-3
    schedule: str = "constant"
    epochs: int = 5
    num_steps: int = 10
    batch_size: int = 128


RECIPES = {
    "seed": Recipe(
        "seed", "the seed's settings: reset to zero, sigmoid surrogate (slope 10), constant learning rate",
        model={"reset": "zero", "surrogate": "sigmoid", "slope": 10.0}),
    "improved": Recipe(
        "improved", "reset by subtraction, arctan surrogate (slope 2), cosine learning-rate schedule",
        model={"reset": "subtract", "surrogate": "arctan", "slope": 2.0},
        lr=2e-3, schedule="cosine"),
}


def get_recipe(name: str) -> Recipe:
    """The recipe called ``name`` (one of :data:`RECIPES`)."""
    return RECIPES[check_choice("recipe", name, RECIPES)]


def run_recipe(recipe: Recipe | str, seed: int = 42, *, root=None, train_limit: int | None = None,
               test_limit: int | None = None, epochs: int | None = None,
               device: torch.device | None = None, checkpoint_path=None, resume_from=None,
               progress: bool = False) -> dict:
    """Train an SNN with ``recipe`` from ``seed`` and evaluate it on the test set.

    ``epochs`` overrides the recipe's (quick runs). Returns a dict with
    ``model``, ``accuracy`` (in [0, 1], ``recipe.num_steps``-step evaluation),
    ``test_images``, ``train_seconds`` and ``test_seconds`` (wall time of the
    training and of the evaluation), ``loss_history``, ``seed``, ``recipe`` (its
    name) and ``settings`` (what a checkpoint of this run records).
    """
    recipe = get_recipe(recipe) if isinstance(recipe, str) else recipe
    epochs = recipe.epochs if epochs is None else check_int("epochs", epochs, 0)
    device = device or get_device()
    generator = set_seed(seed)
    train_loader, test_loader = mnist_loaders(root, recipe.batch_size, train_limit, test_limit,
                                              generator=generator)
    model = SNN(**recipe.model)
    with Timer() as train_time:
        history = fit(model, train_loader, epochs, recipe.num_steps, recipe.lr, schedule=recipe.schedule,
                      generator=generator, device=device, checkpoint_path=checkpoint_path,
                      resume_from=resume_from, progress=progress)
    with Timer() as test_time:
        accuracy = evaluate(model, test_loader, recipe.num_steps, generator=generator, device=device)
    return {"model": model, "accuracy": accuracy, "test_images": len(test_loader.images),
            "train_seconds": train_time.seconds, "test_seconds": test_time.seconds,
            "loss_history": history, "seed": seed, "recipe": recipe.name,
            "settings": run_settings(model, recipe.num_steps, recipe.lr, recipe.schedule, epochs)}


def pretrained_path() -> Path:
    """The checkpoint shipped with the project, ``pretrained/snn_improved.pt``."""
    return pretrained_dir() / PRETRAINED_FILE


def check_accuracy(model: SNN, num_steps: int = 10, root=None) -> float:
    """Accuracy on the first :data:`CHECK_IMAGES` test images, on the CPU, with the Poisson input
    drawn from a generator seeded with :data:`CHECK_SEED`: the same weights give the same spikes
    and so the same number, up to floating-point differences between machines."""
    test_loader = BatchLoader(*as_tensors(load_mnist(root, train=False), CHECK_IMAGES), batch_size=250)
    return evaluate(model, test_loader, num_steps, generator=torch.Generator().manual_seed(CHECK_SEED),
                    device=torch.device("cpu"))


def export_model(result: dict, recipe: Recipe | str, path, command: str, root=None) -> dict:
    """Write ``result["model"]`` as a weights-only checkpoint at ``path`` and a JSON beside it.

    ``result`` is what :func:`run_recipe` returned. The checkpoint holds only
    ``model`` (the state dict) and ``settings``; the JSON (same name, ``.json``)
    records the settings, seed, test accuracy, the accuracy of
    :func:`check_accuracy`, the command and the checkpoint's sha256. Returns the JSON's content.
    """
    recipe = get_recipe(recipe) if isinstance(recipe, str) else recipe
    path = Path(path)
    model = result["model"].cpu()
    settings = result["settings"]
    save_checkpoint(path, {"model": model.state_dict(), "settings": settings})
    info = {
        "file": path.name,
        "sha256": sha256_of(path),
        "recipe": asdict(recipe),
        "seed": result["seed"],
        "settings": settings,
        "test_accuracy": result["accuracy"],
        "test_images": result["test_images"],
        "check": {"test_images": CHECK_IMAGES, "generator_seed": CHECK_SEED,
                  "accuracy": check_accuracy(model, recipe.num_steps, root)},
        "train_seconds": round(result["train_seconds"], 1),
        "command": command,
        "compiled_kernels": kernels.library() is not None,
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    write_json(path.with_suffix(".json"), info)
    return info
