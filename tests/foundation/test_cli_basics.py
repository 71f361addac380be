from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from foundation.test_registry import BASE
from pilot_roi.cli import main


def test_init_and_registry_load_via_the_console_entry_point(tmp_path: Path, capsys) -> None:
    warehouse = tmp_path / "w.duckdb"
    registry = tmp_path / "r.yaml"
    registry.write_text(yaml.safe_dump(BASE, allow_unicode=True), encoding="utf-8")
    assert main(["init", "--warehouse", str(warehouse)]) == 0
    assert main(["--lang", "ru", "registry", "load", str(registry), "--warehouse", str(warehouse)]) == 0
    assert "создано" in capsys.readouterr().out
    assert main(["registry", "load", str(registry), "--warehouse", str(warehouse), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["changes"]["pilots"] == {"created": 0, "updated": 0, "unchanged": 1}


def test_refusal_exits_1_with_a_message_and_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("pilots: [{code: X}]\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pilot_roi", "--lang", "kk", "registry", "load", str(bad),
         "--warehouse", str(tmp_path / "w.duckdb")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "pilots[0].subsidiary" in done.stderr
    assert "міндетті" in done.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pilot_roi", "registry", "frobnicate"], capture_output=True)
    assert done.returncode == 2


def test_environment_variable_chooses_the_warehouse(tmp_path: Path) -> None:
    warehouse = tmp_path / "env.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "pilot_roi", "init"],
        capture_output=True, text=True, env={"PILOT_ROI_WAREHOUSE": str(warehouse), "PATH": ""},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert warehouse.exists()
