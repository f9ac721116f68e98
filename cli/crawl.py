"""`kaiku crawl SOURCE_ID`: crawl, score and index one configured source; `kaiku parse reviews PATH`: offline."""

from __future__ import annotations

import json
import logging
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cli._common import fail, user_errors
from core.config import load_config
from core.mention import SOURCE_NAMES
from core.priority import lower_priority
from core.settings import get_settings


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


def _configure_logging(level: LogLevel) -> None:
    logging.basicConfig(stream=sys.stderr, level=level.value, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if level is not LogLevel.DEBUG:
        # One INFO line per bulk request from the engine client would bury the crawl's own messages.
        logging.getLogger("elastic_transport").setLevel(logging.WARNING)


def crawl(
    name: Annotated[str, typer.Argument(help="A source id from sources.yaml, or a spider name (all its sources)")],
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Folder holding brands.yaml and sources.yaml [default: KAIKU_CONFIG_DIR]"),
    ] = None,
    log_level: Annotated[
        LogLevel, typer.Option("--log-level", help="What the crawl logs to stderr")
    ] = LogLevel.WARNING,
) -> None:
    """Crawl configured sources, keep what mentions a brand, score it and index it; print a summary per source.

    Exit status: 0 when everything went through, 1 when the crawl ran but mentions failed to score or
    index or no page could be read, 2 when it could not start (configuration, engine, model).
    """
    from crawler.runner import run_crawl
    from kaiku.crawl_counters import record_crawl
    from kaiku.wiring import configured_classifier, crawl_context, crawl_settings_from, database, ready_store

    with user_errors():
        settings = get_settings()
        lower_priority(settings.crawl_nice)  # the crawl yields the CPU to the API; the model's threads inherit it
        kaiku_config = load_config(config or settings.config_dir)
        sources = kaiku_config.sources_named(name)
        if not sources:
            known = ", ".join(s.id for s in kaiku_config.sources) or "none"
            fail(f"unknown source {name!r} (known: {known}; or a spider name: {', '.join(SOURCE_NAMES)})")
        # The store is checked before the model is loaded: an unreachable engine should fail in a second.
        store = ready_store(settings)
        classifier = configured_classifier(settings)
        _configure_logging(log_level)
        context = crawl_context(settings, kaiku_config.brands, classifier, store)
        db = database(settings)
        all_ok = True
        for source in sources:
            summary = run_crawl(
                source,
                context,
                extra_settings={**crawl_settings_from(settings), "LOG_LEVEL": log_level.value},
                allow_private_urls=settings.allow_private_urls,
            )
            print(summary.format())
            record_crawl(db, summary)
            all_ok = all_ok and summary.ok
    if not all_ok:
        raise typer.Exit(1)


def parse(
    parser: Annotated[
        str,
        typer.Argument(
            help="What to parse the file as: the name of the spider that reads it (reviews: schema.org JSON-LD / "
            f"microdata in HTML; the others: a platform's saved response): {', '.join(SOURCE_NAMES)}"
        ),
    ],
    path: Annotated[Path, typer.Argument(help="A saved HTML page or API response body")],
    url: Annotated[
        str | None,
        typer.Option("--url", help="The page's address, for links and ids [default: the file's file:// URL]"),
    ] = None,
) -> None:
    """Parse a saved page or response offline: one JSON object per review or post on stdout, problems on stderr.

    Prints what the file states (fields a source lacks are null); brand matching, language detection and
    scoring happen only in a crawl. A malformed file is reported on stderr, not an error: exit status 0.
    """
    from crawler.extract import ExtractResult
    from crawler.spiders.registry import SPIDERS

    spider = SPIDERS.get(parser)  # type: ignore[call-overload]  # any str: an unknown one is answered below
    if spider is None:
        fail(f"unknown parser {parser!r} (known: {', '.join(SPIDERS)})")
    try:
        body = path.read_bytes()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror or exc}")
    result = spider.parser(body, url or path.resolve().as_uri())
    if isinstance(result, ExtractResult):
        for problem in result.problems:
            print(f"warning: {problem}", file=sys.stderr)
        for review in result.reviews:
            print(json.dumps(review.as_json(spider.name), ensure_ascii=False))
        if not result.reviews:
            print(f"note: no schema.org reviews found in {path}", file=sys.stderr)
        return
    for problem in result.problems:
        print(f"warning: {problem.code}: {problem}", file=sys.stderr)
    for post in result.posts:
        print(json.dumps(post.as_json(spider.name), ensure_ascii=False))
    if not result.posts:
        print(f"note: no {parser} posts found in {path}", file=sys.stderr)
