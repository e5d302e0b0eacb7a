"""Every exercise in the notebooks, and the student copies that nbgrader makes of them.

An exercise is an nbgrader solution cell (a function whose body holds the answer
between ``### BEGIN SOLUTION`` and ``### END SOLUTION``) followed by locked grade
cells that call a check from ``snn_helpers.exercises``. For each one this module
runs the notebook's import cell, then the solution (or the student's stub), then
the checks, in a fresh namespace: the checks pass on the solution and fail, with a
sentence, on the stub. The plausible wrong answers live in
``tests/test_exercises_<topic>.py``.
"""
from __future__ import annotations

import io
import re
from contextlib import redirect_stdout
from pathlib import Path

import nbformat
import pytest

from notebook_solutions import python_of
from snn_helpers.exercises import ExerciseError
from snn_helpers.runner import notebook_paths
from snn_helpers.student import BEGIN, END, exercise_cells, solution_lines, student_notebook

NOTEBOOKS = notebook_paths()
INSTRUCTOR = {path.name: nbformat.read(path, as_version=4) for path in NOTEBOOKS}
EXERCISES = [(name, solution, checks) for name, notebook in INSTRUCTOR.items()
             for solution, checks in exercise_cells(notebook)]
ids = [solution.metadata.nbgrader.grade_id for _, solution, _ in EXERCISES]


@pytest.fixture(scope="module")
def student():
    """The student version of every notebook, made once (nbgrader takes seconds to import)."""
    return {name: student_notebook(notebook) for name, notebook in INSTRUCTOR.items()}


def first_code_cell(notebook) -> str:
    return next(cell.source for cell in notebook.cells if cell.cell_type == "code")


def run_exercise(notebook_name: str, exercise_source: str, checks) -> str:
    """Run the notebook's import cell, ``exercise_source`` and the check cells; return what they printed."""
    namespace = {"__name__": "__exercise__"}
    printed = io.StringIO()
    with redirect_stdout(printed):
        exec(compile(python_of(first_code_cell(INSTRUCTOR[notebook_name])), "<imports>", "exec"), namespace)
        exec(compile(exercise_source, "<exercise>", "exec"), namespace)
        for check in checks:
            exec(compile(check.source, "<check>", "exec"), namespace)
    return printed.getvalue()


def stubbed(source: str) -> list[str]:
    """``source`` with each solution region replaced by nbgrader's stub, indented like its marker."""
    lines, inside = [], False
    for line in source.splitlines():
        if BEGIN in line:
            indent = re.match(r"\s*", line).group(0)
            lines += [indent + "# YOUR CODE HERE", indent + "raise NotImplementedError()"]
            inside = True
        elif END in line:
            inside = False
        elif not inside:
            lines.append(line)
    return lines


def test_each_teaching_notebook_has_two_exercises_or_more():
    for name, notebook in INSTRUCTOR.items():
        if name[:2] in ("01", "02", "03", "04"):
            assert len(exercise_cells(notebook)) >= 2, f"{name} has fewer than two exercises"


def test_exercise_ids_are_unique_and_every_exercise_is_checked():
    assert EXERCISES, "no notebook has an exercise"
    assert len(set(ids)) == len(ids), f"repeated grade_id: {sorted(ids)}"
    for name, solution, checks in EXERCISES:
        grade_id = solution.metadata.nbgrader.grade_id
        assert solution.source.count(BEGIN) == solution.source.count(END) >= 1, grade_id
        assert solution_lines(solution.source), f"{name} {grade_id}: the solution region is empty"
        assert checks, f"{name} {grade_id}: no grade cell (check) follows the solution"
        for check in checks:
            meta = check.metadata.nbgrader
            assert meta.locked and meta.points > 0, f"{name} {meta.grade_id}: a check must be locked and scored"
            assert re.search(r"\bcheck_\w+\(", check.source), f"{name} {meta.grade_id} calls no check_ function"


@pytest.mark.parametrize("name,solution,checks", EXERCISES, ids=ids)
def test_check_passes_on_the_solution(name, solution, checks):
    printed = run_exercise(name, solution.source, checks)
    assert printed.count("✓") >= len(checks), f"the checks printed no verdict:\n{printed}"


@pytest.mark.parametrize("name,solution,checks", EXERCISES, ids=ids)
def test_check_fails_on_the_stub_with_a_sentence(name, solution, checks, student):
    grade_id = solution.metadata.nbgrader.grade_id
    stub = next(cell for cell in student[name].cells
                if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)
    assert "raise NotImplementedError()" in stub.source
    with pytest.raises(ExerciseError, match="not written yet"):
        run_exercise(name, stub.source, checks)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_student_notebook_hides_every_solution_line(path, student):
    notebook = student[path.name]
    text = "\n".join(cell.source for cell in notebook.cells)
    student_lines = {line.strip() for line in text.splitlines()}
    for solution, _ in exercise_cells(INSTRUCTOR[path.name]):
        for line in solution_lines(solution.source):
            # short lines such as "return x" or ")" can occur anywhere; the rest must not
            if len(line.strip()) >= 12:
                assert line.strip() not in student_lines, f"{path.name}: solution line shown: {line.strip()!r}"
    assert BEGIN not in text and END not in text
    assert "BEGIN HIDDEN TESTS" not in text
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_student_notebook_with_the_solutions_filled_back_is_the_tested_notebook(path, student):
    """Put each solution back into its stub: the result is, cell for cell, the notebook nbval runs."""
    instructor = INSTRUCTOR[path.name]
    copy = student[path.name]
    assert [cell.cell_type for cell in copy.cells] == [cell.cell_type for cell in instructor.cells]
    for given, original in zip(copy.cells, instructor.cells):
        if original.get("metadata", {}).get("nbgrader", {}).get("solution"):
            assert given.source.splitlines() == stubbed(original.source)
        else:
            assert given.source == original.source, f"{path.name}: a cell changed that holds no solution"


def test_student_command_writes_every_notebook(tmp_path, capsys):
    from snn_helpers.cli import main
    assert main(["student", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.ipynb")) == sorted(INSTRUCTOR)
    assert "student notebooks in" in capsys.readouterr().out
    for path in tmp_path.glob("*.ipynb"):
        nbformat.validate(nbformat.read(path, as_version=4))


@pytest.mark.parametrize("single", [str, Path])
def test_write_student_notebooks_takes_one_path_as_one_notebook(tmp_path, single):
    from snn_helpers.student import write_student_notebooks
    source = tmp_path / "01.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), source)
    assert write_student_notebooks(single(source), tmp_path / "student") == [tmp_path / "student" / "01.ipynb"]


def test_the_teachers_guide_lists_every_exercise():
    from snn_helpers.paths import PROJECT_ROOT
    guide = (PROJECT_ROOT / "docs" / "teaching.md").read_text()
    titles = [match.group(1) for notebook in INSTRUCTOR.values() for cell in notebook.cells
              if cell.cell_type == "markdown"
              for match in re.finditer(r"^### Exercise (\d+\.\d+ · .+)$", cell.source, re.M)]
    assert len(titles) == len(EXERCISES), "every exercise needs a '### Exercise N.k · title' heading"
    for title in titles:
        assert title in guide, f"docs/teaching.md does not list {title!r}"
