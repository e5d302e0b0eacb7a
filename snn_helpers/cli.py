"""Command line: ``python -m snn_helpers fetch-data | train | results | run-notebooks | site | student | export-nir | import-nir``."""
from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import statistics
import sys
import time
from pathlib import Path

from .core.checkpoint import CheckpointError, save_checkpoint, settings_payload
from .core.data import TEST_SIZE, TRAIN_SIZE, MNISTDataError, ensure_mnist
from .core.model import PRECISIONS
from .core.recipes import ALIASES, RECIPES, get_recipe, run_recipe
from .course import results
from .course.shipped import export_model
from .engine.backend import BACKENDS
from .engine.surrogates import SURROGATES
from .interop.nir_graph import NIRGraphError
from .system._checks import check_file, check_float, check_int, check_output_file, check_path
from .system.atomic import DiskFullError, atomic_path, folder_is_full, is_disk_full
from .system.runtime import get_device


def _checked(check, kind, name, *bounds, **options):
    """An argparse ``type``: ``kind(text)`` passed through ``check``, whose message names the option and range."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            value = text  # not a number: ``check`` then says which type and range it wants
        try:
            return check(name, value, *bounds, **options)
        except (TypeError, ValueError) as err:
            raise argparse.ArgumentTypeError(str(err)) from None
    return parse


def _int_in(name, low=1, high=None):
    """An argparse ``type``: an integer from ``low`` (default 1) to ``high`` (``None``: no bound)."""
    return _checked(check_int, int, name, low, high)


def _positive_float(name):
    """An argparse ``type``: a float above 0."""
    return _checked(check_float, float, name, 0.0, low_open=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m snn_helpers", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    fetch = sub.add_parser("fetch-data", help="put the checked MNIST files in <root>/MNIST/raw")
    fetch.add_argument("--root", default=None, help="data folder (default: $SNN_DATA_DIR or data/)")

    train = sub.add_parser("train", help="train the SNN on MNIST and print test accuracy and wall time")
    train.add_argument("--root", default=None, help="data folder (default: $SNN_DATA_DIR or data/)")
    train.add_argument("--recipe", choices=[*sorted(RECIPES), *ALIASES], default="baseline",
                       help="named settings (default: baseline; seed is its old name); the options below override it")
    train.add_argument("--epochs", type=_int_in("--epochs", 0), default=None, help="default: the recipe's (5)")
    train.add_argument("--num-steps", type=_int_in("--num-steps"), default=None,
                       help="default: the recipe's (10)")
    train.add_argument("--batch-size", type=_int_in("--batch-size"), default=None,
                       help="default: the recipe's (128)")
    train.add_argument("--lr", type=_positive_float("--lr"), default=None,
                       help="peak learning rate (default: the recipe's)")
    train.add_argument("--surrogate", choices=sorted(SURROGATES), default=None,
                       help="the spike's surrogate derivative (default: the recipe's)")
    train.add_argument("--seed", type=_int_in("--seed", 0, 2**32 - 1), default=42)
    train.add_argument("--seeds", type=_int_in("--seeds"), default=1,
                       help="train N times, seeds SEED, SEED+1, ...; print each accuracy and the mean")
    train.add_argument("--train-limit", type=_int_in("--train-limit", 1, TRAIN_SIZE), default=None,
                       help="use only the first N training images")
    train.add_argument("--test-limit", type=_int_in("--test-limit", 1, TEST_SIZE), default=None,
                       help="use only the first N test images")
    train.add_argument("--checkpoint", type=_checked(check_output_file, str, "--checkpoint"), default=None,
                       help="write a checkpoint here after every epoch (default with --resume: the "
                            "checkpoint it resumes from, so a second interruption loses at most one epoch too)")
    train.add_argument("--resume", type=_checked(check_file, str, "--resume"), default=None,
                       help="continue training from this checkpoint")
    train.add_argument("--export", type=_checked(check_output_file, str, "--export"), default=None,
                       help="after training, write the weights (no optimizer state) here and a JSON "
                            "beside it with settings, seed, test accuracy and sha256")
    train.add_argument("--precision", choices=PRECISIONS, default="fp32",
                       help="bf16: matrix products in bfloat16, for GPUs and for CPUs with AMX or AVX512-BF16 where the "
                            "compiled kernels are unavailable (the LIF recurrence stays fp32)")
    train.add_argument("--backend", choices=BACKENDS, default="auto",
                       help="the engine (SNN(backend=...)): auto (on a CPU, the faster of torch and compiled "
                            "as measured once on this machine and cached; SNN_ENGINE=torch|compiled sets it), "
                            "torch, compiled (pins the compiled kernels), or step, the step-by-step loop that "
                            "notebook 02 teaches: same mathematics, slower; for timing them")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    train.add_argument("--record", nargs="?", const=str(results.RESULTS_FILE), default=None, metavar="FILE",
                       help="append this run (machine, commit, date, command, accuracies, times) to the results "
                            "file (default: results/measurements.json), which the README quotes")

    res = sub.add_parser("results", help="show the results file, or regenerate the README's blocks from it")
    res.add_argument("--file", default=str(results.RESULTS_FILE), help="the results file "
                     "(default: results/measurements.json)")
    res.add_argument("--memory-file", default=str(results.MEMORY_FILE), help="the notebook-memory file "
                     "(default: results/notebook_memory.json, written by benchmarks/notebook_memory.py)")
    res.add_argument("--readme", nargs="?", const="README.md", default=None, metavar="README",
                     help="rewrite the <!-- results:NAME --> blocks of README (default: README.md) from the files")

    run = sub.add_parser("run-notebooks", help="execute notebooks/NN_*.ipynb in order, then the appendices "
                         "A*_*.ipynb (the main job), write executed copies to build/executed/, print the test accuracy")
    run.add_argument("--quick", action="store_true", default=None, help="quick mode: less data, outputs under "
                     "build/quick/ (default: as SNN_QUICK says)")

    student = sub.add_parser("student", help="write the student notebooks (exercise solutions replaced by "
                             "stubs, hidden tests removed, outputs cleared) with nbgrader's preprocessors")
    student.add_argument("--out", default=None, help="output folder (default: build/student/)")
    export = sub.add_parser("export-nir", help="write a reset-to-zero checkpoint as a NIR graph (Neuromorphic "
                            "Intermediate Representation), the file format that neuromorphic frameworks such as snnTorch read")
    export.add_argument("checkpoint", type=_checked(check_file, str, "CHECKPOINT"),
                        help="a checkpoint of this project, e.g. checkpoints/snn.pt from notebook 03")
    export.add_argument("out", type=_checked(check_output_file, str, "OUT"), help="the NIR file to write (.nir)")
    imp = sub.add_parser("import-nir", help="load a NIR graph of Affine/Linear + LIF nodes and write it as a "
                         "checkpoint of this project")
    imp.add_argument("nir_file", metavar="NIR_FILE", type=_checked(check_file, str, "NIR_FILE"),
                     help="the NIR file to read")
    imp.add_argument("out", type=_checked(check_output_file, str, "OUT"), help="the checkpoint to write (.pt)")
    site = sub.add_parser("site", help="build the course website into build/site/ from the executed notebooks "
                          "in build/executed/ (executes nothing; fetches MathJax once into build/vendor/)")
    site.add_argument("--quick", action="store_true", default=None,
                      help="from build/quick/executed/ into build/quick/site/ (default: as SNN_QUICK says)")
    site.add_argument("--executed", type=_checked(check_path, str, "--executed"), default=None,
                      help="folder of executed notebooks (default: build/executed/)")
    site.add_argument("--out", default=None, help="output folder (default: build/site/)")
    return parser


def cmd_fetch(args) -> int:
    raw = ensure_mnist(args.root)
    print(f"MNIST ready in {raw}")
    return 0


def cmd_train(args) -> int:
    device = get_device()
    recipe = get_recipe(args.recipe)
    overrides = {"epochs": args.epochs, "num_steps": args.num_steps, "lr": args.lr}
    train = dataclasses.replace(recipe.train, **{key: value for key, value in overrides.items() if value is not None})
    surrogate = {} if args.surrogate is None else {"surrogate": args.surrogate}
    recipe = dataclasses.replace(recipe, model=recipe.model.replace(**surrogate), train=train,
                                 batch_size=recipe.batch_size if args.batch_size is None else args.batch_size)
    print(f"recipe {recipe.name}: {recipe.summary}; {train.epochs} epochs, {train.num_steps} steps, "
          f"batch {recipe.batch_size}, lr {train.lr:g} ({train.schedule})")
    if surrogate:
        print(f"surrogate: {args.surrogate} (overrides the recipe's {get_recipe(args.recipe).model.neuron.surrogate})")
    checkpoint = args.checkpoint if args.checkpoint is not None else args.resume
    accuracies, runs, start, load = [], [], time.perf_counter(), os.getloadavg()[0]
    commit = results.commit() if args.record else None  # the code that runs, not what is checked out at the end
    for seed in range(args.seed, args.seed + args.seeds):
        result = run_recipe(recipe, seed, root=args.root, train_limit=args.train_limit,
                            test_limit=args.test_limit, device=device, checkpoint_path=checkpoint,
                            resume_from=args.resume, progress=not args.no_progress, precision=args.precision,
                            backend=args.backend)
        accuracies.append(100 * result["accuracy"])
        runs.append(result)
        where = f"{device} with {result['engine'].describe()}"
        print(f"seed {seed}: test accuracy ({train.num_steps}-step evaluation, {result['test_images']} "
              f"images): {accuracies[-1]:.2f}%  training {result['train_seconds']:.1f} s, "
              f"evaluation {result['test_seconds']:.1f} s on {where}  "
              "loss per epoch: " + ", ".join(f"{x:.4f}" for x in result["loss_history"]))
    wall = time.perf_counter() - start
    print(f"wall time: {wall:.1f} s (data loading, encoding, training, evaluation)")
    if len(accuracies) > 1:
        print(f"mean test accuracy over {len(accuracies)} seeds: {statistics.mean(accuracies):.2f}% "
              f"(standard deviation {statistics.stdev(accuracies):.2f})")
    if args.export:
        info = export_model(result, recipe, args.export, args.command_line, root=args.root)
        print(f"exported {args.export} (sha256 {info['sha256'][:16]}...) and its JSON; accuracy on the "
              f"first {info['check']['test_images']} test images: {100 * info['check']['accuracy']:.2f}%")
    if args.record:
        options = {"epochs": train.epochs, "num_steps": train.num_steps, "batch_size": recipe.batch_size,
                   "lr": train.lr, "surrogate": args.surrogate, "train_limit": args.train_limit,
                   "test_limit": args.test_limit, "precision": args.precision, "backend": args.backend,
                   "wall_seconds": round(wall, 1),
                   "load_average_start_end": [round(load, 2), round(os.getloadavg()[0], 2)]}
        results.record("train", args.command_line, results.train_figures(recipe.name, options, runs), args.record,
                       commit=commit)
        print(f"recorded in {args.record}")
    return 0


def cmd_results(args) -> int:
    entries, memory = results.load(args.file), results.load_memory(args.memory_file)
    if args.readme is None:
        for name, block in results.render(entries, memory).items():
            print(f"<!-- results:{name} -->\n{block}\n")
        return 0
    readme = Path(args.readme)
    text = readme.read_text()
    updated = results.update_readme(text, entries, memory)
    if updated != text:
        with atomic_path(readme) as tmp:
            tmp.write_text(updated)
    print(f"{readme}: {len(results.readme_blocks(updated))} blocks from {args.file} and {args.memory_file}"
          + ("" if updated != text else " (unchanged)"))
    return 0


def cmd_run_notebooks(args) -> int:
    from .course.runner import main_job  # imports nbclient only for this command
    return main_job(quick=args.quick)


def cmd_student(args) -> int:
    from .course.runner import notebook_paths, shown  # nbgrader and nbclient load only for these commands
    from .course.student import write_student_notebooks
    written = write_student_notebooks(notebook_paths(), args.out)
    print(f"{len(written)} student notebooks in {shown(written[0].parent)}/: " + ", ".join(p.name for p in written))
    return 0


def cmd_export_nir(args) -> int:
    from .course.handoff import model_from_checkpoint
    from .interop.nir_graph import describe, export_nir, read_nir  # imports nir only for this command
    model, _ = model_from_checkpoint(args.checkpoint)
    graph = read_nir(export_nir(model, args.out))
    print(f"wrote {args.out} (dt = {float(graph.metadata['dt']):g} s in the graph's metadata):")
    print("\n".join(describe(graph)))
    return 0


def cmd_import_nir(args) -> int:
    from .interop.nir_graph import load_nir
    model = load_nir(args.nir_file)
    save_checkpoint(args.out, {"model": model.state_dict(), **settings_payload(model.settings)})
    neuron = model.settings.neuron
    print(f"wrote {args.out}: {' -> '.join(map(str, model.sizes))}, beta {neuron.beta:g}, "
          f"threshold {neuron.threshold:g}, reset to zero")
    return 0


def cmd_site(args) -> int:
    from .course.site import SiteError, build_site  # imports nbformat only for this command
    from .system.paths import site_dir
    out = args.out if args.out is not None else site_dir(args.quick)
    try:
        build_site(args.executed, out, quick=args.quick)
    except SiteError as err:  # Sphinx runs in its own process: a full disk shows as its failure
        print(f"error: {DiskFullError(out) if folder_is_full(Path(out).parent) else err}", file=sys.stderr)
        return 2
    return 0


def main(argv=None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    args.command_line = shlex.join(["python", "-m", "snn_helpers", *argv])
    if args.command == "train" and args.seeds > 1 and (args.export or args.checkpoint or args.resume):
        parser.error("--export, --checkpoint and --resume need a single seed (--seeds 1)")
    try:
        return {"fetch-data": cmd_fetch, "train": cmd_train, "results": cmd_results, "run-notebooks": cmd_run_notebooks,
                "site": cmd_site, "student": cmd_student, "export-nir": cmd_export_nir,
                "import-nir": cmd_import_nir}[args.command](args)
    except (MNISTDataError, CheckpointError, NIRGraphError, DiskFullError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # a full disk met outside atomic_path (a library writing on its own)
        if not is_disk_full(err):
            raise
        print(f"error: {DiskFullError(err.filename or 'its files')}", file=sys.stderr)
        return 2
