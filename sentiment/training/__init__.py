"""Labelled data for training the default head (used by scripts/, never when scoring)."""
