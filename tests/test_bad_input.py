"""Bad input everywhere a user can type: each case names the argument (and, for ranges, the range)."""
import re

import matplotlib.pyplot as plt
import pytest
import torch

from snn_helpers import (
    LIF,
    SNN,
    BatchLoader,
    as_tensors,
    cli,
    ensure_mnist,
    evaluate,
    fit,
    load_mnist,
    mnist_loaders,
    poisson_encode,
    predict,
    set_seed,
    spike,
)
from snn_helpers.analysis.ann import ANN, evaluate_ann, fit_ann
from snn_helpers.analysis.costs import snn_activity
from snn_helpers.analysis.timesteps import decisions_by_steps
from snn_helpers.core import data, recipes
from snn_helpers.core.checkpoint import load_checkpoint, save_checkpoint
from snn_helpers.core.encoding import encode_batch
from snn_helpers.core.settings import ModelSettings, NeuronSettings, TrainSettings
from snn_helpers.core.training import run_epochs
from snn_helpers.course import widgets

NAN, INF = float("nan"), float("inf")


def _model():
    return SNN((784, 8, 10))


def _loader(n=4):
    return BatchLoader(torch.rand(n, 1, 28, 28), torch.zeros(n, dtype=torch.long), 2)


def _images():
    return torch.rand(3, 1, 28, 28)


class _FakeMNIST:
    data, targets = torch.zeros(5, 28, 28, dtype=torch.uint8), torch.zeros(5, dtype=torch.long)

    def __len__(self):
        return 5


def _fit(**bad):
    return fit(**{"model": _model(), "train_loader": _loader(), "epochs": 1, "num_steps": 2,
                  "device": "cpu", "checkpoint_path": "ckpt.pt", "progress": False, **bad})


def _predict(**bad):
    return predict(**{"model": _model(), "loader": _loader(), "num_steps": 2, "device": "cpu", **bad})


def _evaluate(**bad):
    return evaluate(**{"model": _model(), "loader": _loader(), "num_steps": 2, "device": "cpu", **bad})


def _encode(**bad):
    return poisson_encode(**{"images": _images(), "num_steps": 3, **bad})


def _spike(**bad):
    return spike(**{"potential": torch.rand(4), **bad})


def _batches(**bad):
    return BatchLoader(**{"images": _images(), "labels": torch.zeros(3, dtype=torch.long), **bad})


def _loaders(**bad):
    return mnist_loaders(**{"batch_size": 2, "train_limit": 10, "test_limit": 10, **bad})


def _lif_step(**bad):
    return LIF().step(**{"current": torch.rand(2, 3), "membrane": torch.zeros(2, 3), **bad})


def _lif_sequence(**bad):
    return LIF()(**{"currents": torch.rand(4, 2, 3), **bad})


def _encoding_demo(**bad):
    labels = torch.arange(10)
    return widgets.encoding_demo(**{"num_steps": 5, "digit": 3, "images": torch.rand(10, 1, 28, 28),
                                    "labels": labels, **bad})


def _inference_demo(**bad):
    return widgets.inference_demo(**{"num_steps": 3, "model": SNN((784, 8, 10)), "images": _images(),
                                     "labels": torch.zeros(3, dtype=torch.long), **bad})


def _show(value):
    if isinstance(value, torch.Tensor):
        floats = value.is_floating_point() and value.numel()
        kind = f"{value.min().item():g}..{value.max().item():g}" if floats else str(value.dtype)[6:]
        return f"tensor{list(value.shape)}:{kind}"
    return repr(value)[:20]


def _steps_demo(**bad):
    return widgets.steps_demo(**{"num_steps": 2, "model": SNN((784, 8, 10)), "image": torch.rand(1, 28, 28),
                                   "label": 3, "accuracies": [0.5, 0.6, 0.7], **bad})


def _encode_batch(**bad):
    return encode_batch(**{"images": _images(), "num_steps": 3, "device": "cpu", **bad})


def _fit_ann(**bad):
    return fit_ann(**{"model": ANN((784, 8, 10)), "train_loader": _loader(), "epochs": 1, "device": "cpu", **bad})


def _evaluate_ann(**bad):
    return evaluate_ann(**{"model": ANN((784, 8, 10)), "loader": _loader(), "device": "cpu", **bad})


def _snn_activity(**bad):
    return snn_activity(**{"model": _model(), "loader": _loader(), "num_steps": 2, "device": "cpu", **bad})


def _decisions_by_steps(**bad):
    return decisions_by_steps(**{"model": _model(), "loader": _loader(), "max_steps": 2, "device": "cpu", **bad})


def _run_epochs(**bad):
    model = ANN((784, 8, 10))
    return run_epochs(**{"model": model, "train_loader": _loader(), "forward": model,
                         "optimizer": torch.optim.Adam(model.parameters()), "settings": TrainSettings(epochs=1),
                         "device": "cpu", **bad})


def _recipe(**bad):
    return recipes.Recipe(**{"name": "tiny", "summary": "a short run", **bad})


def _case(call, error, name, allowed=None, **bad):
    shown = ",".join(f"{key}={_show(value)}" for key, value in bad.items())
    return pytest.param(call, bad, error, name, allowed, id=f"{call.__name__.strip('_')}({shown})")


CASES = [
    _case(_encode_batch, ValueError, "num_steps", "[1, inf)", num_steps=0),
    _case(_encode_batch, ValueError, "images", "[0, 1]", images=torch.full((2, 4), 1.5)),
    _case(_encode_batch, TypeError, "generator", generator=42),
    _case(_fit_ann, TypeError, "model", model="ANN"),
    _case(_fit_ann, ValueError, "train_loader", train_loader=[]),
    _case(_fit_ann, ValueError, "epochs", "[0, inf)", epochs=-1),
    _case(_fit_ann, ValueError, "lr", "(0.0, inf)", lr=0),
    _case(_fit_ann, ValueError, "schedule", "constant", schedule="linear"),
    _case(_fit_ann, ValueError, "device", device="tpu"),
    _case(_evaluate_ann, ValueError, "loader", loader=[]),
    _case(_evaluate_ann, TypeError, "device", device=0.5),
    _case(_snn_activity, ValueError, "num_steps", "[1, inf)", num_steps=0),
    _case(_snn_activity, TypeError, "generator", generator=1),
    _case(_snn_activity, TypeError, "model", model=None),
    _case(_decisions_by_steps, ValueError, "max_steps", "[1, inf)", max_steps=0),
    _case(_decisions_by_steps, TypeError, "generator", generator="seed"),
    _case(_decisions_by_steps, ValueError, "device", device="tpu"),
    _case(_run_epochs, TypeError, "settings", "TrainSettings", settings={"epochs": 1, "lr": 1e-3}),
    _case(TrainSettings, ValueError, "epochs", "[0, inf)", epochs=-1),
    _case(TrainSettings, TypeError, "num_steps", num_steps=2.5),
    _case(TrainSettings, ValueError, "lr", "(0.0, inf)", lr=NAN),
    _case(TrainSettings, ValueError, "schedule", "cosine", schedule="step"),
    _case(NeuronSettings, ValueError, "beta", "[0.0, 1.0]", beta=1.5),
    _case(NeuronSettings, ValueError, "surrogate", "arctan", surrogate="relu"),
    _case(ModelSettings, ValueError, "sizes[0]", "[1, inf)", sizes=(0, 10)),
    _case(ModelSettings, TypeError, "neuron", "NeuronSettings", neuron={"beta": 0.9}),
    _case(ModelSettings.from_dict, ValueError, "fast", "allowed", settings={"sizes": [4, 2], "fast": True}),
    _case(_recipe, TypeError, "model", "ModelSettings", model={"reset": "zero"}),
    _case(_recipe, ValueError, "batch_size", "[1, inf)", batch_size=0),
    _case(set_seed, ValueError, "seed", "[0, 4294967295]", seed=-1),
    _case(set_seed, ValueError, "seed", "[0, 4294967295]", seed=2**32),
    _case(set_seed, TypeError, "seed", seed=1.5),
    _case(set_seed, TypeError, "seed", seed="3"),
    _case(set_seed, TypeError, "seed", seed=True),

    _case(_encode, ValueError, "num_steps", "[1, inf)", num_steps=0),
    _case(_encode, ValueError, "num_steps", "[1, inf)", num_steps=-5),
    _case(_encode, TypeError, "num_steps", num_steps=2.5),
    _case(_encode, TypeError, "num_steps", num_steps=None),
    _case(_encode, ValueError, "images", "[0, 1]", images=torch.full((2, 4), 1.5)),
    _case(_encode, ValueError, "images", "[0, 1]", images=torch.full((2, 4), -0.2)),
    _case(_encode, ValueError, "images", "[0, 1]", images=torch.tensor([0.5, NAN])),
    _case(_encode, ValueError, "images", "[0, 1]", images=torch.tensor([0.5, INF])),
    _case(_encode, TypeError, "images", images=torch.zeros(2, 4, dtype=torch.uint8)),
    _case(_encode, TypeError, "images", images=[[0.1, 0.2]]),
    _case(_encode, TypeError, "generator", generator=42),

    _case(_spike, TypeError, "potential", potential=[0.5]),
    _case(_spike, TypeError, "potential", potential=torch.ones(3, dtype=torch.long)),
    _case(_spike, ValueError, "threshold", "(0.0, inf)", threshold=0),
    _case(_spike, ValueError, "threshold", "(0.0, inf)", threshold=-1.0),
    _case(_spike, ValueError, "threshold", "(0.0, inf)", threshold=NAN),
    _case(_spike, ValueError, "slope", "(0.0, inf)", slope=0.0),
    _case(_spike, ValueError, "surrogate", "sigmoid", surrogate="relu"),

    _case(LIF, ValueError, "beta", "[0.0, 1.0]", beta=-0.1),
    _case(LIF, ValueError, "beta", "[0.0, 1.0]", beta=1.5),
    _case(LIF, ValueError, "beta", "[0.0, 1.0]", beta=NAN),
    _case(LIF, ValueError, "beta", "[0.0, 1.0]", beta=INF),
    _case(LIF, TypeError, "beta", beta="0.9"),
    _case(LIF, ValueError, "threshold", "(0.0, inf)", threshold=0.0),
    _case(LIF, ValueError, "threshold", "(0.0, inf)", threshold=-INF),
    _case(LIF, TypeError, "threshold", threshold=None),
    _case(LIF, ValueError, "reset", "subtract", reset="one"),
    _case(LIF, ValueError, "slope", "(0.0, inf)", slope=-2),
    _case(_lif_step, TypeError, "current", current=[0.1]),
    _case(_lif_step, ValueError, "membrane", membrane=torch.zeros(3)),
    _case(_lif_sequence, ValueError, "currents", currents=torch.rand(2, 3)),
    _case(_lif_sequence, ValueError, "backend", "step", backend="fast"),

    _case(SNN, TypeError, "sizes", sizes=784),
    _case(SNN, ValueError, "sizes", sizes=(784,)),
    _case(SNN, ValueError, "sizes[1]", "[1, inf)", sizes=(784, 0, 10)),
    _case(SNN, TypeError, "sizes[1]", sizes=(784, 2.5, 10)),
    _case(SNN, ValueError, "beta", "[0.0, 1.0]", beta=1.01),
    _case(SNN, ValueError, "threshold", "(0.0, inf)", threshold=0),
    _case(ANN, TypeError, "sizes", sizes=784),
    _case(ANN, ValueError, "sizes", sizes=[784]),
    _case(ANN, ValueError, "sizes[2]", "[1, inf)", sizes=(784, 8, 0)),
    _case(ANN, TypeError, "sizes[0]", sizes=("784", 10)),
    _case(SNN, ValueError, "backend", "compiled", backend="fast"),
    _case(_model().forward, ValueError, "x", x=torch.rand(3, 2, 100)),
    _case(_model().forward, ValueError, "x", x=torch.rand(2, 784)),
    _case(_model().forward, TypeError, "x", x=torch.ones(3, 2, 784, dtype=torch.long)),

    _case(_batches, TypeError, "images", images=[[0.0]] * 3),
    _case(_batches, ValueError, "images", "[0, 1]", images=torch.full((3, 1, 28, 28), 255.0)),
    _case(_batches, TypeError, "labels", labels=torch.zeros(3)),
    _case(_batches, ValueError, "labels", labels=torch.zeros(3, 1, dtype=torch.long)),
    _case(_batches, ValueError, "images and labels", labels=torch.zeros(2, dtype=torch.long)),
    _case(_batches, ValueError, "batch_size", "[1, inf)", batch_size=0),
    _case(_batches, ValueError, "batch_size", "[1, inf)", batch_size=-64),
    _case(_batches, TypeError, "batch_size", batch_size=12.5),
    _case(_batches, TypeError, "shuffle", shuffle="yes"),
    _case(_batches, TypeError, "generator", generator=0),

    _case(_loaders, ValueError, "batch_size", "[1, inf)", batch_size=0),
    _case(_loaders, ValueError, "train_limit", "[1, 60000]", train_limit=0),
    _case(_loaders, ValueError, "train_limit", "[1, 60000]", train_limit=60_001),
    _case(_loaders, ValueError, "test_limit", "[1, 10000]", test_limit=10_001),
    _case(_loaders, TypeError, "test_limit", test_limit="all"),
    _case(_loaders, TypeError, "generator", generator=1),
    _case(_loaders, TypeError, "root", root=3),
    _case(as_tensors, ValueError, "limit", "[1, 5]", dataset=_FakeMNIST(), limit=6),
    _case(as_tensors, ValueError, "limit", "[1, 5]", dataset=_FakeMNIST(), limit=0),
    _case(load_mnist, TypeError, "train", train="test"),
    _case(ensure_mnist, TypeError, "root", root=1.5),
    _case(ensure_mnist, TypeError, "verbose", verbose="loud"),

    _case(_fit, TypeError, "model", model="SNN"),
    _case(_fit, TypeError, "train_loader", train_loader=5),
    _case(_fit, TypeError, "train_loader", train_loader=torch.rand(4, 784)),
    _case(_fit, ValueError, "train_loader", train_loader=[]),
    _case(_fit, TypeError, "train_loader", train_loader=iter(_loader())),  # no len(): fit's schedule needs it
    _case(_fit, ValueError, "epochs", "[0, inf)", epochs=-1),
    _case(_fit, TypeError, "epochs", epochs=2.0),
    _case(_fit, ValueError, "num_steps", "[1, inf)", num_steps=0),
    _case(_fit, ValueError, "lr", "(0.0, inf)", lr=0),
    _case(_fit, ValueError, "lr", "(0.0, inf)", lr=-1e-3),
    _case(_fit, ValueError, "lr", "(0.0, inf)", lr=NAN),
    _case(_fit, ValueError, "lr", "(0.0, inf)", lr=INF),
    _case(_fit, ValueError, "schedule", "constant", schedule="linear"),
    _case(_fit, TypeError, "generator", generator="seed"),
    _case(_fit, TypeError, "device", device=0.5),
    _case(_fit, ValueError, "device", device="tpu"),
    _case(_fit, TypeError, "checkpoint_path", checkpoint_path=7),
    _case(_fit, ValueError, "checkpoint_path", checkpoint_path=""),
    _case(_fit, TypeError, "resume_from", resume_from=7),
    _case(_fit, TypeError, "progress", progress="off"),
    _case(_predict, TypeError, "model", model=None),
    _case(_predict, ValueError, "loader", loader=[]),
    _case(_predict, ValueError, "num_steps", "[1, inf)", num_steps=0),
    _case(_predict, TypeError, "generator", generator=1),
    _case(_predict, TypeError, "device", device=["cpu"]),
    _case(_predict, ValueError, "device", device=f"cuda:{torch.cuda.device_count()}"),  # one past the last GPU
    _case(_predict, ValueError, "device", device="meta"),
    _case(_evaluate, TypeError, "loader", loader=None),
    _case(_evaluate, ValueError, "num_steps", "[1, inf)", num_steps=-2),
    _case(_evaluate, ValueError, "device", device="cuda:x"),
    _case(_evaluate, ValueError, "device", device=torch.device("mps")),

    _case(load_checkpoint, TypeError, "path", path=None),
    _case(load_checkpoint, TypeError, "expected_settings", path="c.pt", expected_settings=[("sizes", 1)]),
    _case(save_checkpoint, TypeError, "path", path=3, payload={"model": {}, "settings": {}}),
    _case(save_checkpoint, TypeError, "payload", path="c.pt", payload=[1]),
    _case(save_checkpoint, ValueError, "payload", path="c.pt", payload={"model": {}}),

    _case(_encoding_demo, ValueError, "num_steps", "[1, inf)", num_steps=0),
    _case(_encoding_demo, ValueError, "digit", "[0, 9]", digit=10),
    _case(_encoding_demo, TypeError, "digit", digit=2.5),
    _case(_encoding_demo, ValueError, "images", images=torch.rand(10, 784)),
    _case(_encoding_demo, ValueError, "images", "[0, 1]", images=torch.full((10, 1, 28, 28), 2.0)),
    _case(_encoding_demo, ValueError, "seed", "[0, 4294967295]", seed=-1),
    _case(widgets.lif_input, ValueError, "kind", "constant", kind="square", num_steps=5, current=0.3),
    _case(widgets.lif_input, ValueError, "num_steps", "[1, inf)", kind="constant", num_steps=0, current=0.3),
    _case(widgets.lif_input, ValueError, "current", "[0.0, inf)", kind="constant", num_steps=5, current=-1.0),
    _case(widgets.lif_input, ValueError, "current", "[0.0, inf)", kind="poisson", num_steps=5, current=NAN),
    _case(widgets.lif_response, ValueError, "currents", currents=torch.ones(3, 2), beta=0.9, threshold=1.0),
    _case(widgets.lif_response, ValueError, "beta", "[0.0, 1.0]", currents=torch.ones(3), beta=1.2, threshold=1.0),
    _case(widgets.lif_response, ValueError, "threshold", "(0.0, inf)", currents=torch.ones(3), beta=0.9,
          threshold=0.0),
    _case(widgets.lif_demo, ValueError, "beta", "[0.0, 1.0]", beta=1.2, threshold=1.0),
    _case(widgets.lif_demo, ValueError, "beta", "[0.0, 1.0]", beta=-0.01, threshold=1.0),
    _case(widgets.lif_demo, ValueError, "threshold", "(0.0, inf)", beta=0.9, threshold=0),
    _case(widgets.lif_demo, TypeError, "threshold", beta=0.9, threshold="1"),
    _case(widgets.lif_demo, ValueError, "input_kind", "constant", beta=0.9, threshold=1.0, input_kind="noise"),
    _case(widgets.lif_demo, ValueError, "num_steps", "[1, inf)", beta=0.9, threshold=1.0, num_steps=0),
    _case(_inference_demo, ValueError, "num_steps", "[1, inf)", num_steps=0),
    _case(_inference_demo, TypeError, "model", model="trained"),
    _case(_inference_demo, ValueError, "index", "[0, 2]", index=3),
    _case(_inference_demo, ValueError, "labels", labels=torch.zeros(2, dtype=torch.long)),
    _case(_steps_demo, ValueError, "num_steps", "[1, 3]", num_steps=0),
    _case(_steps_demo, ValueError, "num_steps", "[1, 3]", num_steps=4),
    _case(_steps_demo, ValueError, "image", image=torch.rand(28, 28)),
    _case(_steps_demo, ValueError, "label", "[0, 9]", label=-1),
    _case(_steps_demo, TypeError, "model", model=None),
    _case(_steps_demo, ValueError, "seed", "[0, 4294967295]", seed=-3),
]


@pytest.mark.parametrize("call, bad, error, name, allowed", CASES)
def test_bad_argument_is_refused_by_name(call, bad, error, name, allowed, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a path-taking function that wrongly wrote something would write here
    monkeypatch.setattr(data, "load_mnist", _no_work)
    with pytest.raises(error) as info:
        call(**bad)
    message = str(info.value)
    assert re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", message), message
    if allowed is not None:
        assert allowed in message, message
    assert list(tmp_path.iterdir()) == []
    assert plt.get_fignums() == []  # refused before anything was drawn


def _no_work(*args, **kwargs):
    raise AssertionError("MNIST was loaded before the arguments were checked")


CLI_CASES = [
    (["--epochs", "-1"], "--epochs", "[0, inf)"),
    (["--epochs", "two"], "--epochs", "[0, inf)"),
    (["--num-steps", "0"], "--num-steps", "[1, inf)"),
    (["--num-steps", "2.5"], "--num-steps", "[1, inf)"),
    (["--batch-size", "0"], "--batch-size", "[1, inf)"),
    (["--batch-size", "-128"], "--batch-size", "[1, inf)"),
    (["--lr", "0"], "--lr", "(0.0, inf)"),
    (["--lr", "-0.1"], "--lr", "(0.0, inf)"),
    (["--lr", "nan"], "--lr", "(0.0, inf)"),
    (["--lr", "inf"], "--lr", "(0.0, inf)"),
    (["--lr", "fast"], "--lr", "(0.0, inf)"),
    (["--seed", "-1"], "--seed", "[0, 4294967295]"),
    (["--seed", str(2**32)], "--seed", "[0, 4294967295]"),
    (["--train-limit", "0"], "--train-limit", "[1, 60000]"),
    (["--train-limit", "60001"], "--train-limit", "[1, 60000]"),
    (["--test-limit", "10001"], "--test-limit", "[1, 10000]"),
    (["--checkpoint", "."], "--checkpoint", "folder"),
    (["--resume", "missing.pt"], "--resume", "existing file"),
    (["--export", "."], "--export", "folder"),
    (["--seeds", "0"], "--seeds", "[1, inf)"),
    (["--recipe", "best"], "--recipe", "choose from"),
]


@pytest.mark.parametrize("argv, option, allowed", CLI_CASES, ids=[" ".join(c[0]) for c in CLI_CASES])
def test_bad_command_line_option_exits_2_naming_it(argv, option, allowed, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(recipes, "mnist_loaders", _no_work)
    with pytest.raises(SystemExit) as info:
        cli.main(["train", *argv])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert f"argument {option}: " in err and allowed in err, err
    assert list(tmp_path.iterdir()) == []


def test_command_line_reports_a_damaged_checkpoint_without_a_traceback(tmp_path, monkeypatch, capsys):
    damaged = tmp_path / "c.pt"
    damaged.write_bytes(b"half a checkpoint")
    monkeypatch.setattr(recipes, "mnist_loaders", lambda *args, **kwargs: (_loader(), _loader()))
    assert cli.main(["train", "--resume", str(damaged), "--no-progress"]) == 2
    assert f"error: checkpoint {damaged} cannot be read" in capsys.readouterr().err
