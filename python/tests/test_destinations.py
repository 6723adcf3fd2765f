"""Where `pathwise.init` records besides a local SQLite file: a Pathwise server (`remote=`,
with an ingest key), and a ClickHouse cluster (`store="clickhouse://…"`), each real: a
`pathwise serve` subprocess, and the two-shard test cluster of scripts/clickhouse-cluster."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Callable, List

import pytest

import pathwise
from conftest import installed_command, start_serving

REPO = Path(__file__).resolve().parents[2]


def eventually(read: Callable[[], Any], done: Callable[[Any], bool], what: str,
               timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: last seen {value!r}")
        time.sleep(0.1)


def rows(db: Path, sql: str) -> List[tuple]:
    if not db.exists():
        return []
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.OperationalError:  # not migrated yet
            return []


def record_workload() -> None:
    """One trace of three spans, one failed, and a function that is decorated after `init`
    and never called (the registry still has to reach the destination)."""

    @pathwise.monitor(group="remote.search")
    def lookup(query: str, limit: int) -> dict:
        return {"query": query, "hits": limit}

    @pathwise.monitor(group="remote.search")
    def broken(query: str) -> None:
        raise KeyError(query)

    @pathwise.monitor(group="remote.search")
    def never_called_remotely() -> None:  # pragma: no cover - registered, not run
        pass

    with pathwise.trace("remote-request") as t:
        lookup("shoes", 3)
        with pytest.raises(KeyError):
            broken("socks")
        t.set_metadata({"user": "u1"})


def ingest_key(db: Path) -> str:
    created = subprocess.run(
        [installed_command("pathwise"), "keys", "create", "--name", "python-app", "--scope",
         "ingest", "--db", str(db)],
        check=True, capture_output=True, text=True,
    )
    key = created.stdout.splitlines()[0]
    assert key.startswith("pwk_"), created.stdout
    return key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_remote_with_an_ingest_key_records_only_on_the_server(tmp_path: Path) -> None:
    server_db = tmp_path / "server.db"
    key = ingest_key(server_db)
    serving = start_serving(server_db, tmp_path / "serve.log")
    try:
        os.chdir(tmp_path)  # where a local default file would appear
        pathwise.init(remote=serving.base, key=key, data_dir=tmp_path / "spool",
                      resource_interval=None, flush_interval=0.02)
        try:
            record_workload()
            assert pathwise.flush(30)
        finally:
            stats = pathwise.shutdown()
        assert stats is not None and stats["dropped"] == 0, stats
        spans = eventually(
            lambda: rows(server_db, "SELECT path, status, error_type FROM spans_v ORDER BY path"),
            lambda r: len(r) == 3, "the server's spans")
        assert [s[0] for s in spans] == [
            "remote-request", "remote-request → broken", "remote-request → lookup"]
        assert spans[1][1:] == ("error", "KeyError") and spans[2][1:] == ("ok", None)
        functions = rows(server_db, "SELECT name FROM functions WHERE group_name = 'remote.search'")
        assert sorted(f[0] for f in functions) == ["broken", "lookup", "never_called_remotely"]
        assert not (tmp_path / "pathwise.db").exists(), "remote= alone writes no local file"
    finally:
        code, log = serving.stop()
        assert code == 0, log


def test_records_wait_in_the_spool_until_the_server_comes_up(
        tmp_path: Path) -> None:
    """The server is down while the app records: the records wait in the spool, and the next
    `init` with the same data directory delivers them."""
    server_db = tmp_path / "server.db"
    port = free_port()
    spool = tmp_path / "spool"
    pathwise.init(remote=f"http://127.0.0.1:{port}", data_dir=spool, resource_interval=None,
                  flush_interval=0.02)
    try:
        record_workload()
    finally:
        stats = pathwise.shutdown()
    assert stats is not None and stats["dropped"] == 0, stats
    assert any(spool.iterdir()), "undelivered records stay in the spool"

    serving = start_serving(server_db, tmp_path / "serve.log", port=port)
    try:
        pathwise.init(remote=serving.base, data_dir=spool, resource_interval=None,
                      flush_interval=0.02)
        try:
            assert pathwise.flush(30)
        finally:
            pathwise.shutdown()
        spans = eventually(lambda: rows(server_db, "SELECT count(*) FROM spans_v")[0:1],
                           lambda r: r == [(3,)], "the replayed spans")
        assert spans == [(3,)]
    finally:
        serving.stop()


def test_remote_and_a_local_file_both_get_every_record(tmp_path: Path) -> None:
    server_db, local_db = tmp_path / "server.db", tmp_path / "local.db"
    serving = start_serving(server_db, tmp_path / "serve.log")
    try:
        pathwise.init(db=local_db, remote=serving.base, resource_interval=None,
                      flush_interval=0.02)
        try:
            record_workload()
            assert pathwise.flush(30)
        finally:
            pathwise.shutdown()
        count = "SELECT count(*) FROM spans_v"
        eventually(lambda: rows(server_db, count), lambda r: r == [(3,)], "server spans")
        assert rows(local_db, count) == [(3,)]
    finally:
        serving.stop()


@pytest.mark.parametrize("kwargs, message", [
    ({"db": "a.db", "store": "sqlite:b.db"}, "not both"),
    ({"key": "pwk_x"}, "give remote= too"),
    ({"store": "clickhouse://127.0.0.1:1/pathwise"}, "cannot open store at http://127.0.0.1:1"),
    ({"remote": "ftp://example"}, "must start with http:// or https://"),
    ({"store": "postgres://db/x"}, "not one Pathwise knows"),
])
def test_bad_destinations_are_refused_at_init(tmp_path: Path, kwargs: dict, message: str) -> None:
    os.chdir(tmp_path)
    with pytest.raises(pathwise.InitError, match=message):
        pathwise.init(resource_interval=None, data_dir=tmp_path / "spool", **kwargs)
    assert pathwise.stats() is None


# --- ClickHouse -------------------------------------------------------------------------


def clickhouse(url: str, sql: str) -> str:
    request = urllib.request.Request(url + "/?" + urllib.parse.urlencode({"query": sql}))
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.read().decode()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    """The two-shard test cluster on its own ports; skipped only where no ClickHouse server
    is installed (scripts/test installs one, so CI always runs these)."""
    server = Path("/usr/bin/clickhouse-server")
    if not server.exists() and not Path("/usr/sbin/clickhouse-server").exists():
        pytest.skip("clickhouse-server is not installed (scripts/test installs it)")
    directory = tmp_path_factory.mktemp("cluster")
    env = dict(os.environ, PATHWISE_CH_PORT_BASE=str(29000 + os.getpid() % 500 * 8))
    script = REPO / "scripts" / "clickhouse-cluster"
    started = subprocess.run([str(script), "start", str(directory)], env=env, check=True,
                             capture_output=True, text=True, timeout=180)
    urls = [line for line in started.stdout.split() if line.startswith("http://")]
    assert len(urls) == 2, started.stdout
    try:
        yield urls
    finally:
        subprocess.run([str(script), "stop", str(directory)], env=env, timeout=120)


def test_store_clickhouse_records_into_the_cluster(tmp_path: Path, cluster: List[str]) -> None:
    shards = ",".join(urllib.parse.urlparse(u).netloc for u in cluster)
    url = f"clickhouse://{shards}/pathwise_py?cluster=pathwise"
    pathwise.init(store=url, data_dir=tmp_path / "spool", resource_interval=None,
                  flush_interval=0.02)
    try:
        record_workload()
        assert pathwise.flush(60)
    finally:
        stats = pathwise.shutdown()
    assert stats is not None and stats["dropped"] == 0, stats
    # Read through the other shard's Distributed tables: the records are the cluster's.
    listed = clickhouse(cluster[1], "SELECT path, error_type FROM pathwise_py.spans "
                                    "ORDER BY path FORMAT JSONEachRow")
    spans = [json.loads(line) for line in listed.splitlines()]
    assert [(s["path"], s["error_type"]) for s in spans] == [
        ("remote-request", None), ("remote-request → broken", "KeyError"),
        ("remote-request → lookup", None)]
    functions = clickhouse(cluster[1], "SELECT DISTINCT name FROM pathwise_py.functions "
                                       "WHERE group_name = 'remote.search' ORDER BY name")
    assert functions.split() == ["broken", "lookup", "never_called_remotely"]
