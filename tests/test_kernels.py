"""The compiled kernels (snn_helpers/engine/kernels.py, _kernels.c): built where a compiler is,
the same sums as torch's, independent of the thread count, and a clean fallback."""
import shutil
import warnings

import pytest
import torch
from torch.nn import functional as F

from snn_helpers import LIF, SNN
from snn_helpers.core.neurons import FusedLIF
from snn_helpers.engine import backend, kernels

needs_library = pytest.mark.usefixtures("kernel_library")  # skipped where no C compiler builds the kernels


def test_library_builds_where_a_compiler_is_installed():
    if not any(shutil.which(cc) for cc in ("cc", "gcc")):
        pytest.skip("no C compiler on this machine: the fast path runs in plain torch")
    if not kernels.has_openmp():
        pytest.skip("the C compiler has no OpenMP (Apple's clang, for one): the fast path runs in plain torch")
    assert kernels.library() is not None


def _spiky(steps, batch, inputs, seed=0):
    """Mostly zeros, some ones, a few other values; sample 1 silent at every step."""
    gen = torch.Generator().manual_seed(seed)
    x = (torch.rand(steps, batch, inputs, generator=gen) < 0.15).float()
    x[torch.rand(x.shape, generator=gen) < 0.02] = 0.5
    x[:, 1] = 0
    return x.requires_grad_()


@needs_library
@pytest.mark.parametrize("steps", [1, 5, 7, 10])
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("with_columns", [True, False])
def test_spike_linear_matches_a_dense_product_and_its_gradients(steps, with_bias, with_columns):
    gen = torch.Generator().manual_seed(1)
    weight = torch.randn(128, 300, generator=gen).requires_grad_()
    bias = torch.randn(128, generator=gen).requires_grad_() if with_bias else None
    columns = torch.randperm(300, generator=gen)[:90] if with_columns else None
    x = _spiky(steps, 6, 90 if with_columns else 300)
    grad_out = torch.randn(steps, 6, 128, generator=gen)
    inputs = [t for t in (x, weight, bias) if t is not None]
    used = weight if columns is None else weight.index_select(1, columns)
    expected = F.linear(x, used, bias)
    expected_grads = torch.autograd.grad(expected, inputs, grad_out)
    out = kernels.SpikeLinear.apply(x, weight, bias, columns)
    grads = torch.autograd.grad(out, inputs, grad_out)
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)
    for got, want in zip(grads, expected_grads, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    if columns is not None:  # a weight column no input meets gets no gradient
        unused = torch.ones(300, dtype=torch.bool)
        unused[columns] = False
        assert grads[1][:, unused].abs().sum() == 0 and grads[1][:, columns].abs().sum() > 0


@needs_library
def test_results_do_not_depend_on_the_number_of_threads():
    """Each output is summed in a fixed order, whatever the thread count: bit for bit.
    The library reports the thread count torch sets: it runs on torch's OpenMP pool."""
    gen = torch.Generator().manual_seed(2)
    weight, bias = torch.randn(256, 200, generator=gen), torch.randn(256, generator=gen)
    x = _spiky(10, 32, 200)
    grad_out = torch.randn(10, 32, 256, generator=gen)
    threads = torch.get_num_threads()
    results = []
    try:
        for n in (1, 3):
            torch.set_num_threads(n)
            assert kernels.num_threads() == n
            w = weight.clone().requires_grad_()
            current = kernels.SpikeLinear.apply(x, w, bias, None)
            spikes, _ = FusedLIF.apply(current, 0.95, 1.0, 10.0, "sigmoid", "zero", True)
            (grad_w,) = torch.autograd.grad(spikes, w, grad_out)
            results.append((current, spikes, grad_w))
    finally:
        torch.set_num_threads(threads)
    for one, three in zip(*results, strict=True):
        assert torch.equal(one, three)


@needs_library
def test_the_poisson_kernel_gives_torchs_spikes_from_the_same_draws(monkeypatch):
    """encode_lit's draws turned into spikes by the kernel, and by torch (SNN_KERNELS=0): bit for bit,
    with the generator left in the same state; poisson_encode (torch) agrees with both."""
    from snn_helpers.core.encoding import encode_lit, poisson_encode
    gen = torch.Generator().manual_seed(6)
    images = torch.where(torch.rand(9, 1, 6, 7, generator=gen) < 0.5, 0.0, torch.rand(9, 1, 6, 7, generator=gen))
    images[0, 0, 0, :3] = 1.0  # always fires
    images[1:] = images[1:].round(decimals=1)  # some exact 0s and 1s among the rest
    kernel_gen, torch_gen = torch.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    calls, poisson_spikes = [], kernels.poisson_spikes
    monkeypatch.setattr(kernels, "poisson_spikes", lambda *args: calls.append(1) or poisson_spikes(*args))
    with_kernel, pixels = encode_lit(images, 7, kernel_gen)
    assert calls, "encode_lit did not use the kernel"
    monkeypatch.setenv(kernels.ENABLE_ENV, "0")
    in_torch, _ = encode_lit(images, 7, torch_gen)
    monkeypatch.delenv(kernels.ENABLE_ENV)
    assert torch.equal(with_kernel, in_torch) and torch.equal(kernel_gen.get_state(), torch_gen.get_state())
    assert torch.equal(with_kernel, poisson_encode(images, 7, torch.Generator().manual_seed(7)).flatten(2)[..., pixels])
    assert 0 < with_kernel.mean() < 1 and with_kernel.sum(0).max() == 7  # the white pixels fire at every step


@needs_library
@pytest.mark.parametrize("first", [0, 1, 622, 623, 624, 1000])
@pytest.mark.parametrize("shape", [(0,), (1,), (623,), (624,), (625,), (3, 7, 200), (10, 4001)])
def test_the_random_kernel_draws_torchs_numbers_and_moves_the_generator_alike(first, shape):
    """kernels.rand against torch.rand, bit for bit, from every place in the generator's batch of
    624 words (``first`` numbers drawn before), over one and several batches; then both generators
    go on alike, in torch."""
    ours, theirs = torch.Generator().manual_seed(first), torch.Generator().manual_seed(first)
    torch.rand(first, generator=ours), torch.rand(first, generator=theirs)
    drawn = kernels.rand(shape, ours)
    assert drawn.shape == shape and drawn.dtype == torch.float32
    assert torch.equal(drawn, torch.rand(shape, generator=theirs))
    assert torch.equal(ours.get_state(), theirs.get_state())
    assert torch.equal(torch.randn(5, generator=ours), torch.randn(5, generator=theirs))


@needs_library
def test_the_random_kernel_draws_from_torchs_default_generator_without_one():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(11)
        drawn = kernels.rand((2, 900))
        after = torch.get_rng_state()
        torch.manual_seed(11)
        assert torch.equal(drawn, torch.rand(2, 900)) and torch.equal(after, torch.get_rng_state())


@needs_library
def test_the_random_kernel_gives_way_to_torch_where_it_disagrees_or_the_state_is_not_torchs(monkeypatch):
    """A torch whose generator state the kernel does not read (here: a state said to be too short)
    is found by the first call's check: a warning, then torch.rand's numbers. Counters out of
    torch's range make the kernel refuse without writing."""
    monkeypatch.setitem(kernels._state, "rand", None)  # put back as it was after the test ...
    del kernels._state["rand"]  # ... and absent during it, so that the check runs again
    monkeypatch.setattr(kernels, "GENERATOR_STATE_BYTES", 10**6)
    with pytest.warns(RuntimeWarning, match="differ from torch.rand's"):
        drawn = kernels.rand((700,), torch.Generator().manual_seed(3))
    assert torch.equal(drawn, torch.rand(700, generator=torch.Generator().manual_seed(3)))
    assert kernels._state["rand"] is False
    state = torch.Generator().manual_seed(0).get_state()
    state[8:12] = torch.tensor([0], dtype=torch.int32).view(torch.uint8)  # left = 0: torch keeps it in [1, 624]
    out = torch.full((4,), -1.0)
    assert kernels.library().snn_rand(state.data_ptr(), out.data_ptr(), 4) == 1
    assert torch.equal(out, torch.full((4,), -1.0))


@needs_library
def test_a_layer_size_the_product_kernel_cannot_take_falls_back_to_torch_for_that_product():
    torch.manual_seed(0)
    compiled = SNN((784, 100, 10), backend="compiled")  # 100 is not a multiple of 64
    plain = SNN((784, 100, 10), backend="torch")
    plain.load_state_dict(compiled.state_dict())
    x = _spiky(6, 4, 784).detach()
    torch.testing.assert_close(compiled(x), plain(x))


@needs_library
def test_the_lif_kernel_takes_non_contiguous_currents():
    currents = torch.randn(16, 6, 9).transpose(0, 2)  # [9, 6, 16], not contiguous
    assert not currents.is_contiguous()
    for reset in ("zero", "subtract"):
        spikes, potentials = FusedLIF.apply(currents, 0.9, 0.5, 5.0, "arctan", reset, True)
        want_spikes, want_potentials = FusedLIF.apply(currents, 0.9, 0.5, 5.0, "arctan", reset, False)
        assert torch.equal(spikes, want_spikes)
        torch.testing.assert_close(potentials, want_potentials)


def test_engine_says_what_each_backend_computes_with(monkeypatch):
    monkeypatch.setenv(backend.ENGINE_ENV, "compiled")  # auto's choice, unmeasured
    assert backend.resolve("auto", "cuda") == backend.Engine("torch", "cuda", "the kernels take CPU tensors, got cuda")
    assert backend.resolve("auto", "cuda").describe() == "torch on cuda (the kernels take CPU tensors, got cuda)"
    assert backend.resolve("step", "cuda").describe() == "the step-by-step loop"
    assert backend.resolve("torch", "cpu").describe() == "plain torch"
    if kernels.library() is not None:
        assert backend.resolve("auto", "cpu") == backend.Engine("compiled", "cpu", "SNN_ENGINE=compiled is set")
        assert SNN((4, 2)).engine().compiled and not SNN((4, 2), backend="torch").engine().compiled
    with pytest.raises(ValueError, match="backend='compiled'.*CPU tensors, got cuda"):
        backend.resolve("compiled", "cuda")
    monkeypatch.setenv(kernels.ENABLE_ENV, "0")
    assert backend.resolve("auto", "cpu").describe() == "plain torch (SNN_KERNELS=0 is set)"


def test_snn_kernels_0_means_plain_torch(monkeypatch):
    monkeypatch.setenv(kernels.ENABLE_ENV, "0")
    monkeypatch.setattr(kernels, "lif_forward", lambda *a: pytest.fail("compiled kernel used"))
    currents = torch.randn(4, 2, 8)
    assert kernels.library() is None and backend.resolve("auto", tensor=currents).name == "torch"
    SNN((784, 64, 10))(_spiky(4, 2, 784).detach())  # runs, without the kernels
    for refused in (lambda: SNN(backend="compiled"), lambda: LIF()(currents, backend="compiled")):
        with pytest.raises(ValueError, match="backend='compiled'.*SNN_KERNELS=0"):
            refused()


@needs_library
def test_the_kernels_refuse_what_they_cannot_take_before_touching_memory():
    x, weight = torch.zeros(2, 3, 8), torch.zeros(128, 8)
    with pytest.raises(ValueError, match="weight must have a multiple of 64 rows"):
        kernels.SpikeLinear.apply(x, torch.zeros(100, 8), None, None)
    with pytest.raises(ValueError, match="bias one value per row"):
        kernels.SpikeLinear.apply(x, weight, torch.zeros(64), None)
    with pytest.raises(ValueError, match=r"one input per weight column used \(5\), got 8"):
        kernels.SpikeLinear.apply(x, weight, None, torch.arange(5))
    with pytest.raises(ValueError, match="x must be a float32 CPU tensor.*float64"):
        kernels.SpikeLinear.apply(x.double(), weight, None, None)
    with pytest.raises(ValueError, match="currents must be a float32 CPU tensor"):
        FusedLIF.apply(torch.zeros(2, 3, 4, dtype=torch.float64), 0.9, 1.0, 5.0, "sigmoid", "zero", True)


@needs_library
def test_backend_compiled_refuses_what_the_kernels_cannot_take():
    with pytest.raises(ValueError, match="backend='compiled'.*fp32 CPU tensors, got torch.float64"):
        backend.resolve("compiled", tensor=torch.zeros(2, dtype=torch.float64))
    with pytest.raises(ValueError, match="backend='compiled'.*fp32 CPU tensors, got torch.float64"):
        SNN((4, 2), backend="compiled").double()(torch.ones(3, 1, 4, dtype=torch.float64))
    with pytest.raises(ValueError, match="backend must be one of"):
        SNN(backend="yes")
    with pytest.raises(TypeError, match="compiled"):
        SNN(compiled=True)  # the old keywords are gone: backend= says it


def test_a_compiler_that_fails_gives_a_warning_and_plain_torch(monkeypatch, tmp_path):
    monkeypatch.setattr(kernels, "_state", {})
    monkeypatch.setenv("CC", shutil.which("false") or "/bin/false")
    monkeypatch.setenv(kernels.CACHE_ENV, str(tmp_path))
    with pytest.warns(RuntimeWarning, match="compiled kernels unavailable .*plain torch"):
        assert kernels.library() is None
    assert backend.resolve("auto", tensor=torch.zeros(2)).name == "torch"
    assert backend.resolve("auto", "cpu").describe() == "plain torch (the kernels could not be built; see the warning)"
    assert list(tmp_path.iterdir()) == []  # no half-built library left behind
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the attempt is made, and reported, once per process
        assert kernels.library() is None


def test_the_library_is_built_once_into_the_cache(monkeypatch, tmp_path):
    if not any(shutil.which(cc) for cc in ("cc", "gcc")):
        pytest.skip("no C compiler on this machine")
    if not kernels.has_openmp():
        pytest.skip("the C compiler has no OpenMP (Apple's clang, for one)")
    monkeypatch.setattr(kernels, "_state", {})
    monkeypatch.setenv(kernels.CACHE_ENV, str(tmp_path))
    assert kernels.library() is not None
    (built,) = tmp_path.iterdir()  # one file, no temporary one
    assert built.name.startswith("snn_kernels-") and built.suffix == ".so"
    stamp = built.stat().st_mtime_ns
    monkeypatch.setattr(kernels, "_state", {})
    assert kernels.library() is not None and built.stat().st_mtime_ns == stamp
