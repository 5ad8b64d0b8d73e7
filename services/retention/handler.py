"""Lambda entry point of the daily retention purge, invoked by an EventBridge schedule.

With ``RETENTION_DAYS`` set, deletes every caller brief whose last call is older than the period,
with the memories of its Mem0 ``user_id`` and the caller's archived calls from before the period
(``agentic_memory.retention``). Without it, does nothing. Answers counts only, never a caller: the
schedule's invocation record and the logs hold no personal data. One caller failing is logged and
left for the next day's run (its brief is deleted last); the run itself does not fail for it.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from agentic_memory.retention import purge_expired
from agentic_memory.wiring import prepare_in_lambda_init, retention_dependencies
from services.observability import entry_point, logger_for, metrics_for

logger = logger_for("retention")
metrics = metrics_for("retention")


@entry_point(logger, metrics)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """``{"retention_days", "expired", "memories_deleted", "objects_deleted", "failed"}``."""
    deps = retention_dependencies()
    days = deps.settings.retention_days
    report = purge_expired(deps.archive, deps.memory, days, deps.clock())
    answer = {
        "retention_days": days,
        "expired": len(report.expired),
        "memories_deleted": report.memories_deleted,
        "objects_deleted": report.objects_deleted,
        "failed": len(report.failed),
    }
    metrics.add_metric(
        name="ExpiredBriefsPurged", unit=MetricUnit.Count, value=len(report.expired) - len(report.failed)
    )
    metrics.add_metric(name="PurgeFailures", unit=MetricUnit.Count, value=len(report.failed))
    if report.failed:
        reasons = sorted({reason.split(":")[0] for reason in report.failed.values()})
        logger.warning(
            "some expired callers could not be purged",
            extra={"failed": len(report.failed), "reasons": reasons},
        )
    logger.info("retention purge done", extra=answer)
    return answer


# In Lambda only: secrets and clients are ready before the first run (see prepare_in_lambda_init).
prepare_in_lambda_init(retention_dependencies)
