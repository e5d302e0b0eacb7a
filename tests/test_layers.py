"""Subpackages that point one way: no module of snn_helpers imports one from a higher layer.

The package is six subpackages and the command line. :data:`LAYERS` is their order, lowest
first: a module may import modules of its own subpackage, of another subpackage of its row, or of
lower rows, and the imports between modules must not form a cycle. Every module must sit in a
subpackage of the table (or be one of the top-level modules): a new subpackage fails
:func:`test_every_module_has_a_layer` until it is added to :data:`LAYERS`.
"""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = "snn_helpers"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE

LAYERS = [
    ["system"],              # checks, atomic writes, devices, threads, the CPU, where files go
    ["engine"],              # surrogates, compiled kernels, the engine choice, subnormals flushed
    ["core"],                # MNIST, encodings, neurons, the SNN, checkpoints, training, inference, recipes
    ["analysis", "interop"],  # figures, read-outs, SNN against ANN, time steps; NIR
    ["course"],              # shipped model, hand-off, widgets, exercises, runner, student copies, site, results
    ["cli", "__main__", "__init__"],  # the command line and the package's names (loaded lazily)
]


def module_files(root=ROOT) -> dict[str, Path]:
    """Every module of the package by dotted name relative to it: ``cli``, ``exercises`` (its
    ``__init__``), ``exercises.encoding``, ``__init__`` (the package's own)."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def layer_of(module: str) -> int | None:
    """The row of :data:`LAYERS` of ``module``'s subpackage (its first name: ``core`` for
    ``core.model``), or ``None``."""
    for row, names in enumerate(LAYERS):
        if module.split(".")[0] in names:
            return row
    return None


def _package_of(module: str, modules) -> list[str]:
    """The package a module's relative imports start from, as parts (``[]``: snn_helpers itself)."""
    if module == "__init__":
        return []
    parts = module.split(".")
    is_package = modules[module].name == "__init__.py"
    return parts if is_package else parts[:-1]


def _resolve(parts: list[str]) -> str:
    """The module that ``snn_helpers.<parts>`` names (``__init__`` for the package itself)."""
    return ".".join(parts) if parts else "__init__"


def imports_of(module: str, source: str, modules) -> set[str]:
    """The package's modules that ``source`` (the text of ``module``) imports, anywhere in it,
    including inside functions: ``import snn_helpers.x``, ``from snn_helpers.x import y``,
    ``from . import x``, ``from .x import y``, ``from ..x import y``."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == PACKAGE:
                    found.add(_resolve(parts[1:]))
            continue
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = _package_of(module, modules)
            base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
        elif node.module and node.module.split(".")[0] == PACKAGE:
            base = []
        else:
            continue
        named = (node.module or "").split(".") if node.module else []
        if not node.level:
            named = named[1:]
        target = base + named
        submodules = {".".join(target + [alias.name]) for alias in node.names} & modules.keys()
        if named or len(submodules) < len(node.names):  # ``from . import kernels`` imports only the submodule
            found.add(_resolve(target))
        found |= submodules
    found.discard(module)
    return {name for name in found if name in modules}


def import_graph(root=ROOT) -> dict[str, set[str]]:
    """Each module of the package and the package's modules it imports."""
    modules = module_files(root)
    return {name: imports_of(name, path.read_text(), modules) for name, path in modules.items()}


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Every import of a module from a higher layer, and every cycle of imports, in words."""
    found = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            placed = layer_of(module) is not None and layer_of(target) is not None  # else the test above fails
            if placed and layer_of(target) > layer_of(module):
                found.append(f"{module} (layer {layer_of(module)}) imports {target} (layer {layer_of(target)})")
    state = {}

    def visit(module, path):
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                found.append("import cycle: " + " -> ".join(path[path.index(target):] + [target]))
            elif target not in state:
                visit(target, path + [target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return found


def test_every_module_has_a_layer():
    unplaced = sorted(name for name in module_files() if layer_of(name) is None)
    assert not unplaced, f"modules missing from LAYERS in tests/test_layers.py: {unplaced}; place each in a layer"


def test_no_module_imports_a_higher_layer_or_a_cycle():
    assert not violations(import_graph()), "\n".join(violations(import_graph()))


def test_the_graph_sees_every_form_of_import(tmp_path):
    """An upward import in any of the forms the package uses is found (so the test above can fail)."""
    package = tmp_path / PACKAGE
    for folder in ("system", "engine", "core", "course", "course/exercises"):
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    files = {
        "system/runtime.py": "from ..core.training import fit\n",
        "engine/kernels.py": "def f():\n    from ..core import model\n",
        "core/encoding.py": "import snn_helpers.course.widgets\n",
        "core/neurons.py": "from snn_helpers.course.widgets import x\n",
        "core/model.py": "from snn_helpers import fit\nfrom . import neurons\n",
        "core/training.py": "", "course/widgets.py": "",
        "course/exercises/nir.py": "from ...core.encoding import x\nfrom . import y\n",
    }
    for name, text in files.items():
        (package / name).write_text(text)
    graph = import_graph(package)
    assert graph["course.exercises.nir"] == {"core.encoding", "course.exercises"}
    assert graph["core.model"] == {"__init__", "core.neurons"}
    found = violations(graph)
    assert "system.runtime (layer 0) imports core.training (layer 2)" in found
    assert "engine.kernels (layer 1) imports core.model (layer 2)" in found
    assert "core.encoding (layer 2) imports course.widgets (layer 4)" in found
    assert "core.neurons (layer 2) imports course.widgets (layer 4)" in found
    assert "core.model (layer 2) imports __init__ (layer 5)" in found
    (package / "core" / "training.py").write_text("from .model import x\n")
    (package / "core" / "model.py").write_text("from .training import y\n")
    assert any(line.startswith("import cycle: core.model -> core.training -> core.model") for line in violations(
        import_graph(package)))


@pytest.mark.parametrize("module", ["core.neurons", "core.encoding"])
def test_low_layers_load_without_the_training_loop(module):
    """Importing a low module runs none of training, checkpoint or the progress bar (``tqdm.auto``),
    also through the package's ``__init__``. (``torch`` itself imports plain ``tqdm``.)"""
    unwanted = ("tqdm.auto", f"{PACKAGE}.core.training", f"{PACKAGE}.core.checkpoint")
    code = f"import sys, {PACKAGE}.{module}; print(sorted(m for m in sys.modules if m in {unwanted!r}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=ROOT.parent).stdout
    assert out.strip() == "[]", f"importing {PACKAGE}.{module} loaded {out.strip()}"


def test_imports_are_sorted_and_used():
    """Imports in the package, the notebooks, the tests and the benchmarks sorted as ``pyproject.toml`` configures
    ruff's isort rules (standard library, third party, this package), and none unused (F401; a name kept for
    others to import from here says so with ``# noqa: F401``). ``ruff check --select I,F401 --fix`` puts them
    right."""
    project = ROOT.parent
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "--select", "I,F401", "--no-cache", "--output-format",
                          "concise", "snn_helpers", "notebooks", "tests", "benchmarks", "conftest.py"],
                         cwd=project, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
