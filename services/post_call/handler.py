"""Lambda entry point of the post-call webhooks: ``POST /post-call``.

Answers exactly 200 ``{"status": "ok"}`` once the raw event is durably archived; the archive then
drives processing (see ``services.post_call.processor``).
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from agentic_memory.errors import DomainError
from agentic_memory.post_call import Acknowledgement, acknowledge
from agentic_memory.signature import HEADER
from agentic_memory.wiring import post_call_dependencies, prepare_in_lambda_init
from services.error_answers import answer_for
from services.http_edge import http_entry_point, json_response, request_from_event
from services.observability import logger_for, metrics_for

logger = logger_for("post-call")
metrics = metrics_for("post-call")


@http_entry_point(logger, metrics)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deps = post_call_dependencies()
    request = request_from_event(event)
    try:
        ack = acknowledge(request.body, request.header(HEADER), deps.settings, deps.archive)
    except DomainError as error:
        # Only unsigned or oversized requests and archive outages get here: counted, logged by code.
        metrics.add_metric(name="EventRefused", unit=MetricUnit.Count, value=1)
        answer = answer_for(error)
        logger.warning("post-call event refused", extra={"status": answer.status, "error": answer.code})
        raise
    logger.append_keys(conversation_id=ack.conversation_id)
    metrics.add_metric(
        name="DuplicateDelivery" if ack.duplicate else "EventArchived", unit=MetricUnit.Count, value=1
    )
    _count_where_filed(ack)
    logger.info(
        "post-call event acknowledged", extra={"event_type": ack.event_type[:60], "duplicate": ack.duplicate}
    )
    return json_response(200, {"status": "ok"})


def _count_where_filed(ack: Acknowledgement) -> None:
    """Events that will make no memory as they are: counted, and logged without personal data."""
    if ack.filed == "unattributed":
        metrics.add_metric(name="UnattributedEvent", unit=MetricUnit.Count, value=1)
        logger.warning("transcription names no caller; archived unattributed")
    elif ack.filed == "other":
        metrics.add_metric(name="UnprocessedEventType", unit=MetricUnit.Count, value=1)
        # The type is ElevenLabs' own word (or "" when unreadable), clipped: never caller data.
        logger.warning("event archived but not processed", extra={"event_type": ack.event_type[:60]})


# In Lambda only: secrets and clients are ready before the first caller (see prepare_in_lambda_init).
prepare_in_lambda_init(post_call_dependencies)
