"""Load the real Lambda entry points from functions/ for tests, with an injected runtime."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from model_access.runtime import Runtime
from model_access_cli.local.lambdas import load_function
from model_access_cli.local.poller import LocalContext


def provisioner_handler(runtime: Runtime) -> Callable[[dict[str, Any], Any], Any]:
    module = load_function("provisioner")
    module._runtime = runtime
    return module.handler  # type: ignore[no-any-return]


def backfill_handler(runtime: Runtime) -> Callable[[dict[str, Any], Any], Any]:
    module = load_function("backfill")
    module._runtime = runtime
    return module.handler  # type: ignore[no-any-return]


def lambda_context(name: str = "model-access-provisioner", timeout: float = 900.0) -> LocalContext:
    return LocalContext(name, f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
                        timeout_seconds=timeout)
