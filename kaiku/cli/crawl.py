"""`kaiku crawl` and `kaiku parse` (placeholder until implemented)."""


def crawl() -> None:
    """Crawl a configured source."""
    raise NotImplementedError


def parse() -> None:
    """Parse a saved response offline."""
    raise NotImplementedError
