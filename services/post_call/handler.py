"""Lambda entry point of the post-call webhooks: ``POST /post-call``.

Answers exactly 200 ``{"status": "ok"}`` once the raw event is durably archived; the archive then
drives processing (see ``services.post_call.processor``).
"""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from agentic_memory.http import answer_domain_errors, json_response, request_from_event
from agentic_memory.post_call import acknowledge
from agentic_memory.signature import HEADER
from agentic_memory.wiring import post_call_dependencies
from services.observability import logger_for, metrics_for

logger = logger_for("post-call")
metrics = metrics_for("post-call")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
@answer_domain_errors
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deps = post_call_dependencies()
    request = request_from_event(event)
    ack = acknowledge(request.body, request.header(HEADER), deps.settings, deps.archive)
    logger.append_keys(conversation_id=ack.conversation_id)
    metrics.add_metric(
        name="DuplicateDelivery" if ack.duplicate else "EventArchived", unit=MetricUnit.Count, value=1
    )
    logger.info(
        "post-call event acknowledged", extra={"event_type": ack.event_type, "duplicate": ack.duplicate}
    )
    return json_response(200, {"status": "ok"})
