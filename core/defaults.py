"""Defaults that several layers use, each defined here once (the settings, the Scrapy settings, the library
signatures and the docs' KAIKU_* table all take them from here)."""

# Texts scored per model call: KAIKU_BATCH_SIZE, the crawl's scoring batches and the classifiers' own batches.
BATCH_SIZE = 32

# A brand's norm for the relative experience class (crawler/baselines.py, kaiku/rescore.py): the scored mentions
# it needs before its own norm counts (else its industry's), and how far back the norm looks.
BASELINE_MIN_HISTORY = 50
BASELINE_DAYS = 90
