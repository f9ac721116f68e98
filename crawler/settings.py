"""Scrapy settings for Kaiku's crawler: polite by default.

Also usable as a Scrapy settings module (`SCRAPY_SETTINGS_MODULE=crawler.settings scrapy list`), but
Kaiku runs its crawls through `crawler.runner.run_crawl`, which attaches the brands, classifier, writer and store
(`crawler.context.CrawlContext`).
"""

from core import __version__
from core.defaults import BASELINE_DAYS, BASELINE_MIN_HISTORY, BATCH_SIZE
from crawler.dedup import DEFAULT_THRESHOLD as DEFAULT_DEDUP_THRESHOLD

BOT_NAME = "kaiku"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Say who we are; site owners can find and block us by this name.
USER_AGENT = f"Kaiku/{__version__} (earned-media monitoring; obeys robots.txt)"
ROBOTSTXT_OBEY = True

# One or two requests at a time per site, at least a second apart, slower when the site slows down.
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
RETRY_ENABLED = True
RETRY_TIMES = 2
COOKIES_ENABLED = False
# Scrapy's telnet console and remote-control HTTP server let anyone with the port (and token) run code in the
# crawling process; Kaiku never uses them, so they stay closed.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

LOG_LEVEL = "INFO"
DEFAULT_DROPITEM_LOG_LEVEL = "DEBUG"  # items of other brands are dropped all the time; not a warning
FEED_EXPORT_ENCODING = "utf-8"

# Scrapy's RetryMiddleware is replaced by one that waits (Retry-After, else exponential backoff) before retrying.
DOWNLOADER_MIDDLEWARES = {
    "crawler.url_guard.UrlGuardMiddleware": 50,  # first: links and redirects to internal addresses are never fetched
    "crawler.middlewares.RequestBudgetMiddleware": 150,  # after robots.txt (100): refused pages cost no budget
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.ResponseCheckMiddleware": 540,  # engine side of the retry: a truncated page is retried first
    "crawler.middlewares.BackoffRetryMiddleware": 550,
}
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024  # a review page or API answer larger than this is not one; counted as oversized
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
KAIKU_ALLOW_PRIVATE_URLS = False  # crawler/url_guard.py; the runner sets it from KAIKU_ALLOW_PRIVATE_URLS
KAIKU_BASELINE_MIN_HISTORY = BASELINE_MIN_HISTORY  # scored mentions a brand (or its industry) needs for a norm
KAIKU_BASELINE_DAYS = BASELINE_DAYS  # how far back the norm looks (ending a week before the crawl)
KAIKU_BACKOFF_BASE = 2.0  # seconds before the first retry when the server gives no Retry-After; doubles per try
KAIKU_RETRY_MAX_DELAY = 300.0  # longer Retry-After: not retried in this crawl
KAIKU_MAX_REQUESTS = 0  # per-crawl request budget; 0 = none (the runner sets the source's, crawler/politeness.py)

# The mentions of one response are looked up in the store together (one near-duplicate request per page).
SPIDER_MIDDLEWARES = {"crawler.pipelines.PageTextsMiddleware": 950}

ITEM_PIPELINES = {
    "crawler.pipelines.BrandMatchPipeline": 100,
    "crawler.pipelines.LanguagePipeline": 200,
    "crawler.pipelines.DuplicatePipeline": 300,
    "crawler.pipelines.NearDuplicatePipeline": 350,
    "crawler.pipelines.ScoreAndIndexPipeline": 400,
}

# Kaiku's own settings: plain values only. The brands, classifier, writer and store travel in the crawl's
# CrawlContext (crawler/context.py).
KAIKU_BATCH_SIZE = BATCH_SIZE
KAIKU_DETECT_LANGUAGE = True
KAIKU_LANG_HIGH_ACCURACY = True
KAIKU_DEDUP_LOOKUP_INDEX = True  # False: near-duplicates are looked for within the crawl only
KAIKU_DEDUP_THRESHOLD = DEFAULT_DEDUP_THRESHOLD  # estimated Jaccard similarity of character shingles (crawler/dedup.py)
