"""Lambda entry point of the agent's ``search_memory`` tool: ``GET|POST /retrieve``."""

import time
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from agentic_memory.auth import require_key_if_configured
from agentic_memory.elevenlabs.search_memory import SearchMemoryRequest
from agentic_memory.errors import MemoryUnavailable
from agentic_memory.identity import mask
from agentic_memory.scope import AgentNotNamed
from agentic_memory.search_memory import options_from, search_memories
from agentic_memory.validation import parse
from agentic_memory.wiring import prepare_in_lambda_init, search_memory_dependencies
from services.http_edge import http_entry_point, json_response, request_from_event
from services.observability import logger_for, metrics_for
from services.search_memory.tool_parameters import search_request_from

logger = logger_for("retrieve")
metrics = metrics_for("retrieve")
# What the agent can say when memory cannot be searched right now.
UNAVAILABLE_NOTE = "Memory search is unavailable right now; continue without past details."
# Memories are kept per caller and agent, and the tool did not say which agent is asking.
NO_AGENT_NOTE = (
    "Memory is kept per agent and this request named no agent_id (send system__current_agent_id): "
    "nothing was searched; continue without past details."
)


@http_entry_point(logger, metrics)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = time.monotonic()
    deps = search_memory_dependencies()
    request = request_from_event(event)
    require_key_if_configured(request.header("x-tool-key"), deps.settings.tool_keys, "X-Tool-Key")
    search = parse(SearchMemoryRequest, search_request_from(request), "search request")
    options = options_from(deps.settings, datetime.now(UTC))
    try:
        caller_id, memories = search_memories(search, deps.memory, deps.archive, options, started)
    except AgentNotNamed:
        metrics.add_metric(name="AgentNotNamed", unit=MetricUnit.Count, value=1)
        logger.warning("search without agent_id under MEMORY_SCOPE=caller_and_agent: answered empty")
        return json_response(200, {"memories": [], "note": NO_AGENT_NOTE})
    except MemoryUnavailable as error:
        metrics.add_metric(name="MemoryUnavailable", unit=MetricUnit.Count, value=1)
        logger.warning("memory search failed", extra={"reason": str(error)[:200]})
        return json_response(200, {"memories": [], "note": UNAVAILABLE_NOTE})
    metrics.add_metric(name="SearchAnswered", unit=MetricUnit.Count, value=1)
    logger.info(
        "memories searched",
        extra={
            "caller": mask(caller_id) if caller_id else "withheld",
            "found": len(memories),
            "elapsed_ms": round((time.monotonic() - started) * 1000, 1),
        },
    )
    return json_response(200, {"memories": memories})


# In Lambda only: secrets and clients are ready before the first caller (see prepare_in_lambda_init).
prepare_in_lambda_init(search_memory_dependencies)
