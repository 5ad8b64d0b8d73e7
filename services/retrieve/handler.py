"""Alias of ``services.search_memory.handler``: the handler path of the original layout.

Deployments and tests outside this repository may name ``services.retrieve.handler.lambda_handler``
(docs/architecture.md, "Names kept from the original system"); it is the very same function.
"""

from services.search_memory.handler import lambda_handler

__all__ = ["lambda_handler"]
