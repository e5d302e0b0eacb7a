"""Every import is declared: a subpackage imports only what ``pyproject.toml`` installs for it.

A regular install (``pip install .``) carries the SNN library: ``system``, ``engine`` and ``core``
need only the project's ``dependencies``. The rest come with extras: ``analysis`` (figures),
``nir`` (the ``interop`` subpackage) and ``course`` (widgets, exercises, the runner, the student
copies), ``site`` (the website). This test reads every module's imports, top-level and inside
functions, and checks each third-party one against the distributions its subpackage may use.
A second test trains from a process in which the extras' packages cannot be imported.
"""
import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "snn_helpers"
# import name -> distribution, where they differ
DISTRIBUTION = {"PIL": "pillow", "IPython": "ipython", "yaml": "pyyaml"}
# the extras each subpackage (or top-level module) may use, besides the project's dependencies
EXTRAS_OF = {"system": [], "engine": [], "core": [], "analysis": ["analysis"], "interop": ["nir"],
             "course": ["course", "site"], "cli": ["course", "site", "nir"], "__main__": [], "__init__": []}


def _name(requirement: str) -> str:
    for mark in "<>=!~[; ":
        requirement = requirement.split(mark)[0]
    return requirement.strip().lower().replace("_", "-")


def _declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    base = {_name(r) for r in project["dependencies"]}

    def expand(extra, seen=()):
        names = set()
        for requirement in extras[extra]:
            if requirement.startswith("snn-helpers["):
                for inner in requirement[len("snn-helpers["):-1].split(","):
                    if inner not in seen:
                        names |= expand(inner, (*seen, extra))
            else:
                names.add(_name(requirement))
        return names
    return base, {extra: expand(extra) for extra in extras}


def _third_party_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.split(".")[0])
    return {name for name in found if name not in sys.stdlib_module_names and name != "snn_helpers"}


def test_every_import_of_a_subpackage_is_declared_for_it():
    base, extras = _declared()
    assert {"analysis", "nir", "course", "site"} <= set(extras), sorted(extras)
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        part = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        allowed = base.union(*(extras[extra] for extra in EXTRAS_OF[part]))
        for name in sorted(_third_party_imports(path)):
            if DISTRIBUTION.get(name, name).lower() not in allowed:
                missing.append(f"{path.relative_to(ROOT)} imports {name}, which {part!r} does not declare")
    assert not missing, "\n".join(missing)


def test_the_check_sees_an_undeclared_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import os\nimport torch\ndef f():\n    from matplotlib import pyplot\n")
    assert _third_party_imports(module) == {"torch", "matplotlib"}
    base, _ = _declared()
    assert "torch" in base and "matplotlib" not in base  # so core importing matplotlib would fail above


BLOCK = """
import importlib.abc, sys
BLOCKED = {"matplotlib", "IPython", "ipywidgets", "nbformat", "nbclient", "nbgrader", "nir", "snntorch",
           "sphinx"}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is blocked: not part of a regular install")
sys.meta_path.insert(0, Block())
import torch
from snn_helpers import SNN, fit, evaluate, set_seed
from snn_helpers.core.data import BatchLoader
generator = set_seed(0)
images, labels = torch.rand(256, 1, 28, 28), torch.randint(0, 10, (256,))
loader = BatchLoader(images, labels, 64, shuffle=True, generator=generator)
model = SNN(sizes=(784, 64, 10))
history = fit(model, loader, epochs=1, num_steps=4, generator=generator, progress=False)
print(len(history), 0.0 <= evaluate(model, BatchLoader(images, labels, 64), 4, generator=generator) <= 1.0)
print(sorted(m for m in BLOCKED if m in sys.modules))
"""


def test_the_library_trains_without_the_extras():
    out = subprocess.run([sys.executable, "-c", BLOCK], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\n")[:2] == ["1 True", "[]"], out.stdout
