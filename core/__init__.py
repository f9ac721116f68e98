"""Kaiku's shared vocabulary: the bottom layer that every other package may import and that imports none of them."""

__version__ = "0.1.0"
