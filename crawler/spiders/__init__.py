"""Kaiku's spiders; each is runnable against a local server because its base URLs come from config."""
