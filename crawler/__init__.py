"""Scrapy crawler: review extraction, spiders, pipelines (brand match, language, sentiment, index) and the runner."""
