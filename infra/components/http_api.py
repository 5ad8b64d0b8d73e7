"""The public front door: one API Gateway HTTP API with the webhook and tool routes.

HTTP API rather than REST API or function URLs: lowest gateway latency of the managed options,
stage throttling, per-stage 4xx/5xx metrics, and payload format 2.0, the event shape the handlers
(and the local runtime) are written for. Each route invokes its function's ``live`` alias; each
route has its own invoke permission, scoped to its method and path.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.alarms import Threshold, metric_alarm
from infra.components.service_function import ALIAS_NAME, ServiceFunction
from infra.settings import ApiSettings

COMPONENT_TYPE = "agentic-memory:edge:HttpApi"
STAGE_NAME = "$default"
# The most an HTTP API waits for an integration.
MAX_INTEGRATION_TIMEOUT_MS = 30_000
# Access log fields: enough to see status and where time went; no caller data (not even the source IP).
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "requestTime": "$context.requestTime",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "responseLatency": "$context.responseLatency",
        "integrationLatency": "$context.integrationLatency",
        "integrationError": "$context.integrationErrorMessage",
        "responseLength": "$context.responseLength",
    },
    sort_keys=True,
)


@dataclass(frozen=True)
class HttpRoute:
    method: str
    path: str
    function: ServiceFunction
    function_key: str  # names the route's resources, e.g. "retrieve"
    timeout_seconds: int


@dataclass(frozen=True)
class HttpApiArgs:
    api_name: str
    routes: Sequence[HttpRoute]
    settings: ApiSettings
    log_retention_days: int
    alarm_topic_arn: pulumi.Input[str]


class HttpApi(pulumi.ComponentResource):
    def __init__(self, name: str, args: HttpApiArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.api = aws.apigatewayv2.Api(
            name,
            name=args.api_name,
            protocol_type="HTTP",
            description="ElevenLabs webhooks and the search_memory tool",
            opts=child,
        )
        self.access_logs = aws.cloudwatch.LogGroup(
            f"{name}-access-logs",
            name=f"/aws/apigateway/{args.api_name}",
            retention_in_days=args.log_retention_days,
            opts=child,
        )
        self.stage = aws.apigatewayv2.Stage(
            f"{name}-stage",
            api_id=self.api.id,
            name=STAGE_NAME,
            auto_deploy=True,
            default_route_settings=aws.apigatewayv2.StageDefaultRouteSettingsArgs(
                throttling_burst_limit=args.settings.throttle_burst_limit,
                throttling_rate_limit=args.settings.throttle_rate_limit,
            ),
            access_log_settings=aws.apigatewayv2.StageAccessLogSettingsArgs(
                destination_arn=self.access_logs.arn, format=ACCESS_LOG_FORMAT
            ),
            opts=child,
        )
        self.integrations: dict[str, aws.apigatewayv2.Integration] = {}
        self.routes: dict[str, aws.apigatewayv2.Route] = {}
        self.permissions: dict[str, aws.lambda_.Permission] = {}
        for route in args.routes:
            self._add_route(name, route)
        self._alarms(name, args)

        self.endpoint = self.api.api_endpoint
        self.register_outputs({"endpoint": self.endpoint})

    def url(self, path: str) -> pulumi.Output[str]:
        return pulumi.Output.concat(self.api.api_endpoint, path)

    def _add_route(self, name: str, route: HttpRoute) -> None:
        integration = self.integrations.get(route.function_key)
        if integration is None:
            integration = aws.apigatewayv2.Integration(
                f"{name}-{route.function_key}",
                api_id=self.api.id,
                integration_type="AWS_PROXY",
                integration_method="POST",
                integration_uri=route.function.invoke_arn,
                payload_format_version="2.0",
                timeout_milliseconds=min(MAX_INTEGRATION_TIMEOUT_MS, route.timeout_seconds * 1000),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.integrations[route.function_key] = integration
        label = f"{route.method.lower()}-{route.path.strip('/')}"
        route_key = f"{route.method} {route.path}"
        self.routes[route_key] = aws.apigatewayv2.Route(
            f"{name}-{label}",
            api_id=self.api.id,
            route_key=route_key,
            target=pulumi.Output.concat("integrations/", integration.id),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.permissions[route_key] = aws.lambda_.Permission(
            f"{name}-{label}-invoke",
            action="lambda:InvokeFunction",
            function=route.function.name,
            qualifier=ALIAS_NAME,
            principal="apigateway.amazonaws.com",
            # execute-api ARN: <api>/<stage>/<METHOD>/<path>; any stage, this method and path only.
            source_arn=pulumi.Output.concat(self.api.execution_arn, "/*/", route.method, route.path),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _alarms(self, name: str, args: HttpApiArgs) -> None:
        dimensions: dict[str, pulumi.Input[str]] = {"ApiId": self.api.id, "Stage": STAGE_NAME}
        self.client_error_alarm = metric_alarm(
            f"{name}-4xx",
            alarm_name=f"{args.api_name}-4xx",
            description="Many rejected requests: a wrong secret header or HMAC key in ElevenLabs, or probes.",
            namespace="AWS/ApiGateway",
            metric_name="4xx",
            dimensions=dimensions,
            threshold=Threshold(value=args.settings.client_error_alarm_threshold),
            topic_arn=args.alarm_topic_arn,
            parent=self,
        )
        self.server_error_alarm = metric_alarm(
            f"{name}-5xx",
            alarm_name=f"{args.api_name}-5xx",
            description="5xx answers: ElevenLabs retries transcriptions, but other events are lost.",
            namespace="AWS/ApiGateway",
            metric_name="5xx",
            dimensions=dimensions,
            threshold=Threshold(value=args.settings.server_error_alarm_threshold),
            topic_arn=args.alarm_topic_arn,
            parent=self,
        )
