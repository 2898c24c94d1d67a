"""Waiting for an eventually consistent system to get there."""
from __future__ import annotations

import asyncio
import inspect
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


async def arrives(check, timeout: float = 10.0, interval: float = 0.05):
    """``eventually`` inside a service's own event loop: ``check`` is awaited (or just called, when it is a plain
    function), and the loop keeps running the service meanwhile."""
    async with asyncio.timeout(timeout):
        while True:
            result = check()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return result
            await asyncio.sleep(interval)
