"""The operator commands behind `model-access`: argument handling, views, output and exit codes."""
