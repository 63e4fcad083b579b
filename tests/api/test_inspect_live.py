"""`/inspect/*` on a real uvicorn server: the event loop stays free while steps run on the worker,
and concurrent steps queue without interleaving."""

from __future__ import annotations

import threading
import time

import httpx2


def test_health_answers_while_a_long_step_runs(live_url: str) -> None:
    with httpx2.Client(base_url=live_url, timeout=120) as http:
        http.post("/inspect/setup", json={"condition": "bcl-med"}).raise_for_status()
        result: dict[str, int] = {}

        def long_step() -> None:
            with httpx2.Client(base_url=live_url, timeout=120) as other:
                result["step"] = other.post("/inspect/step", json={"n": 150}).json()["step"]

        stepper = threading.Thread(target=long_step)
        stepper.start()
        while http.get("/inspect/state").json()["pending_steps"] == 0:
            time.sleep(0.01)
        answered_during_step = 0
        while http.get("/inspect/state").json()["pending_steps"] > 0:
            health = http.get("/health")
            assert health.status_code == 200 and health.json()["status"] == "ok"
            if http.get("/inspect/state").json()["pending_steps"] > 0:
                answered_during_step += 1
            if answered_during_step >= 5:
                break
        stepper.join()
        # /health and /inspect/state were answered between the step's start and its end
        assert answered_during_step >= 5
        assert result["step"] == 150


def test_two_concurrent_steps_run_one_after_the_other(live_url: str) -> None:
    with httpx2.Client(base_url=live_url, timeout=120) as http:
        http.post("/inspect/setup", json={"condition": "bcl-fast"}).raise_for_status()
    last_steps: list[int] = []

    def step(n: int) -> None:
        with httpx2.Client(base_url=live_url, timeout=120) as client:
            response = client.post("/inspect/step", json={"n": n})
            last_steps.append(response.json()["step"])

    threads = [threading.Thread(target=step, args=(n,)) for n in (6, 4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(last_steps) in ([4, 10], [6, 10])
    with httpx2.Client(base_url=live_url, timeout=120) as http:
        assert http.get("/inspect/history").json()["steps"] == list(range(1, 11))
