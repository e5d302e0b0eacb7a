"""Named training recipes (``baseline``, the seed project's settings, and ``improved``) and :func:`run_recipe`.

A recipe fixes everything the training depends on except the random seed:
the SNN's settings, the learning rate and its schedule, epochs, time steps
and batch size. Both recipes keep the seed's 784-512-256-10 network, Poisson
input, 10 time steps, 5 epochs, batches of 128 and Adam. The recipe
``baseline`` was called ``seed`` until it was confused with ``--seed``, the
random seed; the old name is still accepted (:data:`ALIASES`) and resolves to
``baseline``, the name every output records.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from ..system._checks import check_choice, check_int
from ..system.runtime import Timer, get_device
from .data import mnist_loaders
from .model import SNN
from .settings import ModelSettings, NeuronSettings, TrainSettings
from .training import evaluate, fit, set_seed


@dataclass(frozen=True)
class Recipe:
    """A named recipe: the network's :class:`~snn_helpers.core.settings.ModelSettings` (``model``), the
    training's :class:`~snn_helpers.core.settings.TrainSettings` (``train``) and the loader's
    ``batch_size`` (>= 1), with a one-line ``summary``. The settings are checked when they are
    built, the rest here.

    >>> Recipe("tiny", "a short run", train=TrainSettings(epochs=1)).batch_size
    128
    >>> Recipe("tiny", "a short run", model={"reset": "zero"})
    Traceback (most recent call last):
    ...
    TypeError: model must be a ModelSettings, got dict
    """
    name: str
    summary: str
    model: ModelSettings = ModelSettings()
    train: TrainSettings = TrainSettings()
    batch_size: int = 128

    def __post_init__(self):
        for key in ("name", "summary"):
            if not isinstance(getattr(self, key), str):
                raise TypeError(f"{key} must be a str, got {type(getattr(self, key)).__name__}")
        for key, kind in (("model", ModelSettings), ("train", TrainSettings)):
            if not isinstance(getattr(self, key), kind):
                raise TypeError(f"{key} must be a {kind.__name__}, got {type(getattr(self, key)).__name__}")
        check_int("batch_size", self.batch_size, 1)

    def as_dict(self) -> dict:
        """The recipe as plain nested dicts (for JSON)."""
        return {"name": self.name, "summary": self.summary, "model": self.model.as_dict(),
                "train": self.train.as_dict(), "batch_size": self.batch_size}


RECIPES = {
    "baseline": Recipe(
        "baseline", "the seed project's settings: reset to zero, sigmoid surrogate (slope 10), constant learning rate",
        model=ModelSettings(neuron=NeuronSettings(reset="zero", surrogate="sigmoid", slope=10.0))),
    "improved": Recipe(
        "improved", "reset by subtraction, arctan surrogate (slope 2), cosine learning-rate schedule",
        model=ModelSettings(neuron=NeuronSettings(reset="subtract", surrogate="arctan", slope=2.0)),
        train=TrainSettings(lr=2e-3, schedule="cosine")),
}
ALIASES = {"seed": "baseline"}  # old name -> recipe


def get_recipe(name: str) -> Recipe:
    """The recipe called ``name``: one of :data:`RECIPES` (``"baseline"``, ``"improved"``) or an old name.

    name: a key of :data:`RECIPES` or of :data:`ALIASES` (``"seed"``, the baseline's old name).

    >>> get_recipe("improved").model.neuron
    NeuronSettings(beta=0.95, threshold=1.0, reset='subtract', surrogate='arctan', slope=2.0)
    >>> get_recipe("seed").name  # the old name of the baseline
    'baseline'
    """
    name = check_choice("recipe", name, [*RECIPES, *ALIASES])
    return RECIPES[ALIASES.get(name, name)]


def run_recipe(recipe: Recipe | str, seed: int = 42, *, root=None, train_limit: int | None = None,
               test_limit: int | None = None, epochs: int | None = None,
               device: torch.device | None = None, checkpoint_path=None, resume_from=None,
               progress: bool = False, precision: str = "fp32", backend: str = "auto") -> dict:
    """Train an SNN with ``recipe`` from ``seed`` and evaluate it on the test set.

    ``epochs`` overrides the recipe's (quick runs). Returns a dict with
    ``model``, ``accuracy`` (in [0, 1], ``num_steps``-step evaluation),
    ``test_images``, ``train_seconds`` and ``test_seconds`` (wall time of the
    training and of the evaluation), ``loss_history``, ``seed``, ``recipe`` (its
    name: ``"baseline"`` for the old name ``"seed"`` too), ``engine`` (the
    :class:`~snn_helpers.engine.backend.Engine` that trained it, :meth:`~snn_helpers.core.model.SNN.engine`),
    ``settings`` (the network's :class:`~snn_helpers.core.settings.ModelSettings`) and
    ``train_settings`` (the :class:`~snn_helpers.core.settings.TrainSettings` it trained with,
    ``epochs`` overridden): what a checkpoint of this run records.

    recipe: a :class:`Recipe` or a name of :data:`RECIPES`; seed: in ``[0, 2**32 - 1]``;
    root: the data folder; train_limit, test_limit: use only the first images;
    precision, backend: how the :class:`~snn_helpers.core.model.SNN` computes;
    the rest as :func:`~snn_helpers.core.training.fit` takes them. It reads MNIST, so
    the example is not run by the doctests:

    >>> result = run_recipe("baseline", train_limit=512, test_limit=256, epochs=1)  # doctest: +SKIP
    >>> sorted(result)  # doctest: +SKIP
    ['accuracy', 'engine', 'loss_history', 'model', 'recipe', 'seed', 'settings', 'test_images', 'test_seconds', 'train_seconds', 'train_settings']
    """
    recipe = get_recipe(recipe) if isinstance(recipe, str) else recipe
    train = recipe.train if epochs is None else dataclasses.replace(recipe.train, epochs=epochs)
    device = device or get_device()
    generator = set_seed(seed)
    train_loader, test_loader = mnist_loaders(root, recipe.batch_size, train_limit, test_limit,
                                              generator=generator)
    model = SNN(**recipe.model.as_dict(), precision=precision, backend=backend)
    with Timer() as train_time:
        history = fit(model, train_loader, train.epochs, train.num_steps, train.lr, schedule=train.schedule,
                      generator=generator, device=device, checkpoint_path=checkpoint_path,
                      resume_from=resume_from, progress=progress)
    with Timer() as test_time:
        accuracy = evaluate(model, test_loader, train.num_steps, generator=generator, device=device)
    return {"model": model, "accuracy": accuracy, "test_images": len(test_loader.images),
            "train_seconds": train_time.seconds, "test_seconds": test_time.seconds,
            "loss_history": history, "seed": seed, "recipe": recipe.name, "engine": model.engine(device),
            "settings": model.settings, "train_settings": train}
