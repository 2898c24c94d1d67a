"""Waiting for an eventually consistent system to get there."""
from __future__ import annotations

import time


def eventually(check, timeout: float = 30.0, interval: float = 0.2, message: str = "condition not met"):
    """Poll ``check`` until it returns something truthy; the platform is eventually consistent across services."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{message} within {timeout}s (last: {last!r})")
