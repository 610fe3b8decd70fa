"""Operator tooling for model-access: the CLI, the local moto stack, the demo and its poller."""
