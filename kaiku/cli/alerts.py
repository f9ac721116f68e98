"""`kaiku alerts backtest`: run the spike detector over a past count series and print its incidents."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from kaiku.alerts.backtest import BacktestError, backtest, parse_duration
from kaiku.alerts.detector import DEFAULT
from kaiku.cli._common import fail

app = typer.Typer(help="Spike alerts.", no_args_is_help=True)

MAX_BAD_ROWS_SHOWN = 20


@app.command("backtest")
def backtest_command(
    path: Annotated[Path, typer.Argument(help="CSV of timestamp,value rows (ISO 8601; naive means UTC).")],
    interval: Annotated[str, typer.Option(help="Slot size the rows are summed into: 5min, 15min, 1h, 1d.")] = "5min",
    k: Annotated[float, typer.Option(help="Score that opens an incident.")] = DEFAULT.k,
    min_count: Annotated[float, typer.Option(help="Minimum count in a slot to open an incident.")] = DEFAULT.min_count,
    cooldown: Annotated[
        str, typer.Option(help="After an incident, a new trigger within this reopens it (0 for none).")
    ] = "1h",
) -> None:
    """Print the incidents the detector finds as a JSON list of {start, end, peak, score}."""
    try:
        step = parse_duration(interval)
        wait = parse_duration(cooldown, allow_zero=True)
        params = replace(DEFAULT, k=k, min_count=min_count, cooldown=wait, exit_k=min(DEFAULT.exit_k, k))
        incidents, series = backtest(path, step, params)
    except (BacktestError, ValueError) as exc:
        fail(str(exc))
    for line_no, reason in series.bad_rows[:MAX_BAD_ROWS_SHOWN]:
        print(f"warning: {path}:{line_no}: {reason}", file=sys.stderr)
    if len(series.bad_rows) > MAX_BAD_ROWS_SHOWN:
        print(f"warning: ... and {len(series.bad_rows) - MAX_BAD_ROWS_SHOWN} more", file=sys.stderr)
    if series.bad_rows:
        print(f"warning: skipped {len(series.bad_rows)} bad row(s)", file=sys.stderr)
    out = [
        {
            "start": inc.start.isoformat(),
            "end": inc.end.isoformat(),
            "peak": inc.peak.isoformat(),
            "score": round(inc.score, 2),
        }
        for inc in incidents
    ]
    print(json.dumps(out, indent=2))
