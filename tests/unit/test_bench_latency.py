"""The latency study's replay: token bucket and simulated time (bench/latency.py, pure)."""

from __future__ import annotations

from bench.latency import Call, LatencyProfile, TokenBucket, Window, simulate


def test_token_bucket_waits_only_once_empty() -> None:
    """A bucket of 2 at 10/s serves two calls at once, then makes the third wait 0.1 s."""
    bucket = TokenBucket(rate=10, capacity=2)
    assert [bucket.take(0.0), bucket.take(0.0)] == [0.0, 0.0]
    assert round(bucket.take(0.0), 6) == 0.1
    assert bucket.take(0.35) == 0.0


def _call(service: str, operation: str, start: float) -> Call:
    return Call(service, operation, start, start + 0.005, thread=1)


def test_simulate_replaces_moto_time_and_keeps_own_work() -> None:
    """Each call costs its injected latency; the gaps between calls are kept as measured."""
    window = Window(0.0, 0.1, [_call("sagemaker", "ListTags", 0.01),
                               _call("iam", "CreatePolicy", 0.03),
                               _call("iam", "GetPolicy", 0.05)])
    profile = LatencyProfile(iam_write_ms=400, other_ms=20, iam_writes_per_second=10,
                             iam_write_burst=5)
    result = simulate([window], profile)
    own = 0.01 + (0.03 - 0.015) + (0.05 - 0.035) + (0.1 - 0.055)
    assert round(result["own_work_seconds"], 6) == round(own, 6)
    assert result["calls_seconds"] == 0.44
    assert result["token_wait_seconds"] == 0.0
    assert round(result["seconds"], 6) == round(own + 0.44, 6)


def test_simulate_makes_iam_writes_wait_for_tokens_across_windows() -> None:
    """With a bucket of 1 at 2/s, back-to-back 50 ms writes wait for tokens, windows included."""
    windows = [Window(0.0, 0.0051, [_call("iam", "AttachRolePolicy", 0.0)]),
               Window(5.0, 5.0051, [_call("iam", "AttachRolePolicy", 5.0)])]
    profile = LatencyProfile(iam_write_ms=50, iam_writes_per_second=2, iam_write_burst=1)
    result = simulate(windows, profile)
    assert round(result["token_wait_seconds"], 3) == 0.45
    assert round(result["seconds"], 3) == 0.55
