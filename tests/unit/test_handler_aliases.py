"""The handler paths of the original layout still name the same Lambda handlers.

During `pulumi up` the new code can run under the old handler setting for a moment, and deployments or
tests outside this repository may name the old paths: both must reach the very same function.
"""

import importlib

import pytest


@pytest.mark.parametrize(
    ("alias", "handler"),
    [
        ("services.client_data.handler", "services.conversation_initiation.handler"),
        ("services.retrieve.handler", "services.search_memory.handler"),
    ],
)
def test_an_original_handler_path_is_the_same_function(alias, handler):
    # Given both modules, when their lambda_handler is looked up, then it is one object
    assert importlib.import_module(alias).lambda_handler is importlib.import_module(handler).lambda_handler
