"""Observability wiring: tracing off means the X-Ray SDK is never imported (cold start)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = "import model_access.observability as o, sys; print('aws_xray_sdk' in sys.modules)"


@pytest.mark.parametrize(("disabled", "imported"), [("true", "False"), ("false", "True")])
def test_tracer_imports_xray_only_when_tracing_is_on(disabled: str, imported: str) -> None:
    """POWERTOOLS_TRACE_DISABLED=true keeps the X-Ray SDK (about 0.4 s) out of the process."""
    env = dict(os.environ, POWERTOOLS_TRACE_DISABLED=disabled)
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == imported
