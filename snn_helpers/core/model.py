"""The spiking network: fully connected layers, each followed by LIF neurons."""
from __future__ import annotations

import math
import statistics
import time

import torch
from torch import nn
from torch.nn import functional as F

from ..engine import kernels
from ..engine.backend import MEASURED, Engine, check_backend, resolve
from ..system._checks import check_choice, check_int, check_tensor
from .encoding import encode_batch
from .neurons import LIF
from .settings import ModelSettings, NeuronSettings

PRECISIONS = ("fp32", "bf16")


class SNN(nn.Module):
    """A feed-forward SNN, 784-512-256-10 by default: fully connected layers, each followed by LIF neurons.

    Layer ``l`` takes the previous layer's spikes ``x[t]`` and feeds its neurons the
    current ``I_l[t] = x[t] @ W_l.T + b_l`` (:class:`~snn_helpers.core.neurons.LIF`).
    Input: spike trains ``[T, B, 1, 28, 28]`` (or ``[T, B, 784]``).
    Output of ``forward``: output-layer spikes ``[T, B, 10]``. The class
    scores used for the loss and for prediction are the spike counts,
    ``scores(x) = forward(x).sum(0)`` of shape ``[B, 10]``.

    ``backend`` (one of :data:`~snn_helpers.engine.backend.BACKENDS`) picks the engine:
    ``"step"`` runs the step-by-step loop; ``"torch"`` computes each layer's linear
    map once for all time steps and runs the LIF recurrence as one fused node;
    ``"compiled"`` does the same with the compiled kernels of
    :mod:`~snn_helpers.engine.kernels` for the LIF recurrence and for the fp32 products with
    spikes (fp32 CPU only: an error otherwise); ``"auto"`` (the default) is the faster
    of the two on this machine's CPU, measured once by :func:`measure_auto` and cached
    (:mod:`~snn_helpers.engine.backend`), and ``"torch"`` elsewhere. :meth:`engine` says which
    and why. All give the same outputs and gradients up to the rounding of sums.
    ``features`` (optional, in every method that takes ``x``) says that ``x``
    holds only some inputs, ``[T, B, P]`` for the ``P`` input indices in
    ``features``; every other input is zero at every step, and leaving it out
    of the first product changes nothing but the time (see :func:`~snn_helpers.core.encoding.encode_lit`).
    ``precision="bf16"`` runs the matrix products in bfloat16 (autocast) and the
    LIF recurrence in fp32, with every backend: the compiled kernels then run only
    the LIF recurrence (their products take fp32). The LIF settings (``beta``,
    ``threshold``, ``reset``, ``surrogate``, ``slope``) are shared by all layers;
    ``sizes`` lists the layer widths, input first, each >= 1. They are checked once, as the
    :class:`~snn_helpers.core.settings.ModelSettings` ``model.settings``: enough to build the same
    network again, ``SNN(**model.settings.as_dict())`` (not ``precision`` or ``backend``: they
    change how it computes, not what).

    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> model = SNN((20, 8, 3), backend="torch")
    >>> model((torch.rand(5, 2, 20) < 0.5).float()).shape
    torch.Size([5, 2, 3])
    >>> model.settings.sizes, model.settings.neuron.reset
    ((20, 8, 3), 'zero')
    >>> SNN((20, 8, 3), beta=2.0)
    Traceback (most recent call last):
    ...
    ValueError: beta must be in [0.0, 1.0], got 2.0
    """

    def __init__(self, sizes=(784, 512, 256, 10), beta: float = 0.95, threshold: float = 1.0,
                 reset: str = "zero", surrogate: str = "sigmoid", slope: float = 10.0,
                 precision: str = "fp32", backend: str = "auto"):
        super().__init__()
        self.settings = ModelSettings(sizes, NeuronSettings(beta, threshold, reset, surrogate, slope))
        self.sizes = sizes = self.settings.sizes
        self.precision = check_choice("precision", precision, PRECISIONS)
        self.backend = check_backend(backend)
        self.fcs = nn.ModuleList(nn.Linear(n_in, n_out) for n_in, n_out in zip(sizes[:-1], sizes[1:]))
        self.lifs = nn.ModuleList(LIF(**self.settings.neuron.as_dict()) for _ in sizes[1:])

    def _flatten_input(self, x: torch.Tensor, features) -> torch.Tensor:
        check_tensor("x", x)
        width = self.sizes[0] if features is None else len(features)
        if x.dim() < 3 or math.prod(x.shape[2:]) != width:
            what = f"{self.sizes[0]} values per sample" if features is None else \
                f"{width} values per sample (one per entry of features)"
            raise ValueError(f"x must have shape [T, B, ...] with {what}, got shape {tuple(x.shape)}")
        return x.flatten(2)

    def _check_features(self, features):
        """``features`` as a 1-D integer tensor on the weights' device, or None."""
        if features is None:
            return None
        check_tensor("features", features, ndim=1, integer=True)
        if features.numel():  # one reduction and one read-back per batch
            low, high = torch.aminmax(features)
            low, high = low.item(), high.item()
            if low < 0 or high >= self.sizes[0]:
                raise ValueError(f"features must hold input indices in [0, {self.sizes[0] - 1}], "
                                 f"got values in [{low}, {high}]")
        return features.to(self.fcs[0].weight.device)

    @staticmethod
    def _weight(fc: nn.Linear, columns) -> torch.Tensor:
        """``fc.weight``, only the columns in ``columns`` when given."""
        return fc.weight if columns is None else fc.weight.index_select(1, columns)

    def _current(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """``x @ weight.T + bias`` as fp32 ``[..., out]``; in bfloat16 with ``precision="bf16"``."""
        if self.precision == "fp32":
            return F.linear(x, weight, bias)
        with torch.autocast(x.device.type, dtype=torch.bfloat16):
            return F.linear(x, weight, bias).float()

    def engine(self, device: torch.device | str | None = None) -> Engine:
        """The :class:`~snn_helpers.engine.backend.Engine` that :meth:`forward` runs on for fp32 input on
        ``device`` (default: the weights' device): which one and why. With ``backend="auto"`` on a
        CPU this measures the engines the first time on a machine (:func:`measure_auto`).

        >>> SNN((4, 2), backend="step").engine().describe()
        'the step-by-step loop'
        """
        return resolve(self.backend, self.fcs[0].weight.device if device is None else device,
                       measure=measure_auto, precision=self.precision)

    def forward(self, x: torch.Tensor, features: torch.Tensor | None = None, *, record: bool = False):
        """Output spikes ``[T, B, C]``; with ``record=True`` also a dict of per-layer
        ``spikes`` and ``potentials`` (lists of ``[T, B, N_l]``, potentials before reset).

        x: float tensor ``[T, B, ...]`` with ``sizes[0]`` values per sample (``len(features)``
        with ``features``); features: 1-D integer tensor of input indices in ``[0, sizes[0])``, or None.

        >>> out, rec = SNN((6, 4, 2))(torch.ones(3, 1, 6), record=True)
        >>> out.shape, [p.shape[-1] for p in rec["potentials"]]
        (torch.Size([3, 1, 2]), [4, 2])
        """
        x = self._flatten_input(x, features)
        columns = self._check_features(features)
        used = resolve(self.backend, tensor=x, measure=measure_auto, precision=self.precision).name
        if used == "step":
            spikes, potentials = self._forward_step(x, columns)
        else:
            spikes, potentials = self._forward_fused(x, columns, used == "compiled")
        if record:
            return spikes[-1], {"spikes": spikes, "potentials": potentials}
        return spikes[-1]

    def _forward_fused(self, x: torch.Tensor, columns, compiled: bool):
        """Per-layer spikes and potentials: all ``T`` steps' products at once, then each layer's
        LIF recurrence as one :class:`~snn_helpers.core.neurons.FusedLIF` node."""
        spikes, potentials = [], []
        for fc, cols, lif in zip(self.fcs, [columns] + [None] * (len(self.fcs) - 1), self.lifs):
            if compiled and self.precision == "fp32" and fc.out_features % kernels.COLUMN_BLOCK == 0:
                current = kernels.SpikeLinear.apply(x, fc.weight, fc.bias, cols)  # skips silent inputs
            else:
                current = self._current(x, self._weight(fc, cols), fc.bias)  # one product, all T*B rows
            x, potential = lif(current, "compiled" if compiled else "torch")
            spikes.append(x)
            potentials.append(potential)
        return spikes, potentials

    def _forward_step(self, x: torch.Tensor, columns):
        """Per-layer spikes and potentials, one time step and one layer after another (autograd loop)."""
        weights = [self._weight(fc, cols)
                   for fc, cols in zip(self.fcs, [columns] + [None] * (len(self.fcs) - 1))]
        mems = [torch.zeros(x.shape[1], fc.out_features, device=x.device, dtype=x.dtype)
                for fc in self.fcs]
        steps = []
        for x_t in x:
            step_spikes, step_potentials = [], []
            for i, (fc, weight, lif) in enumerate(zip(self.fcs, weights, self.lifs)):
                x_t, potential, mems[i] = lif.step(self._current(x_t, weight, fc.bias), mems[i])
                step_spikes.append(x_t)
                step_potentials.append(potential)
            steps.append((step_spikes, step_potentials))
        spikes = [torch.stack([s[0][i] for s in steps]) for i in range(len(self.fcs))]
        potentials = [torch.stack([s[1][i] for s in steps]) for i in range(len(self.fcs))]
        return spikes, potentials

    def scores(self, x: torch.Tensor, features: torch.Tensor | None = None) -> torch.Tensor:
        """Class scores ``[B, C]``: output spike counts over the ``T`` steps."""
        return self.forward(x, features).sum(0)

    def running_scores(self, x: torch.Tensor, features: torch.Tensor | None = None) -> torch.Tensor:
        """Scores ``[T, B, C]``: entry ``t`` is what :meth:`scores` gives on the first ``t + 1``
        steps of ``x``. The network is causal, so one run of ``T`` steps holds every shorter one."""
        return self.forward(x, features).cumsum(0)


def time_engines(engines=MEASURED, steps: int = 3, rounds: int = 3, like: SNN | None = None,
                 images: torch.Tensor | None = None, labels: torch.Tensor | None = None,
                 num_steps: int = 10, device: torch.device | str = "cpu") -> dict[str, list[float]]:
    """Seconds per training step of each engine in ``engines``, one value per round: the measurement
    behind ``backend="auto"`` (:func:`measure_auto`), and notebook 03's comparison with the step loop.

    Each engine trains its own copy of a network with Adam and cross-entropy on spike counts,
    as :func:`~snn_helpers.core.training.fit` does (``encode_batch``, ``num_steps`` steps). The copies
    start from ``like``'s settings and weights; without ``like``, a 784-512-256-10 SNN with the
    default settings (the baseline recipe's) on 128 synthetic images, in a state like a trained
    model's: weights scaled up and biases lowered so that about an eighth of the neurons fire per
    step and the potentials spread far below the threshold, where the sigmoid surrogate's
    gradients become subnormal floats, as they do after an epoch on MNIST. After one untimed step
    each, ``rounds`` rounds time ``steps`` steps of every engine in turn, so a slow spell of a
    shared machine slows all engines of a round alike. ``like`` is not changed, and the caller's
    random number generators are left as they were.

    engines: names of :data:`~snn_helpers.engine.backend.BACKENDS` (``"auto"`` too); steps, rounds: ``>= 1``;
    images ``[B, 1, 28, 28]`` in [0, 1] and labels ``[B]``: the batch (default: the synthetic one);
    device: where to train. Returns ``{engine: [seconds per step, one per round]}``.
    It times training, so the doctest only checks the shape of the answer on a tiny run:

    >>> times = time_engines(("step", "torch"), steps=1, rounds=2)
    >>> sorted(times), len(times["torch"])
    (['step', 'torch'], 2)
    """
    steps, rounds = check_int("steps", steps, 1), check_int("rounds", rounds, 1)
    engines = [check_backend(name) for name in engines]
    with torch.random.fork_rng(devices=[]), torch.inference_mode(False), torch.enable_grad():
        gen = torch.Generator().manual_seed(0)
        if images is None:
            window = torch.zeros(28, 28, dtype=torch.bool)
            window[3:25, 4:24] = True
            lit = (torch.rand(128, 1, 28, 28, generator=gen) < 0.3) & window
            images = lit * torch.where(torch.rand(lit.shape, generator=gen) < 0.5, 1.0,
                                       torch.rand(lit.shape, generator=gen))
            labels = torch.randint(0, 10, (128,), generator=gen)
        labels = labels.to(device)
        runs = {}
        for name in engines:
            torch.manual_seed(0)
            model = SNN(**(like.settings.as_dict() if like is not None else {}), backend=name)
            if like is not None:
                model.load_state_dict(like.state_dict())
            else:
                with torch.no_grad():
                    for fc in model.fcs:
                        fc.weight.mul_(4.0)
                        fc.bias.sub_(0.2)
            model.to(device).train()
            runs[name] = (model, torch.optim.Adam(model.parameters(), lr=1e-3, fused=True))

        def train_step(model, optimizer):
            loss = F.cross_entropy(model.scores(*encode_batch(images, num_steps, gen, device)), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss.item()  # waits for a GPU to finish

        for model, optimizer in runs.values():
            train_step(model, optimizer)
        times = {name: [] for name in runs}
        for _ in range(rounds):
            for name, (model, optimizer) in runs.items():
                start = time.perf_counter()
                for _ in range(steps):
                    train_step(model, optimizer)
                times[name].append((time.perf_counter() - start) / steps)
    return times


def measure_auto() -> dict[str, float]:
    """What ``backend="auto"`` chooses by: the median seconds per step of :func:`time_engines` for
    the engines of :data:`~snn_helpers.engine.backend.MEASURED`, on the CPU, on the synthetic trained-like state.
    It times training, so the doctest only checks the keys:

    >>> from snn_helpers.engine import kernels
    >>> if kernels.library() is not None:
    ...     assert sorted(measure_auto()) == ["compiled", "torch"]
    """
    return {name: statistics.median(values) for name, values in time_engines().items()}
