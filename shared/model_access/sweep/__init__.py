"""Backfill and drift sweep: what to look at in an account, and the sweep of every account."""
