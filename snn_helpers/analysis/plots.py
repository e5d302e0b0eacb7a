"""Figures and animations for the notebooks and the README.

Every function draws tensors it is given; nothing here loads data or trains.
Figure functions return a :class:`DescribedFigure`: a matplotlib ``Figure`` that
carries a text alternative written from the numbers it drew (what is plotted and
what a sighted reader takes from it). A notebook shows it as an ``<img>`` with
that ``alt`` text, which JupyterLab, nbconvert and the website all read.
:func:`save_figure` writes one atomically. The animation functions save a GIF
through Pillow that plays :data:`GIF_LOOPS` times and then stops (and an MP4 only
when an ``ffmpeg`` binary is on PATH), close their figure and return an
:class:`Animation`: the paths they wrote, with the animation's description.

Colours come from the Okabe–Ito palette, which stays distinguishable for the
common colour-vision deficiencies; lines also differ by style or marker, and a
highlighted bar is hatched, so that no reading depends on colour alone (nor on
a colour printer).

The examples use this module's names and ``torch``; each closes its figure
(``plt.close(fig)``) and writes files only into a temporary folder.
"""
from __future__ import annotations

import base64
import html
import shutil
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import animation
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..core.encoding import CODE_NAMES
from ..core.neurons import LIF, SURROGATES, after_reset
from ..core.readout import describe_leader, top_classes
from ..system._checks import check_choice, check_float, check_int, float_array
from ..system.atomic import atomic_path

SIDE = 28  # MNIST images are SIDE x SIDE pixels
# The Okabe-Ito colours (Okabe and Ito 2008), told apart with the common colour-vision deficiencies.
BLUE, ORANGE, VERMILION, GREEN, SKY, PURPLE = "#0072B2", "#E69F00", "#D55E00", "#009E73", "#56B4E9", "#CC79A7"
LINE_STYLES = ("-", "--", ":", "-.")  # one per curve where several share an axes
HIGHLIGHT = {"facecolor": ORANGE, "hatch": "//", "edgecolor": "black"}  # the true label's bar (black hatch)
GIF_LOOPS = 3  # a GIF plays this many times, then stays on its last frame


class DescribedFigure(Figure):
    """A matplotlib ``Figure`` with a text alternative: what it plots, and what a reader takes from it.

    :attr:`description` is the summary set by :meth:`describe` followed by each
    described axes' sentence, in the order of the figure's axes. In IPython the
    figure displays as HTML, an ``<img>`` with that description as ``alt`` (which
    JupyterLab, nbconvert and the website use), beside the PNG, whose metadata
    holds the description too. A figure without a description displays as any
    matplotlib figure. Make one with :func:`subplots`.

    >>> fig, ax = subplots()
    >>> fig.describe("A test figure.")
    >>> fig.describe("A line from 0 to 1.", ax=ax)
    >>> _ = ax.plot([0, 1])
    >>> fig.description
    'A test figure. A line from 0 to 1.'
    >>> data, metadata = fig._repr_mimebundle_()
    >>> 'alt="A test figure. A line from 0 to 1."' in data["text/html"], metadata["image/png"]["alt"][:6]
    (True, 'A test')
    >>> plt.close(fig)
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._summary = ""
        self._panels = {}  # axes -> its sentence

    def describe(self, text: str, ax=None) -> None:
        """Set the summary (``ax=None``) or the sentence of one of this figure's axes; ``""`` clears it.

        text: plain text, one or more whole sentences; ax: ``None`` or an axes of this figure.

        >>> fig, (left, right) = subplots(1, 2)
        >>> fig.describe("Right: empty.", ax=right)
        >>> fig.describe("Left: empty.", ax=left)
        >>> fig.description  # in the order of the axes
        'Left: empty. Right: empty.'
        >>> plt.close(fig)
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a string, got {type(text).__name__}")
        if ax is None:
            self._summary = text.strip()
        elif ax not in self.axes:
            raise ValueError("ax must be one of this figure's axes")
        else:
            self._panels[ax] = text.strip()

    @property
    def description(self) -> str:
        """The text alternative: the summary, then each described axes' sentence ("" if none)."""
        parts = [self._summary] + [self._panels[ax] for ax in self.axes if ax in self._panels]
        return " ".join(part for part in parts if part)

    def _repr_mimebundle_(self, include=None, exclude=None):
        """IPython's display: PNG and an HTML ``<img>`` with the description as ``alt``; None without one."""
        from IPython.core.pylabtools import print_figure  # the inline backend's own renderer

        text = self.description
        png = print_figure(self, "png") if text else None
        if png is None:  # no description, or nothing drawn: IPython's usual display
            return None
        data = base64.b64encode(png).decode("ascii")
        return ({"image/png": data, "text/html": img_html(f"data:image/png;base64,{data}", text)},
                {"image/png": {"alt": text}})


def subplots(*args, **kwargs):
    """``plt.subplots`` whose figure is a :class:`DescribedFigure`; the same arguments and return value.

    >>> fig, axes = subplots(1, 2, figsize=(4, 2))
    >>> type(fig).__name__, len(axes)
    ('DescribedFigure', 2)
    >>> plt.close(fig)
    """
    return plt.subplots(*args, FigureClass=DescribedFigure, **kwargs)


def figure_description(fig) -> str:
    """The text alternative of ``fig``: its :attr:`DescribedFigure.description`; ``""`` for any other figure.

    >>> fig = loss_curve([2.3, 1.1])
    >>> figure_description(fig)
    'Training loss. The mean cross-entropy loss per epoch over 2 epochs, from 2.300 after epoch 1 to 1.100 after epoch 2.'
    >>> plt.close(fig)
    """
    return fig.description if isinstance(fig, DescribedFigure) else ""


def img_html(src: str, alt: str) -> str:
    """An HTML ``<img>`` of ``src`` (a URL or ``data:`` URI) with ``alt`` as its text alternative, both escaped.

    >>> img_html("a.png", 'Bars "0" & "1"')
    '<img src="a.png" alt="Bars &quot;0&quot; &amp; &quot;1&quot;">'
    """
    return f'<img src="{html.escape(src)}" alt="{html.escape(alt)}">'


def _describe(ax, text: str) -> None:
    """Give ``ax`` its sentence when its figure is a :class:`DescribedFigure` (any other figure keeps none)."""
    if isinstance(ax.figure, DescribedFigure):
        ax.figure.describe(text, ax=ax)


def _one_line(title: str) -> str:
    """A title as one line of text (a two-line title's lines joined by a semicolon)."""
    return "; ".join(part.strip() for part in str(title).splitlines() if part.strip())


def _titled(title: str, text: str) -> str:
    """``text`` after the figure's title, the title made a sentence of its own (nothing for no title)."""
    title = _one_line(title or "")
    return f"{title}{'' if title[-1:] in '.!?' else '.'} {text}" if title else text


def _span(values) -> str:
    """``"3"`` or ``"3–17"``: the smallest and largest of a non-empty sequence of integers."""
    low, high = int(min(values)), int(max(values))
    return f"{low}" if low == high else f"{low}–{high}"


def _and(items) -> str:
    """``"5"``, ``"5 and 10"``, ``"5, 10 and 25"``."""
    items = [str(item) for item in items]
    return " and ".join(items) if len(items) < 3 else ", ".join(items[:-1]) + " and " + items[-1]


def _times(count: int) -> str:
    """``"once"``, ``"twice"``, ``"5 times"``."""
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def _image(name: str, image) -> np.ndarray:
    """One digit as a ``[28, 28]`` array; accepts ``[28, 28]``, ``[1, 28, 28]`` or ``[784]``."""
    array = float_array(name, image)
    if array.size != SIDE * SIDE:
        raise ValueError(f"{name} must hold {SIDE * SIDE} pixels, got shape {array.shape}")
    return array.reshape(SIDE, SIDE)


def _axes(ax, figsize):
    """``(figure, axes)``: the given axes and its figure, or a new figure of ``figsize``."""
    if ax is None:
        return subplots(figsize=figsize)
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
    fig, ax = subplots(figsize=(8.5, 8.5))
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
    lit = array > 0
    if lit.any():
        rows, cols = np.flatnonzero(lit.any(1)), np.flatnonzero(lit.any(0))
        full = int((array >= 1).sum())
        found = (f"{int(lit.sum())} of the 784 pixels are lit (above 0), "
                 + (f"{full} of them at full intensity 1.00" if full else f"the brightest at {array.max():.2f}")
                 + f"; they fill rows {_span(rows)} and columns {_span(cols)}, and every other pixel is 0.")
    else:
        found = "All 784 pixels are 0."
    _describe(ax, _titled(title, f"A 28 × 28 grid of a digit's pixels, each cell showing its intensity from 0 "
                                 f"to 1. {found}"))
    return fig


def raster(spikes, title: str = "Poisson spikes", ax=None):
    """Spike raster: time step (rows) against flattened pixel index (columns).

    spikes: ``[T, 784]`` or ``[T, 1, 28, 28]`` (one image). Pixel ``(row, col)``
    sits at index ``row * 28 + col``, so a vertical stroke repeats every 28 columns.
    Values are 0 or 1. ax: draw into these axes (``None``: a new figure).

    >>> spikes = torch.zeros(10, 784)
    >>> spikes[::2, 28 * 5 + 3] = spikes[1::2, 28 * 6 + 3] = 1.0  # a short stroke down column 3
    >>> fig = raster(spikes)
    >>> fig.axes[0].get_ylabel()
    'time step'
    >>> print(figure_description(fig))  # doctest: +NORMALIZE_WHITESPACE
    Poisson spikes. A raster of 10 time steps (rows) × 784 flattened pixels (columns), 10 spikes
    (1.0 per step) from 2 pixels. They lie in image rows 5–6 (indices 143–171): one group of columns
    every 28, for each image row that is lit.
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
    _describe(ax, _titled(title, f"A 28 × 28 image of each pixel's firing rate, from 0 (dark) to 1 spike per "
                                 f"step (bright). {_rate_summary(array)}"))
    return fig


def _rate_summary(rates: np.ndarray) -> str:
    """How many pixels fire, their mean rate and the highest, in a sentence."""
    firing = rates[rates > 0]
    if firing.size == 0:
        return "No pixel fires."
    return (f"{firing.size} of the {rates.size} pixels fire, at {firing.mean():.2f} spikes per step on average "
            f"and at most {firing.max():.2f}.")


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
    intensity, rate = float_array("intensity", intensity, 1), float_array("rate", rate, 1)
    if intensity.shape != rate.shape:
        raise ValueError(f"intensity and rate must have the same length, got {len(intensity)} and {len(rate)}")
    num_steps = check_int("num_steps", num_steps, 1)
    edges = np.linspace(0, 1, check_int("bins", bins, 1) + 1)
    which = np.clip(np.digitize(intensity, edges) - 1, 0, bins - 1)
    used = [b for b in range(bins) if (which == b).any()]
    centre = np.array([intensity[which == b].mean() for b in used])
    mean_rate = np.array([rate[which == b].mean() for b in used])
    fig, ax = subplots(figsize=(5, 4.5))
    grid = np.linspace(0, 1, 101)
    band = 2 * np.sqrt(grid * (1 - grid) / num_steps)
    ax.fill_between(grid, grid - band, grid + band, color=SKY, alpha=0.3,
                    label=f"±2 s.e. of one pixel over {num_steps} steps")
    ax.plot(grid, grid, color=BLUE, lw=1, ls="--", label="rate = intensity")
    ax.plot(centre, mean_rate, "o", color=VERMILION, label="measured (mean per bin)")
    ax.set_xlabel("pixel intensity")
    ax.set_ylabel("firing rate (spikes per step)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left", fontsize=8)
    inside = int((np.abs(mean_rate - centre) <= 2 * np.sqrt(centre * (1 - centre) / num_steps) + 1e-9).sum())
    _describe(ax, f"Firing rate against pixel intensity for {len(intensity):,} pixels over {num_steps} steps: "
                  f"the mean rate in each of {len(used)} intensity bins, beside the line rate = intensity and "
                  f"the ±2 standard-error band one pixel's rate falls in. {inside} of the {len(used)} bin means "
                  f"lie inside that band; the largest distance from the line is "
                  f"{np.abs(mean_rate - centre).max():.3f}.")
    return fig


def lif_trace(currents, potentials, spikes, neuron: LIF, title: str = "LIF neuron", ax=None):
    """Membrane of one neuron over time, with input, threshold and spikes.

    currents ``I[t]``, potentials ``U[t]`` (before reset), spikes ``S[t]``: ``[T]`` each, as
    ``neuron(currents.reshape(-1, 1, 1))`` gives them; ``neuron``: the
    :class:`~snn_helpers.core.neurons.LIF` that produced them, whose threshold and reset are drawn.
    Dots mark ``U[t]``; at a spike the line drops to the membrane after the reset,
    ``M[t]`` (:func:`~snn_helpers.core.neurons.after_reset`), and climbs from there, so leak,
    threshold and reset are all visible. Returns the figure.

    >>> lif = LIF(beta=0.9, reset="subtract")
    >>> spikes, potentials = lif(torch.full((8, 1, 1), 0.4))
    >>> fig = lif_trace(torch.full((8,), 0.4), potentials.flatten(), spikes.flatten(), lif)
    >>> plt.close(fig)
    """
    currents = float_array("currents", currents, 1)
    potentials = float_array("potentials", potentials, 1)
    spikes = float_array("spikes", spikes, 1)
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
    ax.plot(np.repeat(steps, 2), np.column_stack([potentials, after]).ravel(), color=BLUE,
            lw=1.5, label=f"membrane: U[t] → M[t] (reset: {reset})")
    ax.plot(steps, potentials, "o", color=BLUE, ms=3, label="U[t]: potential before reset")
    ax.axhline(threshold, color=VERMILION, ls="--", lw=1, label=f"threshold θ = {threshold:g}")
    fired = steps[spikes > 0]
    top = max(threshold, float(potentials.max(initial=0))) * 1.12
    ax.plot(fired, np.full(len(fired), top), "|", color=VERMILION, ms=12, mew=2, label="spike")
    ax.set_ylim(min(0.0, float(currents.min(initial=0)), float(after.min(initial=0))) - 0.05, top * 1.08)
    ax.set_xlim(-1, len(steps))
    ax.set_xlabel("time step t")
    ax.set_ylabel("potential")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    if len(currents) and np.all(currents == currents[0]):
        given = f"a constant input current of {currents[0]:.2f}"
    else:
        given = (f"an input current between {currents.min(initial=0):.2f} and {currents.max(initial=0):.2f} "
                 f"(mean {currents.mean() if len(currents) else 0:.2f})")
    if len(fired):
        result = (f"it fires {_times(len(fired))}, first at step {fired[0]}" + (f" and last at step {fired[-1]}"
                  if len(fired) > 1 else "") + f"; the potential peaks at {potentials.max():.2f}.")
    else:
        result = f"it never fires: the potential peaks at {potentials.max(initial=0):.2f}, below the threshold."
    _describe(ax, _titled(title, f"The membrane potential of one LIF neuron over {len(steps)} time steps "
                                 f"(β = {neuron.beta:g}, threshold θ = {threshold:g}, reset {reset}) with {given}; "
                                 f"{result}"))
    return fig


def surrogate_plot(threshold: float = 1.0, slopes=(5.0, 10.0, 25.0), surrogate: str = "sigmoid"):
    """Heaviside step (the forward spike) beside the surrogate derivative used backward.

    Forward ``S = H(U - θ)`` (1 when ``U >= θ``); its true derivative is 0 except at
    ``θ``, so learning uses a smooth surrogate ``dS/dU ≈ f(U - θ, slope)`` instead,
    steeper and narrower for a larger slope.

    threshold: ``θ > 0``. slopes: one curve per slope, each ``> 0``.
    surrogate: a name from :data:`~snn_helpers.core.neurons.SURROGATES`.

    >>> fig = surrogate_plot(slopes=(5.0, 25.0))
    >>> [text.get_text() for text in fig.axes[1].get_legend().get_texts()]
    ['true derivative (0; infinite at θ)', 'sigmoid surrogate, slope 5', 'sigmoid surrogate, slope 25']
    >>> plt.close(fig)
    """
    threshold = check_float("threshold", threshold, 0.0, low_open=True)
    check_choice("surrogate", surrogate, SURROGATES)
    slopes = [check_float(f"slopes[{i}]", s, 0.0, low_open=True) for i, s in enumerate(slopes)]
    u = torch.linspace(threshold - 1.5, threshold + 1.5, 601)
    fig, (left, right) = subplots(1, 2, figsize=(10, 3.6))
    left.plot(u, (u >= threshold).float(), color="k", lw=2, drawstyle="steps-post")
    left.set_title("forward: spike S = H(U − θ)")
    left.set_ylabel("S")
    right.axhline(0, color="k", lw=2, label="true derivative (0; infinite at θ)")
    right.annotate("", xy=(threshold, 0.95), xytext=(threshold, 0.0),
                   xycoords=("data", "axes fraction"), textcoords=("data", "axes fraction"),
                   arrowprops={"arrowstyle": "->", "color": "k"})
    colours = (BLUE, ORANGE, GREEN, PURPLE)
    peaks, widths = [], []
    for i, slope in enumerate(slopes):
        curve = SURROGATES[surrogate](u - threshold, slope)
        right.plot(u, curve, lw=1.5, color=colours[i % 4], ls=LINE_STYLES[i % 4],
                   label=f"{surrogate} surrogate, slope {slope:g}")
        above = u[curve >= curve.max() / 2]
        peaks.append(f"{float(curve.max()):.2f}")
        widths.append(f"{float(above.max() - above.min()):.2f}")
    right.set_title("backward: dS/dU used for learning")
    right.set_ylim(-0.02, 1.6 * max(float(SURROGATES[surrogate](torch.zeros(1), s)) for s in slopes))
    right.legend(fontsize=7, loc="upper left")
    for ax in (left, right):
        ax.axvline(threshold, color=VERMILION, ls="--", lw=1)
        ax.set_xlabel("membrane potential U (θ dashed)")
    fig.describe(f"Two panels against the membrane potential U, with the threshold θ = {threshold:g} marked.")
    _describe(left, f"Left, forward: the spike S = H(U − θ), a step from 0 to 1 at U = {threshold:g}.")
    _describe(right, f"Right, backward: the true derivative, 0 everywhere except at θ where it is infinite, "
                     f"beside the {surrogate} surrogate derivative for slope{'s' if len(slopes) > 1 else ''} "
                     f"{_and(f'{s:g}' for s in slopes)}: "
                     f"bumps centred on θ that peak at {_and(peaks)} and are {_and(widths)} wide at half their "
                     f"height, narrower the larger the slope.")
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
    fig, ax = subplots(figsize=(6, 4))
    epochs = range(1, len(values) + 1)
    ax.plot(epochs, values, "o-", color=BLUE)
    ax.set_xticks(list(epochs))
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean cross-entropy loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if len(values) == 1:
        trend = f"one epoch, with a mean loss of {values[0]:.3f}."
    else:
        low = int(np.argmin(values))
        trend = (f"{len(values)} epochs, from {values[0]:.3f} after epoch 1 to {values[-1]:.3f} after epoch "
                 f"{len(values)}" + ("." if low == len(values) - 1 else f", lowest after epoch {low + 1} "
                                     f"({values[low]:.3f})."))
    _describe(ax, _titled(title, f"The mean cross-entropy loss per epoch over {trend}"))
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
    counts = float_array("counts", counts, 1)
    fig, ax = _axes(ax, (6, 3.6))
    _highlight(ax.bar(range(len(counts)), counts, color=BLUE), label)
    ax.set_xticks(range(len(counts)))
    ax.set_xlabel("output neuron (class)")
    ax.set_ylabel("spike count")
    ax.set_ylim(0, max(1.0, float(counts.max())) * 1.15)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title)
    _describe(ax, _titled(title, f"A bar chart of the output spike count of each class. "
                                 f"{_counts_sentence(counts, label)}"))
    return fig


def _highlight(bars, label: int | None) -> None:
    """Draw the true label's bar of ``bars`` orange and hatched (the others stay blue)."""
    if label is not None and 0 <= label < len(bars):
        bars[label].set(**HIGHLIGHT)


def _counts_sentence(counts: np.ndarray, label: int | None) -> str:
    """Who leads ``counts [C]``, the true label's count and every count, in sentences."""
    leaders = top_classes(counts)
    if not counts.any():
        lead = "No class has fired."
    elif len(leaders) == 1:
        lead = f"Class {leaders[0]} leads with {int(counts[leaders[0]])}."
    else:
        lead = f"Classes {', '.join(map(str, leaders))} tie with {int(counts[leaders[0]])} each."
    if label is not None and 0 <= label < len(counts):
        lead += f" The true label, {label} (the orange, hatched bar), has {int(counts[label])}."
    return (f"{lead} Counts for classes 0 to {len(counts) - 1}: "
            f"{', '.join(str(int(c)) for c in counts)} ({int(counts.sum())} in all).")


def output_traces(potentials, spikes, threshold: float, label: int | None = None):
    """Membrane potential (before reset) of each output neuron over time, one small panel each.

    potentials, spikes: ``[T, C]`` float tensors for one input image (spikes 0 or 1).
    threshold: ``> 0``, drawn dashed. label: the true class, drawn in orange, or ``None``.

    >>> spikes = torch.zeros(20, 2)
    >>> spikes[5, 1] = 1.0
    >>> fig = output_traces(torch.rand(20, 2), spikes, threshold=1.0, label=1)
    >>> [ax.get_title() for ax in fig.axes]
    ['neuron 0: 0 spikes', 'neuron 1 (label): 1 spikes']
    >>> plt.close(fig)
    """
    potentials = float_array("potentials", potentials, 2)
    spikes = float_array("spikes", spikes, 2)
    if potentials.shape != spikes.shape:
        raise ValueError(f"potentials and spikes must have the same shape [T, C], got "
                         f"{potentials.shape} and {spikes.shape}")
    threshold = check_float("threshold", threshold, 0.0, low_open=True)
    classes = potentials.shape[1]
    cols = min(classes, 5)
    rows = -(-classes // cols)
    fig, axes = subplots(rows, cols, figsize=(2.4 * cols, 2.0 * rows), sharex=True, sharey=True,
                         squeeze=False)
    steps = np.arange(potentials.shape[0])
    for c, ax in enumerate(axes.flat):
        if c >= classes:
            ax.axis("off")
            continue
        ax.plot(steps, potentials[:, c], color=ORANGE if c == label else BLUE, lw=2.0 if c == label else 1.2)
        ax.axhline(threshold, color=VERMILION, ls="--", lw=0.8)
        ax.plot(steps[spikes[:, c] > 0], np.full(int((spikes[:, c] > 0).sum()), threshold), "|",
                color=VERMILION, ms=8)
        ax.set_title(f"neuron {c}{' (label)' if c == label else ''}: {int(spikes[:, c].sum())} spikes",
                     fontsize=8, fontweight="bold" if c == label else "normal")
    fig.supxlabel("time step t")
    fig.supylabel("membrane U[t]")
    fig.tight_layout()
    counts = spikes.sum(0).astype(int)
    fired = [f"neuron {c}{' (the true label)' if c == label else ''} {_times(counts[c])}"
             for c in np.argsort(-counts, kind="stable") if counts[c] > 0]
    fig.describe(f"The membrane potential of each of the {classes} output neurons over {len(steps)} time steps, "
                 f"one small panel each, with the threshold {threshold:g} dashed and a tick at each spike. "
                 + (f"Fired: {', '.join(fired)}; " if fired else "No neuron fires; ")
                 + ("the others never reach the threshold." if len(fired) < classes else "every neuron fires.")
                 + ("" if label is None else f" The true label is {label}."))
    return fig


def confusion_matrix(counts, title: str = "Confusion matrix"):
    """Heat map of ``[C, C]`` counts (rows: true class, columns: predicted), numbers in the cells.

    counts: ``[C, C]`` tensor, e.g. from :func:`~snn_helpers.core.readout.confusion_counts`.

    >>> fig = confusion_matrix(torch.tensor([[5, 1], [2, 4]]))
    >>> [text.get_text() for text in fig.axes[0].texts]
    ['5', '1', '2', '4']
    >>> plt.close(fig)
    """
    counts = float_array("counts", counts, 2)
    fig, ax = subplots(figsize=(6.5, 5.5))
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
    _describe(ax, _titled(title, f"A heat map of counts, true class (rows) against predicted class (columns), "
                                 f"with each count written in its cell. {_confusion_sentence(counts)}"))
    return fig


def _confusion_sentence(counts: np.ndarray) -> str:
    """The diagonal's share, the most frequent mistake and the least recognised class, in sentences."""
    total = int(counts.sum())
    if total == 0 or counts.shape[0] != counts.shape[1]:
        return f"{total} images in all."
    right = int(np.trace(counts))
    words = f"{right:,} of the {total:,} images ({100 * right / total:.1f}%) lie on the diagonal, correct."
    mistakes = counts - np.diag(np.diag(counts))
    if mistakes.any():
        i, j = np.unravel_index(int(mistakes.argmax()), mistakes.shape)
        words += f" The most frequent mistake is {i} read as {j} ({_times(int(mistakes[i, j]))})."
        rows = counts.sum(1)
        recall = np.where(rows > 0, np.diag(counts) / np.maximum(rows, 1), np.inf)
        worst = int(recall.argmin())
        words += f" Class {worst} is recognised least often ({100 * recall[worst]:.1f}% of its {int(rows[worst])} images)."
    return words


class _FewLoopsGIF(animation.PillowWriter):
    """matplotlib's Pillow GIF writer, but the GIF plays :data:`GIF_LOOPS` times instead of forever.

    A GIF's loop count is how often it repeats after the first play; browsers,
    JupyterLab and Pillow all read it so."""

    def finish(self):
        self._frames[0].save(self.outfile, save_all=True, append_images=self._frames[1:],
                             duration=int(1000 / self.fps), loop=GIF_LOOPS - 1)


class Animation(list):
    """The files an animation function wrote (a list of paths, the GIF first), with the animation's text alternative.

    :attr:`description` says what the animation shows and where it ends. In IPython it
    displays as the GIF: an HTML ``<img>`` with that description as ``alt``, and
    ``image/gif`` with the description in its metadata.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     written = spike_count_animation(torch.eye(3), 0, Path(folder) / "counts.gif")
    ...     data, metadata = written._repr_mimebundle_()
    >>> [path.name for path in written], sorted(data)
    (['counts.gif'], ['image/gif', 'text/html'])
    >>> 'alt="An animated bar chart' in data["text/html"]
    True
    """

    def __init__(self, paths, description: str):
        super().__init__(Path(path) for path in paths)
        self.description = description

    def _repr_mimebundle_(self, include=None, exclude=None):
        """IPython's display: the GIF, in an HTML ``<img>`` with the description as ``alt``."""
        gif = next((path for path in self if path.suffix.lower() == ".gif"), None)
        if gif is None:
            return None
        data = base64.b64encode(gif.read_bytes()).decode("ascii")
        return ({"image/gif": data, "text/html": img_html(f"data:image/gif;base64,{data}", self.description)},
                {"image/gif": {"alt": self.description}})


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
            writer = (_FewLoopsGIF(fps=fps) if target.suffix.lower() == ".gif"
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


def encoding_animation(spikes, gif_path, fps: float = 5) -> Animation:
    """GIF of one digit spiking: the spikes at step t beside the running firing rate so far.

    spikes: ``[T, 28, 28]`` or ``[T, 1, 28, 28]`` float tensor of 0s and 1s (one frame per step).
    gif_path: str or path of the GIF. fps: frames per second, ``> 0``. Returns
    :class:`Animation` ``[gif_path]`` with its description.

    >>> import tempfile
    >>> spikes = (torch.rand(2, 28, 28) < 0.5).float()
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     print([path.name for path in encoding_animation(spikes, Path(folder) / "digit.gif")])
    ['digit.gif']
    """
    array = float_array("spikes", spikes)
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
    firing = running[-1][running[-1] > 0]
    description = (f"An animation of {len(array)} frames, one per time step, of a digit's spikes: on the left "
                   f"the pixels that spike at that step, scattered dots; on the right the firing rate over the "
                   f"steps so far, in which the digit's shape settles as the steps add up. After step "
                   f"{len(array) - 1}: {int(array.sum()):,} spikes from {firing.size} pixels"
                   + (f", which fire at {firing.mean():.2f} spikes per step on average." if firing.size else "."))
    return Animation(_save_animation(fig, update, len(array), [gif_path], fps), description)


def spike_count_animation(spikes, label: int | None, gif_path, mp4_path=None, fps: float = 8) -> Animation:
    """Animated bar chart of cumulative output spike counts over time for one image.

    spikes: ``[T, C]`` output spikes. Writes ``gif_path`` and, when an ffmpeg
    binary is on PATH and ``mp4_path`` is given, an MP4 too. Returns the paths written,
    as an :class:`Animation` with its description.
    label: the true class, drawn orange and hatched, or ``None``. fps: frames per second, ``> 0``.

    >>> import tempfile
    >>> spikes = torch.eye(2)  # step t: only class t fires
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     print([path.name for path in spike_count_animation(spikes, 0, Path(folder) / "counts.gif")])
    ['counts.gif']
    """
    array = float_array("spikes", spikes, 2)
    cumulative = np.cumsum(array, axis=0)
    steps, classes = array.shape
    fig, ax = plt.subplots(figsize=(6, 3.8))
    bars = ax.bar(range(classes), cumulative[0], color=BLUE)
    _highlight(bars, label)
    ax.set_xticks(range(classes))
    ax.set_ylim(0, max(1.0, float(cumulative[-1].max())) * 1.15)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("output neuron (class)")
    ax.set_ylabel("spikes so far")
    truth = "" if label is None else f" — true label {label} (hatched)"

    def update(t):
        for bar, height in zip(bars, cumulative[t]):
            bar.set_height(height)
        ax.set_title(f"step {t + 1}/{steps}: {describe_leader(cumulative[t])}{truth}", fontsize=10)
        return bars

    update(0)
    first = np.flatnonzero(array.any(1))
    description = (f"An animated bar chart over {steps} time steps of each output class's spike count so far, one "
                   f"frame per step; the title names the leading class. "
                   + (f"The first output spike comes at step {first[0] + 1}. " if first.size else "")
                   + f"The last frame shows step {steps}. {_counts_sentence(cumulative[-1], label)}")
    return Animation(_save_animation(fig, update, steps, _with_mp4(gif_path, mp4_path), fps), description)


# The three spike codes of notebook 01: rasters with OFF spikes (-1) in orange, and per pixel what each code carries.
_SIGNED = ListedColormap([ORANGE, "white", "black"])  # -1 (OFF), 0, 1: black and orange differ in grey too


def code_raster(spikes, title: str = "Spikes", ax=None):
    """Raster like :func:`raster` that also shows OFF spikes (value -1, delta code) in orange.

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

    >>> from snn_helpers.core.encoding import latency_encode
    >>> fig = code_image(latency_encode(torch.rand(1, 28, 28), 10), "latency")
    >>> fig.axes[1].get_ylabel()  # the colour bar
    'step of the first spike'
    >>> plt.close(fig)
    """
    check_choice("code", code, CODE_NAMES)
    array = _raster_array(spikes)
    fig, ax = _axes(ax, (4, 4))
    if code == "latency":
        fires = array.any(0)
        first = np.where(fires, np.abs(array).argmax(0), np.nan).reshape(SIDE, SIDE)
        shown = ax.imshow(first, cmap="viridis", vmin=0, vmax=max(1, len(array) - 1))
        label = "step of the first spike"
        found = (f"{int(fires.sum())} pixels fire, first at steps {_span(first[~np.isnan(first)])}; "
                 f"{int((~fires).sum())} never fire and stay blank." if fires.any() else "No pixel fires.")
    else:
        per_step = np.abs(array).mean(0).reshape(SIDE, SIDE)
        shown = ax.imshow(per_step, cmap="magma", vmin=0, vmax=1)
        label = "spikes per step" if code == "rate" else "ON + OFF spikes per step"
        found = _rate_summary(per_step)
    fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.04, label=label)
    ax.set_title(f"{code}: per pixel")
    ax.axis("off")
    _describe(ax, f"{code.capitalize()} code, per pixel: a 28 × 28 image of the {label} over {len(array)} "
                  f"steps. {found}")
    return fig


def code_rows(codes: dict, title: str | None = None):
    """One row per code: its raster (left) and :func:`code_image` (right), with its spike count.

    codes: maps a code name (``rate``, ``latency``, ``delta``) to the spikes
    ``[T, 1, 28, 28]`` of one image under that code. title: above all rows, or ``None``.

    >>> from snn_helpers.core.encoding import latency_encode
    >>> image = torch.linspace(0, 1, 784).reshape(1, 28, 28)  # one black pixel, 783 lit
    >>> fig = code_rows({"latency": latency_encode(image, 10)})
    >>> fig.axes[0].get_title()
    'latency code: 783 spikes in 10 steps'
    >>> plt.close(fig)
    """
    if not isinstance(codes, dict) or not codes:
        raise ValueError("codes must be a non-empty dict mapping 'rate', 'latency' or 'delta' to spikes")
    fig, axes = subplots(len(codes), 2, figsize=(12, 3.4 * len(codes)), width_ratios=(3.2, 1),
                         squeeze=False)
    for (code, spikes), (left, right) in zip(codes.items(), axes):
        check_choice("code", code, CODE_NAMES)
        array = _raster_array(spikes)
        code_raster(spikes, f"{code} code: {int(np.abs(array).sum())} spikes in {len(array)} steps", ax=left)
        code_image(spikes, code, ax=right)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.describe(_titled(title, f"One row per spike code ({_and(codes)}): its raster on the left, what its "
                                f"spikes say about each pixel on the right."))
    return fig


def _raster_array(spikes) -> np.ndarray:
    """One image's spikes as a ``[T, 784]`` array."""
    array = float_array("spikes", spikes)
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
    _describe(ax, _raster_sentence(array, title))
    return fig


def _raster_sentence(array: np.ndarray, title: str) -> str:
    """What a raster ``[T, 784]`` shows: its spikes, the pixels and image rows they come from."""
    steps, total = len(array), int(np.abs(array).sum())
    head = f"A raster of {steps} time steps (rows) × {array.shape[1]} flattened pixels (columns), "
    if total == 0:
        return _titled(title, head + "with no spike.")
    off = int((array < 0).sum())
    kinds = f" ({total - off:,} ON in black, {off:,} OFF in orange)" if off else ""
    pixels = np.flatnonzero(np.abs(array).any(0))
    rows = pixels // SIDE
    return _titled(title, head + f"{total:,} spikes{kinds} ({total / steps:.1f} per step) from {len(pixels)} "
                   f"pixels. They lie in image rows {_span(rows)} (indices {_span(pixels)}): one group of columns "
                   f"every 28, for each image row that is lit.")
