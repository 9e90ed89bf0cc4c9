"""Out-of-core evaluation (pmir_dsl/stream.py): the same figures and problems as the in-memory
run, with tiny batches, over CSV, Parquet files and partitioned folders."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from pmir_dsl import stream
from pmir_dsl.cli import main
from pmir_dsl.errors import DataError, DataProblem
from pmir_dsl.load import load_tables
from pmir_dsl.pipeline import compile_file, evaluate
from pmir_dsl.report import json as json_report

BUNDLED = [("contracts/atw_ha.pmir", "examples/atw_ha"), ("contracts/esf.pmir", "examples/esf"),
           ("contracts/ses.pmir", "examples/ses"), ("contracts/ipes.pmir", "examples/ipes"),
           ("contracts/work_programme.pmir", "examples/work_programme"),
           ("contracts/atw_ha_mmir.pmir", "examples/atw_ha")]


def _in_memory(contract: str, data: Path | str, as_of: str | None = None) -> str:
    plan = compile_file(contract)
    return json_report.render(evaluate(plan, load_tables(data, plan.contract.used_tables()),
                                       as_of))


def _streamed(contract: str, data: Path | str, batch_rows: int, as_of: str | None = None) -> str:
    plan = compile_file(contract)
    opened = stream.open_tables(data, plan, stream.streamable(plan.contract), batch_rows)
    assert opened.streams
    return json_report.render(stream.evaluate(plan, opened, as_of))


@pytest.mark.parametrize(("contract", "data"), BUNDLED)
def test_bundled_examples_stream_to_identical_json(repo: Path, contract: str, data: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    assert _streamed(contract, data, 97) == _in_memory(contract, data)


def _copy(repo: Path, tmp_path: Path, example: str = "atw_ha") -> Path:
    out = tmp_path / example
    shutil.copytree(repo / "examples" / example, out)
    return out


def test_partitioned_folder_and_tiny_batches(repo: Path, tmp_path: Path) -> None:
    """referrals/ as three Parquet files of unequal sizes, batches of 7 across their seams."""
    data = _copy(repo, tmp_path)
    referrals = pacsv.read_csv(data / "referrals.csv",
                               convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    (data / "referrals.csv").unlink()
    (data / "referrals").mkdir()
    for i, (lo, hi) in enumerate([(0, 100), (100, 101), (101, referrals.num_rows)]):
        pq.write_table(referrals.slice(lo, hi - lo), data / "referrals" / f"part-{i}.parquet",
                       row_group_size=13)
    contract = str(repo / "contracts/atw_ha.pmir")
    assert _streamed(contract, data, 7) == _in_memory(contract, data)


def test_cli_stream_flag_gives_identical_json(repo: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    contract, data = str(repo / "contracts/ipes.pmir"), str(repo / "examples/ipes")
    assert main(["check", contract, data, "--format", "json"]) == 1
    whole = capsys.readouterr()
    assert main(["check", contract, data, "--format", "json", "--stream", "--batch-rows",
                 "50"]) == 1
    streamed = capsys.readouterr()
    assert streamed.out == whole.out and streamed.err == whole.err


def test_streams_on_its_own_above_the_size(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = compile_file(repo / "contracts/atw_ha.pmir")
    data = repo / "examples/atw_ha"
    assert stream.chosen(plan.contract, data, None) == ()  # small: in memory
    monkeypatch.setitem(stream.STREAM_BYTES, "csv", 1000)
    assert stream.chosen(plan.contract, data, None) == ("referrals", "workforce", "returns")
    assert stream.chosen(plan.contract, data, False) == ()


def test_looked_up_tables_are_not_streamed(repo: Path) -> None:
    esf = compile_file(repo / "contracts/esf.pmir")
    assert stream.streamable(esf.contract) == ("outcomes",)  # referrals: the cohort starts


def _problems(contract: str, data: Path, batch_rows: int | None,
              evaluated: bool = False) -> list:
    """The problems the tables raise, loaded (``batch_rows`` None) or streamed: opening them,
    or with ``evaluated``, evaluating them."""
    plan = compile_file(contract)
    with pytest.raises(DataError) as caught:
        if batch_rows is None:
            tables = load_tables(data, plan.contract.used_tables())
            if evaluated:
                evaluate(plan, tables)
        else:
            opened = stream.open_tables(data, plan, stream.streamable(plan.contract), batch_rows)
            if evaluated:
                stream.evaluate(plan, opened)
    return caught.value.problems


def _rewrite_csv(path: Path, edit) -> None:  # type: ignore[no-untyped-def]
    lines = path.read_text().splitlines()
    edit(lines)
    path.write_text("\n".join(lines) + "\n")


def test_repeated_ids_across_batches_are_reported_as_loaded(repo: Path, tmp_path: Path) -> None:
    data = _copy(repo, tmp_path)

    def repeat(lines: list[str]) -> None:  # rows 3 and 400 take row 2's id, 500 takes 450's
        first, other = lines[1].split(",")[0], lines[449].split(",")[0]
        for i, rid in ((2, first), (399, first), (499, other)):
            lines[i] = rid + "," + lines[i].split(",", 1)[1]
    _rewrite_csv(data / "referrals.csv", repeat)
    contract = str(repo / "contracts/atw_ha.pmir")
    whole = _problems(contract, data, None)
    assert "duplicate ids: 2 ids appear more than once" in whole[0].message
    assert _problems(contract, data, 64) == whole


def test_bad_values_in_later_batches_are_counted_across_them(repo: Path, tmp_path: Path) -> None:
    data = _copy(repo, tmp_path)

    def spoil(lines: list[str]) -> None:
        for i in (5, 70, 71, 300, 301, 302, 900):
            cells = lines[i].split(",")
            cells[2] = "2024-13-01"
            lines[i] = ",".join(cells)
    _rewrite_csv(data / "referrals.csv", spoil)
    contract = str(repo / "contracts/atw_ha.pmir")
    whole = _problems(contract, data, None)
    assert whole[0].count == 7 and whole[0].rows == (6, 71, 72, 301, 302)
    assert _problems(contract, data, 50) == whole


def test_far_dates_are_refused_and_warned_as_loaded(repo: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    data = _copy(repo, tmp_path)

    def far(lines: list[str]) -> None:
        cells = lines[800].split(",")
        cells[6] = "2031-05-01"  # report_date: a mistyped year, the as-of date follows it
        lines[800] = ",".join(cells)
    _rewrite_csv(data / "referrals.csv", far)
    args = ["check", str(repo / "contracts/atw_ha.pmir"), str(data), "--format", "json"]
    main(args)
    whole = capsys.readouterr()
    main([*args, "--stream", "--batch-rows", "100"])
    streamed = capsys.readouterr()
    assert "warning[far-date]" in whole.err and "row 801" in whole.err
    assert streamed.err == whole.err and streamed.out == whole.out


def test_as_of_given(repo: Path) -> None:
    contract, data = str(repo / "contracts/atw_ha.pmir"), repo / "examples/atw_ha"
    assert _streamed(contract, data, 33, "2024-12-31") == _in_memory(contract, data, "2024-12-31")


def test_id_keys_equal_for_equal_ids_of_any_length() -> None:
    ids = pa.array(["a", "", "abcdefghij" * 5, "a", None, "b", "abcdefghij" * 5, "é"])
    keys = stream.id_keys(ids)
    assert len(keys) == 7  # the null left out
    assert keys[0] == keys[3] and keys[2] == keys[5]
    assert len(set(keys.tolist())) == 5
    sliced = stream.id_keys(ids.slice(3))
    assert sliced[0] == keys[0] and sliced[2] == keys[2]


def test_empty_and_one_batch_tables(repo: Path, tmp_path: Path) -> None:
    data = _copy(repo, tmp_path)
    lines = (data / "returns.csv").read_text().splitlines()
    (data / "returns.csv").write_text(lines[0] + "\n")
    contract = str(repo / "contracts/atw_ha.pmir")
    assert _streamed(contract, data, 10**6) == _in_memory(contract, data)


def test_problems_in_declared_column_order(repo: Path, tmp_path: Path) -> None:
    """A later column's problem in an early batch comes after an earlier column's later one."""
    data = _copy(repo, tmp_path)

    def spoil(lines: list[str]) -> None:
        cells = lines[3].split(",")
        cells[5] = "by_pigeon"  # assessment_type, in the first batch
        lines[3] = ",".join(cells)
        cells = lines[700].split(",")
        cells[2] = "2024-02-30"  # referral_date, declared before it, in a later batch
        lines[700] = ",".join(cells)
    _rewrite_csv(data / "referrals.csv", spoil)
    contract = str(repo / "contracts/atw_ha.pmir")
    whole = _problems(contract, data, None)
    assert len(whole) == 2
    assert _problems(contract, data, 100) == whole


def test_sums_too_large_for_int64_are_refused_as_in_memory(repo: Path, tmp_path: Path) -> None:
    data = _copy(repo, tmp_path)

    def huge(lines: list[str]) -> None:
        header = lines[0].split(",")
        at = header.index("total_fte")
        for i in range(1, len(lines), 2):
            cells = lines[i].split(",")
            cells[at] = "999999999999"
            lines[i] = ",".join(cells)
    _rewrite_csv(data / "workforce.csv", huge)
    contract = str(repo / "contracts/atw_ha.pmir")
    whole = _problems(contract, data, None, evaluated=True)
    assert "sums this column" in whole[0].message
    assert _problems(contract, data, 3, evaluated=True) == whole


def test_a_far_latest_date_names_the_rows_as_in_memory(repo: Path, tmp_path: Path) -> None:
    """The as-of date from a date decades on: more months than pmirc evaluates."""
    data = _copy(repo, tmp_path)

    def decades(lines: list[str]) -> None:
        for i in (650, 900):
            cells = lines[i].split(",")
            cells[6] = "2150-01-02"
            lines[i] = ",".join(cells)
    _rewrite_csv(data / "referrals.csv", decades)
    contract = str(repo / "contracts/atw_ha.pmir")
    whole = _problems(contract, data, None, evaluated=True)
    assert whole[0].rows == (651, 901)
    assert _problems(contract, data, 128, evaluated=True) == whole


LOOKALIKE_CONTRACT = '''contract "C" {
  service start 2023-04-01
}

table referrals {
  referral_id: id
  provider: text
  office: text?
  referral_date: date
  end_date: date?
}

measure DONE "Referrals that end" {
  population referrals
  month of referral_date
  met when end_date is present and office is "Leeds"
  target at least 50%
  group by provider
}
'''


def test_lookalikes_streamed_in_memory_and_on_dask_are_identical(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """NFC / NFD, a byte order mark and a zero-width space in a streamed table, the plain
    'North' only in the first batches and its look-alikes only in later ones: the same
    data-quality entries (counts, smallest whole-table ids) and the same look-alike-value
    warning ('Leeds' is held only with a zero-width space) in batches of 4, whole, and on dask."""
    nfc, nfd = "Caf\u00e9", "Cafe\u0301"
    providers = ["North"] * 6 + [nfc, nfd, "North\u200b", "\ufeffNorth", "South"] * 5
    (tmp_path / "c.pmir").write_text(LOOKALIKE_CONTRACT, encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()
    rows = [f"R{i + 1},{p},{'Leeds' + chr(0x200B) if i % 3 else 'York'},2023-04-0{1 + i % 9},"
            f"{'2023-04-20' if i % 2 else ''}" for i, p in enumerate(providers)]
    (data / "referrals.csv").write_text("referral_id,provider,office,referral_date,end_date\n"
                                        + "\n".join(rows) + "\n", encoding="utf-8")
    args = ["check", str(tmp_path / "c.pmir"), str(data), "--as-of", "2023-04-30",
            "--format", "json"]
    main(args)
    whole = capsys.readouterr()
    quality = json.loads(whole.out)["data_quality"]
    assert [(q["check"], q["count"], q["examples"]) for q in quality] == [
        ("provider: 2 values print alike but are kept apart: 'Cafe\\u0301' (5), 'Caf\\u00e9' (5)",
         10, ["R12", "R13", "R17", "R18", "R22"]),
        ("provider: 3 values print alike but are kept apart: 'North' (6), 'North\\u200b' (5), "
         "'\\ufeffNorth' (5)", 16, ["R1", "R10", "R14", "R15", "R19"]),
    ]
    assert ("warning[look-alike-value]: measure DONE: no record's office is 'Leeds', as a "
            "condition names it, but the data has 'Leeds\\u200b' (20 records)") in whole.err
    for extra in (["--stream", "--batch-rows", "4"], ["--engine", "dask", "--batch-rows", "3"]):
        main([*args, *extra])
        streamed = capsys.readouterr()
        assert streamed.out == whole.out, extra
        assert streamed.err == whole.err, extra


JOINED_CONTRACT = '''contract "C" {
  service start 2023-04-01
}

table referrals {
  referral_id: id
  lep_area: text
  hours: integer
}

table outcomes {
  referral_id: ref(referrals)
  adviser: text
  achieved_date: date
  paid: integer
}

measure SHORT "Outcomes in Leeds" {
  population outcomes where lep_area is "Leeds"
  month of achieved_date
  count records
  target at least 1
  group by adviser
}

measure HOURS "Paid over hours" {
  population outcomes
  month of achieved_date
  ratio sum paid over sum hours
  target at least 10%
}
'''


def test_streamed_table_without_ids_and_joined_columns(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """A streamed table with no id column (look-alike examples are whole-table row numbers), a
    condition on a joined column ('Leeds' held only with a zero-width space: warned of from the
    declarations, as the streamed shell holds no ref column) and a sum of a joined column (the
    sum check, which once looked the ref column up in the shell: an internal error)."""
    (tmp_path / "c.pmir").write_text(JOINED_CONTRACT, encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()
    (data / "referrals.csv").write_text("referral_id,lep_area,hours\nR1,Leeds\u200b,10\n"
                                        "R2,York,20\n", encoding="utf-8")
    advisers = ["Ann", "Ann", "Zo\u00eb", "Zoe\u0308", "Ann\u200b", "Bob"] * 3
    (data / "outcomes.csv").write_text(
        "referral_id,adviser,achieved_date,paid\n" + "".join(
            f"R{1 + i % 2},{a},2023-04-{1 + i:02d},{i}\n" for i, a in enumerate(advisers)),
        encoding="utf-8")
    args = ["check", str(tmp_path / "c.pmir"), str(data), "--as-of", "2023-04-30",
            "--format", "json"]
    main(args)
    whole = capsys.readouterr()
    assert [(q["check"][:10], q["count"], q["examples"])
            for q in json.loads(whole.out)["data_quality"]] == [
        ("adviser: 2", 9, ["row 2", "row 3", "row 6", "row 8", "row 9"]),
        ("adviser: 2", 6, ["row 4", "row 5", "row 10", "row 11", "row 16"])]
    assert "no record's lep_area is 'Leeds'" in whole.err
    main([*args, "--stream", "--batch-rows", "4"])
    streamed = capsys.readouterr()
    assert (streamed.out, streamed.err) == (whole.out, whole.err)


def test_a_joined_sum_too_large_is_reported_as_in_memory(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    """The sum check of a joined column over a streamed table: the in-memory run's message."""
    (tmp_path / "c.pmir").write_text(JOINED_CONTRACT, encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()
    (data / "referrals.csv").write_text("referral_id,lep_area,hours\nR1,Leeds,10\n"
                                        f"R2,York,{10**17}\n", encoding="utf-8")
    (data / "outcomes.csv").write_text("referral_id,adviser,achieved_date,paid\n" + "".join(
        f"R{1 + i % 2},Ann,2023-04-{1 + i:02d},{i}\n" for i in range(20)), encoding="utf-8")
    args = ["check", str(tmp_path / "c.pmir"), str(data), "--as-of", "2023-04-30"]
    assert main(args) == 2
    whole = capsys.readouterr().err
    assert "measure HOURS sums this column" in whole and "over 20 records" in whole
    assert main([*args, "--stream", "--batch-rows", "3"]) == 2
    assert capsys.readouterr().err == whole


def test_batches_are_made_ahead_in_order_and_errors_raised_in_turn() -> None:
    """``stream.ahead``: the items in order, the next one made on another thread while the
    caller holds the one before, and an error raised where the caller asks for that item."""
    import threading

    made: list[tuple[int, str]] = []
    held = threading.Event()

    def items() -> Iterator[int]:
        for i in range(5):
            if i == 3:
                raise DataError(DataProblem("f.csv", "unreadable"))
            if i == 2:  # made while the caller still holds item 1
                assert held.wait(5)
            made.append((i, threading.current_thread().name))
            yield i

    got = []
    with pytest.raises(DataError, match="unreadable"):
        for i in stream.ahead(items()):
            got.append(i)
            if i == 1:
                held.set()
                for _ in range(500):  # item 2 made meanwhile (within 5 s)
                    if len(made) == 3:
                        break
                    threading.Event().wait(0.01)
                assert [m[0] for m in made] == [0, 1, 2]
    assert got == [0, 1, 2]
    assert all(name != threading.current_thread().name for _, name in made)
