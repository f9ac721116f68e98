"""The backtest CSV reader and `kaiku alerts backtest`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cli import app
from kaiku.alerts.backtest import BacktestError, parse_duration, read_series

pytestmark = pytest.mark.unit


def test_parse_duration() -> None:
    assert parse_duration("5min") == timedelta(minutes=5)
    assert parse_duration("1h") == timedelta(hours=1)
    assert parse_duration("1d") == timedelta(days=1)
    assert parse_duration("0", allow_zero=True) == timedelta(0)
    for bad in ("5", "5m", "0min", "-1h", "1 week", ""):
        with pytest.raises(BacktestError):
            parse_duration(bad)


def test_reader_sorts_resamples_fills_gaps_and_counts_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(
        "timestamp,value\n"
        "2024-01-01T00:20:00+00:00,2\n"
        "2024-01-01T00:00:00,3\n"  # naive: UTC
        "2024-01-01T02:10:00Z,1\n"
        "not a date,4\n"
        "2024-01-01T01:30:00+01:00,5\n"  # 00:30 UTC, same slot as the first two
        "2024-01-01T00:40:00,-1\n"
        "2024-01-01T00:50:00\n"
    )
    series = read_series(path, timedelta(hours=1))
    start = datetime(2024, 1, 1, tzinfo=UTC)
    assert series.timestamps == [start, start + timedelta(hours=1), start + timedelta(hours=2)]
    assert series.values == [10.0, 0.0, 1.0]
    assert [line for line, _ in series.bad_rows] == [5, 7, 8]


def test_reader_without_valid_rows_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("timestamp,value\nnope,1\n")
    with pytest.raises(BacktestError, match="no valid"):
        read_series(path, timedelta(hours=1))


def _spiky_csv(path: Path) -> None:
    values = np.random.default_rng(0).poisson(20, 24 * 14)
    values[24 * 10 : 24 * 10 + 3] += 150
    start = datetime(2024, 1, 1)
    rows = [f"{(start + timedelta(hours=i)).isoformat()},{v}" for i, v in enumerate(values)]
    path.write_text("\n".join(["timestamp,value", *rows, "garbage"]) + "\n")


def test_cli_backtest_prints_incidents(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    _spiky_csv(path)
    result = CliRunner().invoke(app, ["alerts", "backtest", str(path), "--interval", "1h", "--k", "4"])
    assert result.exit_code == 0, result.output
    [incident] = json.loads(result.stdout)
    assert set(incident) == {"start", "end", "peak", "score"}
    assert incident["start"] == "2024-01-11T00:00:00+00:00"
    assert incident["end"] == "2024-01-11T03:00:00+00:00"
    assert incident["score"] == round(incident["score"], 2)
    assert "skipped 1 bad row" in result.stderr and ":338:" in result.stderr


@pytest.mark.parametrize("args", [["--interval", "5 minutes"], ["--interval", "0min"], ["--cooldown", "soon"]])
def test_cli_bad_duration_exits_2(tmp_path: Path, args: list[str]) -> None:
    path = tmp_path / "s.csv"
    _spiky_csv(path)
    result = CliRunner().invoke(app, ["alerts", "backtest", str(path), *args])
    assert result.exit_code == 2
    assert "invalid duration" in result.stderr


def test_cli_missing_or_empty_file_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["alerts", "backtest", str(tmp_path / "missing.csv")])
    assert result.exit_code == 2 and "cannot read" in result.stderr
    (tmp_path / "empty.csv").write_text("")
    result = CliRunner().invoke(app, ["alerts", "backtest", str(tmp_path / "empty.csv")])
    assert result.exit_code == 2 and "no valid" in result.stderr


def _labels(path: Path, windows: list[list[str]]) -> Path:
    labels = path.parent / "windows.json"
    labels.write_text(json.dumps({path.name: windows, "other.csv": []}))
    return labels


def test_cli_backtest_summary_with_labels(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    _spiky_csv(path)  # 14 days, one spike on day 10
    hit = _labels(path, [["2024-01-10 20:00:00.000000", "2024-01-11 06:00:00"], ["2024-01-05", "2024-01-06"]])
    result = CliRunner().invoke(app, ["alerts", "backtest", str(path), "--interval", "1h", "--labels", str(hit)])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 1
    summary = [line for line in result.stderr.splitlines() if line.startswith("summary:")]
    assert summary == [
        "summary: 1 incidents in 2.0 weeks: 0.50 per week; labelled windows 2, found 1; incidents in a window 1; "
        "precision 1.000 recall 0.500 F1 0.667"
    ]
    without = CliRunner().invoke(app, ["alerts", "backtest", str(path), "--interval", "1h"])
    assert "summary: 1 incidents in 2.0 weeks: 0.50 per week\n" in without.stderr


def test_cli_backtest_labels_errors_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    _spiky_csv(path)
    (tmp_path / "bad.json").write_text("[1, 2]")
    (tmp_path / "elsewhere.json").write_text(json.dumps({"x.csv": []}))
    for labels, message in (("bad.json", "cannot read labels"), ("elsewhere.json", "has no windows for s.csv")):
        result = CliRunner().invoke(app, ["alerts", "backtest", str(path), "--labels", str(tmp_path / labels)])
        assert result.exit_code == 2 and message in result.stderr


def test_cli_backtest_budget(tmp_path: Path) -> None:
    values = np.random.default_rng(0).poisson(20, 24 * 21)
    for day in (8, 9, 10, 11):
        values[24 * day + 12 : 24 * day + 15] += 150
    rows = [f"{(datetime(2024, 1, 1) + timedelta(hours=i)).isoformat()},{v}" for i, v in enumerate(values)]
    path = tmp_path / "s.csv"
    path.write_text("\n".join(rows) + "\n")
    result = CliRunner().invoke(app, ["alerts", "backtest", str(path), "--interval", "1h", "--max-per-week", "2"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 2
    assert "budget 2 per week held back 2 more" in result.stderr
