"""The burst's wall ratio is the median over its timed pairs, the report names them, and a
quick run judges only what its sizes can show."""

from __future__ import annotations

from bench.report import (
    SIZED_GOALS,
    _at_least,
    _at_most,
    _pair_lines,
    _with_samples,
    at_quick_sizes,
)
from bench.run import _wall_ratios


def test_wall_ratio_is_the_median_of_every_pair_main_run_first() -> None:
    main_base, main_ours = {"wall_seconds": 30.0}, {"wall_seconds": 6.0}  # 5.0x
    repeats = [{"wall_seconds": 8.0, "baseline_wall_seconds": 32.0, "first": "model-access"},
               {"wall_seconds": 5.0, "baseline_wall_seconds": 30.0, "first": "baseline"}]
    out = _wall_ratios(main_base, main_ours, repeats)
    assert out["wall_ratio_samples"] == [5.0, 4.0, 6.0]
    assert out["wall_ratio"] == 5.0
    assert out["wall_ratio_main_run"] == 5.0
    assert [p["first"] for p in out["wall_pairs"]] == ["baseline", "model-access", "baseline"]


def test_without_repeats_the_ratio_is_the_main_runs_and_no_pair_table() -> None:
    out = _wall_ratios({"wall_seconds": 27.0}, {"wall_seconds": 6.0}, [])
    assert out["wall_ratio"] == out["wall_ratio_main_run"] == 4.5
    assert _pair_lines(out["wall_pairs"]) == []


def test_the_goal_row_names_its_pairs_and_the_table_lists_them() -> None:
    out = _wall_ratios({"wall_seconds": 20.0}, {"wall_seconds": 5.0},
                       [{"wall_seconds": 5.0, "baseline_wall_seconds": 22.5, "first": "x"}])
    assert out["wall_ratio"] == 4.25  # the median of 4.0 and 4.5
    row = _with_samples(_at_least("burst: wall time", 5, out["wall_ratio"]),
                        out["wall_ratio_samples"])
    assert row.met is False
    assert "median of 2 pairs (4x, 4.5x)" in row.note
    lines = _pair_lines(out["wall_pairs"])
    assert "| 2 | x | 5.0 s | 22.5 s | 4.50x |" in lines


def test_a_quick_run_reports_sized_goals_without_a_verdict_and_judges_the_rest() -> None:
    sized = _at_least("burst: wall time, baseline / model-access", 5, 2.36)
    lost = _at_most("burst: lost grants", 0, 3)
    assert sized.metric in SIZED_GOALS and sized.met is False
    quick_sized, quick_lost = at_quick_sizes([sized, lost])
    assert quick_sized.met is None and quick_sized.value == "2.36x"
    assert "not judged at quick sizes" in quick_sized.note
    assert quick_lost == lost  # correctness goals keep their verdict at any size

