"""Text values that print alike but group apart (decision 285): kept apart, and reported."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from pmir_dsl import lookalike
from pmir_dsl.cli import main
from pmir_dsl.lookalike import lookalike_sets, printed
from pmir_dsl.schema import Column, ColumnSpec, ColumnType, Table
from pmir_dsl.visible import ascii_escaped as escaped

CONTRACT = '''contract "C" {
  service start 2023-04-01
}

table referrals {
  referral_id: id
  provider: text
  referral_date: date
  end_date: date?
}

measure DONE "Referrals that end" {
  population referrals
  month of referral_date
  met when end_date is present
  target at least 50%
  group by provider
}
'''
NFC = unicodedata.normalize("NFC", "Café")
NFD = unicodedata.normalize("NFD", "Café")


def test_printed_forms() -> None:
    assert NFC != NFD and printed(NFC) == printed(NFD) == NFC
    assert printed("\ufeffNorth") == printed("North\u200b") == printed("No\u202erth") == "North"
    assert printed("St\u00a0Helens") == "St Helens"
    assert escaped(NFD) == "Cafe\\u0301" and escaped("\ufeffN") == "\\ufeffN"


def test_sets() -> None:
    assert lookalike_sets(("North", "South")) == []
    assert lookalike_sets(("Caf\u00e9", "Zo\u00eb")) == []  # non-ASCII but alone: nothing
    assert lookalike_sets((NFD, "North", NFC, "South", "\ufeffNorth")) == [[0, 2], [1, 4]]


@pytest.mark.parametrize("engine", ["numpy", "reference"])
def test_lookalikes_are_kept_apart_and_reported(tmp_path: Path, engine: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """Two groups for the two Cafés (a merged reading would give one group of 2 of 3 met), and
    one data-quality entry naming the column, the values escaped, each one's records."""
    (tmp_path / "c.pmir").write_text(CONTRACT, encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()
    rows = [f"R1,{NFC},2023-04-03,2023-04-20", f"R2,{NFD},2023-04-05,",
            f"R3,{NFC},2023-04-03,2023-04-20", "R4,\ufeffNorth,2023-04-06,", "R5,North,2023-04-06,"]
    (data / "referrals.csv").write_text("referral_id,provider,referral_date,end_date\n"
                                        + "\n".join(rows) + "\n", encoding="utf-8")
    main(["check", str(tmp_path / "c.pmir"), str(data), "--as-of", "2023-04-30", "--format",
          "json", "--engine", engine])
    report = json.loads(capsys.readouterr().out)
    groups = {r["group"]["provider"]: (r["numerator"], r["denominator"])
              for r in report["results"] if r["group"]}
    assert groups == {NFC: (2, 2), NFD: (0, 1), "North": (0, 1), "\ufeffNorth": (0, 1)}
    assert report["data_quality"] == [
        {"table": "referrals", "check": "provider: 2 values print alike but are kept apart: "
         "'Cafe\\u0301' (1), 'Caf\\u00e9' (2)", "count": 3, "examples": ["R1", "R2", "R3"]},
        {"table": "referrals", "check": "provider: 2 values print alike but are kept apart: "
         "'North' (1), '\\ufeffNorth' (1)", "count": 2, "examples": ["R4", "R5"]},
    ]


def test_a_condition_naming_a_lookalike_of_the_datas_value_is_warned_of(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The contract says "Café" (composed); the data holds only the decomposed form: the
    condition matches nothing, and check says why. With the contract's own form in the data
    there is nothing to warn of."""
    contract = CONTRACT.replace("  met when end_date is present\n",
                                f'  met when end_date is present and provider is "{NFC}"\n')
    (tmp_path / "c.pmir").write_text(contract, encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()
    header = "referral_id,provider,referral_date,end_date\n"
    (data / "referrals.csv").write_text(header + f"R1,{NFD},2023-04-03,2023-04-20\n"
                                        f"R2,{NFD},2023-04-03,2023-04-20\n", encoding="utf-8")
    main(["check", str(tmp_path / "c.pmir"), str(data), "--as-of", "2023-04-30"])
    err = capsys.readouterr().err
    assert ("warning[look-alike-value]: measure DONE: no record's provider is 'Caf\\u00e9', as a "
            "condition names it, but the data has 'Cafe\\u0301' (2 records), which prints alike"
            ) in err
    (data / "referrals.csv").write_text(header + f"R1,{NFC},2023-04-03,2023-04-20\n",
                                        encoding="utf-8")
    main(["check", str(tmp_path / "c.pmir"), str(data), "--as-of", "2023-04-30"])
    assert "look-alike" not in capsys.readouterr().err


def _text_table(dictionary: tuple[str, ...], codes: list[int]) -> Table:
    spec = ColumnSpec("provider", ColumnType.TEXT, True)
    column = Column(spec, np.array(codes, dtype=np.int8), dictionary=dictionary)
    return Table("referrals", "referrals.csv", len(codes), "", {"provider": column})


def test_a_column_without_lookalikes_is_not_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sets come from the dictionary: a column without any is never counted record by
    record (Values.of is a pass over the column), and one with a set still is, as before."""
    counted: list[str] = []
    real = lookalike.Values.of

    def of(column: Column) -> lookalike.Values:
        counted.append(column.spec.name)
        return real(column)
    monkeypatch.setattr(lookalike.Values, "of", of)
    plain = list(lookalike.checks(_text_table(("North", "South"), [0, 1, 1, -1])))
    assert plain == [] and counted == []
    found = list(lookalike.checks(_text_table((NFD, "North", NFC), [0, 2, 2, -1, 1])))
    assert counted == ["provider"]
    assert [(check, mask.tolist()) for check, mask in found] == [
        ("provider: 2 values print alike but are kept apart: 'Cafe\\u0301' (1), 'Caf\\u00e9' (2)",
         [True, True, True, False, False])]
