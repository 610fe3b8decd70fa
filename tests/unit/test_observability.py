"""Cold start wiring: tracing off means the X-Ray SDK is never imported; the functions' imports
run with the cyclic collector paused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = "import model_access.handlers.observability as o, sys; print('aws_xray_sdk' in sys.modules)"


@pytest.mark.parametrize(("disabled", "imported"), [("true", "False"), ("false", "True")])
def test_tracer_imports_xray_only_when_tracing_is_on(disabled: str, imported: str) -> None:
    """POWERTOOLS_TRACE_DISABLED=true keeps the X-Ray SDK (about 0.4 s) out of the process."""
    env = dict(os.environ, POWERTOOLS_TRACE_DISABLED=disabled)
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == imported


FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
GC_PROBE = """
import gc, importlib.util, sys
if sys.argv[1] == "off":
    gc.disable()
starts = []
in_imports = lambda: False
gc.callbacks.append(lambda phase, info: starts.append(1)
                    if phase == "start" and in_imports() else None)
if sys.argv[2] == "bare":  # the same imports without the function module's pause
    in_imports = lambda: True
    import model_access.handlers.backfill, model_access.handlers.provisioner, model_access.runtime
    in_imports = lambda: False
else:  # from the pause's own import to the last import it wraps (both end with this name)
    spec = importlib.util.spec_from_file_location("app", sys.argv[2])
    module = importlib.util.module_from_spec(spec)
    in_imports = lambda: ("collector_paused" in vars(module)
                          and "context_function_arn" not in vars(module))
    spec.loader.exec_module(module)
print(len(starts), gc.isenabled(), gc.get_freeze_count(), len(gc.get_objects()))
"""


def _gc_run(state: str, target: str, **env: str) -> tuple[int, bool, int, int]:
    """Collections during the imports, collector on after, objects frozen, objects the
    collector still walks (every generation)."""
    env = {k: v for k, v in os.environ.items() if k != "AWS_EXECUTION_ENV"} | env
    env.update(POWERTOOLS_TRACE_DISABLED="true", AWS_REGION="us-east-1")
    out = subprocess.run([sys.executable, "-c", GC_PROBE, state, target], env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]), out[1] == "True", int(out[2]), int(out[3])


def _gc_probe(state: str, target: str) -> tuple[int, bool]:
    return _gc_run(state, target)[:2]


@pytest.mark.parametrize("function", ["provisioner", "backfill"])
def test_function_imports_run_with_the_collector_paused_and_restored(function: str) -> None:
    """Cold start: no cyclic collection runs during a function's imports (they make only
    objects that live as long as the container); the collector is on again afterwards, and
    stays off in a process that had turned it off. Without the pause, the same imports do
    set off collections (the control), so the first check can fail."""
    app = str(FUNCTIONS / function / "app.py")
    assert _gc_probe("on", "bare")[0] > 0
    assert _gc_probe("on", app) == (0, True)
    assert _gc_probe("off", app) == (0, False)


@pytest.mark.parametrize("function", ["provisioner", "backfill"])
def test_in_a_lambda_container_the_init_leaves_its_objects_out_of_later_collections(
        function: str) -> None:
    """In a Lambda container (AWS_EXECUTION_ENV as Lambda sets it) the pause ends with
    gc.freeze(): what the init made is out of every generation, so neither the collection
    the pause deferred nor any later one walks it. Anywhere else (tests, the demo, the
    bench) nothing is frozen and the same objects stay in the generations: the control
    that makes the first check able to fail."""
    app = str(FUNCTIONS / function / "app.py")
    collections, enabled, frozen, walked = _gc_run("on", app,
                                                   AWS_EXECUTION_ENV="AWS_Lambda_python3.13")
    local = _gc_run("on", app)
    assert (collections, enabled) == (0, True)
    assert frozen > 10_000 and walked < 1_000
    assert local[2] == 0, "nothing is frozen outside Lambda"
    assert local[3] > 10_000, "the init's objects are what the collector would walk"


ORDER_PROBE = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(" ".join(sys.modules))
"""


@pytest.mark.parametrize("function", ["provisioner", "backfill"])
def test_functions_import_boto3_from_their_top_level_before_the_engine(function: str) -> None:
    """Cold start: boto3's import tree runs from the function module's own level, not from
    deep inside the engine's import chain (model_access.aws.records imports boto3). Nested
    some forty frames deeper, it made CPython 3.13 free and map again a 16 KiB frame stack
    chunk about 1,500 times (counted with strace; README, "Cold start as deployed")."""
    env = dict(os.environ, POWERTOOLS_TRACE_DISABLED="true", AWS_REGION="us-east-1")
    loaded = subprocess.run([sys.executable, "-c", ORDER_PROBE,
                             str(FUNCTIONS / function / "app.py")], env=env,
                            capture_output=True, text=True, check=True).stdout.split()
    engine = [m for m in loaded if m.startswith("model_access.")
              and m not in {"model_access.handlers", "model_access.handlers.startup"}]
    assert engine, "the probe loaded the engine"
    assert loaded.index("boto3") < min(loaded.index(m) for m in engine)
    assert loaded.index("botocore.session") < min(loaded.index(m) for m in engine)
