"""Command line: ``python -m snn_helpers fetch-data | train``."""
from __future__ import annotations

import argparse
import sys

from . import paths
from ._checks import check_float, check_int
from .data import MNISTDataError, ensure_mnist, mnist_loaders
from .model import SNN
from .training import Timer, evaluate, fit, get_device, set_seed


def _positive_int(name, low=1):
    def parse(text):
        try:
            return check_int(name, int(text), low)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
    return parse


def _positive_float(name):
    def parse(text):
        try:
            return check_float(name, float(text), 0.0, low_open=True)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m snn_helpers", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    fetch = sub.add_parser("fetch-data", help="put the checked MNIST files in <root>/MNIST/raw")
    fetch.add_argument("--root", default=None, help="data folder (default: $SNN_DATA_DIR or data/)")

    train = sub.add_parser("train", help="train the SNN on MNIST and print test accuracy and wall time")
    train.add_argument("--root", default=None, help="data folder (default: $SNN_DATA_DIR or data/)")
    train.add_argument("--epochs", type=_positive_int("--epochs", 0), default=5)
    train.add_argument("--num-steps", type=_positive_int("--num-steps"), default=10)
    train.add_argument("--batch-size", type=_positive_int("--batch-size"), default=128)
    train.add_argument("--lr", type=_positive_float("--lr"), default=1e-3)
    train.add_argument("--seed", type=_positive_int("--seed", 0), default=42)
    train.add_argument("--train-limit", type=_positive_int("--train-limit"), default=None,
                       help="use only the first N training images")
    train.add_argument("--test-limit", type=_positive_int("--test-limit"), default=None,
                       help="use only the first N test images")
    train.add_argument("--checkpoint", default=None, help="write a checkpoint here after every epoch")
    train.add_argument("--resume", default=None, help="continue training from this checkpoint")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def cmd_fetch(args) -> int:
    raw = ensure_mnist(args.root)
    print(f"MNIST ready in {raw}")
    return 0


def cmd_train(args) -> int:
    device = get_device()
    with Timer() as total:
        generator = set_seed(args.seed)
        train_loader, test_loader = mnist_loaders(args.root, args.batch_size, args.train_limit,
                                                  args.test_limit, generator=generator)
        model = SNN()
        history = fit(model, train_loader, args.epochs, args.num_steps, args.lr, generator=generator,
                      device=device, checkpoint_path=args.checkpoint, resume_from=args.resume,
                      progress=not args.no_progress)
        accuracy = evaluate(model, test_loader, args.num_steps, generator=generator, device=device)
    print("loss per epoch: " + ", ".join(f"{x:.4f}" for x in history))
    print(f"test accuracy ({args.num_steps}-step evaluation, {len(test_loader.images)} images): "
          f"{100 * accuracy:.2f}%")
    print(f"wall time: {total.seconds:.1f} s on {device}")
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return {"fetch-data": cmd_fetch, "train": cmd_train}[args.command](args)
    except MNISTDataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
