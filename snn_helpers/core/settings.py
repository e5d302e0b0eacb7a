"""The settings of a network and of its training, each declared once as a frozen dataclass.

- :class:`NeuronSettings`: what every LIF neuron computes (``beta``, ``threshold``, ``reset``,
  ``surrogate``, ``slope``);
- :class:`ModelSettings`: the layer widths ``sizes`` and the neurons' settings, enough to build
  the same :class:`~snn_helpers.core.model.SNN` again;
- :class:`TrainSettings`: what :func:`~snn_helpers.core.training.fit` trains with (``epochs``,
  ``num_steps``, ``lr``, ``schedule``).

Each is checked once, when it is built: a bad value raises a one-line TypeError or ValueError
that names the field and what it accepts, and a built one is known to be good, so the code
that takes it checks nothing again. Each turns into a plain dict (``as_dict``) for checkpoints
and JSON; ``ModelSettings.from_dict`` and ``TrainSettings.from_dict`` turn it back
(:func:`~snn_helpers.core.checkpoint.read_settings` reads a checkpoint's).

>>> ModelSettings(sizes=(784, 16, 10)).neuron.reset
'zero'
>>> NeuronSettings(beta=1.5)
Traceback (most recent call last):
...
ValueError: beta must be in [0.0, 1.0], got 1.5
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..engine.kernels import RESETS
from ..engine.surrogates import SURROGATES
from ..system._checks import check_choice, check_float, check_int, check_sizes

SCHEDULES = ("constant", "cosine")


def _fix(settings, name: str, value) -> None:
    """Store a checked (normalised) ``value`` in a frozen dataclass, in ``__post_init__``."""
    object.__setattr__(settings, name, value)


def _fields(cls) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def _keys(what: str, given: dict, allowed: list[str]) -> dict:
    """``given`` if it is a dict whose keys are all in ``allowed``; else a one-line TypeError/ValueError."""
    if not isinstance(given, dict):
        raise TypeError(f"{what} must be a dict, got {type(given).__name__}")
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise ValueError(f"{what} has unknown keys {unknown}; allowed are {allowed}")
    return given


@dataclass(frozen=True)
class NeuronSettings:
    """The settings every LIF neuron of a layer (and of an SNN) shares.

    beta: leak in [0, 1]; threshold: > 0; reset: one of :data:`~snn_helpers.engine.kernels.RESETS`
    (``"zero"`` or ``"subtract"``); surrogate: a name of :data:`~snn_helpers.core.neurons.SURROGATES`;
    slope: > 0, the surrogate's sharpness. The defaults are the seed project's.

    >>> NeuronSettings(reset="subtract").as_dict()
    {'beta': 0.95, 'threshold': 1.0, 'reset': 'subtract', 'surrogate': 'sigmoid', 'slope': 10.0}
    >>> NeuronSettings(surrogate="tanh")
    Traceback (most recent call last):
    ...
    ValueError: surrogate must be one of ['arctan', 'fast_sigmoid', 'sigmoid'], got 'tanh'
    """
    beta: float = 0.95
    threshold: float = 1.0
    reset: str = "zero"
    surrogate: str = "sigmoid"
    slope: float = 10.0

    def __post_init__(self):
        _fix(self, "beta", check_float("beta", self.beta, 0.0, 1.0))
        _fix(self, "threshold", check_float("threshold", self.threshold, 0.0, low_open=True))
        check_choice("reset", self.reset, RESETS)
        check_choice("surrogate", self.surrogate, SURROGATES)
        _fix(self, "slope", check_float("slope", self.slope, 0.0, low_open=True))

    def as_dict(self) -> dict:
        """The settings as a plain dict, the keyword arguments of :class:`~snn_helpers.core.neurons.LIF`."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ModelSettings:
    """What an :class:`~snn_helpers.core.model.SNN` computes: its layer widths and its neurons' settings
    (not ``precision`` or ``backend``, which change how it computes, not what).

    sizes: the layer widths, input first, at least two, each >= 1 (a list becomes a tuple);
    neuron: the :class:`NeuronSettings` shared by all layers.

    >>> settings = ModelSettings((784, 16, 10), NeuronSettings(reset="subtract"))
    >>> settings.as_dict()["sizes"], settings.neuron.reset
    ([784, 16, 10], 'subtract')
    >>> ModelSettings.from_dict(settings.as_dict()) == settings
    True
    >>> ModelSettings(sizes=(784,))
    Traceback (most recent call last):
    ...
    ValueError: sizes must list at least an input and an output size, got (784,)
    """
    sizes: tuple[int, ...] = (784, 512, 256, 10)
    neuron: NeuronSettings = field(default_factory=NeuronSettings)

    def __post_init__(self):
        _fix(self, "sizes", check_sizes("sizes", self.sizes))
        if not isinstance(self.neuron, NeuronSettings):
            raise TypeError(f"neuron must be a NeuronSettings, got {type(self.neuron).__name__}")

    def as_dict(self) -> dict:
        """One flat plain dict: ``sizes`` (a list) and the neuron's settings, the keyword
        arguments of :class:`~snn_helpers.core.model.SNN` (checkpoints store it under ``"settings"``)."""
        return {"sizes": list(self.sizes), **self.neuron.as_dict()}

    @classmethod
    def from_dict(cls, settings: dict) -> ModelSettings:
        """The settings :meth:`as_dict` gave (keys left out take their defaults; an unknown key
        is a ValueError)."""
        settings = dict(_keys("model settings", settings, _fields(NeuronSettings) + ["sizes"]))
        sizes = settings.pop("sizes", cls.sizes)
        return cls(sizes, NeuronSettings(**settings))

    def replace(self, **changes) -> ModelSettings:
        """A copy with ``changes``, each a field of this class or of :class:`NeuronSettings`.

        >>> ModelSettings().replace(sizes=(4, 2), slope=2.0).as_dict()
        {'sizes': [4, 2], 'beta': 0.95, 'threshold': 1.0, 'reset': 'zero', 'surrogate': 'sigmoid', 'slope': 2.0}
        """
        return self.from_dict({**self.as_dict(), **changes})


@dataclass(frozen=True)
class TrainSettings:
    """What :func:`~snn_helpers.core.training.fit` trains with.

    epochs: >= 0, the planned epochs of the whole run; num_steps: >= 1 time steps per image;
    lr: > 0, the peak learning rate; schedule: one of :data:`SCHEDULES`, how the learning rate
    changes batch by batch (:func:`~snn_helpers.core.training.lr_factor`). The defaults are the seed project's.

    >>> TrainSettings(epochs=3, schedule="cosine").plan()
    {'num_steps': 10, 'lr': 0.001, 'schedule': 'cosine', 'schedule_epochs': 3}
    >>> TrainSettings(lr=0)
    Traceback (most recent call last):
    ...
    ValueError: lr must be in (0.0, inf), got 0.0
    """
    epochs: int = 5
    num_steps: int = 10
    lr: float = 1e-3
    schedule: str = "constant"

    def __post_init__(self):
        _fix(self, "epochs", check_int("epochs", self.epochs, 0))
        _fix(self, "num_steps", check_int("num_steps", self.num_steps, 1))
        _fix(self, "lr", check_float("lr", self.lr, 0.0, low_open=True))
        check_choice("schedule", self.schedule, SCHEDULES)

    def as_dict(self) -> dict:
        """The settings as a plain dict (checkpoints store it under ``"train_settings"``)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, settings: dict) -> TrainSettings:
        """The settings :meth:`as_dict` gave (an unknown key is a ValueError)."""
        return cls(**_keys("train settings", settings, _fields(cls)))

    def plan(self) -> dict:
        """What a run resumed from a checkpoint must share with it: all but ``epochs``, which
        only a schedule other than ``constant`` depends on (as ``schedule_epochs``; ``None`` otherwise)."""
        return {"num_steps": self.num_steps, "lr": self.lr, "schedule": self.schedule,
                "schedule_epochs": None if self.schedule == "constant" else self.epochs}
