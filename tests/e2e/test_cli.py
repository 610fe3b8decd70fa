"""The operator commands, run as a user would (`model-access ...`) against a moto server."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from model_access_cli.demo.org import run_org_demo
from model_access_cli.demo.single import run_demo
from model_access_cli.local.stack import LocalStack
from model_access_cli.main import main
from tests.functional.cli_run import run, run_json
from tests.functional.world import World

pytestmark = pytest.mark.e2e


def test_cli_plan_backfill_grants_verify(stack: tuple[World, LocalStack], endpoint: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """plan shows pending work (exit 3), backfill applies it, then plan and verify are clean."""
    world, _ = stack
    world.role("alice")
    arn = world.model("m1", "alice")
    world.model("untagged")
    args = ["--endpoint-url", endpoint]
    assert main(["verify", *args]) == 1  # alice lacks her model
    assert main(["plan", *args]) == 3
    out = capsys.readouterr().out
    assert "alice" in out and "+1" in out
    assert main(["backfill", "--dry-run", *args]) == 0
    assert world.granted(world.runtime(), "alice") == set()
    assert main(["backfill", *args]) == 0
    assert world.granted(world.runtime(), "alice") == {arn}
    assert main(["plan", *args]) == 0
    capsys.readouterr()
    assert main(["grants", "--role", "alice", *args]) == 0
    assert arn in capsys.readouterr().out
    assert main(["verify", *args]) == 0


def test_cli_json_and_explain_over_http(stack: tuple[World, LocalStack], endpoint: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Against a moto server: plan's JSON shows the pending grant, explain shows it granted
    after the backfill; progress on stderr, only the document on stdout."""
    world, _ = stack
    world.role("alice")
    arn = world.model("m1", "alice")
    args = ["--endpoint-url", endpoint]
    code, doc, err = run_json(capsys, "plan", *args)
    assert (code, doc["roles"][0]["grant"]) == (3, [arn])
    assert "reconciling" in err
    assert run(capsys, "backfill", *args)[0] == 0
    code, doc, err = run_json(capsys, "explain", arn, *args)
    assert (code, doc["decision"]["outcome"]) == (0, "Unchanged")
    assert [h["policy"] for h in doc["iam"]] == ["model-access-alice-01"]
    assert "dry run" in err


def test_cli_uninstall_dry_run_then_removes_only_tool_policies(
        stack: tuple[World, LocalStack], endpoint: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    """uninstall --dry-run lists and keeps; uninstall removes ours and leaves others alone."""
    world, _ = stack
    world.role("alice")
    world.attach_foreign_policies("alice", 1)
    world.model("m1", "alice")
    args = ["--endpoint-url", endpoint]
    assert main(["backfill", *args]) == 0
    capsys.readouterr()
    assert main(["uninstall", "--dry-run", *args]) == 0
    assert "model-access-alice-01" in capsys.readouterr().out
    assert world.granted(world.runtime(), "alice") == {world.arns["m1"]}
    assert main(["uninstall", *args]) == 0
    attached = world.clients.iam.list_attached_role_policies(RoleName="alice")
    assert [p["PolicyName"] for p in attached["AttachedPolicies"]] == ["other-alice-0"]
    assert list(world.runtime().iam.list_tool_policies()) == []


def test_cli_help_on_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    """Every subcommand explains itself with --help."""
    for argv in (["--help"], ["demo", "--help"], ["local", "--help"], ["local", "up", "--help"],
                 ["plan", "--help"], ["backfill", "--help"], ["grants", "--help"],
                 ["verify", "--help"], ["uninstall", "--help"], ["dashboard", "--help"],
                 ["explain", "--help"]):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 0
        assert "usage: model-access" in capsys.readouterr().out


def test_demo_runs_end_to_end(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`make demo`'s command passes every one of its own checks on a private moto server, and
    ends by drawing the dashboard from the EMF lines its functions printed."""
    # run_demo sets these for its handlers; monkeypatch puts the old values back afterwards.
    for key in ("MODEL_ACCESS_PROVISIONER_ROLE", "POWERTOOLS_LOG_LEVEL", "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION"):
        monkeypatch.setenv(key, os.environ.get(key, "placeholder"))
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    out = io.StringIO()
    assert run_demo(out, dashboard_dir=tmp_path) == 0, out.getvalue()
    text = out.getvalue()
    assert "every expected outcome happened" in text
    assert "[FAILED]" not in text
    png = tmp_path / "dashboard.png"
    assert text.rstrip().splitlines()[-1] == str(png)
    assert png.read_bytes().startswith(b"\x89PNG")
    emf = (tmp_path / "emf.log").read_text().splitlines()
    assert emf
    assert all('"_aws"' in line for line in emf)


def test_org_demo_runs_end_to_end(monkeypatch: pytest.MonkeyPatch) -> None:
    """`model-access demo --org` passes every one of its checks: grants in each member's IAM
    (two regions, one policy per role), none in the hub, the stranger refused, the sweep over
    every account."""
    for key in ("POWERTOOLS_LOG_LEVEL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.setenv(key, os.environ.get(key, "placeholder"))
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("MODEL_ACCESS_MEMBER_ACCOUNTS", raising=False)
    out = io.StringIO()
    assert run_org_demo(out) == 0, out.getvalue()
    text = out.getvalue()
    assert "demo --org: every expected outcome happened" in text
    assert text.count("[ok]") == 5 and "[FAILED]" not in text
    assert "MODEL_ACCESS_MEMBER_ACCOUNTS" not in os.environ, "the demo's settings stay inside it"
