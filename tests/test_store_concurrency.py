"""Many people reconciling at once, on every backend: nothing lost, nothing doubled, no gap, conflicts refused.

Each round, 20 processes export-and-edit at the same moment: 10 edit the same report (all from the same
revision: exactly one may win, the other nine must be refused as conflicts) and 10 edit a report each (all
must be applied). They wait at a barrier and then reconcile together, several rounds in a row.
"""

from __future__ import annotations

import multiprocessing
import re
from pathlib import Path

import pytest

from convert.reader import read_report
from convert.reconcile import APPLIED
from convert.store import open_store
from tests.concurrent_reconcile import FORWARD, OVER, worker

ROOT = Path(__file__).resolve().parent.parent
ZHUZHEN = ROOT / "samples" / "zhuzhen-2019.txt"
SHARED = ("竹镇镇", 2019)
OWN = [(f"并发{i:02d}镇", 2019) for i in range(10)]
PROCESSES = 20
ROUNDS = 3
# The fork server imports this once and forks every worker from it, so none pays for imports and caches.
PRELOAD = ["tests.concurrent_reconcile"]


@pytest.fixture
def crowded(new_store: str) -> str:
    """Return a store holding 竹镇镇 2019 and ten more reports, each at revision 1."""
    with open_store(new_store) as store:
        record = read_report(ZHUZHEN)
        for agency, _ in [SHARED, *OWN]:
            record.agency = agency
            store.add(record, author="loader", reason=None, source_name="seed.txt", sha256=None)
    return new_store


def test_twenty_processes_reconciling_at_once_lose_and_double_nothing(
    crowded: str, tmp_path: Path, english: None
) -> None:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    applied: dict[tuple[str, int], list[tuple[int, str, int]]] = {}  # report → (revision, author, value)
    for round_ in range(ROUNDS):
        barrier, out = ctx.Barrier(PROCESSES), ctx.Queue()
        jobs = {}
        for i in range(PROCESSES):
            who = f"r{round_}p{i:02d}"
            report = SHARED if i < PROCESSES // 2 else OWN[i - PROCESSES // 2]
            jobs[who] = (report, 1000 * (round_ + 1) + i)
        procs = [
            ctx.Process(target=worker, args=(crowded, str(tmp_path), who, report, value, barrier, out))
            for who, (report, value) in jobs.items()
        ]
        for p in procs:
            p.start()
        outcomes = [out.get(timeout=300) for _ in procs]
        for p in procs:
            p.join(60)
        assert not [o for o in outcomes if o[1] not in (APPLIED, "conflict")], outcomes
        won = [o for o in outcomes if o[1] == APPLIED]
        refused = [o for o in outcomes if o[1] == "conflict"]
        # The shared report: one winner a round, nine refused; every own report: applied.
        assert sorted(jobs[o[0]][0] for o in won) == sorted([SHARED, *OWN]), outcomes
        assert {jobs[o[0]][0] for o in refused} == {SHARED} and len(refused) == PROCESSES // 2 - 1
        for who, _, _, message in refused:
            assert re.search(r"revision \d+", message) and "--force" in message, (who, message)
        for who, _, revision, _ in won:
            report, value = jobs[who]
            applied.setdefault(report, []).append((revision, who, value))

    with open_store(crowded, create=False) as store:
        for report in [SHARED, *OWN]:
            history = store.history(*report)
            # Numbered 1, 2, 3 … with no gap and no repeat: the seed, then exactly one revision a round.
            assert [h.info.number for h in history] == list(range(1, ROUNDS + 2)), report
            stored = [(h.info.number, h.info.author, h.info.base_revision) for h in history[1:]]
            assert stored == [(rev, who, rev - 1) for rev, who, _ in sorted(applied[report])], report
            for entry, (_, _, value) in zip(history[1:], sorted(applied[report]), strict=True):
                changes = {c.key: c.new for c in entry.changed}
                assert changes[OVER] == changes[FORWARD] == str(value), report
            record, _ = store.get(*report)
            assert record.cells[OVER] == sorted(applied[report])[-1][2]
        assert sum(r.revisions for r in store.list()) == (1 + ROUNDS) * (1 + len(OWN))
