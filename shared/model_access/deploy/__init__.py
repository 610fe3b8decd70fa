"""Deploy-time builders: EventBridge patterns, the functions' IAM policies, the organization's
templates and the dashboard body. Pure; used by the Pulumi program and the local stack."""
