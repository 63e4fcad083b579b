"""`/archive/*`: runs recorded by the server listed, read, compared and deleted over HTTP; a DELETE
is guarded as a write; a damaged runs directory answers a clear JSON error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from acc.api.app import create_app
from acc.archive.store import RunArchive
from acc.data import MnistData
from acc.settings import Settings
from acc.tensor_wire import FRAME_BUDGET, FRAME_CONTENT_TYPE, decode_frame
from tests.api.local_client import LOCAL_BASE_URL, local_client


@pytest.fixture
def archived(mnist: MnistData, tmp_path: Path) -> Iterator[tuple[TestClient, RunArchive]]:
    archive = RunArchive(tmp_path / "runs")
    app = create_app(settings=Settings(device="cpu"), data=mnist, archive=archive)
    with local_client(app, raise_server_exceptions=False) as client:
        yield client, archive
    archive.close()


def _free_run(client: TestClient, condition: str, steps: int) -> str:
    started = client.post(
        "/runs",
        json={
            "recipe": "gradient_gating_l0",
            "condition": condition,
            "steps": steps,
            "capture_every": 5,
        },
    )
    assert started.status_code == 200, started.text
    run_id = str(started.json()["run_id"])
    seat = client.app.state.seat  # type: ignore[attr-defined]
    assert seat.require_run().wait(120)
    return run_id


def test_two_runs_are_listed_read_and_their_histories_overlaid(
    archived: tuple[TestClient, RunArchive],
) -> None:
    client, archive = archived
    first = _free_run(client, "control", 12)
    second = _free_run(client, "bcl-fast", 8)
    assert archive.writer.flush(30)

    listed = client.get("/archive/runs")
    assert listed.status_code == 200
    body = listed.json()
    assert [run["id"] for run in body["runs"]] == [second, first] and body["total"] == 2
    assert body["archive_bytes"] > 0 and body["runs_dir"] == str(archive.root)
    run = body["runs"][1]
    assert (run["recipe"], run["condition"], run["status"], run["steps"]) == (
        "gradient_gating_l0",
        "control",
        "completed",
        12,
    )
    assert run["final_loss"] > 0 and run["best_loss"] <= run["final_loss"]
    assert run["duration"] >= 0 and run["options"]["capture_every"] == 5
    assert run["kept_steps"] == [5, 10]
    assert client.get("/archive/runs", params={"status": "failed"}).json()["runs"] == []
    assert client.get("/archive/runs", params={"recipe": "vqvae"}).json()["total"] == 0

    detail = client.get(f"/archive/runs/{first}").json()
    assert detail["id"] == first and detail["kept_steps"] == [5, 10]

    for run_id, steps in ((first, 12), (second, 8)):
        history = client.get(f"/archive/runs/{run_id}/history", params={"keys": "loss"}).json()
        assert set(history) >= {"since", "steps", "columns", "nonfinite", "more", "failed", "wall"}
        assert history["steps"] == list(range(1, steps + 1))
        assert list(history["columns"]) == ["loss"] and len(history["columns"]["loss"]) == steps
        assert len(history["wall"]) == steps and "weight_cosine_mean" in history["keys"]
    page = client.get(f"/archive/runs/{first}/history", params={"since": 3, "limit": 4}).json()
    assert page["steps"] == [3, 4, 5, 6] and page["more"] is True

    step = client.get(f"/archive/runs/{first}/steps/10", headers={"accept": FRAME_CONTENT_TYPE})
    assert step.status_code == 200 and step.headers["x-acc-step"] == "10"
    assert step.headers["content-type"] == FRAME_CONTENT_TYPE
    assert client.get(f"/archive/runs/{first}/steps/10").json()["step"] == 10


def test_a_wide_kept_step_answers_a_budgeted_frame_and_its_deferred_tensors_exactly(
    archived: tuple[TestClient, RunArchive],
) -> None:
    client, archive = archived
    started = client.post(
        "/runs",
        json={"condition": "control", "steps": 5, "capture_every": 5, "options": {"dim": 256}},
    )
    assert started.status_code == 200, started.text
    run_id = started.json()["run_id"]
    assert client.app.state.seat.require_run().wait(120)  # type: ignore[attr-defined]
    assert archive.writer.flush(30)

    answer = client.get(f"/archive/runs/{run_id}/steps/5", headers={"accept": FRAME_CONTENT_TYPE})
    assert answer.status_code == 200, answer.text
    header, arrays, _ = decode_frame(answer.content)
    assert len(answer.content) <= FRAME_BUDGET + 64 * 1024  # the tensors within the budget
    kept = archive.kept_step(run_id, 5).arrays
    assert header["deferred"], "a 256-wide step is over the frame's budget"
    assert set(arrays) | set(header["deferred"]) >= set(kept) - {"batch_images"}
    for key, spec in header["deferred"].items():
        rows, cols = spec["shape"][0], spec["nbytes"] // 4 // spec["shape"][0]
        exact = client.get(
            f"/archive/runs/{run_id}/steps/5/tensor/{key}",
            params={"rows": rows, "cols": cols},
            headers={"accept": FRAME_CONTENT_TYPE},
        )
        assert exact.status_code == 200, exact.text
        grid = decode_frame(exact.content)[1]["mean"].reshape(spec["shape"])
        assert grid.tobytes() == kept[key].tobytes(), key
    missing = client.get(f"/archive/runs/{run_id}/steps/5/tensor/nope")
    assert missing.status_code == 404 and "holds no tensor 'nope'" in missing.json()["detail"]


def test_bad_ids_keys_and_filters_are_4xx_naming_the_value(
    archived: tuple[TestClient, RunArchive],
) -> None:
    client, archive = archived
    run_id = _free_run(client, "control", 3)
    assert archive.writer.flush(30)
    cases = [
        ("/archive/runs/nope", 404, "nope"),
        ("/archive/runs/bad%20id", 422, "run id must be"),
        ("/archive/runs?status=lost", 422, "status must be one of running"),
        ("/archive/runs?limit=0", 422, "limit"),
        ("/archive/runs?colour=red", 422, "colour"),
        (f"/archive/runs/{run_id}/history?keys=nope", 422, "recorded no nope"),
        (f"/archive/runs/{run_id}/history?keys=a%20b", 422, "keys must be"),
        (f"/archive/runs/{run_id}/steps/2", 404, "kept no tensors of step 2"),
    ]
    for path, status, words in cases:
        answer = client.get(path)
        assert answer.status_code == status, (path, answer.text)
        assert words in answer.json()["detail"], (path, answer.json())


def test_delete_is_a_guarded_write_and_frees_the_space(
    archived: tuple[TestClient, RunArchive],
) -> None:
    client, archive = archived
    run_id = _free_run(client, "control", 10)
    assert archive.writer.flush(30)
    before = client.get("/archive/runs").json()["archive_bytes"]
    refused = client.delete(f"/archive/runs/{run_id}", headers={"origin": "https://evil.example"})
    assert refused.status_code == 403
    cross_site = client.delete(f"/archive/runs/{run_id}", headers={"sec-fetch-site": "cross-site"})
    assert cross_site.status_code == 403
    form = client.delete(f"/archive/runs/{run_id}", headers={"content-type": "text/plain"})
    assert form.status_code == 415
    plain = TestClient(client.app, base_url=LOCAL_BASE_URL)  # sends no Content-Type
    bodiless = plain.delete(f"/archive/runs/{run_id}", headers={"origin": "http://127.0.0.1:4321"})
    assert bodiless.status_code == 200, bodiless.text
    assert bodiless.json()["deleted"] == run_id and bodiless.json()["archive_bytes"] < before
    assert client.get(f"/archive/runs/{run_id}").status_code == 404
    assert client.delete(f"/archive/runs/{run_id}").status_code == 404


def test_deleting_the_run_in_progress_is_a_conflict(
    archived: tuple[TestClient, RunArchive],
) -> None:
    client, archive = archived
    started = client.post(
        "/runs",
        json={
            "recipe": "gradient_gating_l0",
            "condition": "control",
            "steps": 100_000,
            "paused": True,
        },
    )
    run_id = started.json()["run_id"]
    assert archive.writer.flush(30)
    answer = client.delete(f"/archive/runs/{run_id}")
    assert answer.status_code == 409 and "still being recorded" in answer.json()["detail"]
    client.post("/runs/stop", json={})


def test_an_inspector_session_is_recorded(archived: tuple[TestClient, RunArchive]) -> None:
    client, archive = archived
    setup = client.post("/inspect/setup", json={"condition": "bcl-fast"}).json()
    client.post("/inspect/step", json={"n": 4})
    assert archive.writer.flush(30)
    run = client.get(f"/archive/runs/{setup['session_id']}").json()
    assert (run["kind"], run["status"], run["steps"]) == ("inspector session", "running", 4)


def test_a_codebook_run_is_recorded_with_its_vq_scalars(
    archived: tuple[TestClient, RunArchive],
) -> None:
    client, archive = archived
    started = client.post("/codebook/start", json={"condition": "ema", "steps": 4, "levels": 2})
    assert started.status_code == 200, started.text
    seat = client.app.state.seat  # type: ignore[attr-defined]
    assert seat.require_run().wait(120)
    assert archive.writer.flush(30)
    listed = client.get("/archive/runs", params={"recipe": "vqvae"}).json()
    assert listed["total"] == 1
    run = listed["runs"][0]
    assert (run["condition"], run["status"], run["steps"]) == ("ema", "completed", 4)
    history = client.get(f"/archive/runs/{run['id']}/history").json()
    assert "loss" in history["keys"] and len(history["keys"]) > 1
    assert history["steps"] == [1, 2, 3, 4]


def test_without_a_runs_dir_nothing_is_recorded_and_the_archive_says_so(
    client: TestClient,
) -> None:
    answer = client.get("/archive/runs")
    assert answer.status_code == 409 and "--runs-dir" in answer.json()["detail"]


def test_a_damaged_runs_database_is_a_clear_json_error_and_training_goes_on(
    mnist: MnistData, tmp_path: Path
) -> None:
    runs_dir = tmp_path / "runs"
    runs_dir.mkdir()
    (runs_dir / "runs.sqlite").write_text("these are my notes, not a database\n" * 50)
    app = create_app(settings=Settings(device="cpu", runs_dir=runs_dir), data=mnist)
    with local_client(app, raise_server_exceptions=False) as client:
        answer = client.get("/archive/runs")
        assert answer.status_code == 503
        assert answer.json()["error"] == "archive_unavailable"
        assert str(runs_dir / "runs.sqlite") in answer.json()["detail"]
        assert "not a database" in answer.json()["detail"]
        _free_run(client, "control", 3)  # the run trains; it is not recorded
        assert client.get("/runs/current").json()["status"] == "completed"
