"""Spike alerts: the detector and its backtest."""
