"""The event loop the app runs on: uvloop where it is installed, else asyncio's own."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

try:
    import uvloop
except ImportError:  # Windows, PyPy: asyncio's loop works, only slower per round trip
    uvloop = None


def loop_name() -> str:
    return "uvloop" if uvloop is not None else "asyncio"


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to completion on a new loop (as ``asyncio.run``)."""
    if uvloop is not None:
        return uvloop.run(main)
    return asyncio.run(main)
