"""Subnormals flushed inside :func:`snn_helpers.engine.cpu.subnormals_flushed` (on the calling thread and on
torch's OpenMP pool, which the compiled kernels share), the caller's setting back afterwards, and the
package's work running inside :func:`snn_helpers.engine.cpu.computing`. No timing here."""
import pytest
import torch
from torch import nn

from snn_helpers import BatchLoader, predict
from snn_helpers.core.settings import TrainSettings
from snn_helpers.core.training import run_epochs
from snn_helpers.course.widgets import inference_demo
from snn_helpers.engine import kernels
from snn_helpers.engine.cpu import computing, flushes_subnormals, subnormals_flushed, threads_at_most

TINY = torch.finfo(torch.float32).tiny  # the smallest normal float32 number; TINY / 2 is subnormal
needs_library = pytest.mark.usefixtures("kernel_library")  # skipped where no C compiler builds the kernels


@pytest.fixture(autouse=True)
def caller_does_not_flush():
    """Every test starts and ends with flushing off on every thread, at two threads or more."""
    threads = torch.get_num_threads()
    torch.set_num_threads(max(2, threads))  # so that the pool has a thread besides the calling one
    _set_everywhere(False)
    yield
    _set_everywhere(False)
    torch.set_num_threads(threads)


def _set_everywhere(on: bool):
    if kernels.library() is not None:
        kernels.library().snn_set_ftz(int(on))
    torch.set_flush_denormal(on)


def _pool_flushing() -> int:
    """How many threads of the pool flush (the calling one among them)."""
    return kernels.library().snn_set_ftz(-1)


def _halved(size: int) -> torch.Tensor:
    """TINY / 2 in ``size`` places; large sizes split over the pool's threads."""
    return torch.full((size,), TINY) * 0.5


@pytest.mark.parametrize("caller", [False, True])
def test_a_subnormal_result_is_zero_inside_and_the_callers_setting_returns(caller):
    torch.set_flush_denormal(caller)
    with subnormals_flushed():
        inside = _halved(1).item()
        assert flushes_subnormals()
    assert inside == 0.0
    assert flushes_subnormals() is caller
    assert (_halved(1).item() == 0.0) is caller


def test_the_probe_sees_what_torch_set():
    assert not flushes_subnormals() and _halved(1).item() > 0
    torch.set_flush_denormal(True)
    assert flushes_subnormals() and _halved(1).item() == 0.0


@needs_library
def test_the_pool_threads_flush_too_in_torch_and_in_the_kernels():
    size = 1 << 22  # large enough for torch to split it over its threads
    assert (_halved(size) > 0).all(), "outside, every thread keeps the subnormal"
    currents = torch.zeros(2, 16 * 2048)  # [T, M]: the kernel splits the neurons over its threads
    currents[0] = TINY
    with subnormals_flushed():
        assert _pool_flushing() == torch.get_num_threads()
        assert (_halved(size) == 0).all(), "a thread of torch's pool kept a subnormal"
        potentials, _ = kernels.lif_forward(currents, 0.5, 1.0, "zero")  # U[1] = 0.5 * TINY: subnormal
        assert (potentials[1] == 0).all(), "a thread of the kernels kept a subnormal"
    assert _pool_flushing() == 0 and (_halved(size) > 0).all()
    potentials, _ = kernels.lif_forward(currents, 0.5, 1.0, "zero")
    assert (potentials[1] == TINY * 0.5).all()


@needs_library
def test_a_caller_that_flushes_only_its_own_thread_keeps_that():
    torch.set_flush_denormal(True)  # what a user's torch.set_flush_denormal does: the calling thread only
    assert _pool_flushing() == 1
    with subnormals_flushed():
        assert _pool_flushing() == torch.get_num_threads()
    assert flushes_subnormals() and _pool_flushing() == 1


@needs_library
def test_nested_blocks_leave_flushing_on_until_the_outer_one_ends():
    with subnormals_flushed():
        with subnormals_flushed():
            pass
        assert flushes_subnormals() and _pool_flushing() == torch.get_num_threads()
    assert not flushes_subnormals() and _pool_flushing() == 0


def test_the_setting_returns_when_the_block_raises():
    with pytest.raises(KeyError), subnormals_flushed():
        raise KeyError("inside")
    assert not flushes_subnormals()


def test_computing_applies_the_share_and_gives_the_threads_back(tmp_path):
    threads = torch.get_num_threads()
    with computing(tmp_path, {"CPU_LIMIT": "1"}):
        assert torch.get_num_threads() == 1 and flushes_subnormals()
    assert torch.get_num_threads() == threads and not flushes_subnormals()
    with computing(tmp_path, {"CPU_LIMIT": str(threads + 4)}), threads_at_most(threads + 4):
        assert torch.get_num_threads() == threads, "a share above the caller's threads adds none"
    with pytest.raises(ValueError, match="threads must be an integer >= 1, got 0"):
        with threads_at_most(0):
            pass


class _Recorder(nn.Module):
    """A tiny SNN stand-in that records the settings its forward pass runs under."""

    def __init__(self):
        super().__init__()
        self.bias, self.seen = nn.Parameter(torch.zeros(10)), []

    def forward(self, spikes):  # [T, B, ...] -> [T, B, 10]
        self.seen.append((flushes_subnormals(), torch.get_num_threads()))
        return spikes.flatten(2).sum(2, keepdim=True) + self.bias

    def scores(self, spikes, pixels=None):  # [T, B, P] -> [B, 10]
        return self.forward(spikes).sum(0)


def test_training_evaluation_and_the_demos_run_flushed_with_the_share(monkeypatch):
    monkeypatch.setenv("CPU_LIMIT", "1")
    model, threads = _Recorder(), torch.get_num_threads()
    images, labels = torch.rand(4, 1, 28, 28), torch.tensor([0, 1, 2, 3])
    optimizer = torch.optim.Adam(model.parameters())
    run_epochs(model, [(images, labels)], lambda x: model.scores(x.unsqueeze(0)), optimizer,
               TrainSettings(epochs=1, lr=1e-3), device=torch.device("cpu"))
    predict(model, BatchLoader(images, labels, 2), 3, device="cpu")
    inference_demo(3, model, images, labels)
    assert model.seen == [(True, 1)] * 4, "run_epochs, predict (2 batches) and inference_demo"
    assert not flushes_subnormals() and torch.get_num_threads() == threads
