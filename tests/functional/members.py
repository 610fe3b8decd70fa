"""Member accounts for organization tests: moto maps AssumeRole credentials to the account in
the role ARN, so clients made from them act in that account (the role need not exist)."""

from __future__ import annotations

import json
from typing import Any

import boto3

from model_access.aws.clients import Clients
from model_access_cli.local import cloudtrail
from tests.functional.world import ACCOUNT, ELIGIBLE_TAG, TRUST

MEMBER = "111111111111"
SECOND = "222222222222"
STRANGER = "999999999999"
OTHER_REGION = "eu-west-1"
ORG_ENV = {"MODEL_ACCESS_MEMBER_ACCOUNTS": f"{MEMBER},{SECOND}",
           "MODEL_ACCESS_REGIONS": OTHER_REGION}


def account_clients(hub: Clients, account: str, region: str = "us-east-1") -> Clients:
    """Clients acting in `account` (moto: credentials of a role assumed there)."""
    creds = hub.sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/model-access-member",
                                RoleSessionName="setup")["Credentials"]
    session = boto3.Session(aws_access_key_id=creds["AccessKeyId"],
                            aws_secret_access_key=creds["SecretAccessKey"],
                            aws_session_token=creds["SessionToken"])
    return Clients(session, region=region, endpoint_url=hub.endpoint_url)


def owner_role(clients: Clients, name: str) -> None:
    clients.iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST,
                            Tags=[{"Key": k, "Value": v} for k, v in ELIGIBLE_TAG.items()])


def model(clients: Clients, name: str, owner: str) -> str:
    arn: str = clients.sagemaker.create_model(
        ModelName=name, ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/sm-exec",
        PrimaryContainer={"Image": "img"}, Tags=[{"Key": "owner-role", "Value": owner}],
    )["ModelArn"]
    return arn


def create_event(name: str, arn: str, account: str, region: str = "us-east-1",
                 ) -> dict[str, Any]:
    """The CloudTrail event as the hub's bus receives it: forwarded, so the envelope names
    the hub (EventBridge rewrites it); the record inside names the member."""
    event = cloudtrail.envelope(cloudtrail.create_model(name, arn, account=account,
                                                        region=region))
    event["account"], event["region"] = ACCOUNT, "us-east-1"
    return event


def tool_policies(clients: Clients) -> dict[str, list[str]]:
    """Tool policy name -> resources granted, in one account."""
    out: dict[str, list[str]] = {}
    for page in clients.iam.get_paginator("list_policies").paginate(
            Scope="Local", PathPrefix="/model-access/"):
        for policy in page["Policies"]:
            doc = clients.iam.get_policy_version(
                PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])
            document = doc["PolicyVersion"]["Document"]
            if isinstance(document, str):
                document = json.loads(document)
            out[policy["PolicyName"]] = sorted(
                r for st in document["Statement"] for r in st["Resource"])
    return out
