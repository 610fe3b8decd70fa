"""Cold start: import time of the provisioner module in a fresh interpreter vs `import boto3`.

Two figures. `bytecode_cached` (this interpreter, every module compiled once before timing:
a fresh interpreter on a warm machine, the goal of issue 6). `deployed` (issue 13): the
archives exactly as `make package` builds them, extracted, imported by the runtime's Python
(3.13) with nothing else on the path and no bytecode written (Lambda's /opt and /var/task
are read-only); `import boto3` is timed the same way from the same files, precompiled as the
runtime ships its own. `deployed_without_bytecode` is the same layer with its bytecode
removed: what a machine without Python 3.13 ships (README, "Packaging").
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final

from bench.harness import REGION

REPO: Final = Path(__file__).resolve().parents[1]

_IMPORT_APP: Final = (
    "import importlib.util, sys, time\n"
    "sys.path[:0] = {path_entries!r}\n"
    "t = time.perf_counter()\n"
    "spec = importlib.util.spec_from_file_location('app', {path!r})\n"
    "module = importlib.util.module_from_spec(spec)\n"
    "spec.loader.exec_module(module)\n"
    "print(time.perf_counter() - t)\n"
)
_PAUSED: Final = "import gc\ngc.disable()\n"
_IMPORT_BOTO3: Final = (
    "import sys, time\n"
    "sys.path[:0] = {path_entries!r}\n"
    "t = time.perf_counter()\nimport boto3\nprint(time.perf_counter() - t)\n"
)


def lambda_environment() -> dict[str, str]:
    """What Lambda sets, plus the stack's default `tracing: false` (POWERTOOLS_TRACE_DISABLED):
    with tracing off the functions never import the X-Ray SDK (observability.py)."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("MODEL_ACCESS_", "POWERTOOLS_", "PYTHON"))}
    base.pop("AWS_ENDPOINT_URL", None)
    base.update({"LAMBDA_TASK_ROOT": "/var/task", "AWS_REGION": REGION,
                 "AWS_LAMBDA_FUNCTION_NAME": "model-access-provisioner",
                 "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
                 "POWERTOOLS_TRACE_DISABLED": "true"})
    return base


def _timed(python: str, code: str, env: Mapping[str, str], *flags: str) -> float:
    answer = subprocess.run([python, *flags, "-c", code], env=dict(env), capture_output=True,
                            text=True, check=True, cwd=tempfile.gettempdir())
    return float(answer.stdout.strip().splitlines()[-1])


def _compare(python: str, app_code: str, boto_code: str, env: Mapping[str, str], runs: int,
             *flags: str, boto_env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Medians of `runs` interleaved timings (drift hits both alike), after a warm-up."""
    boto_env = boto_env or env
    if runs >= 3:
        _timed(python, app_code, env, *flags), _timed(python, boto_code, boto_env, *flags)
    app_times, boto_times = [], []
    for _ in range(runs):
        app_times.append(_timed(python, app_code, env, *flags))
        boto_times.append(_timed(python, boto_code, boto_env, *flags))
    app_ms = statistics.median(app_times) * 1000
    boto_ms = statistics.median(boto_times) * 1000
    return {"app_import_ms": round(app_ms, 1), "boto3_import_ms": round(boto_ms, 1),
            "ratio": round(app_ms / boto_ms, 2)}


def bytecode_cached(runs: int, cache: str) -> dict[str, Any]:
    """This interpreter, the source tree, every module compiled once into `cache` (a
    PYTHONPYCACHEPREFIX, so the repository gets no __pycache__; `warm_cache` fills it)."""
    return _compare(sys.executable, _source_app_code(), _IMPORT_BOTO3.format(path_entries=[]),
                    _cached_environment(cache), runs)


def _source_app_code() -> str:
    return _IMPORT_APP.format(path=str(REPO / "functions" / "provisioner" / "app.py"),
                              path_entries=[])


def _cached_environment(cache: str) -> dict[str, str]:
    return {**lambda_environment(), "PYTHONPYCACHEPREFIX": cache}


def warm_cache(cache: str) -> None:
    """Compile and cache everything the app imports (untimed)."""
    _timed(sys.executable, _source_app_code(), _cached_environment(cache))


def unpack_deployment(python: str, root: Path) -> dict[str, Any]:
    """Build the archives as `make package` does, with `python`, and extract them the way
    Lambda lays them out (/var/task, /opt) under `root` (untimed)."""
    from model_access_cli.build import package

    version = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                             capture_output=True, text=True, check=True).stdout.strip()
    out: dict[str, Any] = {"python": python, "python_version": version}
    archives = package.build_all(root / "dist", python=python)
    out["archives"] = {p.name: {"bytes": p.stat().st_size,
                                "files": len(zipfile.ZipFile(p).namelist())}
                       for p in archives}
    out["sdk_bytes_in_layer"] = _sdk_bytes(root / "dist" / package.LAYER_ARCHIVE)
    for name, into in (("provisioner.zip", "task"), (package.LAYER_ARCHIVE, "opt")):
        _extract(root / "dist" / name, root / into)
    return out


def deployed(runs: int, python: str, root: Path) -> dict[str, Any]:
    """The archives `unpack_deployment` laid out under `root`, imported by the runtime's
    Python, with and without their bytecode."""
    from model_access_cli.build import package

    out: dict[str, Any] = {}
    layer = root / "opt" / package.LAYER_PREFIX
    app = str(root / "task" / "app.py")
    env = lambda_environment()
    boto_code = _IMPORT_BOTO3.format(path_entries=[str(layer)])
    app_code = _IMPORT_APP.format(path=app, path_entries=[str(root / "task"), str(layer)])
    out["with_bytecode"] = _compare(python, app_code, boto_code, env, runs, "-I", "-B")
    # The functions pause the cyclic collector during their imports and, in Lambda (the
    # environment above says so), freeze what they made (model_access.handlers.startup): a bare
    # `import boto3` with the collector off throughout is the like-for-like yardstick.
    out["vs_boto3_collector_paused"] = _compare(python, app_code, _PAUSED + boto_code, env,
                                                runs, "-I", "-B")
    out["import_ms_by_family"] = _breakdown(python, app_code, env)
    out["boto3_import_ms_by_family"] = _breakdown(python, boto_code, env)
    # The same layer as if it shipped no bytecode for the app's own imports: the layer's
    # __pycache__ directories are renamed away (the interpreter's own stdlib keeps its
    # bytecode, as on Lambda). A report only: its denominator is the `import boto3`
    # median above, timed from the layer as shipped.
    hidden = _hide_bytecode(layer)
    app_ms = statistics.median(_timed(python, app_code, env, "-I", "-B")
                               for _ in range(runs)) * 1000
    boto_ms = out["with_bytecode"]["boto3_import_ms"]
    out["without_bytecode"] = {"app_import_ms": round(app_ms, 1), "boto3_import_ms": boto_ms,
                               "ratio": round(app_ms / boto_ms, 2),
                               "bytecode_dirs_hidden": hidden}
    return out


def instructions(python: str, root: Path) -> dict[str, Any]:
    """The deployed import counted in instructions by valgrind's callgrind: the same on
    every run (wall time on a shared machine moves by more than the goal's margin), so a
    small gain or loss shows. Each figure is the interpreter with the layer on its path
    minus the same interpreter importing nothing (start-up and shutdown cancel out)."""
    from model_access_cli.build import package

    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return {"note": "valgrind not found (Debian package valgrind): not counted"}
    layer, task = str(root / "opt" / package.LAYER_PREFIX), str(root / "task")
    env = lambda_environment()
    codes = {"nothing": f"import sys\nsys.path[:0] = {[task, layer]!r}\n",
             "boto3": _IMPORT_BOTO3.format(path_entries=[layer]),
             "app": _IMPORT_APP.format(path=str(root / "task" / "app.py"),
                                       path_entries=[task, layer])}
    counted = {name: _instructions(valgrind, python, code, env) for name, code in codes.items()}
    app, boto = counted["app"] - counted["nothing"], counted["boto3"] - counted["nothing"]
    return {"tool": "valgrind --tool=callgrind", "app_instructions": app,
            "boto3_instructions": boto, "ratio": round(app / boto, 3)}


def _instructions(valgrind: str, python: str, code: str, env: Mapping[str, str]) -> int:
    answer = subprocess.run([valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null",
                             python, "-I", "-B", "-c", code], env=dict(env),
                            capture_output=True, text=True, check=True,
                            cwd=tempfile.gettempdir())
    return collected_instructions(answer.stderr)


def collected_instructions(report: str) -> int:
    """The total callgrind prints on exit (`==pid== Collected : 1234`)."""
    for line in report.splitlines():
        if "Collected :" in line:
            return int(line.rsplit(":", 1)[1].strip())
    raise ValueError("callgrind printed no instruction total")


def _breakdown(python: str, code: str, env: Mapping[str, str]) -> dict[str, float]:
    """One more import with `-X importtime`, its self times summed by family (untimed: the
    flag's own bookkeeping inflates them; they show shares, not the figure above)."""
    from bench.import_breakdown import breakdown

    answer = subprocess.run([python, "-I", "-B", "-X", "importtime", "-c", code],
                            env=dict(env), capture_output=True, text=True, check=True,
                            cwd=tempfile.gettempdir())
    return breakdown(answer.stderr)


def _extract(archive: Path, into: Path) -> None:
    """Unpack an archive with two threads (thousands of small files: the disk's latency,
    not the CPU, is what each one costs)."""
    with zipfile.ZipFile(archive) as opened:
        members = opened.infolist()
    for folder in {str(Path(m.filename).parent) for m in members}:
        (into / folder).mkdir(parents=True, exist_ok=True)

    def unpack(part: list[zipfile.ZipInfo]) -> None:
        with zipfile.ZipFile(archive) as own:  # one handle per thread
            for member in part:
                if not member.is_dir():
                    own.extract(member, into)

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(unpack, [members[0::2], members[1::2]]))


def _hide_bytecode(tree: Path) -> int:
    """Rename every __pycache__ under `tree` so no import finds it; how many were hidden."""
    found = [Path(folder) / "__pycache__" for folder, subdirs, _ in os.walk(tree)
             if "__pycache__" in subdirs]
    for cache in found:
        cache.rename(cache.with_name("__pycache__.hidden"))
    return len(found)


def _sdk_bytes(layer: Path) -> int:
    """Compressed bytes of boto3, botocore and their dependencies in the layer: the pin's size."""
    from model_access_cli.build import package

    tops = {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py"}
    with zipfile.ZipFile(layer) as archive:
        return sum(info.compress_size for info in archive.infolist()
                   if info.filename.split("/")[1].split("-")[0] in tops
                   or _distribution(info.filename) in package.SDK_DISTRIBUTIONS)


def _distribution(name: str) -> str:
    """`python/python_dateutil-2.9.0.dist-info/RECORD` -> `python-dateutil`."""
    top = name.split("/")[1]
    if not top.endswith(".dist-info"):
        return ""
    return top.rsplit("-", 1)[0].lower().replace("_", "-")


def cold_start(runs: int, *, count_instructions: bool = False) -> dict[str, Any]:
    """Both figures; `deployed_ratio_vs_boto3` is None when this machine has no Python 3.13.

    The two untimed preparations (building and unpacking the archives with the runtime's
    Python, compiling the source tree's bytecode) run side by side; every timing runs alone,
    after both."""
    from model_access_cli.build import bytecode

    python = bytecode.runtime_python()
    with tempfile.TemporaryDirectory() as cache, \
            tempfile.TemporaryDirectory(prefix="model-access-cold-") as scratch:
        with ThreadPoolExecutor(max_workers=1) as pool:
            unpacking = pool.submit(unpack_deployment, python, Path(scratch)) if python else None
            warm_cache(cache)
            shipped = unpacking.result() if unpacking else {
                "python": None, "note": bytecode.missing_message()}
        cached = bytecode_cached(runs, cache)
        if python:
            if count_instructions:  # before `deployed`, which hides the layer's bytecode
                shipped["instructions"] = instructions(python, Path(scratch))
            shipped.update(deployed(runs, python, Path(scratch)))
    return {
        "runs": runs, "python": sys.version.split()[0],
        "environment": "Lambda-like, stack defaults (tracing off)",
        "bytecode_cached": cached,
        "import_ratio_vs_boto3": cached["ratio"],
        "deployed": shipped,
        "deployed_ratio_vs_boto3": (shipped["with_bytecode"]["ratio"]
                                    if shipped.get("python") else None),
        "deployed_without_bytecode_ratio_vs_boto3": (shipped["without_bytecode"]["ratio"]
                                                     if shipped.get("python") else None),
        "deployed_instruction_ratio_vs_boto3": shipped.get("instructions", {}).get("ratio"),
    }
