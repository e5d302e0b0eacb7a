"""Figures and animations for the notebooks and the README.

Every function draws tensors it is given; nothing here loads data or trains.
Figure functions return the matplotlib ``Figure`` (the notebook shows it);
:func:`save_figure` writes one atomically. The animation functions save a GIF
through Pillow (and an MP4 only when an ``ffmpeg`` binary is on PATH), then
close their figure and return the paths they wrote.

The examples use this module's names and ``torch``; each closes its figure
(``plt.close(fig)``) and writes files only into a temporary folder.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import animation
from matplotlib.colors import ListedColormap
from matplotlib.ticker import MaxNLocator

from ._checks import check_choice, check_float, check_int, check_tensor
from .atomic import atomic_path
from .encoding import CODE_NAMES
from .neurons import LIF, SURROGATES, after_reset

SIDE = 28  # MNIST images are SIDE x SIDE pixels


def _numpy(name: str, value, ndim: int | None = None) -> np.ndarray:
    """A tensor (or array) as a float numpy array, checked for rank."""
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    if isinstance(value, torch.Tensor) and not value.is_floating_point():
        value = value.float()
    check_tensor(name, value, ndim=ndim)
    return value.detach().cpu().numpy()


def _image(name: str, image) -> np.ndarray:
    """One digit as a ``[28, 28]`` array; accepts ``[28, 28]``, ``[1, 28, 28]`` or ``[784]``."""
    array = _numpy(name, image)
    if array.size != SIDE * SIDE:
        raise ValueError(f"{name} must hold {SIDE * SIDE} pixels, got shape {array.shape}")
    return array.reshape(SIDE, SIDE)


def _axes(ax, figsize):
    """``(figure, axes)``: the given axes and its figure, or a new figure of ``figsize``."""
    if ax is None:
        return plt.subplots(figsize=figsize)
    return ax.figure, ax


def save_figure(fig, path, dpi: int = 110) -> Path:
    """Write ``fig`` to ``path`` (format from the extension) via a temporary file; return the path.

    fig: a matplotlib ``Figure``. path: str or path ending in ``.png``, ``.svg``,
    ``.pdf``, ... dpi: dots per inch of a raster format.

    >>> import tempfile
    >>> fig = loss_curve([2.3, 1.1])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     print(save_figure(fig, Path(folder) / "loss.png", dpi=30).name)
    loss.png
    >>> plt.close(fig)
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
    return path


def pixel_grid(image, title: str = "Pixel intensities"):
    """One digit as a grid with each intensity written in its cell.

    image: ``[28, 28]``, ``[1, 28, 28]`` or ``[784]`` float tensor in [0, 1].

    >>> fig = pixel_grid(torch.zeros(1, 28, 28))
    >>> len(fig.axes[0].texts)  # one number per pixel
    784
    >>> plt.close(fig)
    """
    array = _image("image", image)
    fig, ax = plt.subplots(figsize=(8.5, 8.5))
    ax.imshow(array, cmap="Blues", vmin=0, vmax=1)
    for row in range(SIDE):
        for col in range(SIDE):
            value = array[row, col]
            ax.text(col, row, "0" if value == 0 else f"{value:.2f}", ha="center", va="center",
                    fontsize=4.2, color="white" if value > 0.5 else ("0.6" if value == 0 else "black"))
    ax.set_title(title)
    ax.set_xticks(range(0, SIDE, 4))
    ax.set_yticks(range(0, SIDE, 4))
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    return fig


def raster(spikes, title: str = "Poisson spikes", ax=None):
    """Spike raster: time step (rows) against flattened pixel index (columns).

    spikes: ``[T, 784]`` or ``[T, 1, 28, 28]`` (one image). Pixel ``(row, col)``
    sits at index ``row * 28 + col``, so a vertical stroke repeats every 28 columns.
    Values are 0 or 1. ax: draw into these axes (``None``: a new figure).

    >>> _ = torch.manual_seed(0)
    >>> fig = raster((torch.rand(10, 784) < 0.2).float())
    >>> fig.axes[0].get_ylabel()
    'time step'
    >>> plt.close(fig)
    """
    return _draw_raster(_raster_array(spikes), "Greys", 0, title, ax)


def rate_image(rates, title: str = "Firing rate", ax=None):
    """Per-pixel firing rate (spikes / time steps) as an image on [0, 1], with a colour bar.

    rates: ``[28, 28]``, ``[1, 28, 28]`` or ``[784]`` float tensor in [0, 1], e.g.
    ``spikes.mean(0)``. ax: draw into these axes (``None``: a new figure).

    >>> spikes = (torch.rand(20, 28, 28) < 0.5).float()
    >>> fig = rate_image(spikes.mean(0))
    >>> len(fig.axes)  # the image and its colour bar
    2
    >>> plt.close(fig)
    """
    array = _image("rates", rates)
    fig, ax = _axes(ax, (4, 4))
    shown = ax.imshow(array, cmap="magma", vmin=0, vmax=1)
    fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.04, label="spikes per step")
    ax.set_title(title)
    ax.axis("off")
    return fig


def rate_vs_intensity(intensity, rate, num_steps: int, bins: int = 20):
    """Firing rate against pixel intensity, binned, with the identity line.

    intensity, rate: ``[N]`` (one entry per pixel). Each bin shows the mean
    rate and the ±2 standard-error band a rate over ``num_steps`` steps should fall in:
    a pixel of intensity ``p`` fires ``Binomial(num_steps, p)`` times, so its rate has
    mean ``p`` and standard error ``sqrt(p (1 - p) / num_steps)``.

    intensity, rate: ``[N]`` float tensors in [0, 1]. num_steps: at least 1.
    bins: number of equal bins over [0, 1], at least 1.

    >>> intensity = torch.rand(784)
    >>> rate = (torch.rand(50, 784) < intensity).float().mean(0)
    >>> fig = rate_vs_intensity(intensity, rate, num_steps=50)
    >>> fig.axes[0].get_xlabel()
    'pixel intensity'
    >>> plt.close(fig)
    """
    intensity, rate = _numpy("intensity", intensity, 1), _numpy("rate", rate, 1)
    if intensity.shape != rate.shape:
        raise ValueError(f"intensity and rate must have the same length, got {len(intensity)} and {len(rate)}")
    num_steps = check_int("num_steps", num_steps, 1)
    edges = np.linspace(0, 1, check_int("bins", bins, 1) + 1)
    which = np.clip(np.digitize(intensity, edges) - 1, 0, bins - 1)
    used = [b for b in range(bins) if (which == b).any()]
    centre = np.array([intensity[which == b].mean() for b in used])
    mean_rate = np.array([rate[which == b].mean() for b in used])
    fig, ax = plt.subplots(figsize=(5, 4.5))
    grid = np.linspace(0, 1, 101)
    band = 2 * np.sqrt(grid * (1 - grid) / num_steps)
    ax.fill_between(grid, grid - band, grid + band, color="C0", alpha=0.15,
                    label=f"±2 s.e. of one pixel over {num_steps} steps")
    ax.plot(grid, grid, color="C0", lw=1, label="rate = intensity")
    ax.plot(centre, mean_rate, "o", color="C3", label="measured (mean per bin)")
    ax.set_xlabel("pixel intensity")
    ax.set_ylabel("firing rate (spikes per step)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left", fontsize=8)
    return fig


def lif_trace(currents, potentials, spikes, neuron: LIF, title: str = "LIF neuron", ax=None):
    """Membrane of one neuron over time, with input, threshold and spikes.

    currents ``I[t]``, potentials ``U[t]`` (before reset), spikes ``S[t]``: ``[T]`` each, as
    ``neuron(currents.reshape(-1, 1, 1))`` gives them; ``neuron``: the
    :class:`~snn_helpers.neurons.LIF` that produced them, whose threshold and reset are drawn.
    Dots mark ``U[t]``; at a spike the line drops to the membrane after the reset,
    ``M[t]`` (:func:`~snn_helpers.neurons.after_reset`), and climbs from there, so leak,
    threshold and reset are all visible. Returns the figure.

    >>> lif = LIF(beta=0.9, reset="subtract")
    >>> spikes, potentials = lif(torch.full((8, 1, 1), 0.4))
    >>> fig = lif_trace(torch.full((8,), 0.4), potentials.flatten(), spikes.flatten(), lif)
    >>> plt.close(fig)
    """
    currents = _numpy("currents", currents, 1)
    potentials = _numpy("potentials", potentials, 1)
    spikes = _numpy("spikes", spikes, 1)
    if not currents.shape == potentials.shape == spikes.shape:
        raise ValueError(f"currents, potentials and spikes must have the same shape [T], got "
                         f"{currents.shape}, {potentials.shape}, {spikes.shape}")
    if not isinstance(neuron, LIF):
        raise TypeError(f"neuron must be a snn_helpers.LIF, got {type(neuron).__name__}")
    threshold, reset = neuron.threshold, neuron.reset
    steps = np.arange(len(potentials))
    after = after_reset(potentials, spikes, threshold, reset)  # M[t]
    fig, ax = _axes(ax, (10, 3.2))
    ax.bar(steps, currents, width=0.8, color="0.8", label="input current I[t]")
    ax.plot(np.repeat(steps, 2), np.column_stack([potentials, after]).ravel(), color="C0",
            lw=1.5, label=f"membrane: U[t] → M[t] (reset: {reset})")
    ax.plot(steps, potentials, "o", color="C0", ms=3, label="U[t]: potential before reset")
    ax.axhline(threshold, color="C3", ls="--", lw=1, label=f"threshold θ = {threshold:g}")
    fired = steps[spikes > 0]
    top = max(threshold, float(potentials.max(initial=0))) * 1.12
    ax.plot(fired, np.full(len(fired), top), "|", color="C3", ms=12, mew=2, label="spike")
    ax.set_ylim(min(0.0, float(currents.min(initial=0)), float(after.min(initial=0))) - 0.05, top * 1.08)
    ax.set_xlim(-1, len(steps))
    ax.set_xlabel("time step t")
    ax.set_ylabel("potential")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return fig


def surrogate_plot(threshold: float = 1.0, slopes=(5.0, 10.0, 25.0), surrogate: str = "sigmoid"):
    """Heaviside step (the forward spike) beside the surrogate derivative used backward.

    Forward ``S = H(U - θ)`` (1 when ``U >= θ``); its true derivative is 0 except at
    ``θ``, so learning uses a smooth surrogate ``dS/dU ≈ f(U - θ, slope)`` instead,
    steeper and narrower for a larger slope.

    threshold: ``θ > 0``. slopes: one curve per slope, each ``> 0``.
    surrogate: a name from :data:`~snn_helpers.neurons.SURROGATES`.

    >>> fig = surrogate_plot(slopes=(5.0, 25.0))
    >>> [text.get_text() for text in fig.axes[1].get_legend().get_texts()]
    ['true derivative (0; infinite at θ)', 'sigmoid surrogate, slope 5', 'sigmoid surrogate, slope 25']
    >>> plt.close(fig)
    """
    threshold = check_float("threshold", threshold, 0.0, low_open=True)
    check_choice("surrogate", surrogate, SURROGATES)
    slopes = [check_float(f"slopes[{i}]", s, 0.0, low_open=True) for i, s in enumerate(slopes)]
    u = torch.linspace(threshold - 1.5, threshold + 1.5, 601)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    left.plot(u, (u >= threshold).float(), color="k", lw=2, drawstyle="steps-post")
    left.set_title("forward: spike S = H(U − θ)")
    left.set_ylabel("S")
    right.axhline(0, color="k", lw=2, label="true derivative (0; infinite at θ)")
    right.annotate("", xy=(threshold, 0.95), xytext=(threshold, 0.0),
                   xycoords=("data", "axes fraction"), textcoords=("data", "axes fraction"),
                   arrowprops={"arrowstyle": "->", "color": "k"})
    for slope in slopes:
        right.plot(u, SURROGATES[surrogate](u - threshold, slope), lw=1.5,
                   label=f"{surrogate} surrogate, slope {slope:g}")
    right.set_title("backward: dS/dU used for learning")
    right.set_ylim(-0.02, 1.6 * max(float(SURROGATES[surrogate](torch.zeros(1), s)) for s in slopes))
    right.legend(fontsize=7, loc="upper left")
    for ax in (left, right):
        ax.axvline(threshold, color="C3", ls="--", lw=1)
        ax.set_xlabel("membrane potential U (θ dashed)")
    return fig


def loss_curve(history, title: str = "Training loss"):
    """Mean training loss per epoch (``history[i]`` is epoch ``i + 1``).

    history: a non-empty list of finite numbers, e.g. what ``fit`` returns.

    >>> fig = loss_curve([2.3, 1.2, 0.9])
    >>> fig.axes[0].get_xticks().tolist()
    [1, 2, 3]
    >>> plt.close(fig)
    """
    values = [check_float(f"history[{i}]", v) for i, v in enumerate(history)]
    if not values:
        raise ValueError("history must hold at least one epoch's loss, got an empty list")
    fig, ax = plt.subplots(figsize=(6, 4))
    epochs = range(1, len(values) + 1)
    ax.plot(epochs, values, "o-")
    ax.set_xticks(list(epochs))
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean cross-entropy loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return fig


def spike_count_bars(counts, label: int | None = None, title: str = "Output spike counts", ax=None):
    """Bar chart of the output spike count of each class; the true label's bar is green.

    counts: ``[C]`` tensor of spike counts (``spikes.sum(0)`` of one image).
    label: the true class in ``0..C-1``, or ``None``. ax: draw into these axes (``None``: a new figure).

    >>> fig = spike_count_bars(torch.tensor([0.0, 3.0, 1.0]), label=1)
    >>> [int(bar.get_height()) for bar in fig.axes[0].patches]
    [0, 3, 1]
    >>> plt.close(fig)
    """
    counts = _numpy("counts", counts, 1)
    fig, ax = _axes(ax, (6, 3.6))
    ax.bar(range(len(counts)), counts, color=_bar_colors(len(counts), label))
    ax.set_xticks(range(len(counts)))
    ax.set_xlabel("output neuron (class)")
    ax.set_ylabel("spike count")
    ax.set_ylim(0, max(1.0, float(counts.max())) * 1.15)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title)
    return fig


def _bar_colors(n: int, label: int | None) -> list[str]:
    return ["C2" if i == label else "C0" for i in range(n)]


def output_traces(potentials, spikes, threshold: float, label: int | None = None):
    """Membrane potential (before reset) of each output neuron over time, one small panel each.

    potentials, spikes: ``[T, C]`` float tensors for one input image (spikes 0 or 1).
    threshold: ``> 0``, drawn dashed. label: the true class, drawn in green, or ``None``.

    >>> spikes = torch.zeros(20, 2)
    >>> spikes[5, 1] = 1.0
    >>> fig = output_traces(torch.rand(20, 2), spikes, threshold=1.0, label=1)
    >>> [ax.get_title() for ax in fig.axes]
    ['neuron 0: 0 spikes', 'neuron 1: 1 spikes']
    >>> plt.close(fig)
    """
    potentials = _numpy("potentials", potentials, 2)
    spikes = _numpy("spikes", spikes, 2)
    if potentials.shape != spikes.shape:
        raise ValueError(f"potentials and spikes must have the same shape [T, C], got "
                         f"{potentials.shape} and {spikes.shape}")
    threshold = check_float("threshold", threshold, 0.0, low_open=True)
    classes = potentials.shape[1]
    cols = min(classes, 5)
    rows = -(-classes // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.4 * cols, 2.0 * rows), sharex=True, sharey=True,
                             squeeze=False)
    steps = np.arange(potentials.shape[0])
    for c, ax in enumerate(axes.flat):
        if c >= classes:
            ax.axis("off")
            continue
        ax.plot(steps, potentials[:, c], color="C2" if c == label else "C0", lw=1.2)
        ax.axhline(threshold, color="C3", ls="--", lw=0.8)
        ax.plot(steps[spikes[:, c] > 0], np.full(int((spikes[:, c] > 0).sum()), threshold), "|",
                color="C3", ms=8)
        ax.set_title(f"neuron {c}: {int(spikes[:, c].sum())} spikes", fontsize=8)
    fig.supxlabel("time step t")
    fig.supylabel("membrane U[t]")
    fig.tight_layout()
    return fig


def confusion_counts(preds, truth, num_classes: int = 10) -> torch.Tensor:
    """``[C, C]`` counts: entry ``[i, j]`` is how many images of class ``i`` were predicted ``j``.

    ``counts[i, j] = #{n : truth[n] = i and preds[n] = j}``; row ``i`` sums to the
    number of images of class ``i``, the diagonal holds the correct predictions.

    preds, truth: integer tensors ``[N]`` with values in ``[0, num_classes)``.
    num_classes: ``C``, at least 1. Returns an int64 tensor ``[C, C]``.

    >>> confusion_counts(torch.tensor([0, 1, 1, 2]), torch.tensor([0, 1, 2, 2]), num_classes=3)
    tensor([[1, 0, 0],
            [0, 1, 0],
            [0, 1, 1]])
    """
    num_classes = check_int("num_classes", num_classes, 1)
    for name, value in (("preds", preds), ("truth", truth)):
        if not isinstance(value, torch.Tensor) or value.dim() != 1 or value.is_floating_point():
            raise TypeError(f"{name} must be a 1-D integer tensor")
        if value.numel() and (value.min() < 0 or value.max() >= num_classes):
            raise ValueError(f"{name} must hold classes in [0, {num_classes - 1}]")
    if len(preds) != len(truth):
        raise ValueError(f"preds and truth must have the same length, got {len(preds)} and {len(truth)}")
    flat = truth.long() * num_classes + preds.long()
    return torch.bincount(flat, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def confusion_matrix(counts, title: str = "Confusion matrix"):
    """Heat map of ``[C, C]`` counts (rows: true class, columns: predicted), numbers in the cells.

    counts: ``[C, C]`` tensor, e.g. from :func:`confusion_counts`.

    >>> fig = confusion_matrix(torch.tensor([[5, 1], [2, 4]]))
    >>> [text.get_text() for text in fig.axes[0].texts]
    ['5', '1', '2', '4']
    >>> plt.close(fig)
    """
    counts = _numpy("counts", counts, 2)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    shown = ax.imshow(counts, cmap="Blues")
    fig.colorbar(shown, ax=ax, label="images")
    big = counts.max() / 2 if counts.size else 0
    for (i, j), value in np.ndenumerate(counts):
        ax.text(j, i, f"{int(value)}", ha="center", va="center", fontsize=7,
                color="white" if value > big else "black")
    ax.set_xticks(range(counts.shape[1]))
    ax.set_yticks(range(counts.shape[0]))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    return fig


def _save_animation(fig, update, frames: int, targets, fps: float) -> list[Path]:
    """Render ``update(frame)`` for each frame to every target (.gif or .mp4), then close ``fig``."""
    written = []
    try:
        fps = check_float("fps", fps, 0.0, low_open=True)
        targets = [Path(target) for target in targets]
        for target in targets:
            check_choice("path suffix", target.suffix.lower(), (".gif", ".mp4"))
        anim = animation.FuncAnimation(fig, update, frames=frames, blit=False, repeat=False)
        for target in targets:
            writer = (animation.PillowWriter(fps=fps) if target.suffix.lower() == ".gif"
                      else animation.FFMpegWriter(fps=fps, codec="libx264", extra_args=["-pix_fmt", "yuv420p"]))
            with atomic_path(target) as tmp:
                anim.save(tmp, writer=writer)
            written.append(target)
    finally:
        plt.close(fig)
    return written


def _with_mp4(gif_path, mp4_path) -> list[Path]:
    """The GIF target, plus the MP4 one when given and an ffmpeg binary is on PATH."""
    return [Path(gif_path)] + ([Path(mp4_path)] if mp4_path is not None and shutil.which("ffmpeg") else [])


def encoding_animation(spikes, gif_path, fps: float = 5) -> list[Path]:
    """GIF of one digit spiking: the spikes at step t beside the running firing rate so far.

    spikes: ``[T, 28, 28]`` or ``[T, 1, 28, 28]`` float tensor of 0s and 1s (one frame per step).
    gif_path: str or path of the GIF. fps: frames per second, ``> 0``. Returns ``[gif_path]``.

    >>> import tempfile
    >>> spikes = (torch.rand(2, 28, 28) < 0.5).float()
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     print([path.name for path in encoding_animation(spikes, Path(folder) / "digit.gif")])
    ['digit.gif']
    """
    array = _numpy("spikes", spikes)
    if array.ndim < 2 or array[0].size != SIDE * SIDE:
        raise ValueError(f"spikes must have shape [T, 28, 28] or [T, 1, 28, 28], got {array.shape}")
    array = array.reshape(-1, SIDE, SIDE)
    running = np.cumsum(array, axis=0) / np.arange(1, len(array) + 1)[:, None, None]
    fig, (now, so_far) = plt.subplots(1, 2, figsize=(4.6, 2.5))
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.88, wspace=0.06)
    left = now.imshow(array[0], cmap="gray", vmin=0, vmax=1)
    right = so_far.imshow(running[0], cmap="magma", vmin=0, vmax=1)
    for ax in (now, so_far):
        ax.axis("off")

    def update(t):
        left.set_array(array[t])
        right.set_array(running[t])
        now.set_title(f"spikes at step {t}", fontsize=9)
        so_far.set_title(f"rate over steps 0–{t}", fontsize=9)
        return left, right

    update(0)
    return _save_animation(fig, update, len(array), [gif_path], fps)


def top_classes(counts) -> list[int]:
    """The classes that share the largest count in ``counts [C]``, lowest first.

    One class: a clear winner. Several: a tie, which ``argmax`` settles by
    naming the lowest of them.

    >>> top_classes(torch.tensor([0, 4, 1, 4]))
    [1, 3]
    """
    array = _numpy("counts", counts, 1)
    if array.size == 0:
        raise ValueError("counts must hold at least one class, got an empty array")
    return [int(c) for c in np.flatnonzero(array == array.max())]


def describe_leader(counts) -> str:
    """Who leads in ``counts [C]``, in words: "leading class 3", "tied: 3, 9" or "no spikes yet".

    >>> describe_leader(torch.tensor([0, 4, 1]))
    'leading class 1'
    >>> describe_leader(torch.tensor([2, 0, 2]))
    'tied: 0, 2'
    >>> describe_leader(torch.zeros(3))
    'no spikes yet'
    """
    leaders = top_classes(counts)
    if not _numpy("counts", counts, 1).any():
        return "no spikes yet"
    if len(leaders) == 1:
        return f"leading class {leaders[0]}"
    return "tied: " + ", ".join(str(c) for c in leaders)


def tie_note(counts) -> str:
    """What ``argmax`` hides when classes share the top count of ``counts [C]``; ``""`` for a clear winner.

    >>> tie_note(torch.tensor([0, 2, 0, 2]))
    'tie of 1, 3: argmax takes the lowest'
    >>> tie_note(torch.zeros(3))
    'no output spike: all 3 classes tied at 0, argmax takes 0'
    """
    leaders = top_classes(counts)
    if len(leaders) == 1:
        return ""
    if not _numpy("counts", counts, 1).any():
        return f"no output spike: all {len(leaders)} classes tied at 0, argmax takes 0"
    return f"tie of {', '.join(map(str, leaders))}: argmax takes the lowest"


def spike_count_animation(spikes, label: int | None, gif_path, mp4_path=None, fps: float = 8) -> list[Path]:
    """Animated bar chart of cumulative output spike counts over time for one image.

    spikes: ``[T, C]`` output spikes. Writes ``gif_path`` and, when an ffmpeg
    binary is on PATH and ``mp4_path`` is given, an MP4 too. Returns the paths written.
    label: the true class, drawn in green, or ``None``. fps: frames per second, ``> 0``.

    >>> import tempfile
    >>> spikes = torch.eye(2)  # step t: only class t fires
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     print([path.name for path in spike_count_animation(spikes, 0, Path(folder) / "counts.gif")])
    ['counts.gif']
    """
    array = _numpy("spikes", spikes, 2)
    cumulative = np.cumsum(array, axis=0)
    steps, classes = array.shape
    fig, ax = plt.subplots(figsize=(6, 3.8))
    bars = ax.bar(range(classes), cumulative[0], color=_bar_colors(classes, label))
    ax.set_xticks(range(classes))
    ax.set_ylim(0, max(1.0, float(cumulative[-1].max())) * 1.15)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("output neuron (class)")
    ax.set_ylabel("spikes so far")
    truth = "" if label is None else f" — true label {label} (green)"

    def update(t):
        for bar, height in zip(bars, cumulative[t]):
            bar.set_height(height)
        ax.set_title(f"step {t + 1}/{steps}: {describe_leader(cumulative[t])}{truth}", fontsize=10)
        return bars

    update(0)
    return _save_animation(fig, update, steps, _with_mp4(gif_path, mp4_path), fps)


# The three spike codes of notebook 01: rasters with OFF spikes (-1) in red, and per pixel what each code carries.
_SIGNED = ListedColormap(["tab:red", "white", "black"])  # -1 (OFF), 0, 1


def code_raster(spikes, title: str = "Spikes", ax=None):
    """Raster like :func:`raster` that also shows OFF spikes (value -1, delta code) in red.

    spikes: ``[T, 784]`` or ``[T, 1, 28, 28]`` with values in {-1, 0, 1}.
    ax: draw into these axes (``None``: a new figure).

    >>> spikes = torch.zeros(4, 784)
    >>> spikes[1, :28], spikes[2, :28] = 1.0, -1.0  # the top row switches on, then off
    >>> fig = code_raster(spikes, title="delta code")
    >>> fig.axes[0].get_title()
    'delta code'
    >>> plt.close(fig)
    """
    return _draw_raster(_raster_array(spikes), _SIGNED, -1, title, ax)


def code_image(spikes, code: str, ax=None):
    """What a code's spikes say about each pixel, as a 28 × 28 image.

    ``rate``: spikes per step; ``latency``: the step of each pixel's first spike
    (blank where it never fires); ``delta``: ON and OFF spikes per step (the
    edges that the movement reveals).
    spikes: ``[T, 784]`` or ``[T, 1, 28, 28]`` of one image. code: ``"rate"``,
    ``"latency"`` or ``"delta"``. ax: draw into these axes (``None``: a new figure).

    >>> from snn_helpers.encoding import latency_encode
    >>> fig = code_image(latency_encode(torch.rand(1, 28, 28), 10), "latency")
    >>> fig.axes[1].get_ylabel()  # the colour bar
    'step of the first spike'
    >>> plt.close(fig)
    """
    check_choice("code", code, CODE_NAMES)
    array = _raster_array(spikes)
    fig, ax = _axes(ax, (4, 4))
    if code == "latency":
        first = np.where(array.any(0), np.abs(array).argmax(0), np.nan).reshape(SIDE, SIDE)
        shown = ax.imshow(first, cmap="viridis", vmin=0, vmax=max(1, len(array) - 1))
        label = "step of the first spike"
    else:
        shown = ax.imshow(np.abs(array).mean(0).reshape(SIDE, SIDE), cmap="magma", vmin=0, vmax=1)
        label = "spikes per step" if code == "rate" else "ON + OFF spikes per step"
    fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.04, label=label)
    ax.set_title(f"{code}: per pixel")
    ax.axis("off")
    return fig


def code_rows(codes: dict, title: str | None = None):
    """One row per code: its raster (left) and :func:`code_image` (right), with its spike count.

    codes: maps a code name (``rate``, ``latency``, ``delta``) to the spikes
    ``[T, 1, 28, 28]`` of one image under that code. title: above all rows, or ``None``.

    >>> from snn_helpers.encoding import latency_encode
    >>> image = torch.linspace(0, 1, 784).reshape(1, 28, 28)  # one black pixel, 783 lit
    >>> fig = code_rows({"latency": latency_encode(image, 10)})
    >>> fig.axes[0].get_title()
    'latency code: 783 spikes in 10 steps'
    >>> plt.close(fig)
    """
    if not isinstance(codes, dict) or not codes:
        raise ValueError("codes must be a non-empty dict mapping 'rate', 'latency' or 'delta' to spikes")
    fig, axes = plt.subplots(len(codes), 2, figsize=(12, 3.4 * len(codes)), width_ratios=(3.2, 1),
                             squeeze=False)
    for (code, spikes), (left, right) in zip(codes.items(), axes):
        check_choice("code", code, CODE_NAMES)
        array = _raster_array(spikes)
        code_raster(spikes, f"{code} code: {int(np.abs(array).sum())} spikes in {len(array)} steps", ax=left)
        code_image(spikes, code, ax=right)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _raster_array(spikes) -> np.ndarray:
    """One image's spikes as a ``[T, 784]`` array."""
    array = _numpy("spikes", spikes)
    if array.ndim < 2 or array[0].size != SIDE * SIDE:
        raise ValueError(f"spikes must have shape [T, 784] or [T, 1, 28, 28], got {array.shape}")
    return array.reshape(array.shape[0], -1)


def _draw_raster(array: np.ndarray, cmap, vmin: int, title: str, ax):
    """Draw ``array [T, 784]`` as a raster (time step against flattened pixel index) in colours ``cmap``."""
    fig, ax = _axes(ax, (11, 3.6))
    ax.imshow(array, cmap=cmap, vmin=vmin, vmax=1, aspect="auto", interpolation="nearest",
              extent=(-0.5, array.shape[1] - 0.5, array.shape[0] - 0.5, -0.5))
    ax.set_xticks(range(0, array.shape[1] + 1, 4 * SIDE))
    ax.set_xlabel("flattened pixel index  (row × 28 + column)")
    ax.set_ylabel("time step")
    ax.set_title(title)
    return fig
