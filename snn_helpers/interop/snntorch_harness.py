"""Running an snnTorch network step by step and holding this series' SNN against it, spike for spike.

A NIR file written by :func:`snn_helpers.interop.nir_graph.export_nir` and read by
snnTorch (``snntorch.import_nir.import_from_nir``) should compute the same
spikes as the model it came from. The comparison needs two things that belong
to snnTorch, not to NIR: running its network over ``[T, B, N]`` input with its
neurons reset first (:func:`snntorch_spikes`), and a tolerance for the last
bits of float32 rounding, :data:`NEAR_STEPS`. :func:`compare_with_snntorch` runs
both networks on the same Poisson spikes and counts where they differ, and why.
snnTorch is imported only when a network is run.

The examples use this module's names, ``torch``, ``math`` and the NIR export.
"""
from __future__ import annotations

import math

import torch

from ..core.inference import device_of, over_batches
from ..core.model import SNN
from ..system._checks import check_int, check_tensor
from .nir_graph import _ties

NEAR_STEPS = 64  # "near the threshold": within this many float32 steps (eps * |threshold|) of it


def snntorch_spikes(net: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Run a network that ``snntorch.import_nir.import_from_nir`` built over ``x`` [T, B, N]; output spikes [T, B, C].

    Its ``Leaky`` neurons keep their membrane between calls, so every one is
    reset first: without that a second run would start where the first ended.

    net: a network from ``import_from_nir``. x: input spikes ``[T, B, N]``, floats.

    >>> from snntorch.import_nir import import_from_nir
    >>> from snn_helpers import SNN
    >>> from snn_helpers.interop.nir_graph import to_nir
    >>> net = import_from_nir(to_nir(SNN([784, 10])))
    replace rnn subgraph with nirgraph
    >>> snntorch_spikes(net, torch.zeros(5, 4, 784)).shape
    torch.Size([5, 4, 10])
    """
    import snntorch  # imported on use
    check_tensor("x", x, ndim=3)
    for module in net.modules():
        if isinstance(module, snntorch.SpikingNeuron):
            module.reset_mem()
    with torch.no_grad():
        return torch.stack([_first(net(x_t)) for x_t in x])


def _first(out):
    """The spikes of a network's output (a tensor, or a tuple that starts with one)."""
    return out[0] if isinstance(out, tuple) else out


def compare_with_snntorch(model: SNN, net: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor,
                          num_steps: int, generator: torch.Generator | None = None, batch_size: int = 500) -> dict:
    """Run the same Poisson spikes of ``images`` through ``model`` and the snnTorch network ``net``.

    Returns counts over all images: ``images``, ``output_spikes`` (this series'),
    ``differing_spikes`` (output neuron-steps where one fires and the other does not), ``ties`` (potentials
    exactly at the threshold, where the spike rules differ), ``margin`` (the smallest
    ``|U - threshold|`` of any potential of this series' network), ``closest`` (that potential itself, which
    says on which side of the threshold it lay), ``same_predictions``,
    the accuracy of each (``accuracy``, ``accuracy_snntorch``), ``differing_images`` (images with at
    least one differing output spike) and ``unexplained_images``: those of them in which no potential,
    in any layer and step, came within :data:`NEAR_STEPS` float32 steps of the threshold. A tie or a
    rounding difference can only start where a potential is on or next to the threshold, so a correct
    import has no unexplained image.

    model: an :class:`SNN` taking 784 inputs. net: the same network imported into snnTorch.
    images: ``[N, 1, 28, 28]`` float tensor in [0, 1]; labels: ``[N]`` integers.
    num_steps: time steps of the Poisson code, at least 1. generator: draws the spikes
    (``None``: torch's global one). batch_size: images per forward pass, ``>= 1``. Both run where
    ``net`` is (its first weight's device), in eval mode, without gradients; ``model`` comes back in
    the mode and on the device it had (:func:`~snn_helpers.core.inference.over_batches`).

    >>> from snntorch.import_nir import import_from_nir
    >>> from snn_helpers.interop.nir_graph import to_nir
    >>> _ = torch.manual_seed(0)
    >>> model = SNN([784, 10])
    >>> net = import_from_nir(to_nir(model))  # snnTorch prints a line here
    replace rnn subgraph with nirgraph
    >>> result = compare_with_snntorch(model, net, torch.rand(4, 1, 28, 28), torch.tensor([0, 1, 2, 3]),
    ...                                num_steps=5, generator=torch.Generator().manual_seed(0))
    >>> result["images"], result["differing_spikes"], result["unexplained_images"]
    (4, 0, 0)
    >>> math.isclose(abs(result["closest"] - model.lifs[0].threshold), result["margin"], rel_tol=1e-6)
    True
    """
    check_tensor("images", images)
    batch_size = check_int("batch_size", batch_size, 1)
    totals = dict.fromkeys(("output_spikes", "differing_spikes", "ties", "same_predictions", "correct",
                            "correct_snntorch", "differing_images", "unexplained_images"), 0)
    threshold, margin, closest = model.lifs[0].threshold, math.inf, math.nan
    near = NEAR_STEPS * torch.finfo(torch.float32).eps * abs(threshold)

    def step(x, _pixels, truth):  # x: every pixel's spikes, which snnTorch's network takes
        nonlocal margin, closest
        x = x.flatten(2)
        ours, record = model(x, record=True)
        theirs = snntorch_spikes(net, x)
        predicted, predicted_snntorch = ours.sum(0).argmax(1), theirs.sum(0).argmax(1)
        totals["output_spikes"] += int(ours.sum())
        totals["differing_spikes"] += int((ours != theirs).sum())
        totals["ties"] += _ties(record, threshold)
        differ = (ours != theirs).flatten(2).any(2).any(0)  # [B]
        close = torch.stack([(potential - threshold).abs().flatten(2).amin((0, 2)) <= near
                             for potential in record["potentials"]]).any(0)
        totals["differing_images"] += int(differ.sum())
        totals["unexplained_images"] += int((differ & ~close).sum())
        for potential in record["potentials"]:
            distance = (potential - threshold).abs().flatten()
            at = int(distance.argmin())
            if distance[at].item() < margin:
                margin, closest = distance[at].item(), potential.flatten()[at].item()
        totals["same_predictions"] += int((predicted == predicted_snntorch).sum())
        totals["correct"] += int((predicted == truth).sum())
        totals["correct_snntorch"] += int((predicted_snntorch == truth).sum())
    batches = [(images[start:start + batch_size], labels[start:start + batch_size])
               for start in range(0, len(images), batch_size)]
    over_batches(model, batches, num_steps, step, generator=generator, device=device_of(net), dense=True)
    n = len(images)
    return {"images": n, **{key: totals[key] for key in ("output_spikes", "differing_spikes", "ties",
                                                          "same_predictions", "differing_images",
                                                          "unexplained_images")},
            "margin": margin, "closest": closest, "accuracy": totals["correct"] / n, "accuracy_snntorch": totals["correct_snntorch"] / n}
