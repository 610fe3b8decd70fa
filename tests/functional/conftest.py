"""Functional tests: handlers against in-process moto (one mock per session, reset per test).

Starting `mock_aws` once and resetting its backends between tests is about ten times
faster than a fresh mock per test; the boto3 clients are created once and reused.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws
from moto.core.base_backend import BackendDict

from model_access.aws.clients import Clients
from model_access.core.settings import Settings
from model_access_cli.local.moto_extensions import register as register_moto_extensions
from model_access_cli.local.stack import local_up
from tests.functional.world import World


@pytest.fixture(scope="session")
def aws() -> Iterator[Clients]:
    """One moto mock for the whole session and one set of clients on it (with the registry
    deletes moto lacks, as the local stack's server has them)."""
    register_moto_extensions()
    with mock_aws():
        yield Clients(region="us-east-1")


@pytest.fixture
def world(aws: Clients) -> World:
    """Fresh AWS state with the stack's table and queues, plus helpers to build scenarios."""
    BackendDict.reset()
    aws.counter.reset()
    local_up(aws, Settings.from_mapping({}))
    return World(aws)


@pytest.fixture
def cli_clients(aws: Clients, monkeypatch: pytest.MonkeyPatch) -> Clients:
    """`model-access` run in-process reuses the session's clients (a fresh boto3 session
    per client costs about a second per invocation and changes nothing under test)."""
    from model_access_cli.commands import ops

    monkeypatch.setattr(ops, "Clients", lambda **_kwargs: aws)
    return aws
