"""Lambda entry point of the conversation initiation ("pre-call") webhook: ``POST /client-data``."""

import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from agentic_memory.auth import require_key
from agentic_memory.conversation_initiation import answer_conversation_initiation
from agentic_memory.elevenlabs.conversation_initiation import ConversationInitiationRequest
from agentic_memory.identity import mask
from agentic_memory.validation import parse
from agentic_memory.wiring import conversation_initiation_dependencies, prepare_in_lambda_init
from services.http_edge import http_entry_point, json_response, request_from_event
from services.observability import logger_for, metrics_for

logger = logger_for("client-data")
metrics = metrics_for("client-data")
# Leave room for the runtime's own overhead when the function's timeout is close to the budget.
LAMBDA_SAFETY_MARGIN_SECONDS = 0.1


@http_entry_point(logger, metrics)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = time.monotonic()
    deps = conversation_initiation_dependencies()
    request = request_from_event(event)
    header = deps.settings.workspace_key_header
    require_key(request.header(header), deps.settings.workspace_keys, header)
    initiation = parse(ConversationInitiationRequest, request.json_body(), "initiation request")
    # Before the domain runs: its log lines carry the call's ids too.
    logger.append_keys(conversation_id=initiation.conversation_id, agent_id=initiation.agent_id)
    remaining = context.get_remaining_time_in_millis() / 1000 - LAMBDA_SAFETY_MARGIN_SECONDS
    deadline = started + min(deps.settings.conversation_initiation_budget_seconds, remaining)
    outcome = answer_conversation_initiation(
        initiation, request.body, deps.settings, deps.archive, deps.clock(), deadline
    )
    metrics.add_metric(name="PrecallAnswered", unit=MetricUnit.Count, value=1)
    if outcome.withheld:
        metrics.add_metric(name="WithheldCaller", unit=MetricUnit.Count, value=1)
    elif outcome.missing_caller:
        # Answered neutral, never refused: counted so a misconfigured integration shows up.
        metrics.add_metric(name="UnattributedCall", unit=MetricUnit.Count, value=1)
        logger.warning("pre-call names no caller; answered with the neutral context")
    elif not outcome.memory_available:
        metrics.add_metric(name="MemoryUnavailable", unit=MetricUnit.Count, value=1)
        logger.warning("answered with the neutral context", extra={"reason": outcome.memory_error})
    if not outcome.archived:
        metrics.add_metric(name="ArchiveWriteLate", unit=MetricUnit.Count, value=1)
    logger.info(
        "pre-call answered",
        extra={
            "caller": mask(outcome.caller_id)
            if outcome.caller_id
            else ("withheld" if outcome.withheld else "none"),
            "returning_caller": outcome.response.dynamic_variables["returning_caller"],
            "elapsed_ms": round((time.monotonic() - started) * 1000, 1),
        },
    )
    return json_response(200, outcome.response.to_wire())


# In Lambda only: secrets and clients are ready before the first caller (see prepare_in_lambda_init).
prepare_in_lambda_init(conversation_initiation_dependencies)
