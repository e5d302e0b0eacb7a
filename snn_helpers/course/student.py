"""Student copies of the notebooks, made with nbgrader's own preprocessors.

The committed notebooks are the instructor versions: complete, and re-run by
the tests. Each exercise in them is an nbgrader *solution* cell whose answer
sits between ``### BEGIN SOLUTION`` and ``### END SOLUTION``, followed by a
locked *grade* cell that calls a check from :mod:`snn_helpers.course.exercises`.
``python -m snn_helpers student`` (``make student``) runs nbgrader's
preprocessors over them, as ``nbgrader generate_assignment`` would, but
without a course database:

- ``CheckCellMetadata``: the nbgrader metadata of every cell is valid;
- ``LockCells``: grade cells (the checks) are read-only in JupyterLab;
- ``ClearSolutions``: each solution region becomes ``raise NotImplementedError()``;
- ``ClearHiddenTests``: ``### BEGIN HIDDEN TESTS`` regions are removed;
- ``ClearOutput``: no outputs, no execution counts;
- ``ComputeChecksums``: checksums of the grade cells, for nbgrader's autograder.

The copies go to ``build/student/`` (git-ignored), ready to hand out.

The examples use this module's names and ``nbformat``.
"""
from __future__ import annotations

import copy
import os
from pathlib import Path

import nbformat

from ..system.atomic import atomic_path
from ..system.paths import student_dir

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


def _pipeline():
    # nbgrader is imported here, not at module level: it takes seconds to import and
    # only this command needs it.
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearHiddenTests,
        ClearOutput,
        ClearSolutions,
        ComputeChecksums,
        LockCells,
    )
    return [CheckCellMetadata(), LockCells(), ClearSolutions(), ClearHiddenTests(), ClearOutput(),
            ComputeChecksums()]


def student_notebook(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student version of an instructor ``notebook`` (a copy; the argument is not changed).

    notebook: an nbformat v4 notebook whose exercise cells carry nbgrader metadata.

    >>> cell = nbformat.v4.new_code_cell(
    ...     "def double(x):\\n    ### BEGIN SOLUTION\\n    return 2 * x\\n    ### END SOLUTION",
    ...     metadata={"nbgrader": {"grade": False, "grade_id": "ex", "locked": False,
    ...                            "schema_version": 3, "solution": True, "task": False}})
    >>> nb = nbformat.v4.new_notebook(cells=[cell], metadata={"kernelspec": {
    ...     "name": "python3", "display_name": "Python 3", "language": "python"}})
    >>> print(student_notebook(nb).cells[0].source)
    def double(x):
        # YOUR CODE HERE
        raise NotImplementedError()
    """
    student = copy.deepcopy(notebook)
    student.metadata.setdefault("kernelspec", {}).setdefault("language", "python")
    resources = {}
    for preprocessor in _pipeline():
        student, resources = preprocessor.preprocess(student, resources)
    return student


def exercise_cells(notebook: nbformat.NotebookNode) -> list[tuple[nbformat.NotebookNode, list]]:
    """Each exercise of ``notebook``: ``(solution cell, [its grade cells])``.

    The grade cells of an exercise are the nbgrader grade cells between its
    solution cell and the next solution cell; cells before the first solution cell
    belong to no exercise.

    notebook: an nbformat v4 notebook with nbgrader metadata.

    >>> solution = nbformat.v4.new_code_cell("answer = 42", metadata={"nbgrader": {"solution": True}})
    >>> check = nbformat.v4.new_code_cell("check(answer)", metadata={"nbgrader": {"grade": True}})
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Exercise"), solution, check])
    >>> [(cell.source, [grade.source for grade in grades]) for cell, grades in exercise_cells(nb)]
    [('answer = 42', ['check(answer)'])]
    """
    exercises = []
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution"):
            exercises.append((cell, []))
        elif cell.cell_type == "code" and meta.get("grade") and exercises:
            exercises[-1][1].append(cell)
    return exercises


def solution_lines(source: str) -> list[str]:
    """The lines strictly between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` in ``source``.

    source: a cell's source text; every solution region in it counts.

    >>> solution_lines("def f(x):\\n    ### BEGIN SOLUTION\\n    return x\\n    ### END SOLUTION")
    ['    return x']
    """
    lines, inside = [], False
    for line in source.splitlines():
        if BEGIN in line:
            inside = True
        elif END in line:
            inside = False
        elif inside:
            lines.append(line)
    return lines


def write_student_notebooks(paths, out_dir=None) -> list[Path]:
    """Write the student version of each notebook in ``paths`` to ``out_dir`` (default ``build/student``).

    Each file is written to a temporary name and renamed. Returns the written paths.

    paths: ``.ipynb`` files, each a str or path; a single str or path is one
    notebook. out_dir: str or path of the folder (created if needed); ``None``
    means :func:`~snn_helpers.system.paths.student_dir`.

    >>> import tempfile
    >>> cell = nbformat.v4.new_code_cell("x = 1  # no exercise here")
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     nbformat.write(nbformat.v4.new_notebook(cells=[cell]), Path(folder) / "01.ipynb")
    ...     written = write_student_notebooks([Path(folder) / "01.ipynb"], Path(folder) / "student")
    ...     print([path.relative_to(folder).as_posix() for path in written])
    ['student/01.ipynb']
    """
    if isinstance(paths, (str, os.PathLike)):  # one notebook, not the characters of its name
        paths = [paths]
    out_dir = Path(student_dir() if out_dir is None else out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in map(Path, paths):
        notebook = student_notebook(nbformat.read(path, as_version=4))
        target = out_dir / path.name
        with atomic_path(target) as tmp:
            nbformat.write(notebook, tmp)
        written.append(target)
    return written
