"""Review extraction from saved or crawled pages; pure functions, no Scrapy needed."""

from crawler.extract.schema_org import ExtractResult, Problem, ReviewRecord, extract_reviews

__all__ = ["ExtractResult", "Problem", "ReviewRecord", "extract_reviews"]
