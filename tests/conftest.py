"""The suite's tiers, and the executed notebooks that nbval leaves for the tests that read them.

Three tiers, one command (``make test``): unit tests on synthetic data, the
notebooks executed once each by nbval, and end-to-end tests (the website, the
browser, the installs, training on MNIST). The notebooks and the end-to-end
tests carry the ``slow`` marker, so ``pytest tests -m "not slow"`` is the quick
tier. Nothing builds the compiled kernels while collecting: :func:`kernel_library`
builds them, once, for the tests that ask.

When nbval runs in the same session, its cells run first, in their order, with
``SNN_PRERENDER=1`` (as ``make run`` executes them, so the slider panels also
draw the website's frames), and the outputs it reads from each kernel are kept.
:func:`executed_notebooks` writes them into executed copies like those of
``make run``: tests/test_site.py builds the website from them and
tests/test_browser.py reads the expected slider lines there. A test that needs a
copy nbval did not make (``pytest tests/test_site.py`` alone) executes the
notebook itself, once per session.
"""
from __future__ import annotations

import copy
import os
from pathlib import Path

import nbformat
import pytest

from snn_helpers.course.prerender import PRERENDER_ENV
from snn_helpers.course.runner import execute_notebook, notebook_paths
from snn_helpers.engine import kernels

try:
    from nbval.plugin import IPyNbCell
except ImportError:  # no nbval: no notebook items to collect outputs from
    IPyNbCell = ()

CAPTURED_OUTPUT = ("display_data", "execute_result", "stream", "clear_output", "update_display_data")


class NbvalCopies:
    """A pytest plugin: run nbval's cells first and keep the outputs of each notebook's cells.

    ``copies[name]`` is the executed notebook once every cell of ``name`` passed;
    ``failed`` names the notebooks with a failed cell.
    """

    def __init__(self):
        self.copies: dict[str, nbformat.NotebookNode] = {}
        self.failed: set[str] = set()
        self.collected: set[str] = set()
        self._partial: dict[str, nbformat.NotebookNode] = {}
        self._left: dict[str, int] = {}

    def pytest_collection_modifyitems(self, items):
        cells = [item for item in items if isinstance(item, IPyNbCell)]
        for item in cells:
            item.add_marker(pytest.mark.slow)
            self._left[item.path.name] = self._left.get(item.path.name, 0) + 1
        self.collected = set(self._left)
        items[:] = cells + [item for item in items if not isinstance(item, IPyNbCell)]

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_setup(self, item):
        """The first cell's set-up starts the notebook's kernel: with ``SNN_PRERENDER=1``, and with the
        outputs an ipywidgets ``Output`` captures kept out of the cell's (:func:`hide_captured_outputs`)."""
        if not isinstance(item, IPyNbCell):
            yield
            return
        before = os.environ.get(PRERENDER_ENV)
        os.environ[PRERENDER_ENV] = "1"
        try:
            yield
        finally:
            if before is None:
                del os.environ[PRERENDER_ENV]
            else:
                os.environ[PRERENDER_ENV] = before
        notebook = item.parent
        if not getattr(notebook, "_outputs_hidden", False) and notebook.kernel is not None:
            hide_captured_outputs(notebook)
            notebook._outputs_hidden = True

    def pytest_runtest_logreport(self, report):
        name = Path(report.fspath).name
        if name not in self._left or (report.when != "call" and report.passed):
            return
        if report.failed or report.skipped:
            self.failed.add(name)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        outcome = yield
        if not isinstance(item, IPyNbCell) or outcome.excinfo is not None:
            return
        name = item.path.name
        notebook = self._partial.setdefault(name, copy.deepcopy(item.parent.nb))
        index = next(k for k, cell in enumerate(item.parent.nb.cells) if cell is item.cell)
        count = sum(cell.get("execution_count") is not None for cell in notebook.cells) + 1
        notebook.cells[index].outputs = [nbformat.from_dict(output) for output in item.test_outputs]
        notebook.cells[index].execution_count = count
        for output in notebook.cells[index].outputs:
            if output.output_type == "execute_result":
                output.execution_count = count
        self._left[name] -= 1
        if self._left[name] == 0 and name not in self.failed:
            self.copies[name] = self._partial.pop(name)


def hide_captured_outputs(notebook) -> None:
    """Make nbval skip what an ipywidgets ``Output`` captures, as nbclient and JupyterLab do.

    A slider panel draws into an ``Output`` widget: the kernel sends the figure
    with the cell's message as parent, and the frontend puts it in the widget
    while the widget's ``msg_id`` (sent over its comm) names that message. nbval
    has no frontend and would add it to the cell's outputs; here those messages
    lose their parent, so nbval passes over them. Errors still reach nbval.
    """
    capturing: set[str] = set()
    fetch = notebook.get_kernel_message

    def get_kernel_message(*args, **kwargs):
        message = fetch(*args, **kwargs)
        content = message["content"]
        if message["msg_type"] == "comm_msg" and "msg_id" in content.get("data", {}).get("state", {}):
            if content["data"]["state"]["msg_id"]:
                capturing.add(content["comm_id"])
            else:
                capturing.discard(content["comm_id"])
        elif capturing and message["msg_type"] in CAPTURED_OUTPUT:
            message = {**message, "parent_header": {}}
        return message

    notebook.get_kernel_message = get_kernel_message


def pytest_configure(config):
    config.pluginmanager.register(NbvalCopies(), "snn-nbval-copies")


@pytest.fixture(scope="session")
def kernel_library():
    """The compiled kernels, built on first use; the test is skipped where no C compiler builds them."""
    library = kernels.library()
    if library is None:
        pytest.skip("no C compiler with OpenMP")
    return library


@pytest.fixture(scope="session")
def executed_notebooks(request, tmp_path_factory) -> Path:
    """A folder with every notebook executed in quick mode with ``SNN_PRERENDER=1``, as ``make run`` writes
    them: nbval's run of this session where it ran them all, else one execution each here."""
    copies = request.config.pluginmanager.get_plugin("snn-nbval-copies")
    folder = tmp_path_factory.mktemp("executed")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SNN_QUICK", "1")
        env.setenv(PRERENDER_ENV, "1")
        for path in notebook_paths():
            if path.name in copies.failed:
                pytest.fail(f"{path.name} failed under nbval in this run, so there is no executed copy to read")
            if path.name in copies.copies:
                nbformat.write(copies.copies[path.name], folder / path.name)
            else:
                assert path.name not in copies.collected, f"{path.name}: nbval's cells did not all run first"
                execute_notebook(path, folder, quick=True)
    return folder
