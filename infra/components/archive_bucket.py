"""The archive: every raw webhook body, and the MP3 files, in one private bucket.

Private four ways (public access block, ACLs disabled, TLS-only policy, no public statement),
encrypted at rest, lifecycle from the stack settings. New post-call events are announced to the
processing queue by an ``ObjectCreated`` notification.
"""

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.iam import policy_document
from infra.settings import ArchiveSettings, LifecycleRule

COMPONENT_TYPE = "agentic-memory:storage:ArchiveBucket"
# Multipart uploads that never complete are invisible but billed; they are cleared after a week.
ABANDONED_UPLOAD_DAYS = 7


@dataclass(frozen=True)
class ArchiveBucketArgs:
    # S3 names are global: the provider appends a unique suffix to this prefix.
    bucket_prefix: str
    settings: ArchiveSettings


class ArchiveBucket(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: ArchiveBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self._name = name
        child = pulumi.ResourceOptions(parent=self)
        settings = args.settings

        self.bucket = aws.s3.Bucket(
            name, bucket_prefix=args.bucket_prefix, force_destroy=settings.force_destroy, opts=child
        )
        self.ownership = aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        self.public_access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        self.encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    ),
                )
            ],
            opts=child,
        )
        self.versioning = (
            aws.s3.BucketVersioning(
                f"{name}-versioning",
                bucket=self.bucket.id,
                versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
                opts=child,
            )
            if settings.versioning
            else None
        )
        self.lifecycle = aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=lifecycle_rules(settings),
            # Lifecycle rules on noncurrent versions are refused until versioning is on.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.versioning] if self.versioning else []),
        )
        self.policy = aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=self.bucket.id,
            policy=policy_document(tls_only_statements(self.bucket.arn)),
            # S3 rejects a bucket policy while the public access block is still being applied.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.public_access_block]),
        )
        self.name = self.bucket.bucket
        self.arn = self.bucket.arn
        self.register_outputs({"name": self.name, "arn": self.arn})

    def notify_queue(
        self,
        queue_arn: pulumi.Input[str],
        prefix: str,
        suffix: str,
        depends_on: list[pulumi.Resource],
    ) -> aws.s3.BucketNotification:
        """Send ``ObjectCreated`` events for keys under ``prefix`` ending in ``suffix`` to the queue.

        ``depends_on`` must hold the queue policy: S3 test-sends a message when the notification is
        saved and refuses it if the queue does not accept S3 yet.
        """
        return aws.s3.BucketNotification(
            f"{self._name}-new-events",
            bucket=self.bucket.id,
            queues=[
                aws.s3.BucketNotificationQueueArgs(
                    queue_arn=queue_arn,
                    events=["s3:ObjectCreated:*"],
                    filter_prefix=prefix,
                    filter_suffix=suffix,
                )
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
        )


def tls_only_statements(bucket_arn: pulumi.Input[str]) -> list[dict[str, Any]]:
    everything = [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")]
    return [
        {
            "Sid": "DenyPlainHttp",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": everything,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyTlsOlderThan12",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": everything,
            "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
        },
    ]


def lifecycle_rules(settings: ArchiveSettings) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
    rules = [_configured_rule(rule) for rule in settings.lifecycle]
    rules.append(
        aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="abandoned-multipart-uploads",
            status="Enabled",
            filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
            abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=ABANDONED_UPLOAD_DAYS
            ),
        )
    )
    if settings.versioning:
        # Overwritten or erased objects linger as noncurrent versions: erasure must end somewhere.
        rules.append(
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="noncurrent-versions-expire",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=settings.noncurrent_version_expiration_days
                ),
            )
        )
    return rules


def _configured_rule(rule: LifecycleRule) -> aws.s3.BucketLifecycleConfigurationRuleArgs:
    return aws.s3.BucketLifecycleConfigurationRuleArgs(
        id=rule.id,
        status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=rule.prefix),
        expiration=(
            aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=rule.expire_after_days)
            if rule.expire_after_days is not None
            else None
        ),
        transitions=[
            aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(days=t.days, storage_class=t.storage_class)
            for t in rule.transitions
        ]
        or None,
    )
