"""The grant table: one record per model plus per-role leases (schema fixed by the runtime)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import pulumi
import pulumi_aws as aws

HASH_KEY: Final = "pk"
ROLE_INDEX: Final = "by-role"
ROLE_ATTRIBUTE: Final = "role"
TTL_ATTRIBUTE: Final = "expires_at"


@dataclass(frozen=True)
class GrantTableArgs:
    """The table's physical name (the functions read it from MODEL_ACCESS_TABLE)."""

    table_name: str


class GrantTable(pulumi.ComponentResource):
    """On-demand DynamoDB table, point-in-time recovery on, TTL on `expires_at` (leases).

    Encrypted at rest with DynamoDB's AWS-owned key (the default), which needs no KMS grant.
    """

    def __init__(self, name: str, args: GrantTableArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("model-access:index:GrantTable", name, None, opts)
        self.table = aws.dynamodb.Table(
            f"{name}-table",
            name=args.table_name,
            billing_mode="PAY_PER_REQUEST",
            hash_key=HASH_KEY,
            attributes=[
                {"name": HASH_KEY, "type": "S"},
                {"name": ROLE_ATTRIBUTE, "type": "S"},
            ],
            global_secondary_indexes=[{
                "name": ROLE_INDEX,
                "key_schemas": [
                    {"attribute_name": ROLE_ATTRIBUTE, "key_type": "HASH"},
                    {"attribute_name": HASH_KEY, "key_type": "RANGE"},
                ],
                "projection_type": "ALL",
            }],
            ttl={"attribute_name": TTL_ATTRIBUTE, "enabled": True},
            point_in_time_recovery={"enabled": True},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.name = self.table.name
        self.arn = self.table.arn
        self.register_outputs({"name": self.name, "arn": self.arn})
