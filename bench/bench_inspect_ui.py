"""How fast the inspector's step views follow a Step and a scrub, in Chromium (run by hand).

    .venv/bin/python bench/bench_inspect_ui.py [--repeats 20] [--trainer URL --ui URL]
    .venv/bin/python bench/bench_inspect_ui.py --long 10500 [--repeats 10]

Starts `acc serve` and the built dashboard on free ports (or uses the running ones given), opens
/inspect with bcl-med, every view open and a feature in focus, and measures in the page:

- Step: from the click on Step to the first frame painted after the last view shows the new step.
  It includes the training step on the trainer, the request, decoding the frame and drawing every
  view (every `[data-view]` element carries its step; canvases are drawn in the same commit).
- Scrub: the same, from a click on the previous/next-step button, between two retained steps.

Each figure also says when the answer had arrived (the browser's resource timing of the frame
fetch), when the DOM of every view showed the new step (decoded, rendered, canvases drawn) and
when the frame after that was painted. Targets: Step < 300 ms, scrub < 150 ms.

`--long N` measures the loss timeline of a long session instead: it runs N bcl-med steps
through the API (500 per `POST /inspect/step`), then in the page

- Load: from navigation to the first frame painted after the timeline shows all N steps (the
  page's history requests, their sizes and the time of the last answer are printed too).
- Step: from the click on Step to the frame painted after the timeline shows N + 1 steps, and the
  part of it after the history answer arrived (the redraw itself).
- Zoom: from the release of a drag over a tenth of the steps to the frame painted with the zoomed
  timeline; Ctrl+wheel; and the double-click that shows every step again.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Clicks `selector` and resolves once every view shows step `expected` and a frame was painted.
_MEASURE = """async ([selector, expected, path]) => {
  const want = String(expected);
  const ready = () => {
    const root = document.querySelector('[data-testid="step-views"]');
    if (!root || root.dataset.step !== want) return false;
    const views = root.querySelectorAll('[data-view]');
    for (const view of views) if (view.dataset.step !== want) return false;
    return views.length > 0;
  };
  performance.clearResourceTimings();
  const start = performance.now();
  let committed = NaN;
  await new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (ready()) { committed = performance.now(); observer.disconnect(); resolve(); }
    });
    observer.observe(document.body, { subtree: true, childList: true, attributes: true });
    document.querySelector(selector).click();
  });
  // After the commit: the next animation frame, then a task after its paint.
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  const total = performance.now() - start;
  const fetches = performance.getEntriesByType('resource').filter((e) => e.name.includes(path));
  const last = fetches[fetches.length - 1];
  const views = document.querySelectorAll('[data-testid="step-views"] [data-view]').length;
  return {
    total,
    request: last ? last.responseEnd - start : NaN,
    commit: committed - start,
    views,
  };
}"""


# Arms a measurement: from the next `event` on the page (capture phase) to the first frame painted
# after the element `selector` has `attribute` (or its text, when attribute is null) equal to
# `expected`. The result waits in window.__measured; read it with _MEASURED.
_ARM = """([event, selector, attribute, expected, path]) => {
  const read = () => {
    const el = document.querySelector(selector);
    if (!el) return null;
    return attribute === null ? el.textContent : el.getAttribute(attribute);
  };
  performance.clearResourceTimings();
  window.__measured = new Promise((resolve) => {
    let start = NaN;
    window.addEventListener(event, () => { start = performance.now(); }, { capture: true, once: true });
    const observer = new MutationObserver(() => {
      if (Number.isNaN(start) || read() !== expected) return;
      const committed = performance.now();
      observer.disconnect();
      requestAnimationFrame(() => setTimeout(() => {
        const fetches = performance.getEntriesByType('resource').filter((e) => e.name.includes(path));
        const last = fetches[fetches.length - 1];
        resolve({
          total: performance.now() - start,
          commit: committed - start,
          request: last ? last.responseEnd - start : NaN,
        });
      }, 0));
    });
    observer.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  });
}"""
_MEASURED = "() => window.__measured"

# After a navigation: the first frame painted once the timeline counts `expected`, the history
# requests (url, bytes, end) and the browser's heap.
_LOADED = """async (expected) => {
  const counted = () => document.querySelector('[data-testid="inspect-timeline-count"]')?.textContent === expected;
  await new Promise((resolve) => {
    if (counted()) return resolve();
    const observer = new MutationObserver(() => { if (counted()) { observer.disconnect(); resolve(); } });
    observer.observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  const shown = performance.now();
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  const history = performance.getEntriesByType('resource')
    .filter((e) => e.name.includes('/inspect/history'))
    .map((e) => ({ url: e.name.split('?')[1], bytes: e.encodedBodySize, end: e.responseEnd }));
  return { total: performance.now(), shown, history, heap: performance.memory?.usedJSHeapSize ?? NaN };
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_answers(url: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def start(command: list[str], probe: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, cwd=ROOT, start_new_session=True)
    wait_until_answers(probe)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)


def report(name: str, runs: list[dict[str, Any]], target: float) -> None:
    def median_of(field: str) -> float:
        return statistics.median(r[field] for r in runs)

    totals = sorted(r["total"] for r in runs)
    median = statistics.median(totals)
    p90 = totals[int(0.9 * (len(totals) - 1))]
    request, commit = median_of("request"), median_of("commit")
    verdict = "ok" if median < target else "OVER"
    print(
        f"{name:<32} median {median:6.1f} ms  p90 {p90:6.1f} ms  target < {target:.0f} ms: "
        f"{verdict}  (n={len(runs)}; medians: answer in {request:.1f}, views committed at "
        f"{commit:.1f}, painted at {median:.1f})"
    )


def post(ui: str, path: str, body: dict[str, Any]) -> None:
    """POST `body` to the trainer through the dashboard's proxy."""
    request = urllib.request.Request(
        ui + "/api" + path,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(request, timeout=600).close()


def setup_session(ui: str) -> None:
    """A fresh bcl-med session at step 0, through the dashboard's proxy."""
    post(ui, "/inspect/setup", {"condition": "bcl-med", "seed": 0})


def summary(name: str, values: list[float], extra: str = "") -> None:
    ordered = sorted(values)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    print(
        f"{name:<36} median {statistics.median(ordered):7.1f} ms  p90 {p90:7.1f} ms  "
        f"(n={len(values)}){extra}"
    )


def timeline_x(page: Page, step: float) -> tuple[float, float]:
    """Page coordinates of `step` on the timeline's x axis (its margins: 66 px left, 22 right)."""
    svg = page.locator('[data-testid="inspect-timeline"]')
    box = svg.bounding_box()
    assert box is not None
    lo = float(svg.get_attribute("data-lo") or "nan")
    hi = float(svg.get_attribute("data-hi") or "nan")
    plot = box["width"] - 66 - 22
    return box["x"] + 66 + (step - lo) / (hi - lo) * plot, box["y"] + box["height"] / 2


def armed(
    page: Page, event: str, selector: str, attribute: str | None, expected: str, path: str
) -> None:
    page.evaluate(_ARM, [event, selector, attribute, expected, path])


def long_session(page: Page, ui: str, steps: int, repeats: int) -> None:
    """The loss timeline of a session of `steps` steps: load, Step, zoom."""
    setup_session(ui)
    started = time.perf_counter()
    done = 0
    while done < steps:
        n = min(500, steps - done)
        post(ui, "/inspect/step", {"n": n})
        done += n
    print(f"{steps} bcl-med steps through the API in {time.perf_counter() - started:.1f} s")

    count = f"{steps:,} steps"
    loads: list[float] = []
    answers: list[float] = []
    for i in range(repeats):
        page.goto(ui + "/inspect", wait_until="commit")
        loaded = page.evaluate(_LOADED, count)
        loads.append(loaded["total"])
        answers.append(max(h["end"] for h in loaded["history"]))
        if i == 0:
            pages = ", ".join(f"{h['url']} {h['bytes'] / 1e6:.2f} MB" for h in loaded["history"])
            print(f"history requests: {pages}")
            print(f"JS heap after load: {loaded['heap'] / 1e6:.1f} MB")
    svg = page.locator('[data-testid="inspect-timeline"]')
    summary(
        f"Load /inspect with {steps:,} steps",
        loads,
        f"; last history answer at {statistics.median(answers):.0f} ms (median); "
        f"timeline {svg.get_attribute('data-mode')}, {svg.get_attribute('data-drawn')} points drawn",
    )

    step_button = '[data-testid="inspect-step-btn"]'
    totals: list[float] = []
    redraws: list[float] = []
    for _ in range(repeats):
        steps += 1
        armed(
            page,
            "click",
            '[data-testid="inspect-timeline-count"]',
            None,
            f"{steps:,} steps",
            "/inspect/history",
        )
        page.click(step_button)
        result = page.evaluate(_MEASURED)
        totals.append(result["total"])
        redraws.append(result["total"] - result["request"])
        page.wait_for_selector(f"{step_button}:enabled")
    summary("Step -> timeline repainted", totals)
    summary("  ... of which after the history answer", redraws)

    zooms: list[float] = []
    wheels: list[float] = []
    resets: list[float] = []
    zoom = '[data-testid="inspect-timeline-zoom"]'
    for i in range(repeats):
        first = 1 + (i * steps // (repeats + 1))
        x0, y = timeline_x(page, first)
        x1, _ = timeline_x(page, first + steps // 10)
        page.mouse.move(x0, y)
        page.mouse.down()
        page.mouse.move((x0 + x1) / 2, y, steps=3)
        armed(page, "pointerup", zoom, "data-zoomed", "true", "-")
        page.mouse.move(x1, y)
        page.mouse.up()
        zooms.append(page.evaluate(_MEASURED)["total"])

        before = svg.get_attribute("data-lo") or ""
        xm, _ = timeline_x(page, first + steps // 20)
        page.mouse.move(xm, y)
        page.evaluate(
            """([selector, before]) => {
              const svg = document.querySelector(selector);
              window.__measured = new Promise((resolve) => {
                let start = NaN;
                svg.addEventListener('wheel', () => { start = performance.now(); }, { capture: true, once: true });
                const observer = new MutationObserver(() => {
                  if (Number.isNaN(start) || svg.getAttribute('data-lo') === before) return;
                  observer.disconnect();
                  requestAnimationFrame(() => setTimeout(() => resolve({ total: performance.now() - start }), 0));
                });
                observer.observe(svg, { attributes: true });
              });
            }""",
            ['[data-testid="inspect-timeline"]', before],
        )
        page.keyboard.down("Control")
        page.mouse.wheel(0, -120)
        page.keyboard.up("Control")
        wheels.append(page.evaluate(_MEASURED)["total"])

        armed(page, "dblclick", zoom, "data-zoomed", "false", "-")
        page.mouse.dblclick(xm, y)
        resets.append(page.evaluate(_MEASURED)["total"])
    summary(f"Zoom: drag over {steps // 10:,} steps", zooms)
    summary("Zoom: Ctrl+wheel", wheels)
    summary(f"Zoom reset: all {steps:,} steps again", resets)


def measure(page: Page, selector: str, expected: int, path: str) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(_MEASURE, [selector, expected, path])
    return result


def scrub(page: Page, latest: int, repeats: int) -> list[dict[str, Any]]:
    """Back and forth between steps latest-1 and latest with the previous/next buttons."""
    runs = []
    shown = latest
    for _ in range(repeats):
        backwards = shown == latest
        shown += -1 if backwards else 1
        button = "inspect-prev-btn" if backwards else "inspect-next-btn"
        runs.append(measure(page, f'[data-testid="{button}"]', shown, f"/api/inspect/step/{shown}"))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20, help="measured steps and scrubs")
    parser.add_argument("--trainer", help="use this running trainer (with --ui)")
    parser.add_argument("--ui", help="use this running dashboard, which proxies to --trainer")
    parser.add_argument(
        "--long", type=int, default=0, metavar="N", help="measure the timeline of an N-step session"
    )
    args = parser.parse_args()

    servers: list[subprocess.Popen[bytes]] = []
    try:
        if args.ui:
            ui = args.ui.rstrip("/")
        else:
            trainer_port, ui_port = free_port(), free_port()
            trainer = f"http://127.0.0.1:{trainer_port}"
            servers.append(
                start(
                    [sys.executable, "-m", "acc.cli", "serve", "--port", str(trainer_port)],
                    trainer + "/health",
                )
            )
            ui = f"http://127.0.0.1:{ui_port}"
            servers.append(
                start(["./run_ui.sh", "--port", str(ui_port), "--trainer", trainer], ui + "/")
            )

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                args=CHROMIUM_ARGS,
            )
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            if args.long:
                print(f"Chromium {browser.version}, 1400x900")
                long_session(page, ui, args.long, args.repeats)
                browser.close()
                return
            setup_session(ui)
            page.goto(ui + "/inspect")
            page.wait_for_selector('[data-testid="inspect-controls"][data-state="active"]')
            page.wait_for_selector('[data-testid="inspect-step-number"]:text-is("0")')
            step_button = '[data-testid="inspect-step-btn"]'

            # Warm-up: the first steps pay for compiling the views and growing the allocator.
            step = 0
            for _ in range(3):
                step += 1
                measure(page, step_button, step, "/api/inspect/step")
                page.wait_for_selector(f"{step_button}:enabled")
            page.locator('[data-testid="metrics-row"]').nth(3).click()  # every view open, a focus
            page.mouse.move(700, 5)  # off the views, as after a click on Step
            sections = page.locator('[data-testid^="trace-section-"][data-open="true"]').count()
            print(
                f"bcl-med, 1400x900, {sections}/9 trace sections open, a feature in focus; "
                f"Chromium {browser.version}"
            )

            steps: list[dict[str, Any]] = []
            for _ in range(args.repeats):
                step += 1
                steps.append(measure(page, step_button, step, "/api/inspect/step"))
                # The state and history refresh after the frame; let them land before the next.
                page.wait_for_selector(f"{step_button}:enabled")
            print(f"views checked per measurement: {steps[-1]['views']}")
            report("Step -> last view painted", steps, 300)

            report("Scrub between two held steps", scrub(page, step, args.repeats), 150)

            # The same with canvases on screen: the SOM target grids and the neighbourhoods.
            page.locator('[data-testid="trace-section-som-targets"]').scroll_into_view_if_needed()
            report("  ... with the trace on screen", scrub(page, step, args.repeats), 150)
            browser.close()
    finally:
        for server in reversed(servers):
            stop(server)


if __name__ == "__main__":
    main()
