"""Where the Lambda archives are: `make package` writes them to dist/ at the repository root
(the default when this package runs from a checkout); an embedding program may name another
folder holding the same three archives (`ModelAccessArgs.artifacts_dir`)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pulumi

DIST_DIR: Final = Path(__file__).resolve().parents[2] / "dist"
HANDLER: Final = "app.handler"
"""Every function folder holds `app.py` with `handler(event, context)`."""
LAYER_ARCHIVE: Final = "layer.zip"


def function_archive_name(function: str) -> str:
    """`provisioner` -> `provisioner.zip` (the name model_access_cli.build.package writes)."""
    return f"{function}.zip"


def archive(file_name: str, directory: Path = DIST_DIR) -> pulumi.FileArchive:
    """An archive of `directory`; warns (Pulumi then fails to hash it) when it is missing."""
    path = directory / file_name
    if not path.is_file():
        pulumi.log.warn(f"{path} is missing: run `make package` before preview or deploy")
    return pulumi.FileArchive(str(path))
