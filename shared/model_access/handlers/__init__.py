"""What the Lambda entry points (`functions/*/app.py`) import: the provisioner and backfill
work for one invocation, Powertools observability and the init's collector pause."""
