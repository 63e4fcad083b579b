"""`POST /inspect/rewind`, `POST /debug/rewind` and `/…/branches*` over HTTP: exact replay for
both recipes, branches, and every bad input."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from acc.tensor_wire import FRAME_CONTENT_TYPE, decode_frame
from tests.api.local_client import error_body, wait_for_state

FRAME = {"accept": FRAME_CONTENT_TYPE}
SETUPS = {
    "gradient_gating_l0": {"recipe": "gradient_gating_l0", "condition": "bcl-med", "seed": 1},
    "vqvae": {"recipe": "vqvae", "condition": "ema", "seed": 1},
}


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _frames(client: TestClient, prefix: str, steps: range) -> dict[int, dict[str, bytes]]:
    """Each step's tensors as raw bytes (bit for bit), from its binary frame."""
    frames = {}
    for step in steps:
        response = client.get(f"{prefix}/step/{step}", headers=FRAME)
        assert response.status_code == 200, response.text
        header, arrays, images = decode_frame(response.content)
        for key, spec in header.get("deferred", {}).items():  # over the frame's budget: read exact
            rows, cols = spec["shape"][0], spec["nbytes"] // 4 // spec["shape"][0]
            query = f"rows={rows}&cols={cols}"
            exact = client.get(f"{prefix}/step/{step}/tensor/{key}?{query}", headers=FRAME)
            assert exact.status_code == 200, exact.text
            arrays[key] = decode_frame(exact.content)[1]["mean"].reshape(spec["shape"])
        frames[step] = {key: array.tobytes() for key, array in arrays.items()} | images
    return frames


@pytest.mark.parametrize("recipe", sorted(SETUPS))
def test_rewind_five_steps_and_step_five_replays_bit_for_bit(
    client: TestClient, recipe: str
) -> None:
    _ok(client.post("/inspect/setup", json=SETUPS[recipe]))
    _ok(client.post("/inspect/step", json={"n": 10}))
    state = _ok(client.get("/inspect/state"))
    assert state["rewindable"] == list(range(11)) and state["branches"] == []
    assert state["max_restore_bytes"] >= state["restore_bytes"] > 0
    before = _ok(client.get("/inspect/history?since=6&keys=loss"))
    frames = _frames(client, "/inspect", range(6, 11))

    rewound = _ok(client.post("/inspect/rewind", json={"step": 5}))
    assert (rewound["step"], rewound["rewound_to"]) == (5, 5)
    assert rewound["rewindable"] == list(range(6))
    branch = rewound["branch"]
    assert (branch["id"], branch["fork_step"], branch["first_step"], branch["last_step"]) == (
        1,
        5,
        6,
        10,
    )
    assert branch["label"] == "from step 5" and branch["held"] == [6, 7, 8, 9, 10]
    assert _ok(client.get("/inspect/history?since=6"))["steps"] == []

    _ok(client.post("/inspect/step", json={"n": 5}))
    after = _ok(client.get("/inspect/history?since=6&keys=loss"))
    assert after["columns"]["loss"] == before["columns"]["loss"]
    assert _frames(client, "/inspect", range(6, 11)) == frames  # every captured tensor

    # the abandoned steps: listed, their losses, their held steps (read-only)
    listed = _ok(client.get("/inspect/branches"))["branches"]
    assert [b["id"] for b in listed] == [1]
    history = _ok(client.get("/inspect/branches/1/history?keys=loss"))
    assert history["steps"] == [6, 7, 8, 9, 10]
    assert history["columns"]["loss"] == before["columns"]["loss"]
    assert _frames(client, "/inspect/branches/1", range(6, 11)) == frames


def test_an_edit_after_a_rewind_starts_a_different_line(client: TestClient) -> None:
    _ok(client.post("/inspect/setup", json=SETUPS["gradient_gating_l0"]))
    _ok(client.post("/inspect/step", json={"n": 4}))
    original = _ok(client.get("/inspect/history?since=3&keys=loss"))["columns"]["loss"]
    _ok(client.post("/inspect/rewind", json={"step": 2}))
    _ok(client.post("/inspect/hparams", json={"lr": 0.1}))
    _ok(client.post("/inspect/step", json={"n": 2}))
    edited = _ok(client.get("/inspect/history?since=3&keys=loss"))["columns"]["loss"]
    # the edit applies from step 3 on: its loss came before its update, step 4's after it
    assert edited[0] == original[0] and edited[1] != original[1]
    rewound = _ok(client.post("/inspect/rewind", json={"step": 2}))
    assert rewound["branch"]["label"].startswith("lr 0.001 → 0.1 at step 3")


def test_rewind_errors_name_the_value_and_what_is_allowed(client: TestClient) -> None:
    detail = error_body(client.post("/inspect/rewind", json={"step": 0}), 409, "conflict")["detail"]
    assert "no inspector session" in detail
    _ok(client.post("/inspect/setup", json=SETUPS["gradient_gating_l0"]))
    _ok(client.post("/inspect/step", json={"n": 2}))
    detail = error_body(client.post("/inspect/rewind", json={"step": 9}), 409, "conflict")["detail"]
    assert "step 9" in detail and "0, 1, 2" in detail
    assert (
        "step is required"
        in error_body(client.post("/inspect/rewind", json={}), 422, "invalid_value")["detail"]
    )
    for bad in (-1, 1.5, "3", True, None):
        detail = error_body(
            client.post("/inspect/rewind", json={"step": bad}), 422, "invalid_value"
        )["detail"]
        assert detail.startswith("step must be an integer in 0..")
    error_body(client.post("/inspect/rewind", json={"step": 1, "n": 2}), 422, "invalid_value")
    response = client.post(
        "/inspect/rewind", content=b"step=1", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 415
    error_body(client.get("/inspect/branches/3/history"), 404, "not_found")
    _ok(client.post("/inspect/rewind", json={"step": 1}))
    detail = error_body(client.get("/inspect/branches/1/step/7"), 404, "not_found")["detail"]
    assert "not a step of branch 1" in detail
    error_body(client.get("/inspect/branches/0/step/2"), 422, "invalid_value")
    assert _ok(client.get("/inspect/state"))["step"] == 1


def test_a_paused_free_run_rewinds_replays_and_resumes(client: TestClient) -> None:
    _ok(
        client.post(
            "/runs",
            json={
                "condition": "bcl-med",
                "steps": 40,
                "seed": 2,
                "capture_every": 10,
                "paused": True,
            },
        )
    )
    held = wait_for_state(client, "/runs/current", lambda s: s["blocked"])
    start = held["step"]
    for _ in range(6):  # every stepped step is captured in full and gets a restore point
        assert client.post("/debug/step", json={"n": 1}).status_code == 200
    state = _ok(client.get("/runs/current"))
    assert state["step"] == start + 6
    assert set(range(start, start + 7)) <= set(state["rewindable"])
    before = _ok(client.get(f"/runs/history?since={start + 2}"))["columns"]["loss"]
    frames = _frames(client, "/runs", range(start + 2, start + 7))

    rewound = _ok(client.post("/debug/rewind", json={"step": start + 1}))
    assert rewound["step"] == start + 1 and rewound["branch"]["fork_step"] == start + 1
    for _ in range(5):
        assert client.post("/debug/step", json={"n": 1}).status_code == 200
    after = _ok(client.get(f"/runs/history?since={start + 2}"))["columns"]["loss"]
    assert after == before
    assert _frames(client, "/runs", range(start + 2, start + 7)) == frames
    assert [b["id"] for b in _ok(client.get("/runs/branches"))["branches"]] == [1]

    _ok(client.post("/debug/resume"))
    # a running loop is not held at a boundary: a rewind is refused, and changes nothing
    response = client.post("/debug/rewind", json={"step": start + 1})
    if response.status_code != 409:  # the run may have finished its 40 steps already
        assert _ok(client.get("/runs/current"))["status"] == "completed"
    done = wait_for_state(client, "/runs/current", lambda s: s["status"] == "completed")
    assert done["step"] == 40 - 5  # the run still ran 40 steps, five of them twice
    error_body(client.post("/debug/rewind", json={"step": 3}), 409, "conflict")
