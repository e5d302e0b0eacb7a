"""The SNN as a NIR graph (Neuromorphic Intermediate Representation), and back.

NIR (Pedersen et al., Nature Communications 15, 8122, 2024) describes a spiking
network as a graph of continuous-time nodes; simulators and chips each read it
and discretise it their own way. This network is ``input -> Affine -> LIF ->
... -> output``. A NIR LIF node obeys

    tau * dv/dt = (v_leak - v) + r * I,    spike when v > v_threshold,  then v = v_reset.

One forward-Euler step of length ``dt`` gives ``v <- (1 - dt/tau) * v + (r*dt/tau) * I``,
which is this series' ``U[t] = beta * M[t-1] + I[t]`` when

    tau = dt / (1 - beta),   r = tau / dt,   v_leak = 0,   v_threshold = threshold,   v_reset = 0,

the mapping snnTorch uses, with its ``dt`` = :data:`DT` = 1e-4. Every parameter is
written per neuron (a scalar fails NIR's shape check), and ``dt`` is recorded in
the graph's metadata (``graph.metadata["dt"]``).

Two things do not carry over:

- **Reset by subtraction.** NIR 1.0's LIF sets ``v`` to ``v_reset`` after a
  spike; it cannot express ``M = U - threshold``. :func:`to_nir` refuses such
  a model instead of writing a different network.
- **Ties.** This series fires at ``U >= threshold``, NIR and snnTorch at
  ``U > threshold``, so a potential exactly on the threshold spikes here and not
  there; :func:`threshold_ties` counts those. Two simulators also add the same
  float32 numbers in different orders, so their potentials can differ in the
  last bits. A round trip is spike-for-spike identical when no potential is on
  the threshold or within that rounding of it (:func:`~snn_helpers.interop.snntorch_harness.compare_with_snntorch`
  reports the smallest distance).

The examples use this module's names, ``torch`` and :class:`~snn_helpers.core.model.SNN`.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from ..core.model import SNN
from ..system._checks import check_float, check_int, check_module, check_output_file, check_path, check_tensor
from ..system.atomic import atomic_path

DT = 1e-4  # seconds per time step: snnTorch's choice when it writes or reads NIR
BETA_DIGITS = 12  # beta read back from tau is rounded to this many significant digits


class NIRGraphError(ValueError):
    """A model that cannot be written as NIR, or a NIR graph or file that cannot be loaded."""


def _nir():
    import nir  # imported on use: only this module needs it
    return nir


def lif_parameters(beta: float, threshold: float, size: int, dt: float = DT) -> dict:
    """NIR's LIF parameters for ``size`` neurons with leak ``beta`` and ``threshold``.

    Returns float64 arrays of shape ``[size]``: ``tau = dt / (1 - beta)``,
    ``r = tau / dt``, ``v_leak = 0``, ``v_threshold = threshold``, ``v_reset = 0``.

    beta: leak per step in [0, 1) (1 would mean ``tau`` infinite). threshold: ``> 0``.
    size: neurons in the layer, an integer ``>= 1``. dt: seconds per step, ``> 0`` (default :data:`DT`).

    >>> {key: value.round(6).tolist() for key, value in lif_parameters(0.9, 1.0, size=2).items()}
    {'tau': [0.001, 0.001], 'r': [10.0, 10.0], 'v_leak': [0.0, 0.0], 'v_threshold': [1.0, 1.0], 'v_reset': [0.0, 0.0]}
    """
    beta = check_float("beta", beta, 0.0, 1.0)
    if beta == 1.0:
        raise ValueError("beta must be below 1 to be written as NIR: beta = 1 means tau = infinity (no leak)")
    threshold = check_float("threshold", threshold, 0.0, low_open=True)
    size = check_int("size", size, 1)
    dt = check_float("dt", dt, 0.0, low_open=True)
    tau = np.full(size, dt / (1.0 - beta))
    return {"tau": tau, "r": tau / dt, "v_leak": np.zeros(size), "v_threshold": np.full(size, threshold),
            "v_reset": np.zeros(size)}


def to_nir(model: SNN, dt: float = DT):
    """The network as a ``nir.NIRGraph``: ``input -> fc1 -> lif1 -> ... -> output``.

    Refuses (:class:`NIRGraphError`) a model that resets by subtraction.

    model: an :class:`SNN` with ``reset="zero"``. dt: seconds per step, ``> 0``.

    >>> graph = to_nir(SNN([4, 3, 2]))
    >>> list(graph.edges)
    [('input', 'fc1'), ('fc1', 'lif1'), ('lif1', 'fc2'), ('fc2', 'lif2'), ('lif2', 'output')]
    >>> to_nir(SNN([4, 2], reset="subtract"))
    Traceback (most recent call last):
    ...
    snn_helpers.interop.nir_graph.NIRGraphError: this model resets by subtraction (reset='subtract'), which NIR 1.0 cannot express: ...
    """
    nir = _nir()
    if not isinstance(check_module("model", model), SNN):
        raise TypeError(f"model must be a snn_helpers.SNN, got {type(model).__name__}")
    neuron = model.settings.neuron
    if neuron.reset != "zero":
        raise NIRGraphError(
            f"this model resets by subtraction (reset={neuron.reset!r}), which NIR 1.0 cannot express: "
            "a NIR LIF neuron jumps to v_reset after a spike, it never subtracts the threshold, so the file "
            "would describe a different network. Only reset-to-zero models can be exported, such as "
            "notebook 03's (recipe 'baseline').")
    nodes = {"input": nir.Input(input_type={"input": np.array([model.sizes[0]])})}
    edges, previous = [], "input"
    for i, fc in enumerate(model.fcs, start=1):
        weight = fc.weight.detach().cpu().numpy().copy()
        bias = fc.bias.detach().cpu().numpy().copy()
        nodes[f"fc{i}"] = nir.Affine(weight=weight, bias=bias)
        nodes[f"lif{i}"] = nir.LIF(**lif_parameters(neuron.beta, neuron.threshold, len(bias), dt))
        edges += [(previous, f"fc{i}"), (f"fc{i}", f"lif{i}")]
        previous = f"lif{i}"
    nodes["output"] = nir.Output(output_type={"output": np.array([model.sizes[-1]])})
    edges.append((previous, "output"))
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata={"dt": dt})


def export_nir(model: SNN, path, dt: float = DT) -> Path:
    """Write :func:`to_nir` of ``model`` to ``path`` (HDF5, via a temporary file); return the path.

    path: str or path of the file (not a folder). dt: as in :func:`to_nir`.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = export_nir(SNN([4, 3, 2]), Path(folder) / "tiny.nir")
    ...     print(path.name, sorted(read_nir(path).nodes))
    tiny.nir ['fc1', 'fc2', 'input', 'lif1', 'lif2', 'output']
    """
    path = check_output_file("path", path)
    graph = to_nir(model, dt)  # refuses before anything is written
    with atomic_path(path) as tmp:
        _nir().write(tmp, graph)
    return path


def read_nir(path):
    """Read a NIR file into a ``nir.NIRGraph``; a missing, truncated or foreign file raises :class:`NIRGraphError`.

    path: str or path of the file, e.g. one :func:`export_nir` wrote (see its example).

    >>> read_nir("missing.nir")
    Traceback (most recent call last):
    ...
    snn_helpers.interop.nir_graph.NIRGraphError: NIR file missing.nir does not exist
    """
    path = check_path("path", path)
    if not path.is_file():
        raise NIRGraphError(f"NIR file {path} does not exist")
    try:
        return _nir().read(path)
    except Exception as err:  # h5py and nir raise OSError, KeyError, ValueError, AssertionError, ...
        raise NIRGraphError(f"{path} cannot be read as a NIR graph (truncated, or not a NIR file): "
                            f"{type(err).__name__}: {err}") from err


def load_nir(path) -> SNN:
    """Read a NIR file and build the :class:`SNN` it describes (:func:`from_nir`).

    path: str or path of the file.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     print(load_nir(export_nir(SNN([4, 3, 2]), Path(folder) / "tiny.nir")).sizes)
    (4, 3, 2)
    """
    return from_nir(read_nir(path))


def from_nir(graph) -> SNN:
    """The :class:`SNN` a NIR graph of ``Affine``/``Linear`` and ``LIF`` nodes describes.

    The graph must be a chain ``Input -> (Affine|Linear -> LIF)+ -> Output``
    with every LIF parameter given per neuron, ``v_leak = v_reset = 0``, one
    ``beta = 1 - dt/tau`` and one threshold for all neurons, and ``r = tau/dt``.
    ``dt`` comes from ``graph.metadata["dt"]``, else from ``tau / r`` when that is
    the same for every neuron (snnTorch's files). Anything else raises
    :class:`NIRGraphError` naming the node and the problem. The model resets to zero
    and is in ``eval`` mode; ``beta`` is rounded to :data:`BETA_DIGITS` significant digits.

    graph: a ``nir.NIRGraph``, e.g. from :func:`to_nir` or :func:`read_nir`.

    >>> model = SNN([4, 3, 2], beta=0.9)
    >>> back = from_nir(to_nir(model))
    >>> back.settings.neuron.beta, torch.equal(back.fcs[0].weight, model.fcs[0].weight)
    (0.9, True)
    """
    nir = _nir()
    if not isinstance(graph, nir.NIRGraph):
        raise NIRGraphError(f"expected a nir.NIRGraph, got {type(graph).__name__}")
    chain = _chain(graph, nir)
    pairs = [((chain[i], graph.nodes[chain[i]]), (chain[i + 1], graph.nodes[chain[i + 1]]))
             for i in range(1, len(chain) - 1, 2)]
    layers, sizes = [], []
    for (fc_name, fc), (lif_name, lif) in pairs:
        weight = np.asarray(fc.weight)
        if weight.ndim != 2:
            raise NIRGraphError(f"node {fc_name!r}: weight must be a matrix [out, in], got shape {weight.shape}")
        out_size, in_size = weight.shape
        bias = np.zeros(out_size, weight.dtype) if isinstance(fc, nir.Linear) else np.asarray(fc.bias)
        if bias.shape != (out_size,):
            raise NIRGraphError(f"node {fc_name!r}: bias must have shape ({out_size},), got {bias.shape}")
        if sizes and in_size != sizes[-1]:
            raise NIRGraphError(f"node {fc_name!r}: weight takes {in_size} inputs but the layer before it "
                                f"has {sizes[-1]} neurons")
        sizes.append(out_size)
        layers.append((weight, bias, _lif_arrays(lif_name, lif, out_size)))
    input_shape = graph.nodes[chain[0]].input_type.get("input")
    first_in = np.asarray(pairs[0][0][1].weight).shape[1]
    if input_shape is not None and int(np.prod(input_shape)) != first_in:
        raise NIRGraphError(f"node {chain[0]!r}: the input has shape {tuple(np.atleast_1d(input_shape))} but "
                            f"node {pairs[0][0][0]!r} takes {first_in} inputs")
    dt = _find_dt(graph, [p for *_, p in layers])
    betas, thresholds = [], []
    for (_, (lif_name, _)), (*_, p) in zip(pairs, layers):
        gain = p["r"] * dt / p["tau"]
        if not np.allclose(gain, 1.0, rtol=1e-6, atol=0.0):
            raise NIRGraphError(f"node {lif_name!r}: r * dt / tau is {gain.min():.6g} to {gain.max():.6g}, but "
                                f"snn_helpers.SNN adds its input current unscaled (r = tau / dt, with dt = {dt:g})")
        beta = 1.0 - dt / p["tau"]
        if beta.min() < 0.0 or beta.max() >= 1.0:
            raise NIRGraphError(f"node {lif_name!r}: beta = 1 - dt/tau lies in [{beta.min():.6g}, {beta.max():.6g}] "
                                f"(dt = {dt:g}); it must be in [0, 1)")
        for name, values in (("beta", beta), ("v_threshold", p["v_threshold"])):
            if values.max() - values.min() > 1e-9 * abs(values.max()):
                raise NIRGraphError(f"node {lif_name!r}: {name} differs between neurons ({values.min():.9g} to "
                                    f"{values.max():.9g}); snn_helpers.SNN gives every neuron the same {name}")
        if p["v_threshold"][0] <= 0:
            raise NIRGraphError(f"node {lif_name!r}: v_threshold must be positive, got {p['v_threshold'][0]:g}")
        betas.append((lif_name, float(f"{beta[0]:.{BETA_DIGITS}g}")))
        thresholds.append((lif_name, float(p["v_threshold"][0])))
    for name, values in (("beta", betas), ("v_threshold", thresholds)):
        if len({value for _, value in values}) > 1:
            listed = ", ".join(f"{node}: {value:.9g}" for node, value in values)
            raise NIRGraphError(f"the LIF nodes have different {name} ({listed}); snn_helpers.SNN uses one "
                                f"{name} for all layers")
    model = SNN([first_in, *sizes], beta=betas[0][1], threshold=thresholds[0][1], reset="zero")
    with torch.no_grad():
        for fc, (weight, bias, _) in zip(model.fcs, layers):
            fc.weight.copy_(torch.from_numpy(np.array(weight, dtype=np.float32)))
            fc.bias.copy_(torch.from_numpy(np.array(bias, dtype=np.float32)))
    return model.eval()


def _chain(graph, nir) -> list:
    """The node names from the input to the output, checked to be ``Input, (Affine|Linear, LIF)+, Output``."""
    allowed = (nir.Input, nir.Output, nir.Affine, nir.Linear, nir.LIF)
    for name, node in graph.nodes.items():
        if not isinstance(node, allowed):
            raise NIRGraphError(f"node {name!r} is a {type(node).__name__}; snn_helpers.SNN can load only "
                                "Input, Affine or Linear, LIF and Output nodes")
    inputs = [name for name, node in graph.nodes.items() if isinstance(node, nir.Input)]
    if len(inputs) != 1:
        raise NIRGraphError(f"the graph must have exactly one Input node, it has {len(inputs)}: {inputs}")
    successors = {}
    for source, target in graph.edges:
        for end in (source, target):
            if end not in graph.nodes:
                raise NIRGraphError(f"edge ({source!r}, {target!r}) names node {end!r}, which the graph lacks")
        successors.setdefault(source, []).append(target)
    chain = inputs
    while not isinstance(graph.nodes[chain[-1]], nir.Output):
        name = chain[-1]
        following = successors.get(name, [])
        if len(following) != 1:
            raise NIRGraphError(f"node {name!r} feeds {len(following)} nodes {following}; snn_helpers.SNN "
                                "is a chain input -> Affine -> LIF -> ... -> output")
        if following[0] in chain:
            raise NIRGraphError(f"node {name!r} feeds back into {following[0]!r}; recurrent graphs cannot be loaded")
        chain.append(following[0])
    kinds = [graph.nodes[name] for name in chain[1:-1]]
    for position, (name, node) in enumerate(zip(chain[1:-1], kinds)):
        wanted = (nir.Affine, nir.Linear) if position % 2 == 0 else (nir.LIF,)
        if not isinstance(node, wanted):
            expected = "an Affine or Linear node" if position % 2 == 0 else "a LIF node"
            raise NIRGraphError(f"node {name!r} is a {type(node).__name__} where {expected} should be: "
                                "snn_helpers.SNN is a chain input -> Affine -> LIF -> ... -> output")
    if not kinds or len(kinds) % 2:
        raise NIRGraphError("the chain from input to output must end in a LIF node after at least one Affine node, "
                            f"got {[type(node).__name__ for node in kinds]}")
    unused = set(graph.nodes) - set(chain)
    if unused:
        raise NIRGraphError(f"nodes {sorted(unused)} are not on the chain from input to output")
    return chain


def _lif_arrays(name: str, lif, size: int) -> dict:
    """A LIF node's parameters as float64 arrays of shape ``[size]``, with zero leak and reset checked."""
    arrays = {}
    for key in ("tau", "r", "v_leak", "v_threshold", "v_reset"):
        value = np.asarray(getattr(lif, key), dtype=np.float64)
        if value.shape != (size,):
            raise NIRGraphError(f"node {name!r}: {key} has shape {value.shape}, expected ({size},), one value per "
                                "neuron of the layer before it")
        if not np.all(np.isfinite(value)):
            raise NIRGraphError(f"node {name!r}: {key} holds values that are not finite numbers")
        arrays[key] = value
    for key in ("v_leak", "v_reset"):
        if np.any(arrays[key] != 0):
            raise NIRGraphError(f"node {name!r}: {key} must be 0 for every neuron (snn_helpers.SNN leaks towards 0 "
                                f"and resets to 0), got values up to {np.abs(arrays[key]).max():g}")
    if np.any(arrays["tau"] <= 0) or np.any(arrays["r"] <= 0):
        raise NIRGraphError(f"node {name!r}: tau and r must be positive")
    return arrays


def _find_dt(graph, lifs: list[dict]) -> float:
    """``graph.metadata["dt"]``, else ``tau / r`` when it is the same for every neuron of every LIF node."""
    dt = (graph.metadata or {}).get("dt")
    if dt is not None:
        try:
            dt = float(np.asarray(dt))
        except (TypeError, ValueError):
            raise NIRGraphError(f"the graph's metadata gives dt = {dt!r}, which is not a number") from None
        if not (math.isfinite(dt) and dt > 0):
            raise NIRGraphError(f"the graph's metadata gives dt = {dt}, which is not a positive time step")
        return dt
    ratios = np.concatenate([arrays["tau"] / arrays["r"] for arrays in lifs])
    if ratios.max() - ratios.min() > 1e-9 * ratios.max():
        raise NIRGraphError("cannot find the time step dt: the graph has no metadata 'dt', and tau / r (which is dt "
                            f"when r = tau / dt) ranges from {ratios.min():.6g} to {ratios.max():.6g} across neurons")
    return float(ratios.mean())


def threshold_ties(model: SNN, x: torch.Tensor) -> int:
    """How many potentials of ``model`` on input ``x`` ([T, B, ...]) equal the threshold exactly.

    There, this series (``U >= threshold``) spikes and NIR and snnTorch (``U > threshold``)
    do not; with none, the two agree spike for spike.

    model: an :class:`SNN`. x: input spikes ``[T, B, N]`` (``N`` = ``model.sizes[0]``), floats.

    >>> model = SNN([1, 1], beta=0.9)
    >>> with torch.no_grad():  # U[t] = 1 * input + 0 = 1.0, exactly the threshold, every step
    ...     _ = model.fcs[0].weight.fill_(1.0), model.fcs[0].bias.zero_()
    >>> threshold_ties(model, torch.ones(3, 1, 1))
    3
    """
    check_tensor("x", x)
    with torch.no_grad():
        _, record = model(x, record=True)
    return _ties(record, model.lifs[0].threshold)


def _ties(record: dict, threshold: float) -> int:
    return sum(int((potential == threshold).sum()) for potential in record["potentials"])


def as_reset_to_zero(model: SNN) -> SNN:
    """A copy of ``model`` with the same weights whose neurons reset to zero.

    For a model trained with reset by subtraction this is a different network:
    it is what a NIR file of it would describe (snnTorch's export writes it without a word).

    model: an :class:`SNN`; it is not changed.

    >>> as_reset_to_zero(SNN([4, 2], reset="subtract")).settings.neuron.reset
    'zero'
    """
    if not isinstance(check_module("model", model), SNN):
        raise TypeError(f"model must be a snn_helpers.SNN, got {type(model).__name__}")
    copy = SNN(**model.settings.replace(reset="zero").as_dict())
    copy.load_state_dict(model.state_dict())
    return copy.eval()


def describe(graph) -> list[str]:
    """One line per node of a chain-shaped NIR graph, in edge order: its name, type and parameters.

    graph: a ``nir.NIRGraph`` whose edges form one chain from its ``Input`` node.
    Raises :class:`NIRGraphError` (a ``ValueError``) when the edges lead back to
    a node already listed: a loop has no end to describe.

    >>> for line in describe(to_nir(SNN([4, 3, 2], beta=0.9))):
    ...     print(line)
    input   Input   shape [4]
    fc1     Affine  weight (3, 4), bias (3,)
    lif1    LIF     3 neurons: tau 0.001 s, r 10, v_leak 0, v_threshold 1, v_reset 0
    fc2     Affine  weight (2, 3), bias (2,)
    lif2    LIF     2 neurons: tau 0.001 s, r 10, v_leak 0, v_threshold 1, v_reset 0
    output  Output  shape [2]
    """
    nir = _nir()
    following = dict(graph.edges)
    name = next(name for name, node in graph.nodes.items() if isinstance(node, nir.Input))
    lines, seen = [], set()
    while name is not None:
        seen.add(name)
        node = graph.nodes[name]
        if isinstance(node, (nir.Input, nir.Output)):
            shape = next(iter((node.input_type if isinstance(node, nir.Input) else node.output_type).values()))
            text = f"shape {[int(size) for size in np.atleast_1d(shape)]}"
        elif isinstance(node, (nir.Affine, nir.Linear)):
            text = f"weight {tuple(node.weight.shape)}" + (f", bias {tuple(node.bias.shape)}"
                                                           if isinstance(node, nir.Affine) else "")
        elif isinstance(node, nir.LIF):
            text = f"{np.size(node.tau)} neurons: " + ", ".join(
                f"{key} {_values(getattr(node, key))}{' s' if key == 'tau' else ''}"
                for key in ("tau", "r", "v_leak", "v_threshold", "v_reset"))
        else:
            text = ""
        lines.append(f"{name:<7} {type(node).__name__:<7} {text}".rstrip())
        previous, name = name, following.get(name)
        if name in seen:
            raise NIRGraphError(f"node {previous!r} feeds back into {name!r}; describe lists chain-shaped "
                                "graphs only")
    return lines


def _values(array) -> str:
    """``0.002`` when every entry is the same, else ``0.001..0.003``."""
    array = np.asarray(array)
    low, high = array.min(), array.max()
    return f"{low:.6g}" if low == high else f"{low:.6g}..{high:.6g}"
