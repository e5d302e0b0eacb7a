"""The notebooks' sliders in a real browser: JupyterLab and headless Chromium, driven by Playwright.

One JupyterLab server (quick mode) serves the notebooks for the whole module;
each test opens a notebook, runs all its cells, moves its sliders with the
keyboard and checks that the readout shows the new value, that the figure was
redrawn, and that the printed line is the one the plain function in
``snn_helpers.course.widgets`` prints for that value. Screenshots of each slider's
cell before and after each move, and of the page on failure, go to
``test-output/browser/<notebook>/``.
"""
from __future__ import annotations

import io
import re
from contextlib import redirect_stdout

import matplotlib.pyplot as plt
import nbformat
import pytest
from jupyter_browser import CHROMIUM_ARGS, answers, chromium_or_skip, jupyter_lab, open_notebook, wait_for
from playwright.sync_api import sync_playwright

from snn_helpers import SNN, as_tensors, fit, load_mnist, mnist_loaders, set_seed
from snn_helpers.course.handoff import load_trained_model, model_path
from snn_helpers.course.widgets import SLIDER_MIME, encoding_demo, inference_demo, lif_demo
from snn_helpers.system.paths import PROJECT_ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOKS = PROJECT_ROOT / "notebooks"
SHOTS = PROJECT_ROOT / "test-output" / "browser"


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's Chromium; skip where there is none, but fail in CI, which must have it."""
    return chromium_or_skip()


@pytest.fixture(scope="module")
def lab(chromium, tmp_path_factory):
    """A JupyterLab server on the notebooks in quick mode, stopped by its process id afterwards."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SNN_QUICK", "1")  # the kernels inherit it; the plain functions below see it too
        with jupyter_lab(NOTEBOOKS, tmp_path_factory.mktemp("jupyter")) as server:
            yield server


@pytest.fixture(scope="module")
def browser(chromium):
    """Headless Chromium."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh page, large enough for a slider panel and its figure."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    yield context.new_page()
    context.close()


def test_server_is_stopped_by_its_pid_when_a_test_fails(tmp_path):
    """The server is gone once the code using it has raised."""
    (tmp_path / "root").mkdir()
    with pytest.raises(RuntimeError, match="a failing test"):
        with jupyter_lab(tmp_path / "root", tmp_path / "home") as server:
            assert answers(server.url("api/status"))
            raise RuntimeError("a failing test")
    assert server.process.returncode is not None
    assert not answers(server.url("api/status"))


def move_and_check(notebook, label: str, target: float, demo, redraw_timeout: float = 60) -> tuple[str, str]:
    """Move slider ``label`` to ``target``; check readout, redraw and printed line against ``demo()``.

    ``demo`` calls the plain function with the slider's new value. Returns the
    lines the notebook shows before and after the move.
    """
    slider = notebook.slider(label)
    old_image, old_text = slider.image(), slider.text()
    notebook.screenshot(f"{label}-before", slider)
    slider.move_to(target)
    notebook.wait_redrawn(slider, old_image, redraw_timeout)
    notebook.screenshot(f"{label}-after", slider)
    assert float(slider.readout()) == pytest.approx(target), f"readout of {label} after moving it to {target}"
    printed = io.StringIO()
    with redirect_stdout(printed):
        demo()
    plt.close("all")
    shown = slider.text()
    assert shown == printed.getvalue().strip(), f"{label} = {target}: the notebook shows {shown!r}"
    return old_text, shown


def number(line: str, name: str) -> float:
    """The number after ``name:`` in a printed line such as ``spikes: 12 | first spike at step: 3``."""
    match = re.search(rf"{re.escape(name)}: (-?[\d.]+)", line)
    assert match, f"no {name!r} in {line!r}"
    return float(match.group(1))


def test_encoding_slider(page, lab):
    """Notebook 01: more time steps, more Poisson spikes of the same digit."""
    images, labels = as_tensors(load_mnist(train=True), limit=1000)  # as the notebook loads them
    with open_notebook(page, lab, "01_spike_encoding.ipynb", SHOTS / "01") as notebook:
        notebook.run_all(timeout=240)
        before, after = move_and_check(notebook, "num_steps", 30,
                                       lambda: encoding_demo(30, 1, images, labels, seed=42))
        assert number(after, "spikes") > number(before, "spikes")


def test_lif_sliders(page, lab):
    """Notebook 02: more leak (lower beta) and a higher threshold each delay the first spike; at
    beta 0.95 reset by subtraction keeps the surplus and fires more often than reset to zero."""
    with open_notebook(page, lab, "02_lif_neuron_and_surrogate.ipynb", SHOTS / "02") as notebook:
        notebook.run_all(timeout=180)
        first = "first spike at step"
        before, after = move_and_check(notebook, "beta", 0.8, lambda: lif_demo(0.8, 1.0))
        assert number(after, first) > number(before, first)
        assert number(after, "spikes") < number(before, "spikes")
        before, after = move_and_check(notebook, "threshold", 1.2, lambda: lif_demo(0.8, 1.2))
        assert number(after, first) > number(before, first)
        move_and_check(notebook, "beta", 0.95, lambda: lif_demo(0.95, 1.2))

        slider = notebook.slider("beta")  # the panel's figure and printed line
        before, old_image = slider.text(), slider.image()
        reset = slider.cell.locator(".widget-dropdown").filter(
            has=page.locator(".widget-label:text-is('reset')")).locator("select")
        reset.select_option("subtract")
        notebook.wait_redrawn(slider, old_image, 60)
        wait_for(slider.image, 30, "the figure after switching the reset")
        notebook.screenshot("reset-subtract", slider)
        printed = io.StringIO()
        with redirect_stdout(printed):
            lif_demo(0.95, 1.2, reset="subtract")
        plt.close("all")
        assert slider.text() == printed.getvalue().strip()
        assert number(slider.text(), "spikes") > number(before, "spikes")


@pytest.fixture(scope="module")
def trained_model(lab):
    """The model notebook 04 loads: the one notebook 03 saved under nbval earlier in this run (tests/conftest.py
    runs the notebooks first). Where there is none, one is trained here and saved where notebook 03 saves,
    so that the notebook and this test use the same weights."""
    def train_and_save():
        generator = set_seed(7)
        train_loader, _ = mnist_loaders(train_limit=2000, test_limit=1, generator=generator)
        model = SNN()
        fit(model, train_loader, 1, 10, generator=generator, checkpoint_path=model_path(), progress=False)
        return model

    return load_trained_model(fallback=train_and_save)[0]


def test_inference_slider(page, lab, trained_model):
    """Notebook 04: fewer time steps at inference, lower accuracy."""
    images, labels = as_tensors(load_mnist(train=False), limit=300)  # the notebook's demo images
    with open_notebook(page, lab, "04_evaluation_and_spike_counts.ipynb", SHOTS / "04") as notebook:
        notebook.run_all(timeout=240)
        index = int(notebook.slider("index").readout())  # the notebook opens on a chosen test digit
        before, after = move_and_check(notebook, "num_steps", 2, lambda: inference_demo(
            2, trained_model, images, labels, index=index, seed=7))
        assert number(after, "accuracy") < number(before, "accuracy")


def test_time_steps_slider(page, lab, executed_notebooks):
    """Notebook 05: the accuracy for fewer time steps, read off the curve of the SNN the notebook trains.

    The line expected for 2 steps is the one ``steps_demo`` printed for 2 steps in this run's other
    execution of the notebook (its pre-rendered frames, tests/conftest.py), so the SNN is not trained
    a third time here; quick-mode training is deterministic, so both kernels hold the same SNN."""
    notebook_05 = nbformat.read(executed_notebooks / "05_snn_vs_ann.ipynb", as_version=4)
    (payload,) = [output["data"][SLIDER_MIME] for cell in notebook_05.cells if cell.cell_type == "code"
                  for output in cell.outputs if SLIDER_MIME in output.get("data", {})]
    assert payload["demo"] == "steps_demo" and payload["name"] == "num_steps"
    (expected,) = [frame["text"] for frame in payload["frames"] if frame["value"] == 2]
    with open_notebook(page, lab, "05_snn_vs_ann.ipynb", SHOTS / "05") as notebook:
        notebook.run_all(timeout=300)
        before, after = move_and_check(notebook, "num_steps", 2, lambda: print(expected))
        assert number(after, "accuracy") < number(before, "accuracy")
