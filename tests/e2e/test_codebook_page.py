"""The /codebook page in Chromium: a short VQ-VAE run shows its health table, trajectories and
code-gradient bars; a run built to collapse shows the low-utilisation warning."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, free_port, start_server

RUN_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def stack() -> Iterator[Server]:
    """One trainer and one dashboard for both tests (each run replaces the previous one); the
    dashboard is yielded."""
    port = free_port()
    trainer = start_server(
        [sys.executable, "-m", "acc.cli", "serve", "--port", str(port)],
        f"http://127.0.0.1:{port}",
        "/health",
        {},
    )
    try:
        ui_port = free_port()
        dashboard = start_server(
            ["./run_ui.sh", "--port", str(ui_port), "--trainer", trainer.url],
            f"http://127.0.0.1:{ui_port}",
            "/",
            {},
        )
        yield dashboard
        dashboard.stop()
    finally:
        trainer.stop()


def _start(page: Page, dashboard: Server, condition: str, levels: int, steps: int) -> None:
    page.goto(dashboard.url + "/codebook")
    expect(page.get_by_test_id("codebook-levels")).to_have_value("3")  # the default
    page.get_by_test_id(f"codebook-condition-{condition}").click()
    page.get_by_test_id("codebook-levels").fill(str(levels))
    expect(page.get_by_test_id("codebook-levels-value")).to_have_text(str(levels))
    page.get_by_test_id("codebook-steps").fill(str(steps))
    page.get_by_test_id("codebook-start-btn").click()
    # The new run (the page showed the previous one, finished, until now).
    expect(page.get_by_test_id("codebook-step")).to_contain_text(f"/ {steps}")
    expect(page.get_by_test_id("codebook-status")).not_to_have_attribute("data-status", "completed")


def test_a_learned_run_shows_health_trajectories_and_gradient_bars(
    page: Page, stack: Server
) -> None:
    _start(page, stack, "learned", levels=3, steps=120)
    status = page.get_by_test_id("codebook-status")
    # The codebook size is decided when training starts, with its rule.
    expect(page.get_by_test_id("codebook-auto-size-value")).to_have_text("128")
    expect(page.get_by_test_id("codebook-auto-size-rule")).to_contain_text("√(training images)")

    # Pausable and steppable like any run.
    page.get_by_test_id("codebook-pause-btn").click()
    expect(status).to_have_attribute("data-status", "paused")
    expect(status).to_have_attribute("data-blocked", "true")  # waiting at the step boundary
    before = int(re.findall(r"\d+", page.get_by_test_id("codebook-step").inner_text())[0])
    page.get_by_test_id("codebook-step-btn").click()
    expect(page.get_by_test_id("codebook-step")).to_contain_text(f"step {before + 1} / 120")
    page.get_by_test_id("codebook-resume-btn").click()
    expect(status).to_have_attribute("data-status", "completed", timeout=RUN_TIMEOUT_MS)

    # One health row per level, with the window and the rules.
    rows = page.get_by_test_id("codebook-health-row")
    expect(rows).to_have_count(3)
    expect(page.get_by_test_id("codebook-health-window")).to_contain_text("last 100 batches")
    expect(page.get_by_test_id("codebook-rules")).to_contain_text("#{k : n_k > 0} / K")

    # Train, validation and commitment loss up to the last step.
    chart = page.get_by_test_id("codebook-loss-chart")
    expect(chart.get_by_test_id("codebook-loss-chart-line-train")).to_have_attribute(
        "data-points", "120"
    )
    expect(chart.get_by_test_id("codebook-loss-chart-line-commitment")).to_have_class(
        re.compile(r"\bdashed\b")
    )
    expect(chart.get_by_test_id("codebook-loss-chart-line-validation")).to_be_visible()
    expect(page.get_by_test_id("codebook-usage-train")).to_have_count(3)

    # Debug: Codebook Dynamics — trajectories (snapshots at steps 1, 50 and 100) and bars.
    trajectory = page.get_by_test_id("codebook-trajectory")
    expect(trajectory).to_be_visible()
    expect(trajectory).to_have_attribute("data-snapshots", "3")
    expect(trajectory.locator("g.cb-traj")).to_have_count(128)
    bars = page.get_by_test_id("codebook-grad-bars")
    expect(bars).to_be_visible()
    expect(bars).to_have_attribute("data-kind", "learned")
    expect(bars.locator("g.cb-bar")).to_have_count(128)
    expect(page.get_by_test_id("codebook-grad-note")).to_contain_text("gradient")

    # The gradient bars of all three levels side by side: one bar per level for every code, on one
    # axis, with a legend; back to the one chosen level.
    expect(bars).to_have_attribute("data-levels", "1")
    page.get_by_test_id("codebook-grad-levels-all").click()
    expect(bars).to_have_attribute("data-levels", "3")
    expect(page.get_by_test_id("codebook-grad-bars-legend")).to_contain_text("L1")
    expect(page.get_by_test_id("codebook-grad-bars-legend")).to_contain_text("L3")
    groups = int(bars.get_attribute("data-bars") or "0")
    assert groups > 0
    for level in (1, 2, 3):
        expect(bars.locator(f"g.cb-bar rect[data-level='{level}']")).to_have_count(groups)
    page.get_by_test_id("codebook-grad-levels-one").click()
    expect(bars).to_have_attribute("data-levels", "1")
    expect(bars.locator("g.cb-bar")).to_have_count(128)

    # "Used" and "dead" name their window, so 100% used beside some dead codes reads right.
    for used in page.get_by_test_id("codebook-health-used").all():
        expect(used).to_contain_text("used at least once in the last 100 batches")
    for dead in page.get_by_test_id("codebook-health-dead-rule").all():
        expect(dead).to_contain_text("of a uniform share, last 100 batches")
    expect(page.get_by_test_id("codebook-decoded-level1")).to_have_attribute("data-count", "128")
    expect(page.get_by_test_id("codebook-warning").filter(has_text="utilisation")).to_have_count(0)
    _drift_and_quantisation_error_columns(page, levels=3)


NUMBER = re.compile(r"^\d+(\.\d+)?(e[−-]?\d+)?$")


def _drift_and_quantisation_error_columns(page: Page, levels: int) -> None:
    """Drift (last step) and quantisation error (window mean) for every level: a number each,
    with its unit and window in the header and its rule in the header tooltip and the rules."""
    drift_head = page.get_by_test_id("codebook-health-drift-head")
    expect(drift_head).to_contain_text("last step · latent units")
    expect(drift_head).to_have_attribute("title", re.compile(r"‖C_t − C_\{t−1\}‖_F / √\(K·dim\)"))
    error_head = page.get_by_test_id("codebook-health-qerror-head")
    expect(error_head).to_contain_text("window mean · latent units²")
    expect(error_head).to_have_attribute("title", re.compile(r"min_k ‖z − c_k‖².*rolling window"))
    rules = page.get_by_test_id("codebook-rules")
    expect(rules).to_contain_text("‖C_t − C_{t−1}‖_F / √(K·dim)")
    expect(rules).to_contain_text("mean over the batch's vectors z of min_k ‖z − c_k‖²")
    for name in ("drift", "qerror"):
        cells = page.get_by_test_id(f"codebook-health-{name}")
        expect(cells).to_have_count(levels)
        for cell in cells.all():
            # a finite value ≥ 0 (a missing one is "")
            expect(cell).to_have_attribute("data-value", re.compile(r"^\d+(\.\d+)?(e-\d+)?$"))
            assert float(cell.get_attribute("data-value") or "nan") >= 0, name
            shown = cell.inner_text().splitlines()[0].strip()
            assert NUMBER.match(shown), (name, shown)
            expect(cell).to_contain_text("window mean" if name == "drift" else "last batch")


def test_a_collapsing_codebook_warns_about_low_utilisation(page: Page, stack: Server) -> None:
    # Warnings start after the first 100 steps.
    _start(page, stack, "collapse", levels=2, steps=105)
    expect(page.get_by_test_id("codebook-status")).to_have_attribute(
        "data-status", "completed", timeout=RUN_TIMEOUT_MS
    )
    expect(page.get_by_test_id("codebook-health-row")).to_have_count(2)
    warning = page.get_by_test_id("codebook-warning").filter(has_text="below 30%").first
    expect(warning).to_be_visible()
    expect(warning).to_have_attribute("data-kind", "utilisation")
    low = page.locator("[data-testid=codebook-health-row].low")
    expect(low.first).to_contain_text("below 30%")
