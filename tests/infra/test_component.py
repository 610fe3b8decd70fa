"""`ModelAccess`, the whole stack as one component: in the ready-made program and in another
team's program (the example of docs/deploy.md, run as written)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from model_access.core.errors import ConfigurationError
from model_access_infra import ModelAccess, ModelAccessArgs, StackConfig
from model_access_infra.stack import COMPONENT_TYPE
from tests.infra.pulumi_harness import REPO_ROOT, Declared, StackRun, run_other_program

DEPLOY_DOC = REPO_ROOT / "docs" / "deploy.md"
EMBED_SECTION = "## 10. Embed it in your own Pulumi program"


def embedding_example() -> str:
    """The Python block of docs/deploy.md's embedding section, as a reader would copy it."""
    text = DEPLOY_DOC.read_text()
    section = text[text.index(EMBED_SECTION):]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found, "the embedding section has no python example"
    return found.group(1)


def ancestors(run: StackRun, resource: Declared) -> list[str]:
    """Types of every component above `resource`, nearest first."""
    by_urn_tail = {(r.type, r.name): r for r in run.resources if not r.custom}
    chain, current = [], resource
    while current.parent_urn and current.parent_type != "pulumi:pulumi:Stack":
        chain.append(current.parent_type)
        current = by_urn_tail[(current.parent_type, current.parent_name)]
    return chain


@pytest.fixture(scope="module")
def embedded() -> StackRun:
    code = compile(embedding_example(), str(DEPLOY_DOC), "exec")
    program = lambda: exec(code, {"__name__": "__main__"})  # noqa: E731, S102 - the doc's code
    return run_other_program(program, "ml-platform")


def test_embedding_example_declares_the_stack_inside_one_component(embedded: StackRun) -> None:
    """In another program, every model-access resource sits under one ModelAccess component;
    the program's own topic does not."""
    (component,) = [r for r in embedded.resources if r.type == COMPONENT_TYPE]
    assert component.name == "ml-access"
    for resource in embedded.resources:
        if resource.type == "aws:sns/topic:Topic":
            assert ancestors(embedded, resource) == []
        elif resource is not component:
            assert COMPONENT_TYPE in ancestors(embedded, resource), resource.name


def test_embedding_example_follows_its_typed_arguments(embedded: StackRun) -> None:
    """Names come from name_prefix, code from artifacts_dir, alarms notify the program's
    topic, settings reach the functions, and the outputs can be exported."""
    functions = {r.inputs["name"]: r for r in embedded.of_type("aws:lambda/function:Function")}
    assert set(functions) == {"ml-access-provisioner", "ml-access-backfill"}
    environment = functions["ml-access-provisioner"].inputs["environment"]["variables"]
    assert environment["MODEL_ACCESS_ACCESS_LEVEL"] == "deploy"
    assert environment["MODEL_ACCESS_ROLE_PATH_PREFIX"] == "/ml-owners/"
    assert environment["MODEL_ACCESS_TABLE"] == "ml-access-grants"
    layer = embedded.one("aws:lambda/layerVersion:LayerVersion")
    assert layer.inputs["code"].path == "/srv/model-access/dist/layer.zip"
    topic_arn = "arn:aws:sns:us-east-1:123456789012:ml-platform-alerts"
    alarms = embedded.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert alarms
    assert all(a.inputs["alarmActions"] == [topic_arn] for a in alarms)
    assert embedded.outputs["modelAccessQueueUrl"].endswith("/ml-access-events")
    assert embedded.outputs["modelAccessDashboardUrl"].endswith("#dashboards/dashboard/ml-access")


def test_ready_made_program_is_one_model_access_component(stack: StackRun) -> None:
    """template-infra/__main__.py declares one ModelAccess; its parts alias their old place
    at the stack's root, so an existing stack updates in place."""
    (component,) = [r for r in stack.resources if r.type == COMPONENT_TYPE]
    assert component.parent_type == "pulumi:pulumi:Stack"
    parts = [r for r in stack.resources if not r.custom and r.parent_type == COMPONENT_TYPE]
    assert {r.type.rsplit(":", 1)[-1] for r in parts} >= {
        "GrantTable", "EventQueue", "EventRouting", "Functions", "Observability"}
    for part in parts:
        assert any(alias.get("noParent") or alias.get("parentUrn", "").endswith(
            "::pulumi:pulumi:Stack::model-access-test") for alias in part.aliases), part.name
    assert set(stack.outputs) == {
        "queueName", "queueUrl", "dlqName", "dlqUrl", "tableName", "provisionerFunctionName",
        "backfillFunctionName", "functionsRoleName", "dashboardName", "dashboardUrl"}


def test_component_refuses_bad_settings_before_declaring_anything() -> None:
    """A lease shorter than the function timeout is refused, naming the key; nothing declared."""

    def program() -> None:
        ModelAccess("bad", ModelAccessArgs(config=StackConfig(lease_seconds=30),
                                           artifacts_dir=Path("/nowhere")))

    with pytest.raises(ConfigurationError, match="leaseSeconds"):
        run_other_program(program, "ml-platform")


def test_args_default_to_the_stack_defaults() -> None:
    """ModelAccessArgs() is the ready-made program's default stack."""
    args = ModelAccessArgs()
    assert args.config == StackConfig()
    assert args.artifacts_dir == REPO_ROOT / "dist"
    assert args.alarm_topic_arn is None
