"""Index template and naming: versioned monthly indices behind one alias.

`kaiku-mentions` (the alias) covers `kaiku-mentions-v1-2026.11`, `...-2026.12`, ...
A new mapping version gets a new prefix (`-v2-`), is reindexed into, and the
alias is switched; retention deletes whole monthly indices.
"""

from __future__ import annotations

from datetime import datetime

SCHEMA_VERSION = 1


def index_prefix(alias: str) -> str:
    return f"{alias}-v{SCHEMA_VERSION}-"


def write_index_for(alias: str, when: datetime) -> str:
    return f"{index_prefix(alias)}{when:%Y.%m}"


def _analysed_text() -> dict:
    """A text field with language sub-fields; `standard` is the fallback for every other language."""
    return {
        "type": "text",
        "analyzer": "standard",
        "fields": {
            "fi": {"type": "text", "analyzer": "finnish"},
            "en": {"type": "text", "analyzer": "english"},
        },
    }


MAPPINGS: dict = {
    "dynamic": "strict",
    "properties": {
        "id": {"type": "keyword"},
        "brand": {"type": "keyword"},
        "brands_matched": {"type": "keyword"},
        "query_id": {"type": "keyword"},
        "source": {"type": "keyword"},
        "url": {"type": "keyword"},
        "canonical_url": {"type": "keyword"},
        "author": {"type": "keyword"},
        "author_followers": {"type": "long"},
        "title": _analysed_text(),
        "text": _analysed_text(),
        "lang": {"type": "keyword"},
        "published_at": {"type": "date"},
        "crawled_at": {"type": "date"},
        "rating": {"type": "float"},
        "rating_max": {"type": "float"},
        "item_rating": {
            "properties": {"value": {"type": "float"}, "max": {"type": "float"}, "count": {"type": "long"}}
        },
        "polarity": {
            "properties": {
                "negative": {"type": "float"},
                "neutral": {"type": "float"},
                "positive": {"type": "float"},
            }
        },
        "experience": {"type": "keyword"},
        "experience_reason": {"type": "text", "index": False},
        "model": {"properties": {"id": {"type": "keyword"}, "version": {"type": "keyword"}}},
        "engagement": {
            "properties": {
                "likes": {"type": "long"},
                "replies": {"type": "long"},
                "shares": {"type": "long"},
            }
        },
        "near_duplicate_of": {"type": "keyword"},
        "dedup_bands": {"type": "keyword"},
        "lang_declared": {"type": "keyword"},
        "lang_detected": {"type": "keyword"},
    },
}


def index_template(alias: str) -> dict:
    return {
        "index_patterns": [f"{index_prefix(alias)}*"],
        "priority": 100,
        "template": {
            # `request` (Elasticsearch's default, stated so no cluster default can change it): the translog is
            # fsynced before a write is acknowledged, which the spool relies on (indexer/spool.py).
            "settings": {"number_of_shards": 1, "number_of_replicas": 0, "index.translog.durability": "request"},
            "mappings": MAPPINGS,
            "aliases": {alias: {}},
        },
        "_meta": {"kaiku_schema_version": SCHEMA_VERSION},
    }
