"""Backfill Lambda: manual re-invoke and scheduled drift sweep over every model.

Input: `{"dryRun": true}` to report without writing; `{"continuation": {...}}` is what this
function sends itself when it nears its time limit (100,000 models do not fit in one run).
"""

from __future__ import annotations

from model_access.handlers.startup import collector_paused

with collector_paused():
    from typing import Any

    # boto3 from this module's top level, before the engine: imported from deep inside the
    # engine's own import chain, its tree made CPython 3.13 free and map again a 16 KiB
    # frame stack chunk about 1,500 times (README, Benchmarks, "Cold start as deployed").
    import boto3  # noqa: F401
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from model_access.handlers.backfill import handle
    from model_access.handlers.observability import logger, metrics, tracer
    from model_access.runtime import Runtime, build_runtime, context_function_arn

_runtime: Runtime | None = None


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Reconcile every model (or resume from a continuation); continue itself if needed."""
    global _runtime  # noqa: PLW0603 - built once per container, on first use
    if _runtime is None:
        _runtime = build_runtime(function_arn=context_function_arn(context))
    return handle(event, context, _runtime)
