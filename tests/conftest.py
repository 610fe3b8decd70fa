"""Test-wide set-up: dummy credentials (nothing can reach AWS) and event fixtures."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

for _key, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_TRACE_DISABLED": "true",
}.items():
    os.environ[_key] = _value
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

EVENTS = Path(__file__).resolve().parents[1] / "events"
ACCOUNT = "123456789012"
REGION = "us-east-1"


def load_event(name: str) -> Any:
    """A fixture from events/ (e.g. 'lambda/create-model.json')."""
    return json.loads((EVENTS / name).read_text())


@pytest.fixture
def event() -> Any:
    return load_event
