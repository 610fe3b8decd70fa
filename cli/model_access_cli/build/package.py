"""Build the Lambda archives: dist/provisioner.zip, dist/backfill.zip and dist/layer.zip.

Deterministic: the same inputs give the same bytes (sorted entries, one fixed timestamp and
mode, hash-based bytecode), so Pulumi sees no change when nothing changed.
The layer holds `model_access` and its runtime dependencies under `python/`, pinned to the
versions installed here (the ones the tests ran with) and installed for the Lambda runtime's
platform: Powertools with the X-Ray SDK, and boto3 with botocore, because the runtime's own
copy changes with the Region and over time (README, "Packaging"). Every module is compiled
by the runtime's Python (bytecode.py); without one on this machine the layer ships no
bytecode and this says so.
After building, the layer and each function module are imported by that interpreter
(`-I -S -B`) seeing nothing but them; no layer module may be compiled from source there.

Run as `python -m model_access_cli.build.package` (`make package`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Final

from packaging.requirements import Requirement

from model_access_cli.build import bytecode

REPO_ROOT: Final = Path(__file__).resolve().parents[3]
DIST_DIR: Final = REPO_ROOT / "dist"
DEPS_CACHE: Final = REPO_ROOT / "build" / "layer-deps"
FUNCTIONS_DIR: Final = REPO_ROOT / "functions"
FUNCTIONS: Final = ("provisioner", "backfill")
HANDLER_MODULE: Final = "app"
SHARED_PACKAGE: Final = REPO_ROOT / "shared" / "model_access"
LAYER_ARCHIVE: Final = "layer.zip"
LAYER_PREFIX: Final = "python"
LAYER_ROOTS: Final[tuple[tuple[str, frozenset[str]], ...]] = (
    ("aws-lambda-powertools", frozenset({"tracer"})), ("boto3", frozenset()))
"""What the layer ships, with the extras used (the Tracer needs aws-xray-sdk)."""
SDK_DISTRIBUTIONS: Final = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
)
"""The SDK the Lambda runtime also ships: pinned in the layer, which comes first on sys.path."""
PIP_PLATFORM: Final = ("--platform", "manylinux2014_aarch64", "--implementation", "cp",
                       "--python-version", "3.13", "--abi", "cp313", "--only-binary=:all:")
"""Wheels for the functions' runtime (python3.13 on arm64), whatever machine builds."""
TARGET_MARKERS: Final = {
    "python_version": "3.13", "python_full_version": "3.13.0", "implementation_name": "cpython",
    "platform_machine": "aarch64", "sys_platform": "linux", "platform_system": "Linux",
}
FIXED_DATE: Final = (1980, 1, 1, 0, 0, 0)
FILE_MODE: Final = 0o100644
SKIPPED_DIRS: Final = frozenset({"__pycache__"})
PIP_SCRIPTS_DIR: Final = "bin"
"""Console scripts pip writes at the top of a --target folder: not importable, not shipped."""
SKIPPED_SUFFIXES: Final = (".pyc", ".pyo")
BYTECODE_NONE: Final = "no-bytecode"
IMPORT_CHECKS: Final = (
    "aws_lambda_powertools",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.metrics",
    "aws_lambda_powertools.tracing",
    "aws_lambda_powertools.utilities.batch",
    "aws_xray_sdk.core",
    "boto3",
    "botocore.client",
)


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-")


def layer_requirements() -> list[str]:
    """`name==version` for Powertools and boto3 (with the extras used) and all they pull in."""
    pins: dict[str, str] = {}
    pending: list[tuple[str, frozenset[str]]] = list(LAYER_ROOTS)
    while pending:
        name, extras = pending.pop()
        if _canonical(name) in pins:
            continue
        pins[_canonical(name)] = metadata.version(name)
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            wanted = requirement.marker is None or any(
                requirement.marker.evaluate({**TARGET_MARKERS, "extra": extra})
                for extra in extras or {""}
            )
            if wanted:
                pending.append((requirement.name, frozenset(requirement.extras)))
    return sorted(f"{name}=={version}" for name, version in pins.items())


def install_layer_deps(requirements: list[str], cache: Path = DEPS_CACHE,
                       python: str | None = None) -> Path:
    """pip-install the pins (compiled by `python`, if given) into a directory named by their
    hash and the bytecode's tag; reuse it when present."""
    tag = bytecode.RUNTIME_TAG if python else BYTECODE_NONE
    key = hashlib.sha256("\n".join([*requirements, *PIP_PLATFORM, tag]).encode()).hexdigest()[:16]
    target = cache / key
    if target.is_dir():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=cache, prefix=f"{key}."))
    try:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "--no-deps", "--no-compile", "--target", str(staging), *PIP_PLATFORM,
             *requirements],
            check=True,
        )
        if python:
            bytecode.compile_tree(python, staging)
    except (subprocess.CalledProcessError, RuntimeError):
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        staging.rename(target)
    except OSError:
        if not target.is_dir():
            raise
        shutil.rmtree(staging)  # another build (a parallel test worker) got there first
    return target


def tree_entries(root: Path, prefix: str = "", skip_top: frozenset[str] = frozenset(),
                 *, with_bytecode: bool = False) -> Iterator[tuple[str, Path]]:
    """(archive name, file) for every file under `root`; caches and bytecode left out, except
    the runtime's own `__pycache__/*.cpython-313.pyc` when `with_bytecode`."""
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if path.is_dir() or relative.parts[0] in skip_top:
            continue
        if not (with_bytecode and bytecode.is_runtime_bytecode(relative)) and (
                SKIPPED_DIRS.intersection(relative.parts[:-1])
                or path.suffix in SKIPPED_SUFFIXES):
            continue
        yield f"{prefix}{relative.as_posix()}", path


def write_zip(entries: Iterable[tuple[str, Path]], target: Path) -> Path:
    """Write a reproducible zip: sorted names, fixed date and mode, maximum deflate."""
    ordered = sorted(entries)
    names = [name for name, _ in ordered]
    if len(names) != len(set(names)):
        raise ValueError(f"{target.name}: two files map to one archive name")
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w") as archive:
        for name, path in ordered:
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.create_system = 3  # unix, so the mode below is honoured
            info.external_attr = FILE_MODE << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return target


def function_source(function: str) -> Path:
    """The folder `function`'s archive is made of (it holds only the entry point)."""
    return FUNCTIONS_DIR / function


def build_function(function: str, dist: Path = DIST_DIR) -> Path:
    return write_zip(tree_entries(function_source(function)), dist / f"{function}.zip")


def build_layer(deps: Path, dist: Path = DIST_DIR, python: str | None = None) -> Path:
    """`python/`: the dependencies as installed (with their bytecode, if compiled) and
    model_access, compiled by `python` in a scratch copy (the source tree stays clean)."""
    with tempfile.TemporaryDirectory(prefix="model-access-layer-") as scratch:
        shared = Path(scratch) / SHARED_PACKAGE.name
        shutil.copytree(SHARED_PACKAGE, shared,
                        ignore=shutil.ignore_patterns(*SKIPPED_DIRS, "*.pyc", "*.pyo"))
        if python:
            bytecode.compile_tree(python, Path(scratch))
        entries = [
            *tree_entries(deps, f"{LAYER_PREFIX}/", skip_top=frozenset({PIP_SCRIPTS_DIR}),
                          with_bytecode=python is not None),
            *tree_entries(shared, f"{LAYER_PREFIX}/{SHARED_PACKAGE.name}/",
                          with_bytecode=python is not None),
        ]
        return write_zip(entries, dist / LAYER_ARCHIVE)


def build_all(dist: Path = DIST_DIR, deps: Path | None = None,
              python: str | None = None) -> list[Path]:
    """Every archive; `python` compiles the layer (None: no bytecode); `deps` is an
    already-installed dependency directory compiled by the same `python` (else install)."""
    deps = deps or install_layer_deps(layer_requirements(), python=python)
    return [*(build_function(f, dist) for f in FUNCTIONS), build_layer(deps, dist, python)]


_CHECK_SCRIPT = """
import importlib, importlib.machinery, json, pkgutil, sys
function_dir, layer_dir, *modules = sys.argv[1:]
sys.path[:0] = [function_dir, layer_dir]
compiled = []
to_code = importlib.machinery.SourceFileLoader.source_to_code
def spy(self, data, path, *args, **kwargs):
    if str(path).startswith(layer_dir):
        compiled.append(str(path))
    return to_code(self, data, path, *args, **kwargs)
importlib.machinery.SourceFileLoader.source_to_code = spy
import model_access
found = [m.name for m in pkgutil.walk_packages(model_access.__path__, "model_access.")]
for name in [*modules, *found]:
    importlib.import_module(name)
app = importlib.import_module("app")
assert callable(getattr(app, "handler", None)), "app.handler is missing"
loaded = sum(1 for m in list(sys.modules.values())
             if str(getattr(m, "__file__", "") or "").startswith(layer_dir))
print(json.dumps({"checked": len(modules) + len(found), "loaded": loaded,
                  "compiled": compiled}))
"""


def _ships_bytecode(layer: Path) -> bool:
    with zipfile.ZipFile(layer) as archive:
        return any(name.endswith(".pyc") for name in archive.namelist())


def check_imports(dist: Path = DIST_DIR, python: str | None = None) -> list[str]:
    """Import the layer and each function's module in `python -I -S -B` (default: the
    runtime's Python, else this one); raise if any fails, or if the layer ships bytecode and
    a layer module is compiled from source all the same."""
    python = python or bytecode.runtime_python() or sys.executable
    shipped = _ships_bytecode(dist / LAYER_ARCHIVE)
    reports = []
    with tempfile.TemporaryDirectory(prefix="model-access-check-") as scratch:
        root = Path(scratch)
        with zipfile.ZipFile(dist / LAYER_ARCHIVE) as layer:
            layer.extractall(root / "layer")
        env = {"PATH": os.environ.get("PATH", ""), "HOME": scratch, "AWS_REGION": "us-east-1",
               "AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true",
               "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
        for function in FUNCTIONS:
            with zipfile.ZipFile(dist / f"{function}.zip") as archive:
                archive.extractall(root / function)
            done = subprocess.run(
                [python, "-I", "-S", "-B", "-c", _CHECK_SCRIPT, str(root / function),
                 str(root / "layer" / LAYER_PREFIX), *IMPORT_CHECKS],
                capture_output=True, text=True, env=env, check=False,
            )
            if done.returncode != 0:
                raise RuntimeError(f"{function}: import check failed in {python}:\n{done.stderr}")
            seen = json.loads(done.stdout.strip().splitlines()[-1])
            if shipped and seen["compiled"]:
                raise RuntimeError(f"{function}: the layer ships bytecode, yet {python} "
                                   f"compiled these from source: {seen['compiled']}")
            reports.append(f"{function}: {seen['checked']} modules and app.handler import with "
                           f"only the layer beside them; {seen['loaded']} layer modules "
                           f"loaded, {len(seen['compiled'])} compiled from source ({python})")
    return reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--dist", type=Path, default=DIST_DIR, help="output folder")
    parser.add_argument("--no-check", action="store_true", help="skip the clean-import check")
    options = parser.parse_args(argv)
    python = bytecode.runtime_python()
    if python is None:
        sys.stderr.write(f"WARNING: {bytecode.missing_message()}\n")
    else:
        sys.stdout.write(f"bytecode: compiled by {python} ({bytecode.RUNTIME_TAG}, "
                         "unchecked-hash)\n")
    for path in build_all(options.dist, python=python):
        sys.stdout.write(f"{path}  {path.stat().st_size:>10,} bytes\n")
    if not options.no_check:
        for line in check_imports(options.dist, python or sys.executable):
            sys.stdout.write(line + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
