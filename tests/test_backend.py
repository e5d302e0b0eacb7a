"""The engine resolver (snn_helpers/engine/backend.py): one value that says which engine runs and why,
and auto's measured choice, cached per CPU, torch version and source. Nothing here times
anything: the measurement is replaced by a fake that returns fixed seconds."""
import json

import pytest
import torch

from snn_helpers import SNN
from snn_helpers.engine import backend, kernels

needs_library = pytest.mark.usefixtures("kernel_library")  # skipped where no C compiler builds the kernels


@pytest.fixture
def cache(monkeypatch, tmp_path):
    """An empty cache folder, no forced choice, and a fresh process state."""
    monkeypatch.setenv(kernels.CACHE_ENV, str(tmp_path))
    monkeypatch.delenv(backend.ENGINE_ENV, raising=False)
    monkeypatch.setattr(backend, "_state", {})
    return tmp_path


def fake(seconds):
    calls = []

    def measure():
        calls.append(1)
        return dict(seconds)
    measure.calls = calls
    return measure


@needs_library
def test_auto_keeps_the_faster_engine_and_caches_it(cache):
    measure = fake({"torch": 0.010, "compiled": 0.020})
    engine = backend.resolve("auto", "cpu", measure=measure)
    assert engine.name == "torch" and "measured fastest" in engine.reason and "torch 10.0 ms" in engine.reason
    saved = json.loads(backend.cache_path().read_text())
    assert saved["engine"] == "torch" and saved["seconds_per_step"] == {"torch": 0.010, "compiled": 0.020}
    backend.forget()  # a new process: reads the file, does not measure again
    assert backend.resolve("auto", "cpu", measure=measure).name == "torch" and len(measure.calls) == 1


@needs_library
def test_the_choice_is_measured_again_when_the_cpu_or_the_source_changes(cache, monkeypatch):
    measure = fake({"torch": 0.030, "compiled": 0.020})
    assert backend.resolve("auto", "cpu", measure=measure).name == "compiled"
    first = backend.cache_path()
    monkeypatch.setattr(kernels, "cpu_key", lambda: "model name: another CPU")
    backend.forget()
    assert backend.cache_path() != first
    backend.resolve("auto", "cpu", measure=measure)
    assert len(measure.calls) == 2
    monkeypatch.setattr(backend, "_SOURCES", backend._SOURCES[:-1])  # as if the source changed
    backend.forget()
    assert backend.cache_path() != first
    assert len(list(cache.glob("engine-*.json"))) == 2


@needs_library
def test_a_corrupt_cache_file_is_ignored_with_a_warning(cache):
    for text in ("{not json", json.dumps({"engine": "fast", "seconds_per_step": {}}),
                 json.dumps({"engine": "torch", "seconds_per_step": {"torch": -1, "compiled": 1}})):
        backend.forget()
        backend.cache_path().write_text(text)
        measure = fake({"torch": 0.030, "compiled": 0.020})
        with pytest.warns(RuntimeWarning, match="ignoring the engine cache .*engine-.*json"):
            assert backend.resolve("auto", "cpu", measure=measure).name == "compiled"
        assert len(measure.calls) == 1
        assert json.loads(backend.cache_path().read_text())["engine"] == "compiled"  # rewritten


@needs_library
def test_snn_engine_sets_the_choice_without_measuring(cache, monkeypatch):
    monkeypatch.setenv(backend.ENGINE_ENV, "torch")
    measure = fake({"torch": 1.0, "compiled": 0.1})
    assert backend.resolve("auto", "cpu", measure=measure) == backend.Engine("torch", "cpu", "SNN_ENGINE=torch is set")
    assert measure.calls == [] and list(cache.glob("engine-*.json")) == []
    monkeypatch.setenv(backend.ENGINE_ENV, "fastest")
    with pytest.raises(ValueError, match="SNN_ENGINE must be one of .*'fastest'"):
        backend.resolve("auto", "cpu")


@needs_library
def test_pinned_backends_and_other_devices_never_measure(cache):
    measure = fake({"torch": 0.010, "compiled": 0.020})
    assert backend.resolve("compiled", "cpu", measure=measure) == backend.Engine("compiled", "cpu", "asked for")
    assert backend.resolve("torch", "cpu", measure=measure).name == "torch"
    assert backend.resolve("auto", "cuda", measure=measure).name == "torch"
    assert backend.resolve("auto", tensor=torch.zeros(2, dtype=torch.float64), measure=measure).name == "torch"
    assert backend.resolve("auto", "cpu", measure=measure, precision="bf16").name == "compiled"
    assert measure.calls == []


@needs_library
def test_a_lone_layer_uses_a_cached_choice_but_never_measures(cache):
    assert backend.resolve("auto", "cpu").reason.endswith("not measured yet on this machine")
    backend.resolve("auto", "cpu", measure=fake({"torch": 0.010, "compiled": 0.020}))
    assert backend.resolve("auto", "cpu").name == "torch"


@needs_library
def test_the_model_runs_on_the_engine_the_resolver_names(cache, monkeypatch):
    model = SNN((784, 64, 10))
    monkeypatch.setattr("snn_helpers.core.model.measure_auto", fake({"torch": 0.010, "compiled": 0.020}))
    monkeypatch.setattr(kernels, "lif_forward", lambda *a: pytest.fail("compiled kernel used"))
    assert model.engine().name == "torch"
    model((torch.rand(3, 2, 784) < 0.2).float())  # auto: plain torch, as measured


def test_engine_values_are_frozen_and_describe_themselves():
    engine = backend.Engine("compiled", "cpu", "SNN_ENGINE=compiled is set")
    with pytest.raises(AttributeError):
        engine.name = "torch"
    assert str(engine) == engine.describe() == "the compiled kernels (SNN_ENGINE=compiled is set)"
    assert engine.as_dict() == {"name": "compiled", "device": "cpu", "reason": "SNN_ENGINE=compiled is set"}
