"""The polarity models behind `load_classifier`: the offline e5 head and any transformers classifier."""
