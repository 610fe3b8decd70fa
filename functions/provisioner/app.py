"""Provisioner Lambda: SQS batches of SageMaker CloudTrail events -> least-privilege grants."""

from __future__ import annotations

from model_access.handlers.startup import collector_paused

with collector_paused():
    from typing import Any

    # boto3 from this module's top level, before the engine: imported from deep inside the
    # engine's own import chain, its tree made CPython 3.13 free and map again a 16 KiB
    # frame stack chunk about 1,500 times (README, Benchmarks, "Cold start as deployed").
    import boto3  # noqa: F401
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from model_access.handlers.observability import logger, metrics, tracer
    from model_access.handlers.provisioner import handle
    from model_access.runtime import Runtime, build_runtime, context_function_arn

_runtime: Runtime | None = None


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Grant, move or revoke for every model named in the batch; report retryable records."""
    global _runtime  # noqa: PLW0603 - built once per container, on first use
    if _runtime is None:
        _runtime = build_runtime(function_arn=context_function_arn(context))
    return handle(event, _runtime, context)
