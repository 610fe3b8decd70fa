"""CloudTrail-shaped SageMaker events, as EventBridge delivers them ("AWS API Call via CloudTrail").

Used by the local trail stand-in (`trail.py`, which fills in what the real call carried),
the tests and the fixtures in events/. Shapes follow CloudTrail record format 1.08:
`userIdentity` of an assumed role with its `sessionIssuer`, lower-camel-case
`requestParameters`, `responseElements.modelArn`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

DEFAULT_ACCOUNT: Final = "123456789012"
DEFAULT_REGION: Final = "us-east-1"
DEFAULT_CALLER: Final = "arn:aws:iam::123456789012:role/ml-pipeline"


def _identity(caller_role_arn: str, account: str) -> dict[str, Any]:
    role_name = caller_role_arn.rsplit("/", 1)[-1]
    return {
        "type": "AssumedRole",
        "principalId": f"AROAEXAMPLEID:{role_name}-session",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role_name}/{role_name}-session",
        "accountId": account,
        "accessKeyId": "ASIAEXAMPLEKEYID",
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": "AROAEXAMPLEID",
                "arn": caller_role_arn,
                "accountId": account,
                "userName": role_name,
            },
            "attributes": {"creationDate": "2026-11-28T09:00:00Z", "mfaAuthenticated": "false"},
        },
    }


def detail(
    event_name: str,
    request: Mapping[str, Any] | None,
    response: Mapping[str, Any] | None = None,
    *,
    caller_role_arn: str = DEFAULT_CALLER,
    account: str = DEFAULT_ACCOUNT,
    region: str = DEFAULT_REGION,
    event_id: str | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
    when: datetime | None = None,
    user_identity: Mapping[str, Any] | None = None,
    source_ip: str = "10.0.12.34",
    user_agent: str = "Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0 os/linux lang/python#3.12",
    request_id: str | None = None,
) -> dict[str, Any]:
    """The `detail` of one CloudTrail record for a SageMaker API call."""
    at = (when or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    identity = dict(user_identity) if user_identity is not None \
        else _identity(caller_role_arn, account)
    body: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": identity,
        "eventTime": at,
        "eventSource": "sagemaker.amazonaws.com",
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": source_ip,
        "userAgent": user_agent,
        "requestParameters": dict(request) if request is not None else None,
        "responseElements": dict(response) if response is not None else None,
        "requestID": request_id or str(uuid.uuid4()),
        "eventID": event_id or str(uuid.uuid4()),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }
    if error_code:
        body["errorCode"] = error_code
        body["errorMessage"] = error_message or f"{error_code} raised by the service"
        body["responseElements"] = None
    return body


def create_model(model_name: str, model_arn: str, tags: Mapping[str, str] | None = None,
                 **kwargs: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "modelName": model_name,
        "primaryContainer": {
            "image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.3-cpu",
            "modelDataUrl": f"s3://ml-artifacts/{model_name}/model.tar.gz",
        },
        "executionRoleArn": f"arn:aws:iam::{kwargs.get('account', DEFAULT_ACCOUNT)}:role/sm-exec",
    }
    if tags:
        request["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
    return detail("CreateModel", request, {"modelArn": model_arn}, **kwargs)


def delete_model(model_name: str, **kwargs: Any) -> dict[str, Any]:
    return detail("DeleteModel", {"modelName": model_name}, None, **kwargs)


def create_model_package_group(group_name: str, group_arn: str,
                               tags: Mapping[str, str] | None = None,
                               **kwargs: Any) -> dict[str, Any]:
    """CreateModelPackageGroup; `group_name` may be an ARN, as the API allows."""
    request: dict[str, Any] = {"modelPackageGroupName": group_name,
                               "modelPackageGroupDescription": "registry of one model"}
    if tags:
        request["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
    return detail("CreateModelPackageGroup", request, {"modelPackageGroupArn": group_arn},
                  **kwargs)


def delete_model_package_group(group_name_or_arn: str, **kwargs: Any) -> dict[str, Any]:
    """DeleteModelPackageGroup: the name (or ARN) in the request, no responseElements."""
    return detail("DeleteModelPackageGroup", {"modelPackageGroupName": group_name_or_arn}, None,
                  **kwargs)


def add_tags(resource_arn: str, tags: Mapping[str, str], **kwargs: Any) -> dict[str, Any]:
    request = {"resourceArn": resource_arn,
               "tags": [{"key": k, "value": v} for k, v in tags.items()]}
    response = {"tags": [{"key": k, "value": v} for k, v in tags.items()]}
    return detail("AddTags", request, response, **kwargs)


def delete_tags(resource_arn: str, keys: list[str], **kwargs: Any) -> dict[str, Any]:
    return detail("DeleteTags", {"resourceArn": resource_arn, "tagKeys": keys}, None, **kwargs)


def envelope(detail_body: Mapping[str, Any], *, include_account: bool = True) -> dict[str, Any]:
    """The EventBridge event around a CloudTrail detail (what a Lambda invoked directly gets)."""
    event: dict[str, Any] = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.sagemaker",
        "account": detail_body.get("recipientAccountId", DEFAULT_ACCOUNT),
        "time": detail_body.get("eventTime"),
        "region": detail_body.get("awsRegion", DEFAULT_REGION),
        "resources": [],
        "detail": dict(detail_body),
    }
    if not include_account:
        event.pop("account")
    return event


def put_events_entry(detail_body: Mapping[str, Any]) -> dict[str, Any]:
    """A PutEvents entry that EventBridge turns into the envelope above."""
    import json

    return {
        "Source": "aws.sagemaker",
        "DetailType": "AWS API Call via CloudTrail",
        "Detail": json.dumps(detail_body),
    }


def sqs_record(body: str, *, message_id: str | None = None, receive_count: int = 1,
               queue_arn: str = "arn:aws:sqs:us-east-1:123456789012:model-access-events",
               ) -> dict[str, Any]:
    """One record of the SQS event a Lambda event source mapping delivers."""
    now_ms = str(int(datetime.now(UTC).timestamp() * 1000))
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": "AQEB" + uuid.uuid4().hex,
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": now_ms,
            "SenderId": "AIDAIEVENTBRIDGE",
            "ApproximateFirstReceiveTimestamp": now_ms,
        },
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3],
    }
