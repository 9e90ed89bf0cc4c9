"""``pmirc check --engine dask`` (pmir_dsl/cluster.py): the numpy engine's JSON, byte for byte,
from batches evaluated on a dask.distributed LocalCluster; errors in one line, exit 2."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

from pmir_dsl import cluster, stream  # noqa: E402
from pmir_dsl.cli import main  # noqa: E402
from pmir_dsl.load import load_tables  # noqa: E402
from pmir_dsl.pipeline import compile_file, evaluate  # noqa: E402
from pmir_dsl.report import json as json_report  # noqa: E402

BUNDLED = [("contracts/atw_ha.pmir", "examples/atw_ha"), ("contracts/esf.pmir", "examples/esf"),
           ("contracts/ses.pmir", "examples/ses"), ("contracts/ipes.pmir", "examples/ipes"),
           ("contracts/work_programme.pmir", "examples/work_programme"),
           ("contracts/atw_ha_mmir.pmir", "examples/atw_ha")]


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A LocalCluster of two threads in this process, shared by the tests of this file."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0", silence_logs=logging.ERROR) as c:
        yield c.scheduler_address


@pytest.mark.parametrize(("contract", "data"), BUNDLED)
def test_bundled_examples_on_a_cluster_give_the_numpy_json(repo: Path, scheduler: str,
                                                           contract: str, data: str) -> None:
    plan = compile_file(repo / contract)
    whole = evaluate(plan, load_tables(repo / data, plan.contract.used_tables()))
    opened = stream.open_tables(repo / data, plan, stream.streamable(plan.contract), 400)
    on_cluster = cluster.evaluate_dask(plan, opened, None, scheduler)
    assert json_report.render(on_cluster) == json_report.render(whole)


def test_cli_default_local_cluster(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["check", str(repo / "contracts/atw_ha_mmir.pmir"), str(repo / "examples/atw_ha"),
            "--format", "json"]
    assert main(args) == 0
    numpy = capsys.readouterr().out
    assert main([*args, "--engine", "dask", "--batch-rows", "300"]) == 0
    assert capsys.readouterr().out == numpy


def test_no_scheduler_at_the_address(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 1)
    status = main(["check", str(repo / "contracts/atw_ha.pmir"), str(repo / "examples/atw_ha"),
                   "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("pmirc: error: no dask scheduler at tcp://127.0.0.1:9: ")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_worker_failure(repo: Path, scheduler: str, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    def broken(*args: object) -> None:
        raise MemoryError("worker ran out of memory")

    monkeypatch.setattr(cluster, "batch_partial", broken)
    status = main(["check", str(repo / "contracts/atw_ha.pmir"), str(repo / "examples/atw_ha"),
                   "--engine", "dask", "--scheduler", scheduler])
    err = capsys.readouterr().err
    assert status == 2
    assert err == "pmirc: error: a dask worker failed: MemoryError: worker ran out of memory\n"


def test_scheduler_needs_the_dask_engine(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(repo / "contracts/atw_ha.pmir"), str(repo / "examples/atw_ha"),
                 "--scheduler", "tcp://127.0.0.1:9"]) == 2
    assert "--engine dask" in capsys.readouterr().err
