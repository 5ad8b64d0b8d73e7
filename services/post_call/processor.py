"""Lambda entry point of post-call processing, driven by SQS messages of S3 ``ObjectCreated`` events,
and by the processor's own delayed "fetch audio if still missing" messages (``audio_checks``).

Each archived event becomes memories (transcription) or an MP3 (audio); after a transcription, the
check of its audio is scheduled on the same queue. Powertools' batch utility
runs one record at a time and answers ``{"batchItemFailures": [...]}`` with the ids of the records
that raised, which is what the event source mapping's ``ReportBatchItemFailures`` expects: SQS
retries only those and, after ``maxReceiveCount`` receives, parks them in the dead-letter queue.
Locally the runtime's in-process queue calls this same handler with the same event shape.

A failed record is held for ``retry_schedule``'s delay (``ChangeMessageVisibility``: 30 s, 1, 2,
4 minutes, never less than Mem0's ``Retry-After``) rather than the queue's visibility timeout. An
EventBridge schedule invokes the same function every few minutes (``redrive``): once the memory store
answers, the dead letters go back to the queue, each at most three times.
"""

import json
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.s3_event import S3Event
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from agentic_memory.archive_keys import conversation_of_event, is_post_call_event
from agentic_memory.audio_checks import audio_check_of, check_audio, schedule_audio_check
from agentic_memory.post_call import PoisonEvent, process_archived_event
from agentic_memory.retry_schedule import MAX_REDRIVES, delay_before_retry, retry_after_of
from agentic_memory.wiring import ProcessorDependencies, prepare_in_lambda_init, processor_dependencies
from services.observability import entry_point, logger_for, metrics_for

logger = logger_for("post-call-processor")
metrics = metrics_for("post-call-processor")
# A batch whose every record failed is still answered with its failures, not an exception: with
# ReportBatchItemFailures the effect on SQS is the same, and the answer says which events failed.
batch = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
# The scheduled re-drive asks the memory store for this user's memories (none) to see that it answers.
HEALTH_PROBE_USER_ID = "agentic-memory-health-probe"
HEALTH_PROBE_TIMEOUT_SECONDS = 5.0


def archived_keys(message_body: str) -> list[str]:
    """The post-call event keys an S3 notification names (S3 URL-encodes them, ``+`` included).

    S3's ``s3:TestEvent``, sent when a notification is configured, has no records and names none.
    """
    body = json.loads(message_body)
    if isinstance(body, dict) and "Records" not in body and body.get("Event") == "s3:TestEvent":
        return []
    notification = S3Event(body)
    keys = [
        unquote_plus(record.s3.get_object.key)
        for record in notification.records
        if record.event_name.startswith("ObjectCreated")
    ]
    return [key for key in keys if is_post_call_event(key)]


def process_message(record: SQSRecord) -> None:
    """Process every event one message names; raising marks the message failed (SQS retries it)."""
    # One message is one event to follow: its lines, the domain's included, carry the message's id.
    logger.set_correlation_id(record.message_id)
    deps = processor_dependencies()
    conversation = None  # the event being processed, for the failure's log line
    try:
        # Two shapes of message: our own delayed audio check (recognised by its type), else S3's.
        check = audio_check_of(record.body)
        if check is not None:
            fetched = check_audio(check, deps.archive, deps.audio_source)
            metrics.add_metric(
                name="AudioFetched" if fetched.skipped is None else "AudioCheckSkipped",
                unit=MetricUnit.Count,
                value=1,
            )
            logger.info(
                "audio check done",
                extra={"conversation_id": fetched.conversation_id, "skipped": fetched.skipped},
            )
            return
        for key in archived_keys(record.body):
            conversation = conversation_of_event(key)
            result = process_archived_event(key, deps.settings, deps.archive, deps.memory, deps.audio_source)
            metrics.add_metric(name="EventProcessed", unit=MetricUnit.Count, value=1)
            scheduled = schedule_audio_check(
                key,
                result,
                deps.archive,
                deps.audio_source,
                deps.delayed_messages,
                deps.settings.audio_fetch_delay_seconds,
            )
            logger.info(
                "post-call event processed",
                extra={
                    "event_type": result.event_type,
                    "conversation_id": result.conversation_id,
                    "memories_added": result.memories_added,
                    "skipped": result.skipped,
                    "audio_check_scheduled": scheduled,
                },
            )
    except (PoisonEvent, ValueError, KeyError) as error:
        metrics.add_metric(name="PoisonEvent", unit=MetricUnit.Count, value=1)
        logger.error(
            "post-call event cannot be processed",
            extra={"reason": str(error)[:200], "conversation_id": conversation},
        )
        raise
    except Exception as error:
        # Memory store or archive trouble: the queue retries on a schedule (``retry_schedule``), then
        # parks it in the dead-letter queue, which the scheduled re-drive empties once Mem0 answers.
        metrics.add_metric(name="ProcessingFailed", unit=MetricUnit.Count, value=1)
        delay = _retry_later(record, error, deps)
        logger.exception(
            "post-call processing failed; the queue retries it until its receive limit, then parks it",
            extra={"conversation_id": conversation, "retry_in_seconds": delay},
        )
        raise


def _retry_later(record: SQSRecord, error: Exception, deps: ProcessorDependencies) -> float | None:
    """Ask the queue to hold the failed message for the schedule's delay (Mem0's Retry-After at
    least); the seconds asked, or None when there is no retry queue or it refused (the queue's own
    visibility timeout then applies)."""
    if deps.retry_queue is None:
        return None
    failed_attempts = int(record.attributes.approximate_receive_count or 1)
    delay = delay_before_retry(
        failed_attempts, deps.settings.retry_first_delay_seconds, retry_after_of(error)
    )
    try:
        deps.retry_queue.retry_later(record.receipt_handle, delay)
    except Exception as refused:  # noqa: BLE001 - the processing error is the one to raise
        logger.warning("the retry could not be scheduled", extra={"reason": type(refused).__name__})
        return None
    return delay


def redrive(deps: ProcessorDependencies) -> dict[str, Any]:
    """The scheduled run: once the memory store answers again, send the dead letters back to the
    queue (each at most ``MAX_REDRIVES`` times). Answers what it did, counts only."""
    if deps.retry_queue is None:
        return {"redriven": 0, "kept": 0, "skipped": "no dead-letter queue configured"}
    try:
        deps.memory.list_all(HEALTH_PROBE_USER_ID, HEALTH_PROBE_TIMEOUT_SECONDS)
    except Exception as error:  # noqa: BLE001 - any failure means: not yet
        logger.info(
            "dead letters not re-driven: the memory store is unavailable",
            extra={"reason": type(error).__name__},
        )
        return {"redriven": 0, "kept": 0, "skipped": "memory store unavailable"}
    done = deps.retry_queue.redrive_dead_letters(MAX_REDRIVES)
    metrics.add_metric(name="DeadLettersRedriven", unit=MetricUnit.Count, value=done.moved)
    if done.moved or done.kept:
        logger.info("dead letters re-driven", extra={"redriven": done.moved, "kept": done.kept})
    return {"redriven": done.moved, "kept": done.kept}


def is_scheduled_event(event: Any) -> bool:
    """An EventBridge schedule's invocation (``source`` "aws.events", ``detail-type`` "Scheduled Event")."""
    return (
        isinstance(event, dict)
        and event.get("source") == "aws.events"
        and (event.get("detail-type") == "Scheduled Event")
    )


@entry_point(logger, metrics)
def lambda_handler(
    event: dict[str, Any], context: LambdaContext
) -> PartialItemFailureResponse | dict[str, Any]:
    # Built before the batch: a configuration error fails the whole invocation loudly, not record by record.
    deps = processor_dependencies()
    if is_scheduled_event(event):
        return redrive(deps)
    return process_partial_response(
        event=event, record_handler=process_message, processor=batch, context=context
    )


# In Lambda only: secrets and clients are ready before the first caller (see prepare_in_lambda_init).
prepare_in_lambda_init(processor_dependencies)
