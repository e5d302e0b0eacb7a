"""The committed notebooks: clean sources, no copied helpers, quick mode wired in, figures named.

Running them is nbval's job (``SNN_QUICK=1 pytest --nbval-lax notebooks/``);
these checks read the files only.
"""
import ast
import inspect
import os
import re
import subprocess
import sys

import nbformat
import pytest

import snn_helpers
from snn_helpers.analysis import plots
from snn_helpers.core import encoding, neurons, training
from snn_helpers.course import handoff, runner, widgets
from snn_helpers.system.paths import PROJECT_ROOT

NUMBERED = sorted((PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
NOTEBOOKS = NUMBERED + sorted((PROJECT_ROOT / "notebooks").glob("A[0-9]_*.ipynb"))  # then the appendices
README_IMAGE = re.compile(r"!\[[^\]]*\]\(img/([^)\s]+)\)")
CAPTIONED_FIGURE = re.compile(r"!\[[^\]]*\]\(img/([^)\s]+)\)[^|]*\((\d\d|A\d)\)\s*\|")  # ![..](img/x) text (NN) |
ABSOLUTE_PATH = re.compile(r"(?<![\w.])/(?:work|root|home|Users|tmp|mnt)/|\b[A-Za-z]:\\\\")
ids = [path.name for path in NOTEBOOKS]


def read(path):
    return nbformat.read(path, as_version=4)


def code_cells(notebook):
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def python_of(source: str) -> str:
    """A code cell without its IPython magics (``%matplotlib inline``), ready for ``ast.parse``."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def test_the_runner_runs_every_notebook_in_order():
    assert runner.notebook_paths() == NOTEBOOKS
    assert "A1_how_training_is_fast.ipynb" in ids


def test_notebooks_are_numbered_from_01_without_gaps():
    numbers = [int(path.name[:2]) for path in NUMBERED]
    assert numbers[:4] == [1, 2, 3, 4]
    assert numbers == list(range(1, len(numbers) + 1))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_is_committed_clean(path):
    notebook = read(path)
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "python3"
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: a code cell has outputs; clear them before committing"
            assert cell.execution_count is None, f"{path.name}: a code cell has an execution count"
        assert "attachments" not in cell or not cell.attachments


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_has_no_absolute_paths(path):
    text = path.read_text()
    assert not ABSOLUTE_PATH.search(text), f"{path.name}: {ABSOLUTE_PATH.search(text).group(0)!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_imports_snn_helpers(path):
    trees = [ast.parse(python_of(source)) for source in code_cells(read(path))]
    nodes = [node for tree in trees for node in ast.walk(tree)]
    assert any(isinstance(node, ast.ImportFrom) and (node.module or "").startswith("snn_helpers")
               for node in nodes), f"{path.name} does not import from snn_helpers"


def helper_names():
    """Every public function and class the notebooks could import from snn_helpers."""
    modules = [encoding, neurons, plots, handoff, training, widgets]
    exported = {name: getattr(snn_helpers, name) for name in snn_helpers.__all__}  # the package loads them lazily
    return {name for namespace in [exported, *map(vars, modules)] for name, obj in namespace.items()
            if not name.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_does_not_redefine_helpers(path):
    defined = {node.name for source in code_cells(read(path))
               for node in ast.walk(ast.parse(python_of(source)))
               if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    copies = defined & helper_names()
    assert not copies, f"{path.name} defines {sorted(copies)}; import them from snn_helpers instead"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_quick_mode_is_read_right_after_the_hyperparameters(path):
    cells = code_cells(read(path))
    quick = [i for i, source in enumerate(cells) if "QUICK = quick_mode()" in source]
    assert len(quick) == 1, f"{path.name}: expected one cell with `QUICK = quick_mode()`"
    settings = ast.parse(python_of(cells[quick[0] - 1])).body
    assert settings and all(isinstance(node, ast.Assign) for node in settings), \
        f"{path.name}: the cell before `QUICK = quick_mode()` should hold only the hyperparameters"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_writes_files_only_through_snn_helpers_folders(path):
    code = "\n".join(code_cells(read(path)))
    for forbidden in ("img/", "checkpoints/", "download=True", "urllib", "requests", "http"):
        assert forbidden not in code, f"{path.name} uses {forbidden!r}; use figure_dir()/checkpoint_dir()/load_mnist"


def test_every_readme_figure_is_made_by_the_notebook_its_caption_names():
    """The README's figure table, read from the README: each image's caption ends in its notebook's
    number, that notebook writes the file into ``figure_dir()`` (``build/img/`` when ``make run`` runs it; ``make figures`` copies it to ``img/``),
    and the committed copy exists."""
    readme = (PROJECT_ROOT / "README.md").read_text()
    table = readme.split("\n## Figures\n", 1)[1].split("\n## ", 1)[0]
    figures = CAPTIONED_FIGURE.findall(table)
    assert figures and [name for name, _ in figures] == README_IMAGE.findall(table), \
        "every image in the README's figure table needs a caption ending in its notebook's number, e.g. (01)"
    code = {path.name.split("_")[0]: "\n".join(code_cells(read(path))) for path in NOTEBOOKS}
    for name, notebook in figures:
        assert f'figure_dir() / "{name}"' in code.get(notebook, ""), f"notebook {notebook} does not write {name}"
        assert (PROJECT_ROOT / "img" / name).is_file(), f"img/{name} is missing: run `make run`"


def test_quick_mode_outputs_are_git_ignored():
    paths = ["build/img/raster.png", "build/quick/img/raster.png", "build/quick/checkpoints/snn.pt",
             "build/media/spike_counts.mp4",
             "build/executed/01_spike_encoding.ipynb", "checkpoints/snn.pt"]
    done = subprocess.run(["git", "check-ignore", *paths], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert done.stdout.split() == paths


@pytest.mark.parametrize("quick, ok", [("1", True), ("0", False), (None, False)])
def test_notebook_tests_refuse_to_run_without_quick_mode(quick, ok):
    env = {key: value for key, value in os.environ.items() if key != "SNN_QUICK"}
    if quick is not None:
        env["SNN_QUICK"] = quick
    done = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "--collect-only", "-q",
                           "-p", "no:cacheprovider", str(NOTEBOOKS[0])],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert (done.returncode == 0) == ok, done.stdout + done.stderr
    if not ok:
        assert "SNN_QUICK=1" in done.stdout + done.stderr
