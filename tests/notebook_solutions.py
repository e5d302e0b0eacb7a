"""The reference answers of the notebooks' exercises, taken from the notebooks themselves.

The tests of the checks (``tests/test_exercises_<topic>.py``) get each reference
answer from its solution cell, so that there is no second copy of it to drift.
"""
from __future__ import annotations

import nbformat

from snn_helpers.paths import PROJECT_ROOT


def python_of(source: str) -> str:
    """A code cell without its IPython magics (``%matplotlib inline``)."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def solution(notebook: str, grade_id: str):
    """What the solution cell ``grade_id`` of ``notebooks/<notebook>`` defines.

    The cell runs after the notebook's first code cell (its imports), as the
    checks in the notebook do; the one name it defines is returned.
    """
    cells = [cell for cell in nbformat.read(PROJECT_ROOT / "notebooks" / notebook, as_version=4).cells
             if cell.cell_type == "code"]
    namespace: dict = {}
    exec(compile(python_of(cells[0].source), f"{notebook}:imports", "exec"), namespace)
    known = set(namespace)
    sources = [cell.source for cell in cells if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    assert len(sources) == 1, f"{notebook} has {len(sources)} cells with grade_id {grade_id!r}, not one"
    exec(compile(sources[0], f"{notebook}:{grade_id}", "exec"), namespace)
    defined = [name for name in namespace if name not in known]
    assert len(defined) == 1, f"{notebook}:{grade_id} defines {defined}, not one name"
    return namespace[defined[0]]
