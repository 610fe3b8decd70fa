"""Optional CloudTrail trail (stack config `createTrail`, default false).

EventBridge receives "AWS API Call via CloudTrail" events only while some trail with logging
enabled records the account's management events in this region. Most accounts already have
one (an organization trail counts), and a second trail pays for a second copy of every
management event, hence the default. Turn it on for an account with no trail at all.

This trail is a feed for EventBridge, not an audit record: it records write management
events in this region only, keeps its objects 30 days, and is deleted with the stack.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

OBJECT_RETENTION_DAYS = 30


@dataclass(frozen=True)
class CloudTrailFeedArgs:
    """Where the trail lives (its ARN goes in the bucket policy before the trail exists)."""

    name_prefix: str
    account_id: pulumi.Output[str]
    partition: pulumi.Output[str]
    region: pulumi.Output[str]


def trail_bucket_policy(bucket_arn: str, account_id: str, trail_arn: str) -> dict[str, Any]:
    """CloudTrail's documented bucket policy, limited to this one trail, TLS only."""
    this_trail = {"aws:SourceArn": trail_arn}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TrailAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:GetBucketAcl",
                "Resource": bucket_arn,
                "Condition": {"StringEquals": this_trail},
            },
            {
                "Sid": "TrailWrite",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/AWSLogs/{account_id}/*",
                "Condition": {"StringEquals": {
                    **this_trail, "s3:x-amz-acl": "bucket-owner-full-control",
                }},
            },
            {
                "Sid": "TlsOnly",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }


class CloudTrailFeed(pulumi.ComponentResource):
    """A private bucket and a single-region trail of write management events."""

    def __init__(self, name: str, args: CloudTrailFeedArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("model-access:index:CloudTrailFeed", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        trail_name = f"{args.name_prefix}-feed"
        bucket = aws.s3.Bucket(f"{name}-bucket", force_destroy=True, opts=child)
        aws.s3.BucketPublicAccessBlock(
            f"{name}-bucket-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-bucket-lifecycle",
            bucket=bucket.id,
            rules=[{
                "id": "expire-feed-logs",
                "status": "Enabled",
                "filter": {"prefix": ""},
                "expiration": {"days": OBJECT_RETENTION_DAYS},
            }],
            opts=child,
        )
        trail_arn = pulumi.Output.concat(
            "arn:", args.partition, ":cloudtrail:", args.region, ":", args.account_id,
            ":trail/", trail_name,
        )
        policy = aws.s3.BucketPolicy(
            f"{name}-bucket-policy",
            bucket=bucket.id,
            policy=pulumi.Output.all(bucket.arn, args.account_id, trail_arn).apply(
                lambda v: json.dumps(trail_bucket_policy(v[0], v[1], v[2]))
            ),
            opts=child,
        )
        self.trail = aws.cloudtrail.Trail(
            f"{name}-trail",
            name=trail_name,
            s3_bucket_name=bucket.id,
            enable_logging=True,
            is_multi_region_trail=False,
            include_global_service_events=False,
            enable_log_file_validation=True,
            event_selectors=[{"read_write_type": "WriteOnly", "include_management_events": True}],
            # CloudTrail checks the bucket policy when the trail is created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        self.register_outputs({"trail_arn": self.trail.arn})
