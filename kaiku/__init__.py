"""Kaiku service shell: settings, configuration, CLI, demo."""

__version__ = "0.1.0"
