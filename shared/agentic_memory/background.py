"""A small shared thread pool for work that overlaps the critical path (archive writes, reads)."""

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import copy_context
from typing import Any, TypeVar

T = TypeVar("T")
_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def submit(function: Callable[..., T], *args: Any) -> "Future[T]":
    global _pool
    with _lock:
        if _pool is None:
            # Created on first use, not at import: Lambda's init stays lean.
            _pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="agentic-memory")
    # In a copy of the submitter's context: what the work logs is told apart as the submitter's invocation.
    return _pool.submit(copy_context().run, function, *args)
