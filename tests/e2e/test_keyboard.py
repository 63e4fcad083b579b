"""Keyboard-only selection end to end: a real trainer, the built dashboard, headless Chromium.

The things a click selects can be reached with Tab and used with the arrow keys, Enter and Space:
the inspector's metrics table (one tab stop, a roving tabindex over its rows), the canvas views
(a cell cursor) and the runs page's force scatter (the arrow keys move to the nearest point that
way). Setting up (a step, a paused run) uses the mouse; every selection below uses only
page.keyboard. Screenshots of the focus rings are kept under tests/e2e/artifacts/.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# Test ids that name one place on the page each (a key drawn in two trace sections included).
UNIQUE_PREFIXES = ("view-", "missing-", "scale-", "range-", "fit-hint-", "trace-")

_ACTIVE = """() => {
  const el = document.activeElement;
  return el ? { testid: el.getAttribute("data-testid"), feature: el.getAttribute("data-feature"),
                visible: el.matches(":focus-visible") } : null;
}"""


def active(page: Page) -> dict[str, str | bool | None]:
    """The focused element's test id and data-feature, and whether it shows a focus ring."""
    found: dict[str, str | bool | None] = page.evaluate(_ACTIVE) or {}
    return found


def tab_to(page: Page, test_id: str, limit: int = 150) -> dict[str, str | bool | None]:
    """Press Tab until an element with `test_id` has the focus (at most `limit` times)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = active(page)
        if now.get("testid") == test_id:
            return now
    raise AssertionError(f"Tab never reached {test_id}")


def test_keyboard_selects_in_the_inspector(page: Page, trainer: Server, dashboard: Server) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(dashboard.url + "/inspect")
    expect(page.get_by_test_id("inspect-controls")).to_have_attribute("data-state", "inactive")
    page.get_by_test_id("inspect-step-btn").click()  # sets up a bcl-med session, then steps
    expect(page.locator('[data-testid="step-views"][data-step="1"]')).to_be_visible()
    rows = page.get_by_test_id("metrics-row")
    expect(rows).to_have_count(64)

    # Every place-named test id is on the page once (som_targets is drawn in sections 7 and 9).
    ids = page.locator("[data-testid]").evaluate_all(
        "els => els.map(el => el.getAttribute('data-testid'))"
    )
    # (None: an element a view re-rendered while its deferred tensors came in.)
    counts = Counter(i for i in ids if i is not None and i.startswith(UNIQUE_PREFIXES))
    assert [i for i, n in counts.items() if n > 1] == []
    expect(page.get_by_test_id("view-som-targets-som_targets")).to_have_count(1)
    expect(page.get_by_test_id("view-final-forces-som_targets")).to_have_count(1)

    # The table's rows are one tab stop: Tab lands on the first row (feature 0), with a ring.
    first = tab_to(page, "metrics-row")
    assert first == {"testid": "metrics-row", "feature": "0", "visible": True}
    assert rows.evaluate_all("els => els.filter(el => el.tabIndex === 0).length") == 1

    # Down three rows, Enter: feature 3 is selected, like a click on its row.
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    assert active(page)["feature"] == "3"
    row = page.locator('[data-testid="metrics-row"][data-feature="3"]')
    expect(row).to_have_attribute("aria-selected", "false")
    page.keyboard.press("Enter")
    expect(row).to_have_attribute("aria-selected", "true")
    focus = page.get_by_test_id("feature-focus")
    expect(focus).to_have_attribute("data-feature", "3")
    expect(page.get_by_test_id("focus-feature")).to_have_text("3")
    assert active(page)["feature"] == "3"  # the focus stays on the row
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(".mt-scroll").screenshot(path=str(ARTIFACTS / "keyboard_metrics_row.png"))

    # PageDown moves ten rows, scrolled into view above the docked feature focus.
    page.keyboard.press("PageDown")
    page.keyboard.press("PageDown")
    assert active(page)["feature"] == "23"
    obscured = page.evaluate(
        """() => {
          const row = document.activeElement.getBoundingClientRect();
          const dock = document.querySelector('[data-testid="feature-focus"]').getBoundingClientRect();
          return row.bottom > dock.top || row.top < 0 || row.bottom > window.innerHeight;
        }"""
    )
    assert obscured is False

    # End, then Space: the last feature; Home goes back to the first.
    page.keyboard.press("End")
    assert active(page)["feature"] == "63"
    page.keyboard.press(" ")
    expect(focus).to_have_attribute("data-feature", "63")
    expect(page.locator('[data-testid="metrics-row"][aria-selected="true"]')).to_have_count(1)
    page.keyboard.press("Home")
    assert active(page)["feature"] == "0"

    # Tab leaves the table in one press; Shift+Tab comes back to the row it left.
    page.keyboard.press("Tab")
    assert active(page)["testid"] != "metrics-row"
    page.keyboard.press("Shift+Tab")
    assert active(page) == {"testid": "metrics-row", "feature": "0", "visible": True}

    # A canvas view is one tab stop too: its cursor starts on the focused feature (63); Left, Enter.
    grid = page.locator('[data-testid="view-neighbourhoods-encoder_weights"] .wg-frame')
    tab_to_element = """el => el === document.activeElement"""
    for _ in range(200):
        page.keyboard.press("Tab")
        if grid.evaluate(tab_to_element):
            break
    assert grid.evaluate(tab_to_element)
    tip = page.get_by_test_id("weight-grid-tooltip")
    expect(tip).to_have_attribute("data-feature", "63")
    page.keyboard.press("ArrowLeft")
    expect(tip).to_have_attribute("data-feature", "62")
    page.keyboard.press("ArrowUp")
    expect(tip).to_have_attribute("data-feature", "54")  # 8 thumbnails to a row
    page.keyboard.press("Enter")
    expect(focus).to_have_attribute("data-feature", "54")
    expect(page.locator('[data-testid="metrics-row"][data-feature="54"]')).to_have_attribute(
        "aria-selected", "true"
    )
    assert errors == []


def test_keyboard_selects_a_point_of_the_force_scatter(
    page: Page, trainer: Server, dashboard: Server
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(dashboard.url + "/")
    status = page.get_by_test_id("runs-status")
    expect(page.get_by_test_id("runs-stream")).to_have_attribute("data-state", "open")

    # A bcl-med run, paused, then one step: the scatter shows that step's 64 features.
    page.get_by_test_id("runs-condition").select_option("bcl-med")
    page.get_by_test_id("runs-steps").fill("100000")
    page.get_by_test_id("runs-capture-every").fill("10")
    page.get_by_test_id("runs-start-btn").click()
    expect(status).to_have_attribute("data-status", "running")
    page.get_by_test_id("runs-pause-btn").click()
    expect(status).to_have_attribute("data-status", "paused")
    expect(status).to_have_attribute("data-blocked", "true")
    step_number = page.get_by_test_id("runs-step-number")
    stepped = int(step_number.get_attribute("data-step") or "0") + 1
    page.get_by_test_id("runs-step-btn").click()
    expect(step_number).to_have_attribute("data-step", str(stepped))
    scatter = page.get_by_test_id("runs-force-scatter")
    expect(scatter).to_have_attribute("data-step", str(stepped))
    expect(scatter).to_have_attribute("data-points", "64")
    points = page.get_by_test_id("runs-force-point")
    assert points.evaluate_all("els => els.filter(el => el.tabIndex === 0).length") == 1

    # Tab reaches the scatter's one tab stop; its tooltip names the focused point.
    start = tab_to(page, "runs-force-point")
    assert start["visible"] is True
    tooltip = page.get_by_test_id("runs-force-tooltip")
    expect(tooltip).to_contain_text(f"Feature {start['feature']}")

    # ArrowRight moves to a point to the right, or to the next of a stack of points drawn on one
    # place (within half a pixel: the dead features at 0); ArrowUp likewise up.
    def centre(feature: str | bool | None) -> tuple[float, float]:
        point = page.locator(f'[data-testid="runs-force-point"][data-feature="{feature}"]')
        return float(point.get_attribute("cx") or "nan"), float(point.get_attribute("cy") or "nan")

    before = centre(start["feature"])
    page.keyboard.press("ArrowRight")
    moved = active(page)
    assert moved["testid"] == "runs-force-point"
    assert centre(moved["feature"])[0] >= before[0] - 0.5
    page.keyboard.press("ArrowUp")
    up = active(page)
    assert centre(up["feature"])[1] <= centre(moved["feature"])[1] + 0.5
    if up["feature"] == start["feature"]:  # a scatter where that walked back: go on to another
        page.keyboard.press("End")
        up = active(page)
    feature = str(up["feature"])
    assert feature != "None"
    expect(tooltip).to_contain_text(f"Feature {feature}")

    # Enter opens the feature's detail, as a click does; the point says it is pressed and keeps
    # the focus (it is redrawn on top of the others).
    page.keyboard.press("Enter")
    detail = page.get_by_test_id("runs-feature-detail")
    expect(detail).to_have_attribute("data-feature", feature)
    expect(detail).to_have_attribute("data-status", "ready")
    point = page.locator(f'[data-testid="runs-force-point"][data-feature="{feature}"]')
    expect(point).to_have_attribute("aria-pressed", "true")
    expect(page.locator('[data-testid="runs-force-point"][aria-pressed="true"]')).to_have_count(1)
    assert active(page) == {"testid": "runs-force-point", "feature": feature, "visible": True}
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(".runs-forces-card").screenshot(path=str(ARTIFACTS / "keyboard_force_point.png"))

    # Space on another point moves the detail there.
    page.keyboard.press("Home")
    other = str(active(page)["feature"])
    if other == feature:
        page.keyboard.press("End")
        other = str(active(page)["feature"])
    page.keyboard.press(" ")
    expect(detail).to_have_attribute("data-feature", other)
    expect(point).to_have_attribute("aria-pressed", "false")
    assert errors == []
