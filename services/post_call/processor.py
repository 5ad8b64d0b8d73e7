"""Lambda entry point of post-call processing, driven by SQS messages of S3 ``ObjectCreated`` events.

Each archived event becomes memories (transcription) or an MP3 (audio). Failed messages are
reported back as partial batch failures so SQS retries them and, in the end, parks them in the
dead-letter queue. Locally the runtime's in-process queue calls this same handler.
"""

import json
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from agentic_memory.archive_keys import is_post_call_event
from agentic_memory.post_call import PoisonEvent, process_archived_event
from agentic_memory.wiring import current_dependencies
from services.observability import logger_for, metrics_for

logger = logger_for("post-call-processor")
metrics = metrics_for("post-call-processor")


def archived_keys(message_body: str) -> list[str]:
    """The object keys of an S3 event notification (S3 URL-encodes them, ``+`` included)."""
    notification = json.loads(message_body)
    keys = [
        unquote_plus(record["s3"]["object"]["key"])
        for record in notification.get("Records", [])
        if str(record.get("eventName", "")).startswith("ObjectCreated")
    ]
    return [key for key in keys if is_post_call_event(key)]


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deps = current_dependencies()
    failures = []
    for message in event.get("Records", []):
        try:
            for key in archived_keys(message["body"]):
                result = process_archived_event(
                    key, deps.settings, deps.archive, deps.memory, deps.audio_source
                )
                metrics.add_metric(name="EventProcessed", unit=MetricUnit.Count, value=1)
                logger.info(
                    "post-call event processed",
                    extra={
                        "event_type": result.event_type,
                        "conversation_id": result.conversation_id,
                        "memories_added": result.memories_added,
                        "skipped": result.skipped,
                    },
                )
        except (PoisonEvent, ValueError, KeyError) as error:
            metrics.add_metric(name="PoisonEvent", unit=MetricUnit.Count, value=1)
            logger.error("post-call event cannot be processed", extra={"reason": str(error)[:200]})
            failures.append({"itemIdentifier": message.get("messageId", "")})
        except Exception:
            # Memory store or archive trouble: the queue retries, then parks it in the dead-letter queue.
            metrics.add_metric(name="ProcessingFailed", unit=MetricUnit.Count, value=1)
            logger.exception("post-call processing failed; the queue will retry")
            failures.append({"itemIdentifier": message.get("messageId", "")})
    return {"batchItemFailures": failures}
