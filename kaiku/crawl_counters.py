"""Running totals of every crawl, kept in Kaiku's database so that the API's /metrics can show them.

Crawls run in other processes (`kaiku crawl`, the scheduler's crawl workers) than the API; each adds its
summary here when it ends, and /metrics reads the totals at scrape time, as Prometheus counters per source.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Engine, insert, select, update

from crawler.runner import CrawlSummary
from kaiku.db import crawl_counters

RUNS = "runs"


def summary_counts(summary: CrawlSummary) -> dict[str, int]:
    """The counters one crawl adds: its volumes, its mentions by experience class, and what it lost, by kind."""
    counts = {
        RUNS: 1,
        "requests": summary.requests,
        "items": summary.items,
        "scored": summary.scored,
        "indexed": summary.indexed,
        "spooled": summary.spooled,
        "index_failed": sum(summary.index_failed.values()),
        "skipped": sum(summary.skipped.values()),
        "dropped": sum(summary.dropped.values()),
        "errors": sum(summary.errors.values()),
    }
    counts.update({f"experience/{name}": count for name, count in summary.experience.items()})
    return counts


def record_crawl(db: Engine, summary: CrawlSummary) -> None:
    """Add one crawl's counts to its source's totals, in one transaction."""
    with db.begin() as conn:
        for counter, value in summary_counts(summary).items():
            key = (crawl_counters.c.source_id == summary.source_id) & (crawl_counters.c.counter == counter)
            changed = conn.execute(update(crawl_counters).where(key).values(value=crawl_counters.c.value + value))
            if changed.rowcount == 0:
                conn.execute(insert(crawl_counters).values(source_id=summary.source_id, counter=counter, value=value))


def totals(db: Engine) -> Iterator[tuple[str, str, int]]:
    """(source id, counter, total) for every counter ever recorded."""
    with db.connect() as conn:
        query = select(crawl_counters).order_by(crawl_counters.c.source_id, crawl_counters.c.counter)
        for row in conn.execute(query):
            yield row.source_id, row.counter, int(row.value)
