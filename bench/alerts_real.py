"""The spike detector on real mention-volume series with labelled windows, beside the synthetic benchmark.

    python bench/alerts_real.py DATA_DIR [--seeds 20] [--no-loso] [--k K]

DATA_DIR (default: $KAIKU_ALERTS_DATA) holds `timestamp,value` CSVs of 5-minute counts and a
`labelled_windows.json` mapping each file name to its labelled `[start, end]` windows, e.g. the NAB Twitter-volume
series (https://github.com/numenta/NAB, data/realTweets and labels/combined_windows.json; MIT licence). Each series
is run as `kaiku alerts backtest FILE --interval 5min` runs it, with the default parameters. An incident whose
start falls inside a labelled window is a hit (see kaiku/alerts/evaluation.py).

Spike sizes: the peak lift of the detector's two windows over their baselines inside each labelled window, and on
every whole day outside them (ordinary days, news included: what must not fire), and how long the 2 h window
stays >= 1.5x. bench/alerts_synthetic.py draws its planted spikes and news days from these figures.

Leave-one-series-out: for each series, k (the one parameter that trades precision for recall) is chosen among a
few values by F1 on the other series only, then scored on the held-out one; a default that generalises keeps its
figures there.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from alerts_lifts import Lifts, describe, lifts_in, ordinary_days, two_windows  # noqa: E402
from alerts_synthetic import SEEDS  # noqa: E402
from alerts_synthetic import run as run_synthetic  # noqa: E402

from kaiku.alerts.backtest import read_series  # noqa: E402
from kaiku.alerts.detector import DEFAULT, DetectorParams, detect_incidents  # noqa: E402
from kaiku.alerts.evaluation import Score, read_labels, score_incidents  # noqa: E402

INTERVAL = timedelta(minutes=5)
K_CHOICES = (3.0, 3.5, 4.0, 4.5, 5.0, 6.0)


def score_all(data: Path, params: DetectorParams) -> dict[str, Score]:
    labels = read_labels(data / "labelled_windows.json")
    scores = {}
    for name in sorted(labels):
        series = read_series(data / name, INTERVAL)
        incidents = detect_incidents(series.timestamps, series.values, params)
        span = series.timestamps[-1] - series.timestamps[0] + INTERVAL
        scores[name] = score_incidents(incidents, labels[name], span)
    return scores


def measure(data: Path) -> tuple[list[Lifts], list[Lifts]]:
    """Peak lifts inside the labelled windows, and on the whole days outside them."""
    labels = read_labels(data / "labelled_windows.json")
    labelled: list[Lifts] = []
    ordinary: list[Lifts] = []
    for name in sorted(labels):
        series = read_series(data / name, INTERVAL)
        windows = two_windows(series.timestamps, series.values)
        for start, end in labels[name]:
            lifts = lifts_in(series.timestamps, windows, start, end)
            if lifts is not None:
                labelled.append(lifts)
        ordinary += ordinary_days(series.timestamps, windows, labels[name])
    return labelled, ordinary


def line(label: str, s: Score) -> str:
    return (
        f"{label:<28} incidents {s.incidents:>3} ({s.per_week:.2f}/week)  windows {s.found}/{s.windows}  "
        f"precision {s.precision:.3f}  recall {s.recall:.3f}  F1 {s.f1:.3f}"
    )


def total(scores: list[Score]) -> Score:
    result = Score(0, 0, 0, 0, 0.0)
    for s in scores:
        result = result + s
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=os.environ.get("KAIKU_ALERTS_DATA"), type=Path)
    parser.add_argument("--seeds", type=int, default=SEEDS, help="synthetic series per interval")
    parser.add_argument("--no-loso", action="store_true", help="skip the leave-one-series-out check")
    parser.add_argument(
        "--k", type=float, default=DEFAULT.k, help="score that opens an incident (default: the default)"
    )
    args = parser.parse_args()
    if args.data is None or not (args.data / "labelled_windows.json").is_file():
        parser.error("give the data folder (with labelled_windows.json) or set KAIKU_ALERTS_DATA")

    params = replace(DEFAULT, k=args.k)
    print(f"real series in {args.data}, default parameters with k = {params.k:g}, interval {INTERVAL}:")
    scores = score_all(args.data, params)
    for name, s in scores.items():
        print(line(name, s))
    print(line("all", total(list(scores.values()))))
    print(f"most incidents per week in one series: {max(s.per_week for s in scores.values()):.2f}")

    labelled, ordinary = measure(args.data)
    print("\nspike sizes in the real series, as the detector sees them:")
    print(describe("labelled windows", labelled))
    print(describe("ordinary days (outside the windows)", ordinary))

    if not args.no_loso:
        print(f"\nleave-one-series-out (k chosen among {K_CHOICES} by F1 on the other series):")
        by_k = {k: score_all(args.data, replace(DEFAULT, k=k)) for k in K_CHOICES}
        held_out = []
        for name in scores:
            best = max(K_CHOICES, key=lambda k: total([s for n, s in by_k[k].items() if n != name]).f1)
            held_out.append(by_k[best][name])
            print(line(f"{name} (k={best:g})", by_k[best][name]))
        print(line("all held out", total(held_out)))

    print(f"\nsynthetic benchmark ({args.seeds} seeds per interval), default parameters with k = {params.k:g}:")
    run_synthetic(args.seeds, params, show_params=False)


if __name__ == "__main__":
    main()
