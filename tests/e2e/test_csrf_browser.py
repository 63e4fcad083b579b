"""Cross-site request forgery in a real browser: a page of another local origin (as any site the
researcher visits could be) sends the writes a browser lets any page send without asking, a
`no-cors` fetch with a text/plain JSON body and a text/plain form with no fields (an empty body
starts a run with the defaults), to the dashboard's /api/* and to the trainer directly. Neither
may start anything.

The dashboard half is checked by serve.mjs; the trainer half by the trainer itself.
"""

from __future__ import annotations

import functools
import json
import threading
import urllib.request
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import Server, free_port

SETUP_BODY = '{"condition":"bcl-nan-demo"}'

ATTACK_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>an unrelated site</title></head><body>
<iframe name="sink"></iframe>
<form id="form" method="POST" enctype="text/plain" action="{form_action}" target="sink"></form>
<script>
  // What any page may send without a CORS preflight: the answer stays opaque, the request
  // is made all the same.
  window.fetches = Promise.all({fetch_urls}.map((url) =>
    fetch(url, {{
      method: "POST",
      mode: "no-cors",
      headers: {{"Content-Type": "text/plain"}},
      body: {setup_body},
    }}).then(() => "sent", (error) => String(error))));
</script>
</body></html>
"""


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def other_origin(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A static server on another port: (its URL, the folder it serves)."""
    port = free_port()
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}", tmp_path
    server.shutdown()
    server.server_close()


def _get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


@pytest.mark.parametrize("target", ["dashboard", "trainer"])
def test_another_origin_cannot_start_anything(
    page: Page,
    trainer: Server,
    dashboard: Server,
    other_origin: tuple[str, Path],
    target: str,
) -> None:
    base = f"{dashboard.url}/api" if target == "dashboard" else trainer.url
    fetch_urls = [f"{base}/inspect/setup", f"{base}/runs"]
    form_action = f"{base}/runs"
    origin, folder = other_origin
    (folder / "attack.html").write_text(
        ATTACK_PAGE.format(
            fetch_urls=json.dumps(fetch_urls),
            form_action=form_action,
            setup_body=json.dumps(SETUP_BODY),
        ),
        encoding="utf-8",
    )
    runs_before = _get_json(f"{trainer.url}/runs/current").get("run_id")
    statuses: dict[str, list[int]] = {}
    page.on("response", lambda r: statuses.setdefault(r.url, []).append(r.status))

    page.goto(f"{origin}/attack.html")
    assert page.evaluate("window.fetches") == ["sent", "sent"]  # the browser did send them
    with page.expect_response(form_action):
        page.evaluate("document.getElementById('form').submit()")

    if target == "dashboard":  # refused by the dashboard's server itself, not passed on
        sent = {url: statuses.get(url) for url in fetch_urls}
        assert sent == {fetch_urls[0]: [403], form_action: [403, 403]}, statuses
    # Read back the way the dashboard does: nothing was set up or started.
    assert _get_json(f"{trainer.url}/inspect/state")["active"] is False
    assert _get_json(f"{trainer.url}/runs/current").get("run_id") == runs_before
