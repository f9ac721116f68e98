"""Crawl throughput of the platform spiders against loopback fakes of their APIs.

    python bench/platform_crawl.py [--posts 1000] [--page-size 50] [--no-language]

For each platform, the fake from bench/platform_fakes.py is grown to `--posts` posts (copies of a
recorded post with new ids and times; every one names a brand) and served `--page-size` per page (the App
Store stops at 10 pages, so it serves at most 10 × page size; RSS serves one feed holding them all). The
crawl runs through Scrapy and every pipeline (brand match, language detection with lingua unless
`--no-language`, duplicates) into a keyword classifier and a collecting writer: what is measured is
download + parse + pipelines, not the sentiment model (see sentiment/ for its figures) nor the engine.
Politeness delays are off (loopback). Prints responses/s and posts/s per platform, and the core count.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.platform_fakes import (  # noqa: E402
    AppStore,
    Bluesky,
    HackerNews,
    Mastodon,
    Reddit,
    Rss,
    YouTube,
    serve,
)
from bench.stand_ins import CollectingWriter, KeywordClassifier  # noqa: E402
from core.config import (  # noqa: E402
    load_config,
    source_of,
)
from core.settings import REPO_CONFIGS  # noqa: E402
from crawler.context import CrawlContext  # noqa: E402
from crawler.runner import run_crawl  # noqa: E402

PLATFORMS = {
    "rss": (Rss, lambda url: {"start_urls": [f"{url}/matkailu/feed"]}, {}),
    "mastodon": (Mastodon, lambda url: {"base_url": url, "hashtags": ["revontuli"], "max_pages": 10_000}, {}),
    "bluesky": (
        Bluesky,
        lambda url: {"base_url": url, "queries": ["revontuli"], "max_pages": 10_000},
        {"KAIKU_BLUESKY_TOKEN": Bluesky.token},
    ),
    "reddit": (Reddit, lambda url: {"base_url": url, "queries": ["revontuli"], "max_pages": 10_000}, {}),
    "hackernews": (HackerNews, lambda url: {"base_url": url, "queries": ["revontuli"], "max_pages": 10_000}, {}),
    "appstore": (
        AppStore,
        lambda url: {"base_url": url, "app_ids": ["1234567890"], "countries": ["fi"], "brands": ["revontuli"]},
        {},
    ),
    "youtube": (
        YouTube,
        lambda url: {"base_url": url, "video_ids": ["dQw4w9WgXcQ"], "max_pages": 10_000},
        {"KAIKU_YOUTUBE_API_KEY": YouTube.key},
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--no-language", action="store_true", help="switch the language pipeline off")
    args = parser.parse_args()
    brands = load_config(REPO_CONFIGS).brands
    print(f"machine: {os.cpu_count()} cores; {args.posts} posts per platform, {args.page_size} per page")
    header = ("platform", "responses", "posts", "items", "seconds", "responses/s", "posts/s")
    print("{:<11} {:>9} {:>6} {:>6} {:>8} {:>12} {:>8}".format(*header))
    for name, (make, fields, credentials) in PLATFORMS.items():
        platform = make()
        platform.page_size = args.page_size
        for number in range(1, args.posts + 1):
            platform.add_newer(number)
        server, stop = serve(platform.handle)
        try:
            with tempfile.TemporaryDirectory() as state_dir:
                settings = {
                    "KAIKU_STATE_PATH": str(Path(state_dir) / "state.json"),
                    "KAIKU_DETECT_LANGUAGE": not args.no_language,
                    "KAIKU_BATCH_SIZE": 64,
                    "LOG_LEVEL": "WARNING",
                    **credentials,
                }
                source = source_of(id=f"bench-{name}", spider=name, **fields(server.url))
                started = time.perf_counter()
                context = CrawlContext(brands, KeywordClassifier(), CollectingWriter())
                summary = run_crawl(source, context, extra_settings=settings, allow_private_urls=True)
                seconds = time.perf_counter() - started
        finally:
            stop()
        print(
            f"{name:<11} {summary.pages:>9} {summary.reviews:>6} {summary.items:>6} {seconds:>8.2f} "
            f"{summary.pages / seconds:>12.1f} {summary.reviews / seconds:>8.0f}"
        )


if __name__ == "__main__":
    main()
