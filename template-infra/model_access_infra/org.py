"""The spokes: what other accounts and regions run so that their SageMaker events reach the
hub, and so that the hub's functions can act there. Templates from
`model_access.deploy.org_templates`.

- **Organization** (`organizationalUnitIds`): two CloudFormation StackSets with
  service-managed permissions and automatic deployment to the OUs (an account that joins
  an OU gets both, one that leaves loses them): `<prefix>-forwarding` in every region of
  `memberRegions`, `<prefix>-member-role` in the home region only (IAM names are
  account-wide). Called as the delegated administrator (`stackSetCallAs`).
- **Management account**: service-managed StackSets never deploy to it. With
  `managementAccountRoleArn` the same two templates are plain stacks there, created through
  a provider that assumes that role; without it the management account is not served.
- **Regions of one account** (`forwardRegions`): the forwarding template as a plain stack in
  each other region of the hub's own account, so every region's events meet in one queue
  and one grant store (one writer per account). No organization needed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from model_access.deploy.org_templates import (
    Forwarding,
    MemberRole,
    forwarding_template,
    member_role_template,
)
from model_access_infra.stack_config import StackConfig

SERVICE_MANAGED = "SERVICE_MANAGED"
CAPABILITIES_FORWARDING = ["CAPABILITY_IAM"]
CAPABILITIES_MEMBER_ROLE = ["CAPABILITY_NAMED_IAM"]
OPERATION_PREFERENCES = {
    "failure_tolerance_percentage": 10,
    "max_concurrent_percentage": 25,
    "region_concurrency_type": "PARALLEL",
}
"""Roll out to a quarter of the accounts at a time; stop when a tenth fail."""


@dataclass(frozen=True)
class OrganizationSpokesArgs:
    """The stack config, the hub bus the spokes target and the role the members trust."""

    config: StackConfig
    hub_bus_arn: pulumi.Output[str]
    functions_role_arn: pulumi.Output[str]
    account_id: pulumi.Output[str]
    partition: pulumi.Output[str]
    region: pulumi.Output[str]


class OrganizationSpokes(pulumi.ComponentResource):
    """StackSets and their instances, the management account's stacks, other regions' stacks."""

    def __init__(self, name: str, args: OrganizationSpokesArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("model-access:index:OrganizationSpokes", name, None, opts)
        config = args.config
        self._name = name
        self._config = config
        spec = args.hub_bus_arn.apply(lambda arn: Forwarding(
            arn, config.trigger_mode, config.event_max_age_seconds, config.event_retry_attempts))
        forwarding = spec.apply(lambda s: json.dumps(forwarding_template(s), sort_keys=True))
        self.stack_sets: list[aws.cloudformation.StackSet] = []
        self.stacks: list[aws.cloudformation.Stack] = []
        if config.organization_id:
            settings = pulumi.Output.all(args.account_id, args.partition, args.region).apply(
                lambda v: config.runtime_settings(v[0], v[1], v[2]))
            member_role = pulumi.Output.all(settings, args.functions_role_arn).apply(
                lambda v: json.dumps(member_role_template(
                    v[0], MemberRole(v[1], config.organization_id)), sort_keys=True))
            if config.spokes_wanted:
                self._stack_set("forwarding", forwarding, CAPABILITIES_FORWARDING,
                                config.member_regions)
                self._stack_set("member-role", member_role, CAPABILITIES_MEMBER_ROLE,
                                [args.region])
            if config.management_account_role_arn:
                self._management_stacks(args, forwarding, member_role)
        for region in config.forward_regions:  # not the home region: ModelAccess checked
            self.stacks.append(aws.cloudformation.Stack(
                f"{name}-forwarding-{region}",
                name=f"{config.name_prefix}-forwarding",
                region=region,
                template_body=forwarding,
                capabilities=CAPABILITIES_FORWARDING,
                opts=pulumi.ResourceOptions(parent=self),
            ))
        self.register_outputs({"stack_set_names": [s.name for s in self.stack_sets]})

    def _stack_set(self, label: str, template: pulumi.Output[str], capabilities: list[str],
                   regions: Sequence[pulumi.Input[str]]) -> None:
        """A service-managed StackSet, auto-deployed to the OUs, one instance per region."""
        config = self._config
        child = pulumi.ResourceOptions(parent=self)
        stack_set = aws.cloudformation.StackSet(
            f"{self._name}-{label}",
            name=f"{config.name_prefix}-{label}",
            description=f"model-access spokes: {label} (deployed by the hub's Pulumi stack)",
            permission_model=SERVICE_MANAGED,
            call_as=config.stack_set_call_as,
            auto_deployment={"enabled": True, "retain_stacks_on_account_removal": False},
            capabilities=capabilities,
            template_body=template,
            operation_preferences=OPERATION_PREFERENCES,
            opts=child,
        )
        self.stack_sets.append(stack_set)
        labels = config.member_regions if label == "forwarding" else ["home"]
        for region_label, region in zip(labels, regions, strict=True):
            aws.cloudformation.StackSetInstance(
                f"{self._name}-{label}-{region_label}",
                stack_set_name=stack_set.name,
                call_as=config.stack_set_call_as,
                deployment_targets={"organizational_unit_ids":
                                    list(config.organizational_unit_ids)},
                stack_set_instance_region=region,
                operation_preferences=OPERATION_PREFERENCES,
                opts=child,
            )

    def _management_stacks(self, args: OrganizationSpokesArgs, forwarding: pulumi.Output[str],
                           member_role: pulumi.Output[str]) -> None:
        """The two templates as plain stacks in the management account (its opt-in)."""
        config = self._config
        provider = aws.Provider(
            f"{self._name}-management",
            region=args.region,
            # The typed args (not a dict): a provider's nested config is sent as JSON, and
            # only the typed class names its keys as the provider expects them (roleArn).
            assume_roles=[aws.ProviderAssumeRoleArgs(
                role_arn=config.management_account_role_arn,
                session_name="model-access-deploy")],
            opts=pulumi.ResourceOptions(parent=self),
        )
        in_management = pulumi.ResourceOptions(parent=self, provider=provider)
        self.stacks.append(aws.cloudformation.Stack(
            f"{self._name}-management-member-role",
            name=f"{config.name_prefix}-member-role",
            template_body=member_role,
            capabilities=CAPABILITIES_MEMBER_ROLE,
            opts=in_management,
        ))
        for region in config.member_regions:
            self.stacks.append(aws.cloudformation.Stack(
                f"{self._name}-management-forwarding-{region}",
                name=f"{config.name_prefix}-forwarding",
                region=region,
                template_body=forwarding,
                capabilities=CAPABILITIES_FORWARDING,
                opts=in_management,
            ))

