"""`model-access demo` (one account, and `--org`) and the dashboard drawn from EMF lines."""
