"""Bytecode for the Lambda runtime's Python, compiled ahead of time into the layer.

Lambda extracts a layer to /opt, which the function cannot write: a layer without `.pyc`
files makes every cold start compile every module it imports. A `.pyc` only counts for the
interpreter version that wrote it (magic number, `cpython-313` tag in `__pycache__`), so it
is compiled by the runtime's own Python (3.13), found on this machine:
`$MODEL_ACCESS_CHECK_PYTHON` if set (then only that), else pyenv's 3.13, else `python3.13`
on PATH. `--invalidation-mode unchecked-hash` writes no timestamp (reproducible bytes) and
lets the runtime load the file without checking the source again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Final

RUNTIME_VERSION: Final = (3, 13)
"""The functions' runtime (python3.13, template-infra/model_access_infra/stack_config.py)."""
RUNTIME_TAG: Final = f"cpython-{RUNTIME_VERSION[0]}{RUNTIME_VERSION[1]}"
OVERRIDE_VARIABLE: Final = "MODEL_ACCESS_CHECK_PYTHON"
LAYER_ROOT: Final = "/opt/python"
"""Where Lambda puts a layer's `python/` folder: the path tracebacks show."""
COMPILE_OPTIONS: Final = ("-q", "--invalidation-mode", "unchecked-hash")


def _version_of(python: str) -> tuple[int, int] | None:
    """(major, minor) of an interpreter, or None when it does not run (a pyenv shim refuses)."""
    try:
        done = subprocess.run(
            [python, "-I", "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True, text=True, check=False, timeout=30,
        )
    except OSError:
        return None
    if done.returncode != 0:
        return None
    major, minor = done.stdout.split()
    return int(major), int(minor)


def _pyenv_root(env: Mapping[str, str]) -> Path | None:
    if env.get("PYENV_ROOT"):
        return Path(env["PYENV_ROOT"])
    pyenv = shutil.which("pyenv", path=env.get("PATH"))
    if pyenv:
        done = subprocess.run([pyenv, "root"], capture_output=True, text=True, check=False)
        if done.returncode == 0 and done.stdout.strip():
            return Path(done.stdout.strip())
    home = env.get("HOME")
    return Path(home) / ".pyenv" if home else None


def candidates(env: Mapping[str, str] = os.environ) -> list[str]:
    """Interpreters worth asking, best first (the override alone when it is set)."""
    if env.get(OVERRIDE_VARIABLE):
        return [env[OVERRIDE_VARIABLE]]
    minor = f"{RUNTIME_VERSION[0]}.{RUNTIME_VERSION[1]}"
    found: list[str] = []
    root = _pyenv_root(env)
    if root is not None:
        versions = sorted((root / "versions").glob(f"{minor}.*"), reverse=True)
        found += [str(v / "bin" / f"python{minor}") for v in versions]
    on_path = shutil.which(f"python{minor}", path=env.get("PATH"))
    if on_path:
        found.append(on_path)
    return found


def runtime_python(env: Mapping[str, str] = os.environ) -> str | None:
    """The first candidate that runs and is the runtime's version; None when there is none."""
    for python in candidates(env):
        if _version_of(python) == RUNTIME_VERSION:
            return python
    return None


def missing_message(env: Mapping[str, str] = os.environ) -> str:
    """What to tell someone whose machine has no Python 3.13."""
    minor = f"{RUNTIME_VERSION[0]}.{RUNTIME_VERSION[1]}"
    looked = ", ".join(candidates(env)) or "nothing found"
    return (f"no Python {minor} interpreter (the Lambda runtime's) was found (tried: {looked}); "
            f"the layer ships NO bytecode, so every cold start compiles every module it "
            f"imports (README, Benchmarks). Install Python {minor} (e.g. `pyenv install "
            f"{minor}`) or set {OVERRIDE_VARIABLE}=/path/to/python{minor}, then run "
            "`make package` again.")


def compile_tree(python: str, root: Path, shown_as: str = LAYER_ROOT) -> None:
    """Compile every .py under `root` in place, as files under `shown_as` (raise on failure).

    `-s root -p shown_as` makes the paths inside the bytecode independent of the build
    folder, so two builds write the same bytes and tracebacks name /opt/python/... files.
    """
    done = subprocess.run(
        [python, "-I", "-m", "compileall", *COMPILE_OPTIONS, "-s", str(root), "-p", shown_as,
         str(root)],
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{python} -m compileall failed under {root}:\n"
                           f"{done.stdout}{done.stderr}")


def is_runtime_bytecode(relative: Path) -> bool:
    """`pkg/__pycache__/mod.cpython-313.pyc`: the only bytecode an archive may carry."""
    return (relative.suffix == ".pyc" and len(relative.parts) >= 2
            and relative.parts[-2] == "__pycache__"
            and relative.name.endswith(f".{RUNTIME_TAG}.pyc"))
