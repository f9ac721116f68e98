"""First complete render of the dashboard's overview, measured in headless Chromium.

    python bench/dashboard.py --url http://127.0.0.1:8000 --key kaiku_... [--brand revontuli] [--repeat 5]
    python bench/dashboard.py --synthetic 20000 [--repeat 5]

The page sets the performance mark `kaiku:overview-rendered` once every overview chart is drawn (after the frame
that paints them); the figure is that mark's time since navigation start: HTML, CSS, the charting library, the
message catalogue, /v1/brands, the metrics request and drawing. The first load is cold (nothing cached); the
following ones are reloads of the same page, as a user's next morning would be.

`--url` measures a running `kaiku serve`/`kaiku demo` (any store behind it). `--synthetic N` writes N synthetic
mentions (bench/api_latency.py's generator: two brands, 13 weeks ending 23 Nov 2026) into a fresh store in a
temporary folder (`--store embedded`, the default, or `local`: a noida-db engine), serves the API on a free loopback
port with a key of a team that follows both brands, and measures that.
Needs /usr/bin/chromium and /usr/bin/chromedriver (apt: chromium chromium-driver) and selenium.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# The repository first: run as `python bench/dashboard.py`, bench/ would be first on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.browser import chromium, missing_browser, overview_render_ms, serve, sign_in  # noqa: E402

PERIOD = {"from": "2026-08-24", "to": "2026-11-22", "interval": "week", "tz": "Europe/Helsinki"}


@contextmanager
def synthetic_server(n: int, store_kind: str) -> Iterator[tuple[str, str]]:
    """N synthetic mentions in a fresh store (the embedded default, or a local engine) and the API in front of it:
    (base URL, a key of a team that follows both brands, so the overview carries the competitor's series)."""
    from api.app import create_app
    from bench.api_latency import synthetic
    from core.settings import Settings
    from kaiku.local_engine import LocalEngine, free_port
    from kaiku.wiring import ready_store, team_store

    folder = Path(tempfile.mkdtemp(prefix="kaiku-bench-dashboard-"))
    engine = LocalEngine(data_dir=folder / "engine", port=free_port()) if store_kind == "local" else None
    if engine is not None:
        engine.start()
    try:
        settings = Settings(
            elasticsearch_url=engine.url if engine else None, index_alias="bench-dashboard",
            data_dir=folder, rate_limit_burst=10_000,
        )  # fmt: skip
        store = ready_store(settings)
        started = time.perf_counter()
        mentions = synthetic(n)
        for i in range(0, n, 2000):
            store.write(mentions[i : i + 2000])
        store.refresh()
        store.close()
        print(f"{store_kind} store: wrote {n} mentions in {time.perf_counter() - started:.1f} s")
        teams = team_store(settings)
        key = teams.create_key(teams.create_team("bench", brands=["revontuli", "tunturi"]).id).secret
        with serve(create_app(settings)) as url:
            yield url, key
    finally:
        if engine is not None:
            engine.stop()
        shutil.rmtree(folder, ignore_errors=True)


def measure(url: str, key: str, brand: str, repeat: int) -> list[float]:
    hash_ = "overview?" + "&".join(f"{k}={v}" for k, v in {"brand": brand, **PERIOD}.items())
    driver = chromium()
    try:
        sign_in(driver, url, key, hash_)
        times = []
        for run in range(repeat):
            if run:
                driver.refresh()
            times.append(overview_render_ms(driver, timeout=600))
            start, duration, data = split(driver)
            print(
                f"run {run + 1}: rendered at {times[-1]:.0f} ms; metrics request sent at {start:.0f} ms, "
                f"answered in {duration:.0f} ms; charts painted {times[-1] - data:.0f} ms after the answer"
            )
        volume = driver.execute_script("return document.querySelector('.kpi[data-field=volume]').dataset.value")
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    finally:
        driver.quit()
    print(f"mentions of {brand} in the period on screen: {volume}; browser console errors: {len(errors)}")
    return times


SPLIT = """
const request = performance.getEntriesByType('resource').filter(e => e.name.includes('/metrics?'))[0];
return [request.startTime, request.duration, performance.getEntriesByName('kaiku:overview-data')[0].startTime];
"""


def split(driver: Any) -> tuple[float, float, float]:
    """When the page sent its one metrics request and how long the answer took (Resource Timing), and when the
    page had the answer (its `kaiku:overview-data` mark), in ms since navigation start."""
    start, duration, data = driver.execute_script(SPLIT)
    return float(start), float(duration), float(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="base URL of a running API (kaiku serve / kaiku demo)")
    parser.add_argument("--key", default=os.environ.get("KAIKU_KEY"), help="a team key (default $KAIKU_KEY)")
    parser.add_argument("--synthetic", type=int, help="write N synthetic mentions into a fresh store")
    parser.add_argument("--store", choices=["embedded", "local"], default="embedded", help="the store of --synthetic")
    parser.add_argument("--brand", default="revontuli")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if reason := missing_browser():
        sys.exit(reason)
    period = f"{PERIOD['from']}..{PERIOD['to']} by {PERIOD['interval']} in {PERIOD['tz']}"
    print(f"cores: {os.cpu_count()}, period: {period}")
    if args.synthetic:
        with synthetic_server(args.synthetic, args.store) as (url, key):
            times = measure(url, key, args.brand, args.repeat)
    elif args.url and args.key:
        times = measure(args.url.rstrip("/"), args.key, args.brand, args.repeat)
    else:
        parser.error("give --url and --key, or --synthetic N")
    rest = times[1:] or times
    print(f"first complete render of the overview: cold {times[0]:.0f} ms; "
          f"reloads p50 {statistics.median(rest):.0f} ms, max {max(rest):.0f} ms ({len(rest)} runs)")  # fmt: skip


if __name__ == "__main__":
    main()
