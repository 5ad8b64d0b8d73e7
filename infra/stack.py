"""Composition of one stack from its settings, its secrets and the Lambda artifact.

Everything is a child of a component, and every component uses the stack's explicit AWS provider,
which carries the region and the tags (project, environment) that every resource gets.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from agentic_memory.settings import ArchiveBackend, MemoryBackend, WorkspaceKeySettings, environment_names
from infra import iam
from infra.components.alarms import AlarmTopic, AlarmTopicArgs
from infra.components.archive_bucket import ArchiveBucket, ArchiveBucketArgs
from infra.components.http_api import HttpApi, HttpApiArgs, HttpRoute
from infra.components.processing_queue import ProcessingQueue, ProcessingQueueArgs
from infra.components.schedule import Schedule, ScheduleArgs
from infra.components.secret_parameters import SecretParameters, SecretParametersArgs
from infra.components.service_function import ServiceFunction, ServiceFunctionArgs
from infra.functions import EVENT_PREFIX, EVENT_SUFFIX, FUNCTIONS, PROCESSOR, ROUTES, SCHEDULED, FunctionSpec
from infra.secret_config import SECRETS_BY_VARIABLE
from infra.settings import FunctionSettings, StackSettings, greetings_variable

# services/observability.py sets the same namespace in code; the variable keeps Powertools consistent.
METRICS_NAMESPACE = "AgenticMemory"
# The workspace secrets ElevenLabs sends the keys from (docs/deployment.md §6.1), and the header the
# application expects the workspace key in when the stack names none.
WORKSPACE_KEY_SECRET = "agentic_memory_workspace_key"
TOOL_KEY_SECRET = "agentic_memory_tool_key"
DEFAULT_WORKSPACE_KEY_HEADER = WorkspaceKeySettings.model_fields["workspace_key_header"].default
NOT_NAMED = "(not named in the stack file)"


@dataclass(frozen=True)
class StackResources:
    settings: StackSettings
    alarms: AlarmTopic
    secrets: SecretParameters
    archive: ArchiveBucket
    queue: ProcessingQueue
    functions: Mapping[str, ServiceFunction]
    api: HttpApi
    processor_mapping: aws.lambda_.EventSourceMapping
    # Functions run on a schedule (the retention purge): their EventBridge targets, by function key.
    schedules: Mapping[str, Schedule] = field(default_factory=dict)

    def outputs(self) -> dict[str, pulumi.Input[Any]]:
        return {
            "clientDataUrl": self.api.url("/client-data"),
            "retrieveUrl": self.api.url("/retrieve"),
            "postCallUrl": self.api.url("/post-call"),
            "archiveBucketName": self.archive.name,
            "queueName": self.queue.queue.name,
            "deadLetterQueueName": self.queue.dead_letter_queue.name,
            # For `agentic-memory replay --dead-letter --dead-letter-queue-url`.
            "deadLetterQueueUrl": self.queue.dead_letter_queue.url,
            "alarmTopicArn": self.alarms.arn,
            # What to paste into this stack's ElevenLabs workspace and which Mem0 project it writes to
            # (docs/deployment.md §6.0): `pulumi stack output -s <stack> elevenLabsSetup --json`.
            "elevenLabsSetup": self.elevenlabs_setup(),
            "mem0Project": self.settings.mem0.project or NOT_NAMED,
        }

    def elevenlabs_setup(self) -> pulumi.Output[dict[str, Any]]:
        settings, stack = self.settings, self.settings.stack
        tool_key = "ELEVENLABS_TOOL_KEY" in self.secrets.names

        def setup(urls: dict[str, str]) -> dict[str, Any]:
            secrets = {
                WORKSPACE_KEY_SECRET: f"pulumi config get -s {stack} elevenlabs:workspaceKey",
                **({TOOL_KEY_SECRET: f"pulumi config get -s {stack} elevenlabs:toolKey"} if tool_key else {}),
            }
            tool: dict[str, Any] = {"url": urls["retrieve"], "method": "POST"}
            if tool_key:
                tool["headers"] = {"X-Tool-Key": f"workspace secret {TOOL_KEY_SECRET}"}
            return {
                "workspace": settings.eleven_labs_workspace or NOT_NAMED,
                "workspaceSecrets": secrets,
                "preCallWebhook": {
                    "url": urls["client_data"],
                    "headers": {
                        settings.workspace_key_header or DEFAULT_WORKSPACE_KEY_HEADER: (
                            f"workspace secret {WORKSPACE_KEY_SECRET}"
                        )
                    },
                },
                "searchMemoryTool": tool,
                "postCallWebhook": {
                    "url": urls["post_call"],
                    "authentication": "HMAC",
                    # ElevenLabs shows the webhook's signing secret once: it goes into the stack.
                    "thenRun": (
                        f"pulumi config set -s {stack} --secret elevenlabs:hmacKey; pulumi up -s {stack}"
                    ),
                },
            }

        return pulumi.Output.all(
            client_data=self.api.url("/client-data"),
            retrieve=self.api.url("/retrieve"),
            post_call=self.api.url("/post-call"),
        ).apply(setup)


def build_stack(
    settings: StackSettings, secret_values: Mapping[str, pulumi.Output[str]], code: pulumi.Archive
) -> StackResources:
    prefix = settings.resource_prefix
    provider = aws.Provider(
        "aws",
        region=settings.region,
        default_tags=aws.ProviderDefaultTagsArgs(
            tags={"project": settings.project, "environment": settings.stack, "managed-by": "pulumi"}
        ),
    )
    opts = pulumi.ResourceOptions(providers=[provider])
    account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=provider)).account_id

    alarms = AlarmTopic(
        "alarms", AlarmTopicArgs(topic_name=f"{prefix}-alarms", email=settings.alarm_email), opts
    )
    secrets = SecretParameters(
        "secrets",
        SecretParametersArgs(
            parameter_path=settings.parameter_path, key_alias=f"alias/{prefix}-secrets", values=secret_values
        ),
        opts,
    )
    archive = ArchiveBucket(
        "archive", ArchiveBucketArgs(bucket_prefix=settings.bucket_prefix, settings=settings.archive), opts
    )
    queue = ProcessingQueue(
        "post-call-events",
        ProcessingQueueArgs(
            queue_name=f"{prefix}-post-call-events",
            consumer_timeout_seconds=settings.functions.processor.timeout_seconds,
            settings=settings.queue,
            source_bucket_arn=archive.arn,
            source_account_id=account_id,
            alarm_topic_arn=alarms.arn,
        ),
        opts,
    )
    archive.notify_queue(queue.arn, EVENT_PREFIX, EVENT_SUFFIX, depends_on=[queue.policy])

    functions = {
        spec.key: ServiceFunction(
            spec.key, _function_args(spec, settings, secrets, archive, queue, alarms, code), opts
        )
        for spec in FUNCTIONS
    }
    schedules = {
        key: Schedule(
            f"{key}-schedule",
            ScheduleArgs(rule_name=settings.function_name(key), expression=rate, function=functions[key]),
            opts,
        )
        for key, rate in SCHEDULED.items()
    }
    processor = functions[PROCESSOR.key]
    processor_mapping = queue.deliver_to(processor.alias_arn, depends_on=[processor.role_policy])

    api = HttpApi(
        "api",
        HttpApiArgs(
            api_name=prefix,
            routes=[
                HttpRoute(
                    method=route.method,
                    path=route.path,
                    function=functions[route.function.key],
                    function_key=route.function.key,
                    timeout_seconds=_function_settings(settings, route.function).timeout_seconds,
                )
                for route in ROUTES
            ],
            settings=settings.api,
            log_retention_days=settings.log_retention_days,
            alarm_topic_arn=alarms.arn,
        ),
        opts,
    )
    return StackResources(
        settings, alarms, secrets, archive, queue, functions, api, processor_mapping, schedules
    )


def _function_settings(settings: StackSettings, spec: FunctionSpec) -> FunctionSettings:
    function_settings: FunctionSettings = getattr(settings.functions, spec.settings_field)
    return function_settings


def _function_args(
    spec: FunctionSpec,
    settings: StackSettings,
    secrets: SecretParameters,
    archive: ArchiveBucket,
    queue: ProcessingQueue,
    alarms: AlarmTopic,
    code: pulumi.Archive,
) -> ServiceFunctionArgs:
    statements = [*iam.archive_access(archive.arn, spec.archive)]
    parameter_arns = secrets.arns(spec.secrets)
    if parameter_arns:
        statements += iam.secret_reading(parameter_arns, secrets.key.arn, settings.region)
    if spec is PROCESSOR:
        statements += [iam.queue_consumption(queue.arn), iam.queue_sending(queue.arn)]
        statements += iam.queue_retries(queue.arn, queue.dead_letter_queue.arn)
    return ServiceFunctionArgs(
        function_name=settings.function_name(spec.key),
        handler=spec.handler,
        description=spec.description,
        code=code,
        architecture=settings.architecture,
        settings=_function_settings(settings, spec),
        log_retention_days=settings.log_retention_days,
        log_level=settings.log_level,
        alarm_topic_arn=alarms.arn,
        environment=function_environment(
            spec, settings, archive, secrets, queue.queue.url, queue.dead_letter_queue.url
        ),
        statements=statements,
    )


def function_environment(
    spec: FunctionSpec,
    settings: StackSettings,
    archive: ArchiveBucket,
    secrets: SecretParameters,
    queue_url: pulumi.Input[str] | None = None,
    dead_letter_queue_url: pulumi.Input[str] | None = None,
) -> dict[str, pulumi.Input[str]]:
    """Plain configuration plus parameter *names*; never a secret value.

    Each function gets only the settings its own model reads (``spec.settings_model``), and its
    backends by name: inside Lambda the application refuses to start without them, rather than fall
    back to the local runtime's adapters.
    """
    mem0 = settings.mem0
    environment: dict[str, pulumi.Input[str]] = {
        "POWERTOOLS_SERVICE_NAME": spec.key,
        "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
        # Read by Powertools' Logger (its legacy name for POWERTOOLS_LOG_LEVEL), not by the application.
        "LOG_LEVEL": settings.log_level,
    }
    # Only what the stack sets: otherwise the application's defaults apply, so they are kept in one place.
    configured: dict[str, pulumi.Input[str] | str | int | float | None] = {
        "ARCHIVE_BACKEND": ArchiveBackend.S3.value,
        "S3_BUCKET_NAME": archive.name,
        "MEMORY_BACKEND": MemoryBackend.MEM0_PLATFORM.value,
        "MEM0_BASE_URL": mem0.base_url,
        "MEM0_SEARCH_LIMIT": mem0.search_limit,
        "MEM0_TIMEOUT": mem0.timeout_seconds,
        "AGENT_PHONE_NUMBERS": ",".join(settings.agent_phone_numbers) or None,
        "DEFAULT_COUNTRY_CODE": settings.default_country_code,
        "CALLER_ID_VARIABLES": ",".join(settings.caller_id_variables) or None,
        "WORKSPACE_KEY_HEADER": settings.workspace_key_header,
        "MEMORY_SCOPE": settings.memory_scope,
        "RETENTION_DAYS": settings.retention_days,
        "WELCOME_MESSAGE": settings.welcome_message,
        "RETURNING_GREETING": settings.returning_greeting,
        "OUTBOUND_WELCOME_MESSAGE": settings.outbound_welcome_message,
        "OUTBOUND_RETURNING_GREETING": settings.outbound_returning_greeting,
        "GREETING_LANGUAGE": settings.greeting_language,
        "GREETINGS_BY_LANGUAGE": (
            greetings_variable(settings.greetings_by_language) if settings.greetings_by_language else None
        ),
        "LANGUAGE_OVERRIDE": None
        if settings.language_override is None
        else str(settings.language_override).lower(),
        "PROMPT_OVERRIDE_TEMPLATE": settings.prompt_override_template,
        "PRECALL_BUDGET_SECONDS": settings.precall_budget_seconds,
        "SEARCH_ANSWER_MAX_CHARS": settings.search_answer_max_chars,
        "SEARCH_BUDGET_SECONDS": settings.search_budget_seconds,
        "SIGNATURE_TOLERANCE_SECONDS": settings.signature_tolerance_seconds,
        "REDACT_KINDS": ",".join(settings.redact_kinds or ()) or None,
        "AUDIO_FETCH_DELAY_SECONDS": settings.audio_fetch_delay_seconds,
        "RETRY_FIRST_DELAY_SECONDS": settings.retry_first_delay_seconds,
        # The processor's own queue, for its delayed audio checks.
        "PROCESSING_QUEUE_URL": queue_url,
        # Its dead-letter queue, which the processor re-drives on its schedule (retry_schedule).
        "DEAD_LETTER_QUEUE_URL": dead_letter_queue_url,
    }
    read = environment_names(spec.settings_model)
    for name, value in configured.items():
        if name in read and value is not None:
            environment[name] = value if isinstance(value, pulumi.Output) else str(value)
    own = [variable for variable in spec.secrets if variable in secrets.names]
    for variable in own:
        environment[SECRETS_BY_VARIABLE[variable].parameter_variable] = secrets.names[variable]
    if own:
        # A function reads its secrets once per execution environment. Recording the parameters'
        # versions here makes a changed secret change the configuration too: `pulumi up` then
        # publishes a new version and the alias moves to fresh environments that read the new value.
        versions = [pulumi.Output.concat(v, "=", secrets.parameters[v].version.apply(str)) for v in own]
        environment["SECRET_PARAMETER_VERSIONS"] = pulumi.Output.all(*versions).apply(",".join)
    return environment
