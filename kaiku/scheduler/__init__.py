"""`kaiku scheduler`: APScheduler with a persistent SQLAlchemy job store running crawls, checks and upkeep."""
