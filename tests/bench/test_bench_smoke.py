"""The benchmark runs end to end in its smoke mode and reports sane figures.

Not a timed test: nothing here asserts speed. It proves `make bench` still works (the
site starts as in production, the bench accounts log in, sockets speak the protocol,
the history and reconnect scenarios complete) so the benchmark does not rot between the
times people run it on purpose.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed: the benchmark's load side needs it")
    out = tmp_path_factory.mktemp("bench-results")
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--quick",
            "--out",
            str(out),
            "--time-limit",
            "240",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((out / "latest.json").read_text())


def test_when_the_bench_runs_quick_then_every_scenario_completes(report):
    assert set(report["scenarios"]) == {
        "login",
        "light",
        "saturate",
        "fanout",
        "idle",
        "history",
        "storm",
    }
    assert "interrupted" not in report["scenarios"]
    assert report["scenarios"]["login"]["ok"] is True


def test_when_messages_are_sent_then_all_are_delivered_without_errors(report):
    light = report["scenarios"]["light"]
    assert light["connections_ok"] == light["connections_attempted"] > 0
    assert light["deliveries"] > 0
    assert light["deliveries"] == light["expected_deliveries"]
    assert light["errors"] == 0
    # The rate steps' speed is not judged here, only that messages got through.
    for name in ("saturate", "fanout"):
        steps = report["scenarios"][name]["steps"]
        assert steps and all(s["deliveries"] > 0 and s["errors"] == 0 for s in steps)


def test_when_sockets_idle_then_memory_per_connection_is_measured(report):
    idle = report["scenarios"]["idle"]
    assert idle["connections"] == idle["attempted"] > 0
    assert idle["errors"] == 0
    assert idle["kb_per_connection"] is not None


def test_when_history_and_reconnects_run_then_pages_load_and_everyone_catches_up(
    report,
):
    history = report["scenarios"]["history"]
    assert history["all_ms"]["count"] == 2 * history["requests_each"] > 0
    storm = report["scenarios"]["storm"]
    assert storm["all_caught_up"] is True
    assert storm["errors"] == 0


def test_when_the_server_ran_then_its_log_shows_no_errors(report):
    # Sockets closed by the load generator while the server still sends to them end
    # their consumer with this; anything else is a real problem.
    closing = "Attempt to send on a closed protocol"
    problems = [p for p in report["server_log_problems"] if closing not in p]
    assert problems == []
