"""Whole stacks, one per stack file: the real program under mocks, checked on the recorded graph.

Given a stack file, when the program runs, then the resources are wired the way docs/architecture.md and the
stack file say: the routes, the aliases, the least-privilege roles, the archive and its queue, the
alarms and the outputs.
"""

import json

import pytest
from infra_fixtures import fixture_settings, synthesize_fixture

from agentic_memory.settings import environment_names
from infra.functions import CLIENT_DATA, FUNCTIONS, PROCESSOR, RETENTION, RETRIEVE
from infra.graph import is_secret, snapshot_value
from infra.settings import Mem0Settings
from infra.stack import function_environment
from infra.synth import MOCK_ACCOUNT_ID

FUNCTION = "aws:lambda/function:Function"
LAMBDA_ALIAS = "aws:lambda/alias:Alias"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROUTE = "aws:apigatewayv2/route:Route"
INTEGRATION = "aws:apigatewayv2/integration:Integration"
PERMISSION = "aws:lambda/permission:Permission"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
QUEUE = "aws:sqs/queue:Queue"
PARAMETER = "aws:ssm/parameter:Parameter"
PROVISIONED = "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig"

HANDLERS = {
    "client-data": "services.conversation_initiation.handler.lambda_handler",
    "retrieve": "services.search_memory.handler.lambda_handler",
    "post-call": "services.post_call.handler.lambda_handler",
    "post-call-processor": "services.post_call.processor.lambda_handler",
    "retention": "services.retention.handler.lambda_handler",
}
SETTINGS_FIELD = {"client-data": "client_data", "retrieve": "retrieve", "post-call": "post_call",
                  "post-call-processor": "processor", "retention": "retention"}  # fmt: skip
# The retention purge reads, lists and deletes what expires: briefs and the callers' archived calls.
PURGED = ["client-data/*", "corrections/*", "memory-adds/*", "post-call/*", "profiles/*", "recall/*"]
# What each function may do in the archive: action -> key patterns (the brief's least-privilege table).
ARCHIVE_ACCESS = {
    # agents/: the agent's own numbers, learned by the processor, read by the pre-call.
    # profiles/: the caller brief, kept by the processor, read by the pre-call.
    # links/: WhatsApp business-scoped ids linked to numbers, learned by the processor, read wherever
    # a caller is resolved.
    "client-data": {"s3:GetObject": ["agents/*", "links/*", "profiles/*"], "s3:PutObject": ["client-data/*"]},
    # recall/: the caller's recall index, kept by the processor, read by the search tool.
    "retrieve": {"s3:GetObject": ["links/*", "recall/*"]},
    "post-call": {"s3:GetObject": ["links/*"], "s3:PutObject": ["post-call/*"]},
    # memory-adds/: the receipts that keep adds with inference once per conversation.
    # corrections/: the operators' corrections, which processing honours (written by operators only).
    "post-call-processor": {
        "s3:GetObject": [
            "agents/*",
            "corrections/*",
            "links/*",
            "memory-adds/*",
            "post-call/*",
            "profiles/*",
            "recall/*",
        ],
        "s3:PutObject": [
            "agents/*",
            "links/*",
            "memory-adds/*",
            "post-call/audio-only/*",
            "profiles/*",
            "recall/*",
        ],
        # post-call/: a late delivery of a call an operator removed, and its audio, are deleted.
        "s3:DeleteObject": ["post-call/*"],
    },
    "retention": {"s3:GetObject": PURGED, "s3:DeleteObject": PURGED},
}
SECRETS_READ = {
    "client-data": {"ELEVENLABS_WORKSPACE_KEY"},  # the brief is in the archive: no Mem0 key
    "retrieve": {"ELEVENLABS_TOOL_KEY", "MEM0_API_KEY"},
    "post-call": {"ELEVENLABS_HMAC_KEY"},
    "post-call-processor": {"MEM0_API_KEY", "ELEVENLABS_API_KEY"},
    "retention": {"MEM0_API_KEY"},
}
PARAMETER_NAMES = {
    "ELEVENLABS_WORKSPACE_KEY": "elevenlabs-workspace-key",
    "ELEVENLABS_HMAC_KEY": "elevenlabs-hmac-key",
    "ELEVENLABS_TOOL_KEY": "elevenlabs-tool-key",
    "ELEVENLABS_API_KEY": "elevenlabs-api-key",
    "MEM0_API_KEY": "mem0-api-key",
}


def function(stack, key):
    return stack.named(FUNCTION, key)


def role_statements(stack, key):
    return stack.named(ROLE_POLICY, f"{key}-permissions").document("policy")["Statement"]


def environment(stack, key):
    return function(stack, key).inputs["environment"]["variables"]


def provisioned_secrets(stack):
    return {node.inputs["name"].rsplit("/", 1)[1] for node in stack.of_type(PARAMETER)}


def test_each_stack_has_the_resources_its_settings_call_for(stack):
    settings = fixture_settings(stack.stack)
    warm = sum(
        1 for field in SETTINGS_FIELD.values() if getattr(settings.functions, field).provisioned_concurrency
    )
    counts = stack.type_counts()
    assert counts[FUNCTION] == counts[LAMBDA_ALIAS] == counts["aws:iam/role:Role"] == counts[ROLE_POLICY] == 5
    # One invoke permission per route, and one for the retention purge's schedule
    assert counts[ROUTE] == 4 and counts[PERMISSION] == 6 and counts[INTEGRATION] == 3
    # Two schedules: the daily retention purge, and the processor's re-drive of dead letters
    assert counts["aws:cloudwatch/eventRule:EventRule"] == 2
    assert counts["aws:cloudwatch/eventTarget:EventTarget"] == 2
    assert counts["aws:cloudwatch/logGroup:LogGroup"] == 6  # five functions and the API's access log
    assert counts[ALARM] == 5 * 2 + 1 + 2  # errors + p95 per function, DLQ, API 4xx and 5xx
    assert counts[QUEUE] == 2 and counts["aws:lambda/eventSourceMapping:EventSourceMapping"] == 1
    assert counts.get(PROVISIONED, 0) == warm
    assert counts.get("aws:s3/bucketVersioning:BucketVersioning", 0) == int(settings.archive.versioning)
    assert counts["pulumi:providers:aws"] == 1


def test_functions_run_their_handler_on_python_312_as_configured(stack):
    settings = fixture_settings(stack.stack)
    for key, handler in HANDLERS.items():
        inputs = function(stack, key).inputs
        configured = getattr(settings.functions, SETTINGS_FIELD[key])
        assert inputs["name"] == f"agentic-memory-{stack.stack}-{key}"
        assert inputs["handler"] == handler and inputs["runtime"] == "python3.12"
        assert inputs["architectures"] == [settings.architecture]
        assert (inputs["memorySize"], inputs["timeout"]) == (configured.memory_mb, configured.timeout_seconds)
        assert inputs["publish"] is True
        assert snapshot_value(inputs["code"]) == {
            "FileArchive": f"build/lambda/agentic-memory-lambda-py3.12-{settings.architecture}.zip"
        }


def test_api_has_exactly_the_four_routes_each_on_its_functions_live_alias(stack):
    routes = {node.inputs["routeKey"]: node for node in stack.of_type(ROUTE)}
    assert set(routes) == {"POST /client-data", "GET /retrieve", "POST /retrieve", "POST /post-call"}
    for route_key, route in routes.items():
        [integration] = [n for n in stack.of_type(INTEGRATION) if n.urn in route.depends_on]
        assert route.inputs["target"].startswith("integrations/")
        key = route_key.split(" /")[1]
        alias_arn = (
            f"arn:aws:lambda:us-east-1:{MOCK_ACCOUNT_ID}:function:agentic-memory-{stack.stack}-{key}:live"
        )
        assert integration.inputs["integrationUri"].endswith(f"functions/{alias_arn}/invocations")
        assert integration.inputs["integrationType"] == "AWS_PROXY"
        assert integration.inputs["payloadFormatVersion"] == "2.0"


def test_invoke_permissions_are_scoped_to_one_method_and_path_on_the_alias(stack):
    [api] = stack.of_type("aws:apigatewayv2/api:Api")
    scopes = set()
    for permission in stack.of_type(PERMISSION):
        inputs = permission.inputs
        if inputs["principal"] == "events.amazonaws.com":
            continue  # the retention schedule's (test_the_retention_purge_runs_daily_from_its_own_rule)
        assert (
            inputs["principal"] == "apigateway.amazonaws.com" and inputs["action"] == "lambda:InvokeFunction"
        )
        assert inputs["qualifier"] == "live"
        assert api.urn in permission.depends_on
        # arn:aws:execute-api:<region>:<account>:<api id>/<stage>/<METHOD>/<path>
        execution_arn, scope = inputs["sourceArn"].split("/", 1)
        assert execution_arn.startswith(f"arn:aws:execute-api:us-east-1:{MOCK_ACCOUNT_ID}:")
        scopes.add(scope)
    assert scopes == {"*/POST/client-data", "*/GET/retrieve", "*/POST/retrieve", "*/POST/post-call"}


@pytest.mark.parametrize(
    ("function", "rate"), [("retention", "rate(1 day)"), ("post-call-processor", "rate(5 minutes)")]
)
def test_scheduled_functions_run_from_their_own_rule(stack, function, rate):
    # The retention purge daily; the processor's re-drive of dead letters every five minutes
    name = f"agentic-memory-{stack.stack}-{function}"
    [rule] = [r for r in stack.of_type("aws:cloudwatch/eventRule:EventRule") if r.inputs["name"] == name]
    [target] = [t for t in stack.of_type("aws:cloudwatch/eventTarget:EventTarget") if name in t.inputs["arn"]]
    [permission] = [
        p
        for p in stack.of_type(PERMISSION)
        if p.inputs["principal"] == "events.amazonaws.com" and p.inputs["function"] == name
    ]
    assert rule.inputs["scheduleExpression"] == rate
    # Only that rule may invoke it, and it invokes the live alias
    rule_arn = f"arn:aws:events:us-east-1:{MOCK_ACCOUNT_ID}:rule/{name}"
    assert permission.inputs["sourceArn"] == rule_arn
    assert (permission.inputs["qualifier"], permission.inputs["action"]) == ("live", "lambda:InvokeFunction")
    assert target.inputs["arn"].endswith(f":function:{name}:live")


def test_stage_throttles_as_the_stack_file_says(stack):
    settings = fixture_settings(stack.stack).api
    [stage] = stack.of_type("aws:apigatewayv2/stage:Stage")
    route_settings = stage.inputs["defaultRouteSettings"]
    assert stage.inputs["name"] == "$default" and stage.inputs["autoDeploy"] is True
    assert route_settings["throttlingBurstLimit"] == settings.throttle_burst_limit
    assert route_settings["throttlingRateLimit"] == settings.throttle_rate_limit
    assert "accessLogSettings" in stage.inputs


def test_each_role_grants_exactly_what_its_function_needs(stack):
    bucket = stack.outputs["archiveBucketName"]
    for key, access in ARCHIVE_ACCESS.items():
        statements = {s["Sid"]: s for s in role_statements(stack, key)}
        s3_actions = {
            s["Action"]: sorted(r.split(f"arn:aws:s3:::{bucket}/", 1)[1] for r in s["Resource"])
            for s in statements.values()
            if str(s["Action"]).startswith("s3:") and s["Action"] != "s3:ListBucket"
        }
        assert s3_actions == access, key
        assert statements["WriteOwnLogs"]["Resource"].endswith(
            f":log-group:/aws/lambda/{function(stack, key).inputs['name']}:*"
        )
        consumes_queue = "ConsumeEventQueue" in statements
        assert consumes_queue == (key == "post-call-processor")
        assert ("SendOwnDelayedChecks" in statements) == (key == "post-call-processor")
    processor = {s["Sid"]: s for s in role_statements(stack, "post-call-processor")}
    # The processor sends its delayed audio checks to its own queue, and to nothing else
    assert processor["SendOwnDelayedChecks"]["Action"] == "sqs:SendMessage"
    assert processor["SendOwnDelayedChecks"]["Resource"] == processor["ConsumeEventQueue"]["Resource"]
    queue_name = processor["ConsumeEventQueue"]["Resource"].rsplit(":", 1)[1]
    assert environment(stack, "post-call-processor")["PROCESSING_QUEUE_URL"].endswith(f"/{queue_name}")
    listing = {s["Sid"]: s for s in role_statements(stack, "post-call-processor")}["ListOwnPrefixes"]
    assert listing["Resource"] == f"arn:aws:s3:::{bucket}"
    assert listing["Condition"] == {
        "StringLike": {
            "s3:prefix": [
                "post-call/*",
                "memory-adds/*",
                "agents/*",
                "profiles/*",
                "recall/*",
                "links/*",
                "corrections/*",
            ]
        }
    }
    listing = {s["Sid"]: s for s in role_statements(stack, "client-data")}["ListOwnPrefixes"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["agents/*", "profiles/*", "links/*"]}}


def test_each_function_reads_only_its_own_secrets_by_name(stack):
    provisioned = provisioned_secrets(stack)
    for key, wanted in SECRETS_READ.items():
        expected = {variable for variable in wanted if PARAMETER_NAMES[variable] in provisioned}
        references = {
            n[: -len("_PARAMETER")]: v for n, v in environment(stack, key).items() if n.endswith("_PARAMETER")
        }
        assert set(references) == expected, key
        for variable, name in references.items():
            assert name == f"/agentic-memory/{stack.stack}/{PARAMETER_NAMES[variable]}"
        statements = {s["Sid"]: s for s in role_statements(stack, key)}
        readable = statements.get("ReadOwnSecretParameters", {}).get("Resource", [])
        assert sorted(arn.rsplit("/", 1)[1] for arn in readable) == sorted(
            PARAMETER_NAMES[v] for v in expected
        )
        if expected:
            decrypt = statements["DecryptOwnSecretParameters"]
            assert decrypt["Action"] == "kms:Decrypt"
            assert decrypt["Condition"]["StringEquals"]["kms:ViaService"] == "ssm.us-east-1.amazonaws.com"
            assert decrypt["Condition"]["StringEquals"]["kms:EncryptionContext:PARAMETER_ARN"] == readable


def test_secrets_are_stored_only_as_secure_string_parameters(stack):
    for parameter in stack.of_type(PARAMETER):
        assert parameter.inputs["type"] == "SecureString"
        assert is_secret(parameter.inputs["value"])
    # No generated secret value appears anywhere outside a secret envelope, outputs included.
    visible = json.dumps([snapshot_value(dict(n.inputs)) for n in stack.nodes.values()] + [stack.outputs])
    for key, value in stack.secret_values.items():
        assert value not in visible, key


def test_function_environment_is_plain_configuration(stack):
    settings = fixture_settings(stack.stack)
    for key in HANDLERS:
        node = function(stack, key)
        assert not is_secret(node.inputs["environment"]), "a secret would hide every env change from review"
        variables = environment(stack, key)
        assert variables["POWERTOOLS_SERVICE_NAME"] == key
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "AgenticMemory"
        assert variables["LOG_LEVEL"] == settings.log_level
        # Mem0 settings the stack files leave unset are left to the application's defaults.
        assert not {"MEM0_BASE_URL", "MEM0_SEARCH_LIMIT", "MEM0_TIMEOUT", "MEM0_ORG_ID"} & set(variables)
        assert settings.mem0.timeout_seconds is None


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.key)
def test_each_function_gets_its_backends_by_name_and_only_settings_it_reads(stack, spec):
    variables = environment(stack, spec.key)
    reads = environment_names(spec.settings_model)
    # Powertools' own variables, the SSM parameter names and the secret versions are not application settings.
    infrastructure = {
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
        "LOG_LEVEL",
        "SECRET_PARAMETER_VERSIONS",
    }
    application = {
        name for name in variables if name not in infrastructure and not name.endswith("_PARAMETER")
    }
    assert application <= reads, f"{spec.key} is given settings it never reads: {sorted(application - reads)}"
    if "ARCHIVE_BACKEND" in reads:
        assert variables["ARCHIVE_BACKEND"] == "s3"
        assert variables["S3_BUCKET_NAME"] == stack.outputs["archiveBucketName"]
    if "MEMORY_BACKEND" in reads:
        assert variables["MEMORY_BACKEND"] == "mem0-platform"
        assert "MEM0_API_KEY_PARAMETER" in variables


def test_new_post_call_events_reach_the_processor_through_the_queue(stack):
    [notification] = stack.of_type("aws:s3/bucketNotification:BucketNotification")
    [target] = notification.inputs["queues"]
    queue = stack.named(QUEUE, "post-call-events")
    assert target["events"] == ["s3:ObjectCreated:*"]
    assert (target["filterPrefix"], target["filterSuffix"]) == ("post-call/", ".json")
    assert target["queueArn"].endswith(f":{stack.outputs['queueName']}")
    policy = stack.named("aws:sqs/queuePolicy:QueuePolicy", "post-call-events-accepts-archive-events")
    assert policy.urn in notification.depends_on, "S3 checks the queue policy when it saves the notification"
    [mapping] = stack.of_type("aws:lambda/eventSourceMapping:EventSourceMapping")
    assert mapping.inputs["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping.inputs["functionName"].endswith(f"agentic-memory-{stack.stack}-post-call-processor:live")
    assert queue.urn in mapping.depends_on


def test_failed_events_are_retried_then_parked(stack):
    settings = fixture_settings(stack.stack)
    queue_node = stack.named(QUEUE, "post-call-events")
    queue, redrive = queue_node.inputs, queue_node.document("redrivePolicy")
    dead_letter = stack.named(QUEUE, "post-call-events-dlq").inputs
    assert queue["visibilityTimeoutSeconds"] >= 6 * settings.functions.processor.timeout_seconds
    assert redrive["maxReceiveCount"] == settings.queue.max_receive_count
    assert redrive["deadLetterTargetArn"].endswith(f":{dead_letter['name']}")
    assert dead_letter["messageRetentionSeconds"] > queue["messageRetentionSeconds"]
    assert queue["sqsManagedSseEnabled"] is True and dead_letter["sqsManagedSseEnabled"] is True


def test_alarms_watch_budgets_the_dead_letter_queue_and_the_api(stack):
    settings = fixture_settings(stack.stack)
    alarms = {node.inputs["name"]: node.inputs for node in stack.of_type(ALARM)}
    prefix = f"agentic-memory-{stack.stack}"
    for key, field in SETTINGS_FIELD.items():
        latency = alarms[f"{prefix}-{key}-p95-over-budget"]
        assert latency["extendedStatistic"] == "p95" and latency["metricName"] == "Duration"
        assert latency["threshold"] == getattr(settings.functions, field).p95_budget_ms
        assert alarms[f"{prefix}-{key}-errors"]["metricName"] == "Errors"
    dlq = alarms[f"{prefix}-post-call-events-dlq-not-empty"]
    assert dlq["dimensions"] == {"QueueName": stack.outputs["deadLetterQueueName"]}
    assert (dlq["threshold"], dlq["comparisonOperator"]) == (0, "GreaterThanThreshold")
    assert alarms[f"{prefix}-4xx"]["threshold"] == settings.api.client_error_alarm_threshold
    assert alarms[f"{prefix}-5xx"]["threshold"] == settings.api.server_error_alarm_threshold
    for name, alarm in alarms.items():
        assert alarm["alarmActions"] == [stack.outputs["alarmTopicArn"]], name


def test_archive_lifecycle_follows_the_stack_file(stack):
    settings = fixture_settings(stack.stack).archive
    [lifecycle] = stack.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    rules = {rule["id"]: rule for rule in lifecycle.inputs["rules"]}
    for configured in settings.lifecycle:
        rule = rules[configured.id]
        assert rule["filter"]["prefix"] == configured.prefix and rule["status"] == "Enabled"
        assert rule.get("expiration", {}).get("days") == configured.expire_after_days
        assert [(t["days"], t["storageClass"]) for t in rule.get("transitions", [])] == [
            (t.days, t.storage_class) for t in configured.transitions
        ]
    assert ("noncurrent-versions-expire" in rules) == settings.versioning
    [bucket] = stack.of_type("aws:s3/bucket:Bucket")
    assert bucket.inputs["forceDestroy"] is settings.force_destroy


def test_provisioned_concurrency_sits_on_the_live_alias_where_configured(stack):
    functions = fixture_settings(stack.stack).functions
    configured = {
        key: getattr(functions, field).provisioned_concurrency for key, field in SETTINGS_FIELD.items()
    }
    warm = {
        node.inputs["functionName"].removeprefix(f"agentic-memory-{stack.stack}-"): node.inputs
        for node in stack.of_type(PROVISIONED)
    }
    assert {key: inputs["provisionedConcurrentExecutions"] for key, inputs in warm.items()} == {
        key: count for key, count in configured.items() if count
    }
    assert all(inputs["qualifier"] == "live" for inputs in warm.values())


def test_outputs_name_the_urls_the_bucket_and_the_queues(stack):
    outputs = stack.outputs
    [api] = stack.of_type("aws:apigatewayv2/api:Api")
    endpoint = (
        f"https://{outputs['clientDataUrl'].split('//')[1].split('.')[0]}.execute-api.us-east-1.amazonaws.com"
    )
    assert api.inputs["name"] == f"agentic-memory-{stack.stack}"
    assert outputs["clientDataUrl"] == f"{endpoint}/client-data"
    assert outputs["retrieveUrl"] == f"{endpoint}/retrieve"
    assert outputs["postCallUrl"] == f"{endpoint}/post-call"
    assert outputs["archiveBucketName"].startswith(f"agentic-memory-{stack.stack}-archive-")
    assert outputs["queueName"] == f"agentic-memory-{stack.stack}-post-call-events"
    assert outputs["deadLetterQueueName"] == f"agentic-memory-{stack.stack}-post-call-events-dlq"


def test_every_resource_uses_the_stacks_provider_and_its_tags(stack):
    [provider] = stack.of_type("pulumi:providers:aws")
    assert provider.inputs["region"] == "us-east-1"
    assert snapshot_value(provider.inputs["defaultTags"]) == {
        "tags": {"project": "agentic-memory", "environment": stack.stack, "managed-by": "pulumi"}
    }
    custom = [node for node in stack.nodes.values() if node.custom and node.type != "pulumi:providers:aws"]
    assert custom and all(node.provider == provider.urn for node in custom)
    components = [node for node in stack.nodes.values() if not node.custom]
    assert all(node.parent == "pulumi:pulumi:Stack" for node in components)
    assert all(node.parent != "pulumi:pulumi:Stack" for node in custom if node.type != "pulumi:providers:aws")


def test_mem0_settings_reach_the_functions_that_use_mem0_when_a_stack_sets_them():
    settings = fixture_settings("dev").model_copy(
        update={"mem0": Mem0Settings(base_url="https://mem0.internal", search_limit=5, timeout_seconds=0.3)}
    )
    retrieve = function_environment(RETRIEVE, settings, _ArchiveNamed("bucket"), _NoSecretParameters())
    assert retrieve["MEM0_BASE_URL"] == "https://mem0.internal"
    assert (retrieve["MEM0_SEARCH_LIMIT"], retrieve["MEM0_TIMEOUT"]) == ("5", "0.3")
    # The search limit is the search_memory tool's: processing gets the timeout but not the limit.
    processor = function_environment(PROCESSOR, settings, _ArchiveNamed("bucket"), _NoSecretParameters())
    assert processor["MEM0_TIMEOUT"] == "0.3" and "MEM0_SEARCH_LIMIT" not in processor
    # The pre-call reads the caller brief, never Mem0: it is given no Mem0 setting at all.
    client_data = function_environment(CLIENT_DATA, settings, _ArchiveNamed("bucket"), _NoSecretParameters())
    assert not [name for name in client_data if name.startswith(("MEM0_", "MEMORY_BACKEND"))]


def test_the_workspace_key_header_reaches_only_the_pre_call_when_a_stack_names_it():
    settings = fixture_settings("dev").model_copy(update={"workspace_key_header": "Authorization-Token"})
    client_data = function_environment(CLIENT_DATA, settings, _ArchiveNamed("bucket"), _NoSecretParameters())
    retrieve = function_environment(RETRIEVE, settings, _ArchiveNamed("bucket"), _NoSecretParameters())
    assert client_data["WORKSPACE_KEY_HEADER"] == "Authorization-Token"
    assert "WORKSPACE_KEY_HEADER" not in retrieve
    # Unnamed, the application's default applies.
    assert "WORKSPACE_KEY_HEADER" not in function_environment(
        CLIENT_DATA, fixture_settings("dev"), _ArchiveNamed("bucket"), _NoSecretParameters()
    )


def test_scope_and_retention_reach_exactly_the_functions_that_read_them_when_a_stack_sets_them():
    settings = fixture_settings("dev").model_copy(
        update={"memory_scope": "caller_and_agent", "retention_days": 365}
    )
    given = {
        spec.key: function_environment(spec, settings, _ArchiveNamed("bucket"), _NoSecretParameters())
        for spec in FUNCTIONS
    }
    scoped = {key for key, environ in given.items() if environ.get("MEMORY_SCOPE") == "caller_and_agent"}
    retained = {key for key, environ in given.items() if environ.get("RETENTION_DAYS") == "365"}
    # Processing keys memories by scope and starts a new brief for a caller whose brief has expired.
    assert scoped == {"client-data", "retrieve", "post-call-processor", "retention"}
    assert retained == {"client-data", "retrieve", "post-call-processor", "retention"}
    # Unset, the application's defaults apply (caller scope, kept forever)
    plain = function_environment(
        RETENTION, fixture_settings("dev"), _ArchiveNamed("bucket"), _NoSecretParameters()
    )
    assert "MEMORY_SCOPE" not in plain and "RETENTION_DAYS" not in plain


class _ArchiveNamed:
    def __init__(self, name):
        self.name = name


class _NoSecretParameters:
    names: dict = {}
    parameters: dict = {}


def test_optional_secrets_reach_only_the_functions_that_use_them():
    # Given dev with the optional tool key and ElevenLabs API key set
    dev = synthesize_fixture("dev", {"elevenlabs:toolKey": "", "elevenlabs:apiKey": ""})
    # Then retrieve demands the tool key and the processor can fetch audio, and nobody else reads them
    assert "ELEVENLABS_TOOL_KEY_PARAMETER" in environment(dev, "retrieve")
    assert "ELEVENLABS_API_KEY_PARAMETER" in environment(dev, "post-call-processor")
    for key in ("client-data", "post-call"):
        assert not {"ELEVENLABS_TOOL_KEY_PARAMETER", "ELEVENLABS_API_KEY_PARAMETER"} & set(
            environment(dev, key)
        )
    test_each_function_reads_only_its_own_secrets_by_name(dev)
