"""The time-batched fast path against the step-by-step loop: same spikes in, same outputs and gradients out.

The fused path runs in plain torch (``backend="torch"``) and in the compiled kernels
(``backend="compiled"``); both are checked against ``backend="step"``. T = 8 is not a multiple of the kernels'
blocks of 5 steps, and the hidden sizes use their product with spikes (multiples of 64).
"""
import pytest
import torch

from snn_helpers import LIF, SNN, SURROGATES, FusedLIF
from snn_helpers.core.neurons import RESETS

T, B, SIZES = 8, 16, (784, 128, 64, 10)
IMPLEMENTATIONS = ["torch", "compiled"]


@pytest.fixture(autouse=True)
def compiled_needs_the_library(request):
    """A ``compiled`` case is skipped where the kernels cannot be built (tests/test_kernels.py says why)."""
    if getattr(request.node, "callspec", None) and request.node.callspec.params.get("backend") == "compiled":
        request.getfixturevalue("kernel_library")


def _spiking_pair(reset, surrogate, backend="torch"):
    """Two copies of one network, on ``backend`` and step-by-step, with weights large enough that every
    layer spikes."""
    torch.manual_seed(0)
    fast = SNN(SIZES, reset=reset, surrogate=surrogate, backend=backend)
    with torch.no_grad():
        for fc in fast.fcs:
            fc.weight.mul_(4.0)
    slow = SNN(SIZES, reset=reset, surrogate=surrogate, backend="step")
    slow.load_state_dict(fast.state_dict())
    return fast, slow


def _input_spikes():
    """Random spikes with a 4-pixel border that never fires, like MNIST's black border."""
    spikes = (torch.rand(T, B, 1, 28, 28, generator=torch.Generator().manual_seed(1)) < 0.3).float()
    spikes[..., :4, :] = spikes[..., -4:, :] = spikes[..., :4] = spikes[..., -4:] = 0
    return spikes


def _assert_every_layer_spikes_and_resets(record):
    for i, spikes in enumerate(record["spikes"]):
        rate = spikes.mean().item()
        assert 0.02 < rate < 0.9, f"layer {i} fires at rate {rate}: the comparison would be vacuous"
        assert spikes[:-1].sum() > 0, f"layer {i} never resets before the last step"


@pytest.mark.parametrize("backend", IMPLEMENTATIONS)
@pytest.mark.parametrize("surrogate", sorted(SURROGATES))
@pytest.mark.parametrize("reset", RESETS)
def test_fast_path_matches_step_loop_in_outputs_and_every_gradient(reset, surrogate, backend):
    fast, slow = _spiking_pair(reset, surrogate, backend)
    x = _input_spikes()
    out_fast, rec_fast = fast(x, record=True)
    out_slow, rec_slow = slow(x, record=True)
    _assert_every_layer_spikes_and_resets(rec_slow)
    torch.testing.assert_close(out_fast, out_slow, rtol=1e-5, atol=1e-5)
    for name in ("spikes", "potentials"):
        for a, b in zip(rec_fast[name], rec_slow[name], strict=True):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    labels = torch.arange(B) % 10
    for model in (fast, slow):
        torch.nn.functional.cross_entropy(model.scores(x), labels).backward()
    for (name, p), q in zip(fast.named_parameters(), slow.parameters(), strict=True):
        assert p.grad.abs().sum() > 0, f"{name} got no gradient: the comparison would be vacuous"
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-5, atol=1e-5, msg=lambda m: f"{name}: {m}")


@pytest.mark.parametrize("backend", ["step", *IMPLEMENTATIONS])
def test_leaving_out_silent_inputs_changes_nothing(backend):
    """``features``: the lit inputs only, as training feeds them, against the full input to the step loop."""
    model, full = _spiking_pair("zero", "sigmoid", backend)
    x = _input_spikes().flatten(2)
    lit = (x.flatten(0, 1).amax(0) > 0).nonzero().squeeze(1)
    assert 0 < len(lit) < x.shape[-1]
    out, rec = model(x[..., lit], lit, record=True)
    out_full, rec_full = full(x, record=True)
    torch.testing.assert_close(out, out_full, rtol=1e-5, atol=1e-5)
    for a, b in zip(rec["potentials"], rec_full["potentials"], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    labels = torch.arange(B) % 10
    torch.nn.functional.cross_entropy(model.scores(x[..., lit], lit), labels).backward()
    torch.nn.functional.cross_entropy(full.scores(x), labels).backward()
    for p, q in zip(model.parameters(), full.parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-5, atol=1e-5)
    dark = torch.ones(x.shape[-1], dtype=torch.bool)
    dark[lit] = False
    assert model.fcs[0].weight.grad[:, dark].abs().sum() == 0  # inputs that never spike get no gradient
    assert model.fcs[0].weight.grad[:, lit].abs().sum() > 0


@pytest.mark.parametrize("backend", IMPLEMENTATIONS)
@pytest.mark.parametrize("surrogate", sorted(SURROGATES))
@pytest.mark.parametrize("reset", RESETS)
def test_fused_lif_matches_the_step_loop_of_one_layer(reset, surrogate, backend):
    lif = LIF(beta=0.9, threshold=1.0, reset=reset, surrogate=surrogate, slope=5.0)
    currents = (0.3 + 0.5 * torch.randn(T, B, 64, generator=torch.Generator().manual_seed(2))).requires_grad_()
    weights = torch.randn(T, B, 64, generator=torch.Generator().manual_seed(3))  # dL/dS, different everywhere
    spikes, potentials = lif(currents, backend="step")
    (spikes * weights).sum().backward()
    grad_loop, currents.grad = currents.grad, None
    fused_spikes, fused_potentials = lif(currents, backend=backend)
    (fused_spikes * weights).sum().backward()
    assert 0.1 < spikes.mean().item() < 0.6
    assert torch.equal(fused_spikes, spikes)
    if backend == "compiled":  # the kernel does the step loop's operations in its order: bit for bit
        assert torch.equal(fused_potentials, potentials)
    torch.testing.assert_close(fused_potentials, potentials, rtol=1e-6, atol=1e-6)
    assert not fused_potentials.requires_grad
    torch.testing.assert_close(currents.grad, grad_loop, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("backend", IMPLEMENTATIONS)
def test_fused_lif_gradient_includes_the_path_through_the_reset(backend):
    """Dropping the reset's term ``-U * g`` (zero) or ``-threshold * g`` (subtract) must change the gradient."""
    currents = (0.3 + 0.5 * torch.randn(T, B, 64, generator=torch.Generator().manual_seed(2))).requires_grad_()
    for reset in RESETS:
        spikes, _ = FusedLIF.apply(currents, 0.9, 1.0, 5.0, "sigmoid", reset, backend == "compiled")
        (grad,) = torch.autograd.grad(spikes.sum(), currents)
        lif = LIF(0.9, 1.0, reset, "sigmoid", 5.0)
        mem, total = torch.zeros(B, 64), 0
        for current in currents:  # the step loop with the spike inside the reset detached
            spk, potential, _ = lif.step(current, mem)
            mem = potential * (1 - spk.detach()) if reset == "zero" else potential - spk.detach()
            total = total + spk.sum()
        (grad_detached,) = torch.autograd.grad(total, currents)
        assert (grad - grad_detached).abs().max() > 1e-3


def test_bf16_runs_with_fp32_neurons_and_stays_close_to_fp32():
    fp32, _ = _spiking_pair("zero", "sigmoid")
    bf16 = SNN(SIZES, precision="bf16")
    bf16.load_state_dict(fp32.state_dict())
    x = _input_spikes()
    out, rec = bf16(x, record=True)
    _, ref_rec = fp32(x, record=True)
    assert out.shape == (T, B, 10) and out.dtype == torch.float32
    assert all(p.dtype == torch.float32 for p in rec["potentials"])
    assert not torch.equal(rec["potentials"][0], ref_rec["potentials"][0]), "bf16 products were not used"
    for i, (a, b) in enumerate(zip(rec["spikes"], ref_rec["spikes"], strict=True)):
        agree = (a == b).float().mean().item()
        assert agree > 0.97, f"layer {i}: only {agree:.3f} of the spikes agree with fp32"
    assert (bf16.scores(x) - fp32.scores(x)).abs().float().mean() < 0.5  # spike counts out of T = 8
    torch.nn.functional.cross_entropy(bf16.scores(x), torch.arange(B) % 10).backward()
    for name, p in bf16.named_parameters():
        assert p.grad is not None and p.grad.dtype == torch.float32 and torch.isfinite(p.grad).all(), name


def test_precision_is_checked():
    with pytest.raises(ValueError, match="precision"):
        SNN(precision="fp16")
