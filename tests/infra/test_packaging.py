"""Packaging: the archives are reproducible, laid out as Lambda expects, and import cleanly.

The layer's dependencies are pip-installed once (then cached under build/layer-deps, as
`make package` does); the archives are built twice from them, into two temporary folders.
"""

from __future__ import annotations

import os
import subprocess
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from model_access_cli import package
from tests.infra.pulumi_harness import REPO_ROOT

ARCHIVES = ("provisioner.zip", "backfill.zip", package.LAYER_ARCHIVE)


@pytest.fixture(scope="session")
def layer_deps() -> Path:
    try:
        return package.install_layer_deps(package.layer_requirements())
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"could not pip-install the layer's dependencies ({exc}): no package index?")


@pytest.fixture(scope="session")
def builds(layer_deps: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    first, second = tmp_path_factory.mktemp("dist-a"), tmp_path_factory.mktemp("dist-b")
    for dist in (first, second):
        package.build_all(dist, layer_deps)
    return first, second


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
    """Every entry: 1980-01-01 timestamp, mode 0644, deflated, no bytecode, sorted."""
    for archive in ARCHIVES:
        with zipfile.ZipFile(builds[0] / archive) as opened:
            infos = opened.infolist()
        assert [i.filename for i in infos] == sorted(i.filename for i in infos)
        for info in infos:
            assert info.date_time == package.FIXED_DATE
            assert info.external_attr >> 16 == package.FILE_MODE
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert "__pycache__" not in info.filename
            assert not info.filename.endswith((".pyc", ".pyo"))


def test_layer_holds_shared_package_and_dependencies_under_python(
    builds: tuple[Path, Path],
) -> None:
    """`python/` holds model_access (data files included) and Powertools with X-Ray, no boto3."""
    entries = names(builds[0] / package.LAYER_ARCHIVE)
    assert all(name.startswith("python/") for name in entries)
    tops = {name.split("/")[1] for name in entries}
    assert {"model_access", "aws_lambda_powertools", "aws_xray_sdk", "wrapt"} <= tops
    assert not tops & {"boto3", "botocore", "s3transfer", "model_access_cli"}
    for file in ("settings.py", "patterns.py", "py.typed", "data/iam_catalog.json"):
        assert f"python/model_access/{file}" in entries


def test_function_archives_hold_their_folder_only(builds: tuple[Path, Path]) -> None:
    """A function archive is its folder's files at the root, the handler module among them."""
    for function in package.FUNCTIONS:
        source = package.function_source(function)
        expected = sorted(name for name, _ in package.tree_entries(source))
        assert names(builds[0] / f"{function}.zip") == expected
        assert f"{package.HANDLER_MODULE}.py" in expected


def test_layer_requirements_pin_tested_versions() -> None:
    """The layer ships the versions installed here, Tracer's X-Ray SDK included, no boto3."""
    pins = dict(pin.split("==") for pin in package.layer_requirements())
    assert {"aws-lambda-powertools", "aws-xray-sdk"} <= set(pins)
    assert not set(pins) & package.RUNTIME_PROVIDED
    assert all(metadata.version(name) == version for name, version in pins.items())


def test_layer_imports_with_only_boto3_beside_it(builds: tuple[Path, Path]) -> None:
    """A clean interpreter with the layer, boto3 and one function imports both handlers."""
    reports = package.check_imports(builds[0])
    assert [line.split(":")[0] for line in reports] == list(package.FUNCTIONS)


def test_make_preview_without_pulumi_fails_clearly() -> None:
    """`make preview` stops before packaging, saying the Pulumi CLI is missing."""
    done = subprocess.run(["make", "-s", "preview", "PULUMI=pulumi-is-not-installed"],
                          cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "the Pulumi CLI ('pulumi-is-not-installed') is not on PATH" in done.stderr
    assert "model_access_cli.package" not in done.stdout
