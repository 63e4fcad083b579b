"""The committed TypeScript vocabulary is exactly what `acc codegen` generates."""

from __future__ import annotations

from pathlib import Path

import pytest

from acc.cli import main
from acc.codegen import TENSOR_KEYS_TS, tensor_keys_ts, write_tensor_keys
from acc.step_inspector import StepTensorKey

ROOT = Path(__file__).resolve().parents[2]


def test_committed_tensor_keys_match_a_fresh_generation() -> None:
    assert (ROOT / TENSOR_KEYS_TS).read_text(encoding="utf-8") == tensor_keys_ts()


def test_every_key_and_its_metadata_is_in_the_output() -> None:
    text = tensor_keys_ts()
    for key in StepTensorKey:
        assert f'{key.name}: "{key.value}",' in text
        assert f"  {key.value}: {{" in text
    assert '"derivedFrom": ["opt_delta", "som_delta"]' in text


def test_check_reports_a_stale_file_and_writing_fixes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "dashboard").mkdir()
    assert main(["codegen", "--root", str(tmp_path), "--check"]) == 1
    assert "is stale" in capsys.readouterr().err
    assert main(["codegen", "--root", str(tmp_path)]) == 0
    assert write_tensor_keys(tmp_path, check=True)
    (tmp_path / TENSOR_KEYS_TS).write_text("// edited by hand\n")
    assert main(["codegen", "--root", str(tmp_path), "--check"]) == 1


def test_codegen_outside_a_checkout_names_the_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["codegen", "--root", str(tmp_path)]) == 2
    assert "no dashboard/ folder" in capsys.readouterr().err


def test_every_committed_generated_file_is_current() -> None:
    from acc.codegen import write_generated

    assert write_generated(ROOT, check=True) == []


def test_the_limits_are_the_python_constants() -> None:
    import json

    from acc.api.validation import MAX_BODY_BYTES
    from acc.codegen import LIMITS_JSON, LIMITS_TS, limits
    from acc.session import MAX_STEPS_PER_CALL

    values = limits()
    assert values["max_body_bytes"] == MAX_BODY_BYTES
    assert values["max_steps_per_call"] == MAX_STEPS_PER_CALL
    assert json.loads((ROOT / LIMITS_JSON).read_text())["max_body_bytes"] == MAX_BODY_BYTES
    assert (
        f"export const MAX_STEPS_PER_CALL = {MAX_STEPS_PER_CALL};" in (ROOT / LIMITS_TS).read_text()
    )
