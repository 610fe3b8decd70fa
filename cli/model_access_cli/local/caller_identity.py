"""CloudTrail's `userIdentity` for a caller of the local server, from its access key.

moto ties an access key to a principal (the credentials `AssumeRole` returned, an IAM
user's key, else its default user) and answers `GetCallerIdentity` for it without checking
signatures. So the trail stand-in asks the server who the key belongs to, signing with that
key, the same way moto decides which account the call itself went to. An assumed-role
session's issuer is read with `GetRole`, because the session ARN drops the role's path and
the protected owner-change mode compares the issuer's full ARN.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any, Final

import boto3
from botocore.exceptions import BotoCoreError, ClientError

PLACEHOLDER_SECRET: Final = "local-stand-in"  # noqa: S105 - moto checks no signatures


class CallerIdentities:
    """Resolves and caches `userIdentity` per access key."""

    def __init__(self, endpoint_url: str) -> None:
        self.endpoint_url = endpoint_url
        self._cache: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def user_identity(self, access_key_id: str, region: str) -> dict[str, Any]:
        with self._lock:
            known = self._cache.get(access_key_id)
        if known is None:
            known = self._resolve(access_key_id, region)
            with self._lock:
                self._cache[access_key_id] = known
        return dict(known)

    def _client(self, service: str, access_key_id: str, region: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint_url, region_name=region,  # type: ignore[call-overload]
                            aws_access_key_id=access_key_id or "anonymous",
                            aws_secret_access_key=PLACEHOLDER_SECRET)

    def _resolve(self, access_key_id: str, region: str) -> dict[str, Any]:
        answer = self._client("sts", access_key_id, region).get_caller_identity()
        arn, account, user_id = answer["Arn"], answer["Account"], answer["UserId"]
        partition = arn.split(":")[1]
        kind, _, rest = arn.split(":", 5)[5].partition("/")
        if kind == "assumed-role":
            role_name, _, session = rest.partition("/")
            issuer = self._issuer(access_key_id, region, f"arn:{partition}:iam::{account}:role/"
                                  f"{role_name}", user_id.split(":", 1)[0])
            return {
                "type": "AssumedRole",
                "principalId": user_id,
                "arn": f"arn:{partition}:sts::{account}:assumed-role/{role_name}/{session}",
                "accountId": account,
                "accessKeyId": access_key_id,
                "sessionContext": {
                    "sessionIssuer": {"type": "Role", "principalId": issuer[1], "arn": issuer[0],
                                      "accountId": account, "userName": role_name},
                    "attributes": {
                        "creationDate": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "mfaAuthenticated": "false",
                    },
                },
            }
        if kind == "user":
            name = rest.rsplit("/", 1)[-1]
            user_arn = arn if ":iam::" in arn else f"arn:{partition}:iam::{account}:user/{name}"
            return {"type": "IAMUser", "principalId": user_id, "arn": user_arn,
                    "accountId": account, "accessKeyId": access_key_id, "userName": name}
        return {"type": "Root", "principalId": account, "arn": arn, "accountId": account,
                "accessKeyId": access_key_id}

    def _issuer(self, access_key_id: str, region: str, plain_arn: str,
                fallback_id: str) -> tuple[str, str]:
        """The session issuer's ARN (with its path) and id; the plain ARN if no such role."""
        role_name = plain_arn.rsplit("/", 1)[-1]
        try:
            role = self._client("iam", access_key_id, region).get_role(RoleName=role_name)["Role"]
        except (ClientError, BotoCoreError):
            return plain_arn, fallback_id  # moto's AssumeRole does not need the role to exist
        return str(role["Arn"]), str(role["RoleId"])
