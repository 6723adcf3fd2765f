"""The ClickHouse schema against a current ClickHouse engine: the tests' cluster is Debian's
18.16, so the DDL of both variants (`pathwise schema`) and the queries whose form matters most
(replacing reads, the evaluator election, retention by partition) also run in chDB, ClickHouse
26.x in process."""

from __future__ import annotations

import subprocess

import pytest
from chdb import session

from conftest import installed_command

TRACE = "0123456789abcdef"  # 16 bytes: FixedString(16)
DAY_NS = 86_400 * 10**9
# 2026-12-01 00:00 UTC; spans at noon of it and of the two days before (one day partition
# each, in any time zone within 11 hours of UTC).
TODAY_NS = 1_796_083_200 * 10**9


def _statements(variant: str) -> list[str]:
    out = subprocess.run(
        [installed_command("pathwise"), "schema", "--variant", variant, "--database", "pw"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    return [s.strip() for s in out.split(";\n") if s.strip()]


def _rows(s: session.Session, sql: str) -> list[list[str]]:
    text = s.query(sql, "TSV").bytes().decode()
    return [line.split("\t") for line in text.splitlines()]


@pytest.mark.parametrize("variant", ["modern", "legacy"])
def test_the_schema_and_its_key_queries_run_on_a_current_engine(tmp_path, variant):
    s = session.Session(str(tmp_path))
    for statement in _statements(variant):
        s.query(statement)
    tables = {row[0] for row in _rows(s, "SHOW TABLES FROM pw")}
    assert {"spans", "traces", "rollup_minute", "alert_state", "alert_evaluators",
            "api_keys"} <= tables

    # A replayed span is one span to a replacing read.
    values = ", ".join(
        f"('{TRACE}', {span}, 0, 'job', 'job', 1, {TODAY_NS - days * DAY_NS + 12 * 3600 * 10**9}, 5, 0)"
        for days in (2, 1, 0) for span in (days * 10 + 1, days * 10 + 1, days * 10 + 2)
    )
    s.query("INSERT INTO pw.spans (trace_id, span_id, parent_id, name, path, kind, start_ns,"
            f" duration_ns, status) VALUES {values}")
    assert _rows(s, "SELECT count() FROM pw.spans FINAL") == [["6"]]

    # The election: the newest beat of each engine decides, a resigned one is left out.
    s.query("INSERT INTO pw.alert_evaluators VALUES ('a', 100, 0), ('b', 200, 0), ('b', 300, 1),"
            " ('c', 150, 0), ('c', 400, 0)")
    live = _rows(s, "SELECT holder, beat AS heartbeat_ns, gone AS resigned FROM"
                    " (SELECT holder, max(heartbeat_ns) AS beat,"
                    "  argMax(resigned, heartbeat_ns) AS gone FROM pw.alert_evaluators"
                    "  GROUP BY holder HAVING beat >= 120 AND gone = 0) ORDER BY holder")
    assert live == [["c", "400", "0"]]

    # Retention: whole day partitions found in system.parts and dropped.
    parts = _rows(s, "SELECT partition, sum(rows) AS rows FROM system.parts"
                     " WHERE database = 'pw' AND table = 'spans' AND active GROUP BY partition"
                     " ORDER BY partition")
    assert [p for p, _ in parts] == ["20261129", "20261130", "20261201"]
    s.query("ALTER TABLE pw.spans DROP PARTITION 20261129")
    assert _rows(s, "SELECT count() FROM pw.spans FINAL") == [["4"]]
