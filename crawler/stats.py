"""Kaiku's keys in Scrapy's `crawler.stats` (docs/crawler.md lists them with their units).

Everything a crawl skips, drops or fails on is counted under a key that names the reason, so a crawl
that finds nothing can be told apart from a crawl that could not read what it found.
"""

from __future__ import annotations

PREFIX = "kaiku/"

PAGES_PARSED = "kaiku/pages/parsed"  # HTML responses the spider read
PAGES_WITH_REVIEWS = "kaiku/pages/with_reviews"
REVIEWS = "kaiku/reviews"  # reviews extracted and yielded as items

SKIPPED = "kaiku/skipped/"  # + reason; see SKIP_REASONS for the unit of each
SKIPPED_NON_HTML = "kaiku/skipped/non_html"  # responses that are not HTML (pages)
SKIPPED_NO_REVIEWS = "kaiku/skipped/no_reviews"  # HTML pages without any usable review (pages)
SKIPPED_EXTRACT_ERROR = "kaiku/skipped/extract_error"  # pages whose extraction raised (a bug; logged)
SKIPPED_MAX_PAGES = "kaiku/skipped/max_pages"  # links not followed because max_pages was reached
SKIPPED_IGNORED = "kaiku/skipped/ignored_request"  # requests a middleware refused (robots.txt, offsite)
WARNINGS = "kaiku/warnings/"  # + problem code: the review was kept without the value

DROPPED = "kaiku/dropped/"  # + reason: items the pipelines dropped
DROPPED_NO_BRAND = "kaiku/dropped/no_brand"
DROPPED_EXCLUDED = "kaiku/dropped/excluded"
DROPPED_DUPLICATE = "kaiku/dropped/duplicate"

BRAND = "kaiku/brand/"  # + brand id: items by primary brand
LANG_OVERRIDDEN = "kaiku/lang/overridden"  # declared language replaced by a confident detection
LANG_UNDECLARED = "kaiku/lang/detected_only"  # no declared language; the detection was used
NEAR_DUPLICATES = "kaiku/near_duplicates/"  # + crawl | index: mentions marked near_duplicate_of, by where the first was
SCORED = "kaiku/scored"
EXPERIENCE = "kaiku/experience/"  # + anger | comfort | delight
INDEXED = "kaiku/indexed"
SPOOLED = "kaiku/spooled"  # engine unreachable: kept on disk, replayed when it is back
REPLAYED = "kaiku/replayed"  # taken from the spool and indexed
INDEX_FAILED = "kaiku/index_failed/"  # + error type of the engine (or the exception's name)
RETRY_WAITED = "kaiku/retry/waited_ms"  # milliseconds spent waiting before retries (Retry-After or backoff)
ERRORS = "kaiku/errors/"  # + http_<status> | <exception name> | score_failed

# Extraction problem codes that mean "this part was skipped"; any other code is a warning.
SKIP_PROBLEMS = frozenset({"malformed_jsonld", "no_text", "empty_document", "parse_limit"})


def problem_key(code: str) -> str:
    return f"{SKIPPED}{code}" if code in SKIP_PROBLEMS else f"{WARNINGS}{code}"


def with_prefix(stats: dict, prefix: str) -> dict[str, int]:
    """{reason: count} for every key under `prefix`."""
    return {key[len(prefix) :]: value for key, value in sorted(stats.items()) if key.startswith(prefix)}
