"""Packaging: the archives are reproducible, laid out as Lambda expects, and import cleanly.

The layer's dependencies are pip-installed (and compiled by the runtime's Python) once, then
cached under build/layer-deps as `make package` does; the archives are built twice from
them, into two temporary folders, model_access compiled afresh each time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from model_access_cli.build import bytecode, package
from tests.infra.pulumi_harness import REPO_ROOT

ARCHIVES = ("provisioner.zip", "backfill.zip", package.LAYER_ARCHIVE)


@pytest.fixture(scope="session")
def runtime_python() -> str | None:
    return bytecode.runtime_python()


@pytest.fixture(scope="session")
def layer_deps(runtime_python: str | None) -> Path:
    try:
        return package.install_layer_deps(package.layer_requirements(), python=runtime_python)
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"could not pip-install the layer's dependencies ({exc}): no package index?")


@pytest.fixture(scope="session")
def builds(layer_deps: Path, runtime_python: str | None,
           tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    first, second = tmp_path_factory.mktemp("dist-a"), tmp_path_factory.mktemp("dist-b")
    for dist in (first, second):
        package.build_all(dist, layer_deps, runtime_python)
    return first, second


@pytest.fixture(scope="session")
def needs_runtime_python(runtime_python: str | None) -> str:
    if runtime_python is None:
        pytest.skip(bytecode.missing_message())
    return runtime_python


def names(archive: Path) -> list[str]:
    with zipfile.ZipFile(archive) as opened:
        return opened.namelist()


def test_package_builds_identical_bytes_twice(builds: tuple[Path, Path]) -> None:
    """Two builds from the same inputs produce byte-identical archives."""
    first, second = builds
    for archive in ARCHIVES:
        assert (first / archive).read_bytes() == (second / archive).read_bytes(), archive


def test_write_zip_ignores_timestamps_modes_and_bytecode(tmp_path: Path) -> None:
    """Touching files, changing their mode or leaving bytecode around changes nothing."""
    tree = tmp_path / "src"
    (tree / "pkg" / "__pycache__").mkdir(parents=True)
    (tree / "pkg" / "mod.py").write_text("X = 1\n")
    (tree / "pkg" / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"\0")
    (tree / "app.py").write_text("def handler(event, context):\n    return {}\n")
    before = package.write_zip(package.tree_entries(tree), tmp_path / "a.zip").read_bytes()
    os.utime(tree / "app.py", (1_000_000_000, 1_000_000_000))
    (tree / "pkg" / "mod.py").chmod(0o755)
    (tree / "stray.pyc").write_bytes(b"\0")
    after = package.write_zip(package.tree_entries(tree), tmp_path / "b.zip").read_bytes()
    assert before == after
    assert names(tmp_path / "a.zip") == ["app.py", "pkg/mod.py"]


def test_archive_entries_have_fixed_metadata(builds: tuple[Path, Path]) -> None:
    """Every entry: 1980-01-01 timestamp, mode 0644, deflated, sorted; bytecode only as
    the runtime's `__pycache__/*.cpython-313.pyc`, and only in the layer."""
    for archive in ARCHIVES:
        with zipfile.ZipFile(builds[0] / archive) as opened:
            infos = opened.infolist()
        assert [i.filename for i in infos] == sorted(i.filename for i in infos)
        for info in infos:
            assert info.date_time == package.FIXED_DATE
            assert info.external_attr >> 16 == package.FILE_MODE
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert not info.filename.endswith(".pyo")
            if info.filename.endswith(".pyc") or "__pycache__" in info.filename:
                assert archive == package.LAYER_ARCHIVE, info.filename
                assert bytecode.is_runtime_bytecode(Path(info.filename)), info.filename


def test_layer_ships_runtime_bytecode_for_every_module(
    builds: tuple[Path, Path], needs_runtime_python: str,
) -> None:
    """Every .py of the layer has a cpython-313 .pyc beside it, and nothing else is bytecode."""
    entries = set(names(builds[0] / package.LAYER_ARCHIVE))
    sources = {n for n in entries if n.endswith(".py")}
    expected = {f"{n.rsplit('/', 1)[0]}/__pycache__/{n.rsplit('/', 1)[1][:-3]}."
                f"{bytecode.RUNTIME_TAG}.pyc" for n in sources}
    assert expected == {n for n in entries if n.endswith(".pyc")}


_PYC_AUDIT = """
import importlib.util, json, marshal, pathlib, sys, zipfile
bad = []
with zipfile.ZipFile(sys.argv[1]) as layer:
    names = set(layer.namelist())
    for name in sorted(n for n in names if n.endswith(".pyc")):
        data = layer.read(name)
        folder, file = name.rsplit("/__pycache__/", 1)
        source_name = f"{folder}/{file.split('.')[0]}.py"
        source = layer.read(source_name)
        code = marshal.loads(data[16:])
        if (data[:4] != importlib.util.MAGIC_NUMBER
                or int.from_bytes(data[4:8], "little") != 0b01
                or data[8:16] != importlib.util.source_hash(source)
                or code.co_filename != "/opt/" + source_name):
            bad.append(name)
print(json.dumps({"checked": sum(n.endswith(".pyc") for n in names), "bad": bad}))
"""


def test_layer_bytecode_is_unchecked_hash_from_the_runtime_python(
    builds: tuple[Path, Path], needs_runtime_python: str,
) -> None:
    """Each .pyc has 3.13's magic number, the unchecked-hash flag, its source's hash, and
    names its file as Lambda places it (/opt/python/...), not the build folder."""
    done = subprocess.run([needs_runtime_python, "-I", "-c", _PYC_AUDIT,
                           str(builds[0] / package.LAYER_ARCHIVE)],
                          capture_output=True, text=True, check=True)
    audit = json.loads(done.stdout)
    assert audit["checked"] > 300
    assert audit["bad"] == []


def test_compile_tree_writes_the_same_bytes_from_any_folder(
    tmp_path: Path, needs_runtime_python: str,
) -> None:
    """Compiling one source in two build folders gives byte-identical bytecode."""
    outputs = []
    for folder in ("first", "second-with-a-longer-name"):
        tree = tmp_path / folder
        (tree / "pkg").mkdir(parents=True)
        (tree / "pkg" / "mod.py").write_text("VALUES = {'a': (1, 2.5, 'x' * 40)}\n"
                                             "def f(x):\n    return [v for v in x]\n")
        bytecode.compile_tree(needs_runtime_python, tree)
        outputs.append((tree / "pkg" / "__pycache__" /
                        f"mod.{bytecode.RUNTIME_TAG}.pyc").read_bytes())
    assert outputs[0] == outputs[1]


def test_package_without_runtime_python_says_so_and_ships_no_bytecode(
    tmp_path: Path, layer_deps: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No Python 3.13: `make package` warns, names the cost, and the layer holds no .pyc."""
    monkeypatch.setenv(bytecode.OVERRIDE_VARIABLE, str(tmp_path / "no-such-python3.13"))
    monkeypatch.setattr(package, "install_layer_deps", lambda *_a, **_k: layer_deps)
    assert package.main(["--dist", str(tmp_path / "dist"), "--no-check"]) == 0
    err = capsys.readouterr().err
    assert "no Python 3.13 interpreter" in err
    assert "ships NO bytecode" in err
    assert not [n for n in names(tmp_path / "dist" / package.LAYER_ARCHIVE)
                if n.endswith(".pyc") or "__pycache__" in n]


def test_runtime_python_is_found_under_pyenv_and_must_be_313(tmp_path: Path) -> None:
    """pyenv's versions/3.13.x is found without the refusing shim; another version is not."""
    fake = tmp_path / "versions" / "3.13.9" / "bin" / "python3.13"
    fake.parent.mkdir(parents=True)
    fake.write_text(f"#!/bin/sh\nexec {sys.executable} -c 'print(3, 13)'\n")
    fake.chmod(0o755)
    env = {"PYENV_ROOT": str(tmp_path), "PATH": "", "HOME": str(tmp_path)}
    assert bytecode.runtime_python(env) == str(fake)
    fake.write_text(f"#!/bin/sh\nexec {sys.executable} -c 'print(3, 11)'\n")
    assert bytecode.runtime_python(env) is None


def test_layer_holds_shared_package_and_dependencies_under_python(
    builds: tuple[Path, Path],
) -> None:
    """`python/` holds model_access (data files included), Powertools with X-Ray, and the
    pinned SDK (boto3, botocore and their dependencies); no CLI code."""
    entries = names(builds[0] / package.LAYER_ARCHIVE)
    assert all(name.startswith("python/") for name in entries)
    tops = {name.split("/")[1] for name in entries}
    assert {"model_access", "aws_lambda_powertools", "aws_xray_sdk", "wrapt"} <= tops
    assert {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3"} <= tops
    assert "model_access_cli" not in tops
    for file in ("core/settings.py", "handlers/provisioner.py", "py.typed",
                 "data/iam_catalog.json"):
        assert f"python/model_access/{file}" in entries


def test_function_archives_hold_their_folder_only(builds: tuple[Path, Path]) -> None:
    """A function archive is its folder's files at the root, the handler module among them."""
    for function in package.FUNCTIONS:
        source = package.function_source(function)
        expected = sorted(name for name, _ in package.tree_entries(source))
        assert names(builds[0] / f"{function}.zip") == expected
        assert f"{package.HANDLER_MODULE}.py" in expected


def test_layer_requirements_pin_tested_versions() -> None:
    """The layer pins the versions installed here: Tracer's X-Ray SDK and the whole SDK."""
    pins = dict(pin.split("==") for pin in package.layer_requirements())
    assert {"aws-lambda-powertools", "aws-xray-sdk"} <= set(pins)
    assert set(pins) >= package.SDK_DISTRIBUTIONS
    assert all(metadata.version(name) == version for name, version in pins.items())


def test_layer_imports_with_only_the_layer_from_its_bytecode(
    builds: tuple[Path, Path], needs_runtime_python: str,
) -> None:
    """Python 3.13 with nothing but the layer and one function imports both handlers, and
    compiles no layer module from source (the shipped bytecode is used)."""
    reports = package.check_imports(builds[0], needs_runtime_python)
    assert [line.split(":")[0] for line in reports] == list(package.FUNCTIONS)
    assert all(", 0 compiled from source" in line for line in reports)


def test_make_preview_without_pulumi_fails_clearly() -> None:
    """`make preview` stops before packaging, saying the Pulumi CLI is missing."""
    done = subprocess.run(["make", "-s", "preview", "PULUMI=pulumi-is-not-installed"],
                          cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "the Pulumi CLI ('pulumi-is-not-installed') is not on PATH" in done.stderr
    assert "model_access_cli.build.package" not in done.stdout
