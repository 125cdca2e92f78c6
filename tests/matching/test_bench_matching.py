"""bench_matching runs end to end on a small district and its figures agree with each other."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from matching.selectors import published_versions_any_period
from tests.support.services import need_postgres, need_redis

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]


def test_small_run_prints_every_figure_and_keeps_m_policies() -> None:
    need_postgres()
    out = io.StringIO()
    need_redis()  # the spread pass runs in worker processes the command starts
    call_command(
        "bench_matching",
        enterprises=400,
        policies=6,
        sample=20,
        repeats=2,
        pass_workers="1,2",
        pass_chunk_size=100,
        stdout=out,
        stderr=io.StringIO(),
    )
    result = json.loads(out.getvalue())

    publish = result["publish_one_policy"]
    # The compiled rule and the floor's hand-written SELECT pick the same eligible enterprises.
    assert publish["eligible"] == publish["floor_eligible_ids"]
    assert len(publish["decide_and_persist_runs_s"]) == len(publish["floor_runs_s"]) == 2
    assert publish["decide_and_persist_records"] == publish["records_written"]
    assert publish["floor_with_receipts_s"] >= publish["floor_s"] > 0
    # The one pass alone, in a process of its own, changed nothing and peaked above its starting point.
    assert result["pass_process_changed"] == 0
    assert result["pass_process_peak_rss_mb"] >= result["pass_process_rss_before_pass_mb"] > 0
    # Nothing changed between the initial and the steady full re-match.
    assert result["full_rematch_changed"] == 0
    assert result["enterprise_rematch_ms"]["sample"] == 20
    assert published_versions_any_period().count() == 6  # the timing-only versions were retired
    # The spread pass ran in 1, then 2 worker processes, over the same chunks, and changed nothing either.
    assert result["full_rematch_spread_1w_chunks"] == result["full_rematch_spread_2w_chunks"] >= 4
    assert result["full_rematch_spread_1w_changed"] == result["full_rematch_spread_2w_changed"] == 0
    assert result["full_rematch_spread_2w_ratio_to_io_floor"] > 0 and result["full_rematch_spread_2w_speedup"] > 0
    # The changed-only nightly run left exactly what a full pass leaves.
    nightly = result["nightly_changed_only"]
    assert nightly["mode"] == "changed" and nightly["full_pass_after_changed"] == 0
    assert nightly["enterprises_redecided"] == nightly["crossing_enterprises"]
