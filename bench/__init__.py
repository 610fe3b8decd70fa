"""Benchmarks (issue 6): model-access against a naive one-policy-per-model baseline.

Run with `make bench` (or `make bench-quick`); see bench/run.py. Nothing here is a test:
the numbers are reported, never asserted.
"""
