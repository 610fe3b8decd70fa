"""Operator-only commands (verify, uninstall, explain): imported by the CLI, never by a Lambda."""
