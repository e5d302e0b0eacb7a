"""Every exercise in the notebooks, and the student copies that nbgrader makes of them.

An exercise is an nbgrader solution cell (a function whose body holds the answer
between ``### BEGIN SOLUTION`` and ``### END SOLUTION``) followed by locked grade
cells that call a check from ``snn_helpers.course.exercises``. For each one this module
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
import torch
from notebook_solutions import python_of

from snn_helpers import poisson_encode
from snn_helpers.core import encoding
from snn_helpers.course.exercises import ExerciseError, forget_failures
from snn_helpers.course.runner import notebook_paths
from snn_helpers.course.student import BEGIN, END, exercise_cells, solution_lines, student_notebook

NOTEBOOKS = notebook_paths()
INSTRUCTOR = {path.name: nbformat.read(path, as_version=4) for path in NOTEBOOKS}
EXERCISES = [(name, solution, checks) for name, notebook in INSTRUCTOR.items()
             for solution, checks in exercise_cells(notebook)]
ids = [solution.metadata.nbgrader.grade_id for _, solution, _ in EXERCISES]
# A grade cell imports its own check, so that an answer cell that defines a name cannot replace it.
GRADE_CELL = re.compile(r"from snn_helpers\.course\.exercises\.\w+ import (check_\w+) as _check\n\n?_check\([^\n]+\)")


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


def stub_cell(notebook, grade_id: str):
    """The cell of ``notebook`` (a student copy) whose nbgrader grade_id is ``grade_id``."""
    return next(cell for cell in notebook.cells
                if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)


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
            assert GRADE_CELL.fullmatch(check.source), \
                f"{name} {meta.grade_id} must import its check as _check and call it: {check.source!r}"


def test_every_check_counts_its_failures_and_guards_the_library():
    """Each check is wrapped by ``exercise``, which adds the hint to a repeat and sets the tripwires."""
    import importlib
    import inspect
    for topic in ("encoding", "neurons", "training", "evaluation", "nir"):
        module = importlib.import_module(f"snn_helpers.course.exercises.{topic}")
        checks = [value for key, value in vars(module).items() if key.startswith("check_") and callable(value)]
        assert checks, topic
        for check in checks:
            assert inspect.unwrap(check) is not check, f"{topic}.{check.__name__} is not wrapped by exercise()"


@pytest.mark.parametrize("name,solution,checks", EXERCISES, ids=ids)
def test_check_passes_on_the_solution(name, solution, checks):
    printed = run_exercise(name, solution.source, checks)
    assert printed.count("✓") >= len(checks), f"the checks printed no verdict:\n{printed}"


@pytest.mark.parametrize("name,solution,checks", EXERCISES, ids=ids)
def test_check_fails_on_the_stub_with_a_sentence(name, solution, checks, student):
    grade_id = solution.metadata.nbgrader.grade_id
    stub = stub_cell(student[name], grade_id)
    assert "raise NotImplementedError()" in stub.source
    forget_failures()
    with pytest.raises(ExerciseError, match="not written yet") as caught:
        run_exercise(name, stub.source, checks)
    assert "Hint:" not in str(caught.value)


@pytest.mark.parametrize("name,solution,checks", EXERCISES, ids=ids)
def test_check_fails_on_the_stub_even_when_the_answer_redefines_the_checks_names(name, solution, checks, student):
    grade_id = solution.metadata.nbgrader.grade_id
    stub = stub_cell(student[name], grade_id)
    names = [GRADE_CELL.fullmatch(check.source).group(1) for check in checks]
    fake = " = ".join([*names, "_check"]) + ' = lambda *args, **kwargs: print("✓")'
    with pytest.raises(ExerciseError, match="not written yet"):
        run_exercise(name, fake + "\n" + stub.source, checks)


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
    from snn_helpers.course.student import write_student_notebooks
    source = tmp_path / "01.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), source)
    assert write_student_notebooks(single(source), tmp_path / "student") == [tmp_path / "student" / "01.ipynb"]


def test_the_teachers_guide_lists_every_exercise():
    from snn_helpers.system.paths import PROJECT_ROOT
    guide = (PROJECT_ROOT / "docs" / "teaching.md").read_text()
    titles = [match.group(1) for notebook in INSTRUCTOR.values() for cell in notebook.cells
              if cell.cell_type == "markdown"
              for match in re.finditer(r"^### Exercise (\d+\.\d+ · .+)$", cell.source, re.M)]
    assert len(titles) == len(EXERCISES), "every exercise needs a '### Exercise N.k · title' heading"
    for title in titles:
        assert title in guide, f"docs/teaching.md does not list {title!r}"



def test_the_hint_comes_with_a_repeat_of_the_same_kind_only():
    from snn_helpers.course.exercises import exercise, fail

    @exercise()
    def check_sign(value):
        if value < 0:
            fail("negative", f"got {value}, below 0", "look at the sign")
        fail("zero", f"got {value}", "something else")

    forget_failures()
    messages = []
    for value in (-1, 0, -2, -3):
        with pytest.raises(ExerciseError) as caught:
            check_sign(value)
        messages.append(str(caught.value))
    forget_failures()
    assert messages == ["got -1, below 0", "got 0", "got -2, below 0\nHint: look at the sign",
                        "got -3, below 0\nHint: look at the sign"]


def crashes_after_calling_the_library(images, num_steps):
    try:
        poisson_encode(images, num_steps)
    except ExerciseError:  # the tripwire, swallowed: the check still sees the crash that follows
        pass
    raise ValueError("something else")


def test_a_tripwire_is_removed_even_when_the_answer_fails_otherwise():
    from snn_helpers.course.exercises.encoding import check_rate_encoder

    with pytest.raises(ExerciseError, match="raised ValueError: something else"):
        check_rate_encoder(crashes_after_calling_the_library)
    assert encoding.poisson_encode is poisson_encode is globals()["poisson_encode"]
    assert poisson_encode(torch.ones(3), 2).sum() == 6
