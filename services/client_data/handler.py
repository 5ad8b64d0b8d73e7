"""Alias of ``services.conversation_initiation.handler``: the handler path of the original layout.

Deployments and tests outside this repository may name ``services.client_data.handler.lambda_handler``
(docs/architecture.md, "Names kept from the original system"); it is the very same function.
"""

from services.conversation_initiation.handler import lambda_handler

__all__ = ["lambda_handler"]
