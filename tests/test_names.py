"""Every ``snn_helpers.…`` name that the README, the docs, the notebooks and the package's own
docstrings mention resolves: to a module, or to a name inside one.

Modules move (issue 23 moved every one of them); prose that names the old place keeps working
nowhere and fails nothing, unless a test reads it. The CHANGELOG is left out on purpose: it names
old places to say where they went.
"""
import importlib
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOTTED = re.compile(r"\bsnn_helpers(?:\.[A-Za-z_]\w*)+")
PLACEHOLDERS = {"snn_helpers.NAME", "snn_helpers.x"}  # how the package's docs write "some module"


def texts() -> dict[str, str]:
    """The text of each file that names things for a reader, by path relative to the project."""
    paths = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "snn_helpers").rglob("*.py")),
             *(p for p in sorted((ROOT / "tests").glob("*.py")) if p.name != "test_names.py")]  # not this file's examples
    found = {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in paths}
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        found[str(notebook.relative_to(ROOT))] = "\n".join("".join(cell["source"]) for cell in cells)
    return found


def resolves(dotted: str) -> bool:
    """Whether ``snn_helpers.a.b.c`` is a module, or a module followed by attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(target, attribute):
                return False
            target = getattr(target, attribute)
        return True
    return False


def test_the_check_tells_a_moved_name_from_a_real_one():
    assert resolves("snn_helpers.core.readout.confusion_counts")
    assert not resolves("snn_helpers.analysis.plots.confusion_counts")  # where it was before the move
    assert not resolves("snn_helpers.analysis.compare")


TEXTS = texts()


@pytest.mark.parametrize("path", sorted(TEXTS))
def test_every_dotted_name_resolves(path):
    text = TEXTS[path]
    names = {m.group(0).rstrip(".") for m in DOTTED.finditer(text)} - PLACEHOLDERS
    names = {name for name in names if ".__main__" not in name}  # importing it runs the command line
    missing = sorted(name for name in names if not resolves(name))
    assert not missing, f"{path} names {missing}, which do not exist (moved or renamed?)"
