"""The model shipped in ``snn_helpers/pretrained/``: where it is, how it was exported and how its accuracy is re-checked.

:func:`export_model` writes a trained model (what :func:`~snn_helpers.core.recipes.run_recipe`
returns) as a weights-only checkpoint and a JSON beside it;
``python -m snn_helpers train --recipe improved --export ...`` calls it. The
JSON records the accuracy of :func:`check_accuracy`, which the tests compute again.
"""
from __future__ import annotations

import platform
from pathlib import Path

import torch

from ..core.checkpoint import save_checkpoint, settings_payload
from ..core.data import BatchLoader, as_tensors, load_mnist, sha256_of
from ..core.model import SNN
from ..core.recipes import Recipe, get_recipe
from ..core.training import evaluate
from ..system.atomic import write_json
from ..system.paths import pretrained_dir

PRETRAINED_FILE = "snn_improved.pt"
CHECK_IMAGES = 1000  # the shipped model's accuracy is re-checked on the first 1000 test images
CHECK_SEED = 0  # ... with the Poisson input drawn from a generator seeded with this


def pretrained_path() -> Path:
    """The checkpoint shipped with the project, ``snn_helpers/pretrained/snn_improved.pt``.

    >>> pretrained_path().name, pretrained_path().with_suffix(".json").is_file()
    ('snn_improved.pt', True)
    """
    return pretrained_dir() / PRETRAINED_FILE


def check_accuracy(model: SNN, num_steps: int = 10, root=None) -> float:
    """Accuracy on the first :data:`CHECK_IMAGES` test images, on the CPU, with the Poisson input
    drawn from a generator seeded with :data:`CHECK_SEED`: the same weights give the same spikes
    and so the same number, up to floating-point differences between machines.

    model: an :class:`SNN`; num_steps: ``>= 1`` time steps; root: the data folder
    (default: ``$SNN_DATA_DIR`` or ``data/``). Returns the accuracy in [0, 1].
    It reads the MNIST test set, so the example is not run by the doctests:

    >>> from snn_helpers.course.handoff import model_from_checkpoint
    >>> model, _ = model_from_checkpoint(pretrained_path())
    >>> check_accuracy(model)  # doctest: +SKIP
    0.98...
    """
    test_loader = BatchLoader(*as_tensors(load_mnist(root, train=False), CHECK_IMAGES), batch_size=250)
    return evaluate(model, test_loader, num_steps, generator=torch.Generator().manual_seed(CHECK_SEED),
                    device=torch.device("cpu"))


def export_model(result: dict, recipe: Recipe | str, path, command: str, root=None) -> dict:
    """Write ``result["model"]`` as a weights-only checkpoint at ``path`` and a JSON beside it.

    ``result`` is what :func:`~snn_helpers.core.recipes.run_recipe` returned (``model``, ``seed``,
    ``settings``, ``train_settings``, ``accuracy``, ``test_images``, ``train_seconds``); ``recipe`` is the
    recipe it ran (or its name); ``path`` the checkpoint to write; ``command`` the
    command line that trained it; ``root`` the data folder for :func:`check_accuracy`.
    The checkpoint holds only ``model`` (the state dict), ``settings`` and ``train_settings``
    (:func:`~snn_helpers.core.checkpoint.settings_payload`); the JSON (same name, ``.json``) records
    both settings, the recipe, seed, test accuracy, the accuracy of
    :func:`check_accuracy`, the command, the precision and the engine that trained it (an
    :class:`~snn_helpers.engine.backend.Engine` as a dict) and the checkpoint's sha256. Returns the JSON's content.
    It trains nothing but reads the MNIST test set, so the example is not run by the doctests:

    >>> from snn_helpers.core.recipes import run_recipe
    >>> result = run_recipe("improved", train_limit=256, test_limit=256, epochs=1)  # doctest: +SKIP
    >>> export_model(result, "improved", "m.pt", "python -m snn_helpers train ...")["check"]  # doctest: +SKIP
    {'test_images': 1000, 'generator_seed': 0, 'accuracy': ...}
    """
    recipe = get_recipe(recipe) if isinstance(recipe, str) else recipe
    path = Path(path)
    model = result["model"].cpu()
    settings = settings_payload(result["settings"], result["train_settings"])
    save_checkpoint(path, {"model": model.state_dict(), **settings})
    info = {
        "file": path.name,
        "sha256": sha256_of(path),
        "recipe": recipe.as_dict(),
        "seed": result["seed"],
        **settings,
        "test_accuracy": result["accuracy"],
        "test_images": result["test_images"],
        "check": {"test_images": CHECK_IMAGES, "generator_seed": CHECK_SEED,
                  "accuracy": check_accuracy(model, result["train_settings"].num_steps, root)},
        "train_seconds": round(result["train_seconds"], 1),
        "command": command,
        "precision": model.precision,
        "engine": result["engine"].as_dict(),
        "compiled_kernels": result["engine"].compiled,
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    write_json(path.with_suffix(".json"), info)
    return info
