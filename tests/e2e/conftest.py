"""End-to-end tests: a real moto server over HTTP (one per session, reset between tests)."""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator

import pytest

from model_access.aws.clients import Clients
from model_access.core.settings import Settings
from model_access_cli.local.server import moto_server
from model_access_cli.local.stack import LocalStack, local_up
from tests.functional.world import World


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """One moto server on 127.0.0.1 for the session."""
    with moto_server() as url:
        yield url


@pytest.fixture
def endpoint(server_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A freshly reset server; AWS_ENDPOINT_URL points every new client at it."""
    url = f"{server_url}/moto-api/reset"
    request = urllib.request.Request(url, method="POST")  # noqa: S310 - local moto server
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        assert answer.status == 200
    monkeypatch.setenv("AWS_ENDPOINT_URL", server_url)
    return server_url


@pytest.fixture
def stack(endpoint: str) -> tuple[World, LocalStack]:
    """`local up` on the fresh server, and a World whose clients talk HTTP to it."""
    clients = Clients(region="us-east-1", endpoint_url=endpoint)
    return World(clients), local_up(clients, Settings.from_mapping(dict(os.environ)))
