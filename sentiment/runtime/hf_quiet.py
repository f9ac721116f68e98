"""Keep transformers' progress bars off stdout/stderr while Kaiku loads or saves a model.

The CLI writes JSON lines and a service writes logs; a "Loading weights" bar in
either is noise. The previous setting is restored, so callers that want bars keep them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def quiet_progress_bars() -> Iterator[None]:
    from transformers.utils import logging  # late: importing transformers takes seconds

    was_enabled = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            logging.enable_progress_bar()
