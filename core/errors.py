"""The root of every error Kaiku raises on purpose.

Each package derives its own root from `KaikuError` (core: `ConfigError`, `QueryError`; crawler: `CrawlerError`;
sentiment: `SentimentError`; indexer: `IndexerError`; kaiku: `ServiceError`), so the shell maps them to exit
codes in one place (cli/_common.py) and the API to problem+json in one place (api/problems.py).
"""


class KaikuError(Exception):
    """Base of every Kaiku error: a condition a user or operator can understand and usually fix."""
