"""Conformance runs: verdicts per profile, and every case linked to exactly its own frames."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from reports import load_run, render_run
from reports.conformance import case_views, profile_rows
from tests.reports.conftest import case, frame

T0 = 1_795_000_000.0


def test_cases_link_to_their_own_frames(conformance_run: Callable[..., Path]) -> None:
    cases = [case("TC_001_CSMS", "passed", ["Core"], T0),
             case("TC_012_CSMS", "failed", ["Core"], T0 + 2.0,
                  reason="step 3: expected Accepted; got <Rejected>"),
             case("TC_061_CSMS", "passed", ["Security"], T0 + 5.0),
             case("TC_090_CSMS", "not_implemented", ["Security"], None)]
    frames = [frame("CS-1", T0 + 0.1, "out", "BootNotification", '[2,"1","BootNotification",{}]'),
              frame("CS-1", T0 + 0.2, "in", "BootNotification", '[3,"1",{"status":"Accepted"}]'),
              frame("CS-2", T0 + 2.5, "in", "RemoteStopTransaction",
                    '[2,"9","RemoteStopTransaction",{"transactionId":7}]'),
              frame("CS-2", T0 + 2.6, "out", "RemoteStopTransaction",
                    '[3,"9",{"status":"Rejected"}]', outcome="invalid: x"),
              frame("CS-3", T0 + 9.0, "out", "Heartbeat", '[2,"5","Heartbeat",{}]')]
    run = load_run(conformance_run(cases, frames))

    views = {v.case: v for v in case_views(run)}
    assert [f.action for f in views["TC_001_CSMS"].frames] == ["BootNotification"] * 2
    assert [f.identity for f in views["TC_012_CSMS"].frames] == ["CS-2", "CS-2"]
    assert views["TC_012_CSMS"].frames[0].offset_ms == 500.0
    assert [f.action for f in views["TC_061_CSMS"].frames] == ["Heartbeat"]  # the last case
    assert not views["TC_090_CSMS"].traced

    rows = {r["profile"]: r for r in profile_rows(run)}
    assert rows["Core"]["verdict"] == "failed" and rows["Core"]["failed"] == 1
    assert rows["Security"]["verdict"] == "incomplete"  # one case has no test yet

    html = render_run(run)
    assert 'id="verdict">FAILED<' in html
    # each run case's id links to its trace section, which holds that case's frames only
    for case_id in ("TC_001_CSMS", "TC_012_CSMS", "TC_061_CSMS"):
        assert f'<a href="#trace-{case_id}">{case_id}</a>' in html
        section = html.split(f'<details id="trace-{case_id}"')[1].split("</details>")[0]
        assert section.count("<pre class=\"frame\">") == len(views[case_id].frames)
    assert 'href="#trace-TC_090_CSMS"' not in html
    failed = html.split('<details id="trace-TC_012_CSMS"')[1].split("</details>")[0]
    assert failed.startswith(" open>")  # a failure is shown unfolded, with its reason
    assert "expected Accepted; got &lt;Rejected&gt;" in failed  # escaped, not markup
    assert "&#34;transactionId&#34;:7" in failed or "&quot;transactionId&quot;:7" in failed


def test_runs_without_case_start_times_get_verdicts_but_no_links(
        conformance_run: Callable[..., Path]) -> None:
    cases = [case("TC_001_CSMS", "passed", ["Core"], None)]
    run = load_run(conformance_run(cases, [frame("CS-1", T0, "out", "Heartbeat", "[]")]))
    html = render_run(run)
    assert 'id="verdict">PASSED<' in html
    assert "cannot be told apart" in html
    assert not re.search(r'href="#trace-', html)
