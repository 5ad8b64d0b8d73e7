"""Each component on its own, in Pulumi's unit-test style: build it under mocks, then assert inside
``apply`` on the values it resolved, and return that Output so the test waits for it."""

import json

import pulumi

from infra.components.alarms import AlarmTopic, AlarmTopicArgs
from infra.components.archive_bucket import ArchiveBucket, ArchiveBucketArgs
from infra.components.http_api import HttpApi, HttpApiArgs, HttpRoute
from infra.components.processing_queue import ProcessingQueue, ProcessingQueueArgs
from infra.components.secret_parameters import SecretParameters, SecretParametersArgs
from infra.components.service_function import ServiceFunction, ServiceFunctionArgs
from infra.settings import ApiSettings, ArchiveSettings, FunctionSettings, LifecycleRule, QueueSettings

TOPIC_ARN = "arn:aws:sns:eu-west-1:111111111111:alarms"
CODE = pulumi.AssetArchive({"handler.py": pulumi.StringAsset("def handler(event, context): ...\n")})


def a_function(name="retrieve", provisioned_concurrency=0, statements=()):
    return ServiceFunction(
        name,
        ServiceFunctionArgs(
            function_name=f"agentic-memory-test-{name}",
            handler="services.search_memory.handler.lambda_handler",
            description="a test function",
            code=CODE,
            architecture="arm64",
            settings=FunctionSettings(
                memory_mb=512,
                timeout_seconds=3,
                p95_budget_ms=300,
                provisioned_concurrency=provisioned_concurrency,
            ),
            log_retention_days=14,
            log_level="WARNING",
            alarm_topic_arn=TOPIC_ARN,
            environment={"B_VARIABLE": "b", "A_VARIABLE": "a"},
            statements=list(statements),
        ),
    )


@pulumi.runtime.test
def test_archive_bucket_is_private_encrypted_and_tls_only(mocks):
    archive = ArchiveBucket(
        "archive", ArchiveBucketArgs(bucket_prefix="am-test-", settings=ArchiveSettings())
    )

    def check(values):
        block, ownership, sse, policy, bucket_arn = values
        assert block == [True, True, True, True]
        assert ownership["object_ownership"] == "BucketOwnerEnforced"
        assert sse[0]["apply_server_side_encryption_by_default"]["sse_algorithm"] == "AES256"
        statements = json.loads(policy)["Statement"]
        assert {s["Effect"] for s in statements} == {"Deny"}
        assert statements[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert statements[0]["Resource"] == [bucket_arn, f"{bucket_arn}/*"]

    pab = archive.public_access_block
    return pulumi.Output.all(
        pulumi.Output.all(
            pab.block_public_acls,
            pab.block_public_policy,
            pab.ignore_public_acls,
            pab.restrict_public_buckets,
        ),
        archive.ownership.rule,
        archive.encryption.rules,
        archive.policy.policy,
        archive.arn,
    ).apply(check)


@pulumi.runtime.test
def test_archive_lifecycle_comes_from_settings_and_versioning_adds_an_end_to_old_versions(mocks):
    settings = ArchiveSettings(
        versioning=True,
        noncurrent_version_expiration_days=9,
        lifecycle=[LifecycleRule(id="tmp", prefix="tmp/", expire_after_days=3)],
    )
    archive = ArchiveBucket("archive", ArchiveBucketArgs(bucket_prefix="am-test-", settings=settings))
    assert archive.versioning is not None

    def check(rules):
        by_id = {rule["id"]: rule for rule in rules}
        assert set(by_id) == {"tmp", "abandoned-multipart-uploads", "noncurrent-versions-expire"}
        assert by_id["tmp"]["filter"]["prefix"] == "tmp/" and by_id["tmp"]["expiration"]["days"] == 3
        assert by_id["noncurrent-versions-expire"]["noncurrent_version_expiration"]["noncurrent_days"] == 9
        assert (
            by_id["abandoned-multipart-uploads"]["abort_incomplete_multipart_upload"]["days_after_initiation"]
            == 7
        )

    return archive.lifecycle.rules.apply(check)


@pulumi.runtime.test
def test_only_new_post_call_events_reach_the_queue(mocks):
    archive = ArchiveBucket(
        "archive", ArchiveBucketArgs(bucket_prefix="am-test-", settings=ArchiveSettings())
    )
    notification = archive.notify_queue(
        "arn:aws:sqs:eu-west-1:111111111111:q", "post-call/", ".json", depends_on=[]
    )

    def check(queues):
        assert queues == [
            {
                "events": ["s3:ObjectCreated:*"],
                "filter_prefix": "post-call/",
                "filter_suffix": ".json",
                "queue_arn": "arn:aws:sqs:eu-west-1:111111111111:q",
            }
        ]

    return notification.queues.apply(
        lambda queues: check([{k: v for k, v in q.items() if v} for q in queues])
    )


def a_queue():
    return ProcessingQueue(
        "events",
        ProcessingQueueArgs(
            queue_name="am-test-events",
            consumer_timeout_seconds=45,
            settings=QueueSettings(max_receive_count=3),
            source_bucket_arn="arn:aws:s3:::am-test-bucket",
            source_account_id="111111111111",
            alarm_topic_arn=TOPIC_ARN,
        ),
    )


@pulumi.runtime.test
def test_queue_hides_messages_six_times_the_consumer_timeout_and_parks_failures(mocks):
    queue = a_queue()

    def check(values):
        visibility, redrive, dlq_arn, policy, queue_arn = values
        assert visibility == 6 * 45
        assert json.loads(redrive) == {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3}
        [statement] = json.loads(policy)["Statement"]
        assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
        assert statement["Action"] == "sqs:SendMessage" and statement["Resource"] == queue_arn
        assert statement["Condition"]["ArnEquals"] == {"aws:SourceArn": "arn:aws:s3:::am-test-bucket"}
        assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": "111111111111"}

    return pulumi.Output.all(
        queue.queue.visibility_timeout_seconds,
        queue.queue.redrive_policy,
        queue.dead_letter_queue.arn,
        queue.policy.policy,
        queue.queue.arn,
    ).apply(check)


@pulumi.runtime.test
def test_the_dead_letter_queue_alarms_as_soon_as_one_message_is_parked(mocks):
    queue = a_queue()
    alarm = queue.dead_letter_alarm

    def check(values):
        metric, dimensions, threshold, comparison, actions = values
        assert metric == "ApproximateNumberOfMessagesVisible"
        assert dimensions == {"QueueName": "am-test-events-dlq"}
        assert (threshold, comparison) == (0, "GreaterThanThreshold")
        assert actions == [TOPIC_ARN]

    return pulumi.Output.all(
        alarm.metric_name, alarm.dimensions, alarm.threshold, alarm.comparison_operator, alarm.alarm_actions
    ).apply(check)


@pulumi.runtime.test
def test_the_processor_mapping_reports_partial_batch_failures(mocks):
    mapping = a_queue().deliver_to("arn:aws:lambda:eu-west-1:111111111111:function:p:live", depends_on=[])

    def check(values):
        response_types, function_name, batch_size = values
        assert response_types == ["ReportBatchItemFailures"]
        assert function_name.endswith(":live")
        assert batch_size == QueueSettings().batch_size

    return pulumi.Output.all(
        mapping.function_response_types, mapping.function_name, mapping.batch_size
    ).apply(check)


@pulumi.runtime.test
def test_function_runs_python_312_behind_a_live_alias_with_its_own_role(mocks):
    function = a_function()

    def check(values):
        runtime, architectures, publish, alias_version, version, variables, policy, log_group, logging = (
            values
        )
        assert runtime == "python3.12" and architectures == ["arm64"] and publish is True
        assert alias_version == version
        assert variables == {"A_VARIABLE": "a", "B_VARIABLE": "b"}
        [logs] = json.loads(policy)["Statement"]
        assert logs["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
        assert logs["Resource"].endswith("log-group:/aws/lambda/agentic-memory-test-retrieve:*")
        assert logging["log_group"] == log_group == "/aws/lambda/agentic-memory-test-retrieve"
        assert logging["application_log_level"] == "WARN"

    f = function.function
    return pulumi.Output.all(
        f.runtime,
        f.architectures,
        f.publish,
        function.alias.function_version,
        f.version,
        f.environment.apply(lambda e: e["variables"] if e else {}),
        function.role_policy.policy,
        function.log_group.name,
        f.logging_config,
    ).apply(check)


@pulumi.runtime.test
def test_function_log_group_keeps_logs_only_as_long_as_configured(mocks):
    return a_function().log_group.retention_in_days.apply(lambda days: _assert_equal(days, 14))


@pulumi.runtime.test
def test_provisioned_concurrency_attaches_to_the_alias(mocks):
    function = a_function(provisioned_concurrency=2)
    config = function.provisioned_concurrency
    assert config is not None
    assert a_function("other").provisioned_concurrency is None

    def check(values):
        qualifier, count, function_name = values
        assert (qualifier, count, function_name) == ("live", 2, "agentic-memory-test-retrieve")

    return pulumi.Output.all(
        config.qualifier, config.provisioned_concurrent_executions, config.function_name
    ).apply(check)


@pulumi.runtime.test
def test_function_alarms_on_errors_and_on_p95_over_budget(mocks):
    function = a_function()

    def check(values):
        error_metric, error_threshold, latency_metric, statistic, budget, actions = values
        assert (error_metric, error_threshold) == ("Errors", 1)
        assert (latency_metric, statistic, budget) == ("Duration", "p95", 300)
        assert actions == [TOPIC_ARN]

    errors, latency = function.error_alarm, function.latency_alarm
    return pulumi.Output.all(
        errors.metric_name,
        errors.threshold,
        latency.metric_name,
        latency.extended_statistic,
        latency.threshold,
        latency.alarm_actions,
    ).apply(check)


@pulumi.runtime.test
def test_http_api_routes_invoke_the_alias_through_payload_v2(mocks):
    retrieve = a_function("retrieve")
    api = HttpApi(
        "api",
        HttpApiArgs(
            api_name="am-test",
            routes=[
                HttpRoute("GET", "/retrieve", retrieve, "retrieve", 3),
                HttpRoute("POST", "/retrieve", retrieve, "retrieve", 3),
            ],
            settings=ApiSettings(throttle_burst_limit=7, throttle_rate_limit=3),
            log_retention_days=7,
            alarm_topic_arn=TOPIC_ARN,
        ),
    )
    assert set(api.routes) == {"GET /retrieve", "POST /retrieve"}
    assert list(api.integrations) == ["retrieve"], "two routes share one integration"
    integration = api.integrations["retrieve"]
    route = api.routes["POST /retrieve"]
    permission = api.permissions["POST /retrieve"]

    def check(values):
        (kind, version, uri, alias_invoke_arn, target, integration_id, qualifier, source_arn, execution_arn,
         settings, stage) = values  # fmt: skip
        assert (kind, version) == ("AWS_PROXY", "2.0")
        assert uri == alias_invoke_arn and uri.endswith(":live/invocations")
        assert target == f"integrations/{integration_id}"
        assert qualifier == "live"
        assert source_arn == f"{execution_arn}/*/POST/retrieve"
        assert (settings["throttling_burst_limit"], settings["throttling_rate_limit"]) == (7, 3)
        assert stage == "$default"

    return pulumi.Output.all(
        integration.integration_type,
        integration.payload_format_version,
        integration.integration_uri,
        retrieve.invoke_arn,
        route.target,
        integration.id,
        permission.qualifier,
        permission.source_arn,
        api.api.execution_arn,
        api.stage.default_route_settings,
        api.stage.name,
    ).apply(check)


@pulumi.runtime.test
def test_secret_parameters_are_secure_strings_under_the_stacks_own_key(mocks):
    value = pulumi.Output.secret("generated-test-value")
    secrets = SecretParameters(
        "secrets",
        SecretParametersArgs(
            parameter_path="/am/test/", key_alias="alias/am-test", values={"ELEVENLABS_HMAC_KEY": value}
        ),
    )
    parameter = secrets.parameters["ELEVENLABS_HMAC_KEY"]
    assert secrets.names == {"ELEVENLABS_HMAC_KEY": "/am/test/elevenlabs-hmac-key"}

    def check(values):
        kind, key_id, key_arn, is_secret, rotation = values
        assert kind == "SecureString" and key_id == key_arn
        assert is_secret, "the value stays a secret in Pulumi state"
        assert rotation is True

    return pulumi.Output.all(
        parameter.type,
        parameter.key_id,
        secrets.key.arn,
        pulumi.Output.from_input(parameter.value.is_secret()),
        secrets.key.enable_key_rotation,
    ).apply(check)


def test_alarm_topic_subscribes_an_email_only_when_one_is_configured(mocks):
    @pulumi.runtime.test
    def register_both():
        AlarmTopic("quiet", AlarmTopicArgs(topic_name="am-test-quiet"))
        AlarmTopic("loud", AlarmTopicArgs(topic_name="am-test-loud", email="oncall@example.com"))

    # Once the runtime has registered everything, the recorded graph can be read.
    register_both()
    subscriptions = [
        n for n in mocks.nodes.values() if n.type == "aws:sns/topicSubscription:TopicSubscription"
    ]
    assert [(s.name, s.inputs["protocol"], s.inputs["endpoint"]) for s in subscriptions] == [
        ("loud-email", "email", "oncall@example.com")
    ]


def _assert_equal(actual, expected):
    assert actual == expected
