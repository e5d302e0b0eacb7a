"""nbgrader's real workflow on a temporary course, with the shipped ``docs/nbgrader_config.py`` as it is.

The course grades notebooks 01 and 02 as one assignment. They hold five of the
grade cells, both kinds of answer (functions, and a class with a forward and a
backward), and both cells that read MNIST and cells that need no data; each runs
in seconds. Notebook 03 trains and 04 depends on it, so they would make the test
several times as slow while adding only more exercises of the same form.

The grader uses the package as a regular install (``pip install --target`` of
a copy of the sources, on ``PYTHONPATH``), as the teacher's guide asks, and
runs with ``SNN_QUICK`` unset, so quick mode comes from nbgrader's own
``NBGRADER_EXECUTION``. The steps: ``nbgrader db student add``,
``generate_assignment`` (which fills the gradebook), two submissions placed
under ``submitted/`` (release, fetch and submit need Unix users and an
exchange), ``autograde``, ``export`` and ``generate_feedback``:

- ``full`` has every answer (the instructor's solutions put back into the
  released stubs) and must get every point;
- ``cheat`` keeps the stubs and, in each answer cell, redefines every check's
  name and ``_check`` to print a tick; it must get none.

Without nbgrader the test is skipped, except under ``CI=1``, where it fails.
"""
from __future__ import annotations

import csv
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from snn_helpers.core.data import MNISTDataError, ensure_mnist
from snn_helpers.system.paths import PROJECT_ROOT, data_dir

pytestmark = pytest.mark.slow

NOTEBOOKS = ("01_spike_encoding.ipynb", "02_lif_neuron_and_surrogate.ipynb")
ASSIGNMENT = "week1"
CONFIG = PROJECT_ROOT / "docs" / "nbgrader_config.py"
VENV_BIN = Path(sys.executable).parent
STUDENTS = ("full", "cheat")


def nbgrader_or_skip() -> str:
    """The ``nbgrader`` command beside this Python; skip where there is none, but fail under ``CI=1``."""
    command = shutil.which("nbgrader", path=str(VENV_BIN))
    if command is None or importlib.util.find_spec("nbgrader") is None:
        reason = f"nbgrader is not installed beside {sys.executable} (it is in requirements.txt)"
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"{reason}, and CI must run the nbgrader course test")
        pytest.skip(reason)
    return command


def nbgrader_cells(notebook) -> dict[str, nbformat.NotebookNode]:
    """The cells of ``notebook`` that carry nbgrader metadata, by grade_id."""
    return {cell.metadata.nbgrader.grade_id: cell for cell in notebook.cells
            if "nbgrader" in cell.get("metadata", {})}


def instructor(name: str):
    return nbformat.read(PROJECT_ROOT / "notebooks" / name, as_version=4)


def grade_cells(notebook) -> dict[str, int]:
    """Each grade cell's grade_id and points."""
    return {grade_id: cell.metadata.nbgrader.points for grade_id, cell in nbgrader_cells(notebook).items()
            if cell.metadata.nbgrader.get("grade")}


def submission(released, original, student: str):
    """The released notebook as ``student`` hands it in: ``full`` answers everything, ``cheat`` fakes the checks."""
    notebook = nbformat.from_dict(released)
    checks = sorted(set(re.findall(r"import (check_\w+) as _check", "\n".join(
        cell.source for cell in original.cells))))
    fake = " = ".join([*checks, "_check"]) + ' = lambda *args, **kwargs: print("✓")\n'
    answers = nbgrader_cells(original)
    for grade_id, cell in nbgrader_cells(notebook).items():
        if cell.metadata.nbgrader.get("solution"):
            assert "raise NotImplementedError()" in cell.source, f"{grade_id} was released with its answer"
            cell.source = answers[grade_id].source if student == "full" else fake + cell.source
    return notebook


def run(command: list[str], cwd: Path, env: dict) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """``(course folder, env)`` after the whole workflow has run on it."""
    nbgrader = nbgrader_or_skip()
    tmp = tmp_path_factory.mktemp("nbgrader")
    source = tmp / "package-source"
    shutil.copytree(PROJECT_ROOT / "snn_helpers", source / "snn_helpers",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.so"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(PROJECT_ROOT / name, source / name)
    site = tmp / "site"
    run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", "install", "--no-deps",
         "--no-build-isolation", "--target", str(site), str(source)], tmp, dict(os.environ))

    root = tmp / "course"
    (root / "source" / ASSIGNMENT).mkdir(parents=True)
    shutil.copyfile(CONFIG, root / "nbgrader_config.py")
    for name in NOTEBOOKS:
        shutil.copyfile(PROJECT_ROOT / "notebooks" / name, root / "source" / ASSIGNMENT / name)
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "SNN_OUTPUT_DIR", "SNN_QUICK", "NBGRADER_EXECUTION")}
    env.update(PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}", PYTHONPATH=str(site),
               PYTHONDONTWRITEBYTECODE="1", SNN_DATA_DIR=str(data_dir()),
               JUPYTER_CONFIG_DIR=str(tmp / "jupyter-config"))  # no nbgrader_config.py but the shipped one

    (tmp / "students.csv").write_text("id,last_name\n" + "".join(f"{student},{student}\n" for student in STUDENTS))
    run([nbgrader, "db", "student", "import", str(tmp / "students.csv")], root, env)  # `db student add`, in bulk
    run([nbgrader, "generate_assignment", ASSIGNMENT], root, env)
    for student in STUDENTS:
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        for name in NOTEBOOKS:
            released = nbformat.read(root / "release" / ASSIGNMENT / name, as_version=4)
            nbformat.write(submission(released, instructor(name), student), folder / name)
    run([nbgrader, "autograde", ASSIGNMENT], root, env)
    run([nbgrader, "export"], root, env)
    run([nbgrader, "generate_feedback", ASSIGNMENT], root, env)
    return root, env


def test_the_student_with_every_answer_gets_every_point_and_the_faked_checks_get_none(course):
    root, _ = course
    points = {name: grade_cells(instructor(name)) for name in NOTEBOOKS}
    total = sum(sum(cells.values()) for cells in points.values())
    assert total >= 5, f"notebooks 01 and 02 hold only {total} points"
    with open(root / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert sorted(rows) == sorted(STUDENTS)
    for student, expected in (("full", total), ("cheat", 0)):
        row = rows[student]
        assert row["assignment"] == ASSIGNMENT
        assert (float(row["score"]), float(row["max_score"])) == (expected, total), row

    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "snn-mnist") as gradebook:
        for name, cells in points.items():
            for student in STUDENTS:
                graded = gradebook.find_submission_notebook(Path(name).stem, ASSIGNMENT, student)
                scores = {grade.name: (grade.score, grade.max_score) for grade in graded.grades}
                want = {grade_id: (worth if student == "full" else 0, worth) for grade_id, worth in cells.items()}
                assert scores == want, f"{student}, {name}"


def test_the_grader_ran_every_cell_of_the_full_answer_in_quick_mode_without_an_error(course):
    root, _ = course
    graded = root / "autograded" / "full" / ASSIGNMENT
    for name in NOTEBOOKS:
        for cell in nbformat.read(graded / name, as_version=4).cells:
            if cell.cell_type == "code":
                errors = [output for output in cell.outputs if output.output_type == "error"]
                assert not errors, f"{name} cell {cell.id}: {errors[0].ename}: {errors[0].evalue}"
    assert (graded / "build" / "quick" / "img").is_dir(), "the grader did not run in quick mode"
    assert not (graded / "img").exists(), "the grader wrote full-mode figures"
    assert not (graded / "data").exists(), "the grader fetched MNIST into a student's folder"


def test_the_real_checks_ran_in_the_faked_submission_and_said_the_answers_are_not_written(course):
    root, _ = course
    for name in NOTEBOOKS:
        notebook = nbformat.read(root / "autograded" / "cheat" / ASSIGNMENT / name, as_version=4)
        checks = [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade")]
        assert len(checks) == len(grade_cells(instructor(name))), name
        for cell in checks:
            errors = [output for output in cell.outputs if output.output_type == "error"]
            assert errors and "not written yet" in errors[0].evalue, f"{name} {cell.id}: {cell.outputs}"


def test_feedback_holds_only_the_reports_thanks_to_the_ignore_list(course):
    root, _ = course
    for student in STUDENTS:
        feedback = root / "feedback" / student / ASSIGNMENT
        files = sorted(path.relative_to(feedback).as_posix() for path in feedback.rglob("*") if path.is_file())
        assert files == sorted(Path(name).with_suffix(".html").name for name in NOTEBOOKS), files
    assert (root / "autograded" / "full" / ASSIGNMENT / "build").is_dir(), \
        "the graded folder holds no outputs: the ignore list was not tried"


def test_make_student_writes_what_nbgrader_releases(course, tmp_path):
    root, _ = course
    from snn_helpers.course.student import write_student_notebooks  # what `make student` runs
    write_student_notebooks([root / "source" / ASSIGNMENT / name for name in NOTEBOOKS], tmp_path)
    for name in NOTEBOOKS:
        ours = nbformat.read(tmp_path / name, as_version=4)
        released = nbformat.read(root / "release" / ASSIGNMENT / name, as_version=4)
        assert len(ours.cells) == len(released.cells), name
        for mine, theirs in zip(ours.cells, released.cells):
            assert (mine.cell_type, mine.source) == (theirs.cell_type, theirs.source), f"{name} cell {theirs.id}"
            assert mine.metadata.get("nbgrader") == theirs.metadata.get("nbgrader"), f"{name} cell {theirs.id}"


def test_the_shipped_config_sets_the_timeout_and_stubs_that_nbgrader_reads():
    nbgrader_or_skip()
    from nbgrader.preprocessors import ClearSolutions, Execute
    from traitlets.config.loader import PyFileConfigLoader
    config = PyFileConfigLoader(CONFIG.name, path=str(CONFIG.parent)).load_config()
    assert Execute(config=config).timeout > Execute().timeout, "the shipped timeout is not above nbgrader's default"
    assert ClearSolutions(config=config).code_stub["python"] == ClearSolutions().code_stub["python"]


def test_the_grader_never_downloads_mnist(tmp_path, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(MNISTDataError, match=r"the grader does not download it.*SNN_DATA_DIR") as caught:
        ensure_mnist(tmp_path / "data")
    assert "\n" not in str(caught.value)
    assert str(tmp_path / "data") in str(caught.value)
    assert not (tmp_path / "data").exists(), "something was written while grading"
