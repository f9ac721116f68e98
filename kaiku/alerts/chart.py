"""The small chart in an alert email: the last days of counts, the usual band and the incident, as a PNG.

Rendered locally with matplotlib's Agg renderer (no display, nothing fetched at send time) and embedded in the
email as an inline image part. A bare `Figure`, not pyplot: no global figure registry to share between the
scheduler's threads, and no GUI backend to pick. Import this module only when there is a chart to draw: matplotlib
takes seconds to load (kaiku.alerts.check imports it lazily).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

import matplotlib.dates as mdates
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

WIDTH_PX, HEIGHT_PX, DPI = 600, 220, 100


def spike_chart(
    timestamps: Sequence[datetime],
    counts: Sequence[float],
    usual: Sequence[float] | np.ndarray,
    threshold: Sequence[float] | np.ndarray,
    start: datetime,
    end: datetime,
    label: str,
) -> bytes:
    """PNG (600 x 220 px) of `counts` per slot, the band between the usual count and the alert threshold, and the
    incident from `start` to `end` shaded. NaN in `usual`/`threshold` (warm-up) leaves a gap in the band."""
    x = mdates.date2num(list(timestamps))
    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.xaxis_date()
    ax.fill_between(x, usual, threshold, color="#9ecae1", alpha=0.5, linewidth=0, label="usual band")
    ax.plot(x, counts, color="#08519c", linewidth=1.0, label=label)
    ax.axvspan(
        float(mdates.date2num(start)),
        float(mdates.date2num(end)),
        color="#de2d26",
        alpha=0.25,
        linewidth=0,
        label="incident",
    )
    ax.set_ylim(bottom=0)
    ax.margins(x=0)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, loc="upper left", frameon=False)
    fig.autofmt_xdate()
    fig.tight_layout(pad=0.4)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()
