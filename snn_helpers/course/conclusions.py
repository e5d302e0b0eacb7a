"""Notebook 05's conclusion as Markdown: every number and every verdict computed from a results dict.

This is the course's prose, kept out of the analysis it reports on (:mod:`snn_helpers.analysis.ann`
and :mod:`snn_helpers.analysis.costs`), so that a test can check each verdict against the numbers.
"""
from __future__ import annotations

from ..analysis.costs import PJ_PER_AC, PJ_PER_MAC
from ..system._checks import check_float, check_int

CONCLUSION_KEYS = ("ann_accuracy", "snn_accuracy", "ann_train_seconds", "snn_train_seconds",
                   "ann_test_seconds", "snn_test_seconds", "test_images", "ann_macs", "ann_sparse_macs",
                   "snn_acs", "snn_macs", "input_spikes", "energy", "snn_hidden_rates", "ann_hidden_active",
                   "num_steps", "accuracy_by_steps")


def _span(values, fmt: str = ".0%") -> str:
    low, high = min(values), max(values)
    return f"{low:{fmt}}" if f"{low:{fmt}}" == f"{high:{fmt}}" else f"{low:{fmt}}–{high:{fmt}}"


def _times(ratio: float) -> str:
    """``"3.1 times as long as"`` or ``"0.8 times as long as"``: the ratio, never turned round."""
    return f"{ratio:.1f} times as long as"


def conclusion_markdown(results: dict, noise_points: float, noise_source: str, *, quick: bool = False) -> str:
    """The comparison's conclusion in Markdown, every number and every verdict taken from ``results``.

    ``results`` holds (keys of :data:`CONCLUSION_KEYS`): accuracies in [0, 1]; wall
    times in seconds; ``test_images``; operation counts per image (``ann_macs``,
    ``ann_sparse_macs`` with zero inputs skipped, ``snn_acs``, ``snn_macs`` membrane
    updates, ``input_spikes`` Poisson spikes); ``energy`` in pJ keyed ``"ANN"``,
    ``"ANN, zeros skipped"``, ``"SNN"``; hidden-layer activity fractions
    (``snn_hidden_rates`` of neuron-steps, ``ann_hidden_active`` of ReLU outputs);
    ``num_steps`` (the SNN's time steps) and ``accuracy_by_steps`` (the SNN's test
    accuracy with 1, 2, ... steps). An accuracy difference below ``noise_points``
    percentage points is called noise: one training run against one. ``noise_source``
    says in a few words where that figure comes from; it is quoted. With ``quick`` (a
    quick-mode run, trained on a little data) no accuracy verdict is given, and the
    wall times are called noise.

    The SNN "can win" on time steps only when ``enough``, the fewest steps within one
    point of its ``num_steps`` accuracy, is at most half of ``num_steps``; otherwise
    needing ``enough`` steps counts as a loss.

    Raises ``ValueError`` when a key is missing, ``noise_points < 0``, ``noise_source``
    is empty or ``num_steps`` is not in ``[1, len(accuracy_by_steps)]``.

    >>> from snn_helpers.analysis.costs import energy_pj
    >>> results = {  # made-up numbers, not a measurement
    ...     "ann_accuracy": 0.97, "snn_accuracy": 0.972, "ann_train_seconds": 10.0, "snn_train_seconds": 40.0,
    ...     "ann_test_seconds": 0.5, "snn_test_seconds": 2.0, "test_images": 10_000, "ann_macs": 500_000,
    ...     "ann_sparse_macs": 100_000, "snn_acs": 600_000, "snn_macs": 8_000, "input_spikes": 900.0,
    ...     "energy": {"ANN": energy_pj(macs=500_000), "ANN, zeros skipped": energy_pj(macs=100_000),
    ...                "SNN": energy_pj(macs=8_000, acs=600_000)},
    ...     "snn_hidden_rates": [0.1, 0.2], "ann_hidden_active": [0.3, 0.5], "num_steps": 4,
    ...     "accuracy_by_steps": [0.2, 0.965, 0.97, 0.972]}
    >>> text = conclusion_markdown(results, noise_points=0.5, noise_source="a made-up figure")
    >>> for line in text.splitlines()[:6]:  # the headline of each point
    ...     print(line.split(".**")[0] + ".**")
    * **Accuracy: a draw.**
    * **Speed on this computer (indicative): the ANN wins.**
    * **Operations: the SNN does more.**
    * **Energy (arithmetic only): lower for the SNN, with conditions.**
    * **Sparsity.**
    * **Time steps.**
    >>> print(text.splitlines()[-1][:62], "...")  # the verdict, after a blank line
    **Where the SNN loses here:** wall time for training and infer ...
    """
    missing = [key for key in CONCLUSION_KEYS if key not in results]
    if missing:
        raise ValueError(f"results is missing {missing}; it needs every key of CONCLUSION_KEYS")
    r = results
    noise_points = check_float("noise_points", noise_points, 0.0)
    if not isinstance(noise_source, str) or not noise_source.strip():
        raise ValueError(f"noise_source must say where noise_points comes from, got {noise_source!r}")
    curve = list(r["accuracy_by_steps"])
    steps = check_int("num_steps", r["num_steps"], 1, len(curve))
    energy = r["energy"]
    gap = 100 * (r["snn_accuracy"] - r["ann_accuracy"])
    if quick:
        accuracy = (f"**Accuracy: no verdict in quick mode.** The SNN reached {100 * r['snn_accuracy']:.2f}%, the "
                    f"ANN {100 * r['ann_accuracy']:.2f}%, but quick mode trains each on a little data for one "
                    f"epoch, too little to compare them; `make run` trains both on all of MNIST.")
    elif abs(gap) < noise_points:
        accuracy = (f"**Accuracy: a draw.** The SNN reached {100 * r['snn_accuracy']:.2f}%, the ANN "
                    f"{100 * r['ann_accuracy']:.2f}%. That is one training run of each; a difference of "
                    f"{abs(gap):.2f} points is less than the {noise_points:.2f} points taken as noise "
                    f"({noise_source}), so it does not say which network is better.")
    else:
        better, worse = ("SNN", "ANN") if gap > 0 else ("ANN", "SNN")
        accuracy = (f"**Accuracy: the {better} is ahead.** The SNN reached {100 * r['snn_accuracy']:.2f}%, the "
                    f"ANN {100 * r['ann_accuracy']:.2f}%: {abs(gap):.2f} points, more than the "
                    f"{noise_points:.2f} points taken as noise ({noise_source}), though still one run of each.")
    train_ratio = r["snn_train_seconds"] / r["ann_train_seconds"]
    test_ratio = r["snn_test_seconds"] / r["ann_test_seconds"]
    slower = train_ratio > 1 and test_ratio > 1
    speed = (f"**Speed on this computer (indicative): {'the ANN wins' if slower else 'mixed'}.** The SNN took "
             f"{_times(train_ratio)} the ANN to train ({r['snn_train_seconds']:.1f} s against "
             f"{r['ann_train_seconds']:.1f} s) and {_times(test_ratio)} the ANN to classify the "
             f"{r['test_images']:,} test images ({r['snn_test_seconds']:.2f} s against "
             f"{r['ann_test_seconds']:.2f} s). Every image passes through the SNN {steps} times, once per "
             f"time step, and training backpropagates through all of them. Wall times depend on the machine and on "
             f"whatever else it is doing, so these ratios are indicative"
             + (": in quick mode each run lasts moments and the ratios are mostly noise." if quick else "."))
    snn_ops = r["snn_acs"] + r["snn_macs"]
    more = snn_ops > r["ann_macs"]
    operations = (f"**Operations: the SNN does {'more' if more else 'fewer'}.** {r['snn_acs']:,.0f} accumulates "
                  f"plus {r['snn_macs']:,} membrane updates per image, against the ANN's {r['ann_macs']:,} "
                  f"multiply-accumulates. The input alone brings {r['input_spikes']:,.0f} Poisson spikes per "
                  f"image over the {steps} time steps, each feeding every neuron of the first layer.")
    saving = energy["SNN"] < energy["ANN"]
    sparse_ann_wins = energy["ANN, zeros skipped"] <= energy["SNN"]
    power = (f"**Energy (arithmetic only): {'lower' if saving else 'higher'} for the SNN, with conditions.** "
             f"An accumulate costs {PJ_PER_AC:g} pJ against {PJ_PER_MAC:g} pJ for a multiply-accumulate, so the "
             f"estimate is {energy['SNN'] / 1e6:.2f} µJ per image for the SNN against "
             f"{energy['ANN'] / 1e6:.2f} µJ for the ANN ({energy['SNN'] / energy['ANN']:.0%} of it). That "
             f"assumes hardware that spends nothing on a silent synapse and leaves out memory traffic, which "
             f"usually costs more than the arithmetic. An ANN that skips its zero inputs needs "
             f"{r['ann_sparse_macs']:,.0f} multiply-accumulates, {energy['ANN, zeros skipped'] / 1e6:.2f} µJ: "
             + ("no more than the SNN, so in this estimate the saving comes from skipping zeros, not from "
                "spiking." if sparse_ann_wins else
                "more than the SNN, so here spiking saves energy beyond skipping zeros."))
    sparsity = (f"**Sparsity.** The SNN's hidden neurons fire on {_span(r['snn_hidden_rates'])} of their time "
                f"steps; {_span(r['ann_hidden_active'])} of the ANN's hidden ReLU outputs are non-zero. The "
                f"SNN's rate is per time step, and each image takes {steps} of them, so even a sparse rate adds "
                f"up over the image.")
    reference = curve[steps - 1]
    enough = next(t for t, acc in enumerate(curve, 1) if acc >= reference - 0.01)
    fast_answer = enough <= steps // 2  # a saving worth the name: at least half of the steps
    latency = (f"**Time steps.** This SNN, trained with {steps} steps, reaches {100 * reference:.2f}% with "
               f"{steps}; {enough} step{'s' if enough > 1 else ''} already come within one point of that, "
               f"and a single step gives {100 * curve[0]:.2f}%.")
    loses = ["wall time for training and inference on an ordinary CPU" if slower else None,
             "the number of operations" if more else None,
             f"latency: it needs {enough} of its {steps} time steps to come within one point of its accuracy"
             if not fast_answer else None,
             "energy compared with an ANN that skips zeros" if sparse_ann_wins else None]
    wins = ["hardware that spends nothing on a silent synapse (the estimate's assumption; event-driven "
            "neuromorphic chips come closest, with their own costs per operation)" if saving else None,
            f"answering with {enough} of its {steps} time steps, within one point of its accuracy: "
            f"{1 - enough / steps:.0%} fewer steps, so about that many fewer input spikes" if fast_answer else None]
    verdict = ("**Where the SNN loses here:** " + ("; ".join(x for x in loses if x) or "nowhere in these numbers")
               + ". **Where it can win:** " + ("; ".join(x for x in wins if x) or "not in these numbers") + ".")
    return "\n".join(f"* {part}" for part in (accuracy, speed, operations, power, sparsity, latency)) + "\n\n" + verdict
