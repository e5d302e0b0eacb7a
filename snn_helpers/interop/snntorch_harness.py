"""Running an snnTorch network step by step, to hold this series' SNN against it spike for spike.

A NIR file written by :func:`snn_helpers.interop.nir_graph.export_nir` and read by
snnTorch (``snntorch.import_nir.import_from_nir``) should compute the same
spikes as the model it came from. The comparison needs two things that belong
to snnTorch, not to NIR: running its network over ``[T, B, N]`` input with its
neurons reset first (:func:`snntorch_spikes`), and a tolerance for the last
bits of float32 rounding, :data:`NEAR_STEPS`. snnTorch is imported only when
a network is run.

The examples use this module's names, ``torch`` and the NIR export.
"""
from __future__ import annotations

import torch

from ..system._checks import check_tensor

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
