"""How often one stream may ask for a partial: a cap on its share of wall time.

A partial is a nicety; the final line and the explanations after it are the product. When
the machine is busy (more streams, the explainer generating), each partial takes longer to
come back, and the pause before the next one grows with it, so partials give way by
themselves and come back to full rate when the machine is quiet again.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class PartialPacer:
    def __init__(self, max_share: float, clock: Callable[[], float] = time.monotonic) -> None:
        if not 0.0 < max_share <= 1.0:
            raise ValueError("max_share must be in (0, 1]")
        # After a partial that took t, wait t * factor: t / (t + wait) is then max_share.
        self._factor = (1.0 - max_share) / max_share
        self._clock = clock
        self._next_at = float("-inf")

    def ready(self) -> bool:
        return self._clock() >= self._next_at

    def finished(self, took_s: float) -> None:
        self._next_at = self._clock() + took_s * self._factor
