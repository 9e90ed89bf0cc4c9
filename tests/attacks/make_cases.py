"""Write the attack corpus: each case folder of tests/attacks/ (run from anywhere; the folders
are rewritten, this script is kept). tests/test_attacks.py runs the cases."""

import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent.parent
for old in ROOT.iterdir():
    if (old / "case.json").is_file():
        shutil.rmtree(old)

SMALL = '''contract "Attack" {
  service start 2023-04-01
}

table referrals {
  referral_id: id
  referral_date: date
  end_date: date?
  cost: decimal?
  budget: decimal?
  n: integer?
}

measure DONE "Referrals that end" {
  population referrals
  month of referral_date
  met when end_date is present
  target at least 50%
}
'''
SPEND = '''
measure SPEND "Cost over budget" {
  population referrals
  month of referral_date
  ratio sum cost over sum budget
  target at most 50%
}
'''
BIG = '''
measure BIG "Records with a huge cost" {
  population referrals where cost >= 10000000000000
  month of referral_date
  met when referral_date is present
  target at least 50%
}
'''
HEADER = "referral_id,referral_date,end_date,cost,budget,n"
ROWS = ["R1,2023-04-03,2023-04-20,5,10,1", "R2,2023-04-05,,7,10,2", "R3,2023-05-02,2023-05-09,1,10,3"]
BAD = 'contract "Bad" {\n  service start 2023-04-01\n}\n\nmeasure A "a" { populaton referrals }\n'
GOOD_HEAD = 'contract "Module user" {\n  service start 2023-04-01\n}\n'

def case(name, what, args=None, exit=2, stderr=(), files=None, contract=SMALL, rows=ROWS,
         shell=None, setup=None, figures=None, blowup=False, stdout=(), interrupt=None,
         skip_as_root=False, no_stderr=()):
    d = ROOT / name; d.mkdir()
    if contract is not None:
        (d / "contract.pmir").write_text(contract)
    if rows is not None:
        (d / "data").mkdir()
        (d / "data" / "referrals.csv").write_text("\n".join([HEADER, *rows]) + "\n")
    for path, text in (files or {}).items():
        p = d / path; p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(text if isinstance(text, bytes) else text.encode())
    spec = {"what": what}
    if args is not None: spec["args"] = args
    if shell is not None: spec["shell"] = shell
    spec["exit"] = exit
    if stderr: spec["stderr"] = list(stderr)
    if no_stderr: spec["no_stderr"] = list(no_stderr)
    if stdout: spec["stdout"] = list(stdout)
    if figures: spec["figures"] = figures
    if setup: spec["setup"] = setup
    if blowup: spec["blowup"] = True
    if interrupt: spec["interrupt_after_s"] = interrupt
    if skip_as_root: spec["skip_as_root"] = True
    (d / "case.json").write_text(json.dumps(spec, indent=2) + "\n")

CHECK = ["check", "contract.pmir", "data"]
# ---- 1. wrong figures
case("decimal_literal_overflow", "cost >= 10000000000000: the literal in millionths wrapped round an int64 and let every record through; none may pass",
     CHECK + ["--format", "json", "--as-of", "2023-04-30"], exit=1, contract=SMALL + BIG,
     rows=["R1,2023-04-03,,999999999999.999999,1,", "R2,2023-04-03,,-999999999999,1,"],
     figures=[["BIG", "2023-04", "in_month", "denominator", 0], ["BIG", "2023-04", "in_month", "value", None]],
     no_stderr=["warning"])
case("ratio_sum_over_int64", "twenty budgets of 999999999999 sum past an int64 in millionths: KPI was 128.76% (the reference: 10%); now refused, naming the column and rows",
     CHECK + ["--as-of", "2023-05-31"], contract=SMALL + SPEND,
     rows=[f"R{i},2023-04-03,,99999999999.9,999999999999," for i in range(20)],
     stderr=["column 'budget': measure SPEND sums this column", "20 rows: row 2 ('999999999999')", "and 15 more"])
case("ratio_sum_over_int64_reference", "the reference engine refuses the same data",
     CHECK + ["--as-of", "2023-05-31", "--engine", "reference"], contract=SMALL + SPEND,
     rows=[f"R{i},2023-04-03,,99999999999.9,999999999999," for i in range(20)],
     stderr=["column 'budget': measure SPEND sums this column"])
case("ratio_sum_near_int64", "nine budgets of 999999999999.999999 fit an int64 in millionths: exactly 10%",
     CHECK + ["--format", "json", "--as-of", "2023-04-30"], exit=1, contract=SMALL + SPEND,
     rows=[f"R{i},2023-04-03,,99999999999.9,999999999999.999999," for i in range(9)],
     figures=[["SPEND", "2023-04", "in_month", "value", 0.0999999999999], ["SPEND", "2023-04", "in_month", "met", True]])
# ---- 2. command line
many = " ".join(["contract.pmir"] * 600)
case("broken_pipe_keeps_status", "output to a pipe that closes early: no traceback, the real exit status (2: the last file is bad)",
     shell=f"set -o pipefail; pmirc lint {many} bad.pmir | head -1", files={"bad.pmir": BAD}, rows=None,
     stdout=["contract.pmir: ok"], no_stderr=["BrokenPipe", "Exception ignored"])
case("as_of_nat", "--as-of NaT is not a date", CHECK + ["--as-of", "NaT"], stderr=["argument --as-of: 'NaT' is not a date written YYYY-MM-DD"])
case("as_of_not_a_day", "--as-of 2024-02-30 is not a date", CHECK + ["--as-of", "2024-02-30"], stderr=["'2024-02-30' is not a date written YYYY-MM-DD"])
case("chunk_rows_negative", "--chunk-rows -1", CHECK + ["--chunk-rows", "-1"], stderr=["argument --chunk-rows: must be at least 1, not -1"])
case("chunk_rows_zero", "--chunk-rows 0", CHECK + ["--chunk-rows", "0"], stderr=["argument --chunk-rows: must be at least 1, not 0"])
case("width_zero", "--width 0", CHECK + ["--width", "0"], stderr=["argument --width: '0' is not a width of 40 columns or more"])
case("ctrl_c", "Ctrl-C during a long run: one line, exit 130",
     ["check", "contract.pmir", "big", "--engine", "reference", "--as-of", "2025-06-30"], exit=130, contract=None, rows=None,
     setup={"synth": ["atw_ha", "big", 20000]}, interrupt=1.5, stderr=["pmirc: interrupted"],
     files={"contract.pmir": (REPO / "contracts" / "atw_ha.pmir").read_text()})
# ---- 3. located errors
long = "referrals_" + "x" * 290
case("long_table_name", "a 300-character table name", ["check", "contract.pmir", "data"],
     contract=SMALL.replace("referrals", long), stderr=["error[long-name]: the table name is 300 characters long", "contract.pmir:5:7"])
for kind, setup, msg in [("symlink_loop", {"symlink": [["loop_a.pmir", "loop_b.pmir"], ["loop_b.pmir", "loop_a.pmir"]]}, "a symbolic link that loops"),
                         ("fifo", {"fifo": ["module.pmir"]}, "it is a pipe or device"),
                         ("directory", {"mkdir": ["module.pmir"]}, "it is a folder, not a file"),
                         ("binary", None, "it is a binary file")]:
    target = {"symlink_loop": "loop_a.pmir"}.get(kind, "module.pmir")
    files = {"module.pmir": bytes(range(256)) * 4} if kind == "binary" else {}
    files["user.pmir"] = f'import "{target}"\n' + GOOD_HEAD
    case(f"import_{kind}", f"an import that is a {kind.replace('_', ' ')}", ["lint", "user.pmir"], contract=None, rows=None,
         files=files, setup=setup, stderr=[f"error[import-not-found]: cannot import '{target}': {msg}", "user.pmir:1:1"])
case("unreadable_data_folder", "a data folder that cannot be read", CHECK, setup={"chmod": [["data", 0]]},
     stderr=["cannot read the data folder: Permission denied"], skip_as_root=True)
AUDIT = ["audit", "contract.pmir", "data", "--measure", "DONE", "--as-of", "2023-05-31", "-o"]
case("audit_into_missing_folder", "audit -o into a folder that does not exist", AUDIT + ["nowhere/audit.csv"], stderr=["cannot write 'nowhere/audit.csv': No such file or directory"])
case("audit_into_folder", "audit -o naming a folder", AUDIT + ["data"], stderr=["cannot write 'data': Is a directory"])
case("audit_into_full_disk", "audit -o onto a full disk (/dev/full)", AUDIT + ["/dev/full"], stderr=["cannot write '/dev/full': No space left on device"])
case("stdout_full_disk", "a report written to a full disk", shell="pmirc check contract.pmir data --as-of 2023-05-31 > /dev/full",
     stderr=["pmirc: error: cannot write the output: No space left on device"], no_stderr=["Exception ignored"])
case("synth_onto_file", "synth into a path that is a file", ["synth", "atw_ha", "afile", "--rows", "5"], contract=None, rows=None,
     files={"afile": "x"}, stderr=["'afile' is a file, not a folder"])
case("synth_onto_tables", "synth onto tables already there, without --force", ["synth", "atw_ha", "out", "--rows", "5"], contract=None, rows=None,
     files={"out/referrals.csv": "x"}, stderr=["out already holds referrals.csv; pass --force to overwrite"])
case("synth_seed_negative", "synth --seed -1", ["synth", "atw_ha", "out", "--seed", "-1"], contract=None, rows=None,
     stderr=["argument --seed: must be at least 0, not -1"])
case("reference_year_0000", "the reference engine on a year 0000 date (Python's dates start at year 1)",
     CHECK + ["--engine", "reference"], rows=["R1,0000-01-01,,1,1,", *ROWS[1:]],
     stderr=["column 'referral_date': outside the dates pmirc evaluates (1900-01-01 to 2199-12-31)", "row 2 ('0000-01-01')"])
case("lint_dev_zero", "pmirc lint /dev/zero: never read", ["lint", "/dev/zero"], contract=None, rows=None,
     stderr=["cannot read /dev/zero: it is a pipe or device, not a file"], blowup=True)
case("lint_fifo", "pmirc lint of a FIFO: never opened", ["lint", "pipe.pmir"], contract=None, rows=None,
     setup={"fifo": ["pipe.pmir"]}, stderr=["cannot read pipe.pmir: it is a pipe or device, not a file"], blowup=True)
case("table_path_folder", "referrals.csv is a folder", CHECK, rows=None, setup={"mkdir": ["data/referrals.csv"]},
     stderr=["data/referrals.csv: a folder, not a file"])
case("table_path_symlink_loop", "referrals.csv is a symbolic link that loops", CHECK, rows=None,
     setup={"mkdir": ["data"], "symlink": [["data/referrals.csv", "loop.csv"], ["data/loop.csv", "referrals.csv"]]},
     stderr=["data/referrals.csv: a symbolic link that loops"])
# ---- 4. blow-ups
case("data_9999_row", "one 9999-12-31 ('no date') row: refused, not 96,000 months",
     CHECK, rows=[*ROWS, "R9,2023-06-01,9999-12-31,1,1,"], blowup=True,
     stderr=["column 'end_date': outside the dates pmirc evaluates (1900-01-01 to 2199-12-31)", "1 row: row 5 ('9999-12-31')", "should be left empty"])
case("as_of_9999", "--as-of 9999-12-31", CHECK + ["--as-of", "9999-12-31"], blowup=True,
     stderr=["argument --as-of: '9999-12-31' is outside the dates pmirc evaluates (1900-01-01 to 2199-12-31)"])
case("extract_date_9999", "extract date 9999-12-31", CHECK, blowup=True,
     contract=SMALL.replace("  service start 2023-04-01\n", "  service start 2023-04-01\n  extract date 9999-12-31\n"),
     stderr=["error[bad-date]: '9999-12-31' is outside the dates pmirc evaluates", "contract.pmir:3:16"])
case("service_start_0001", "service start 0001-01-01", CHECK, blowup=True,
     contract=SMALL.replace("service start 2023-04-01", "service start 0001-01-01"),
     stderr=["error[bad-date]: '0001-01-01' is outside the dates pmirc evaluates", "contract.pmir:2:17"])
case("as_of_2199", "--as-of 2199-12-31: in the span, but 2,121 months of figures", CHECK + ["--as-of", "2199-12-31"], blowup=True,
     stderr=["the as-of date 2199-12-31 (--as-of) is 2,121 months after the service start month 2023-04; pmirc evaluates at most 240 months"])
case("data_2199_row", "one row dated 2199-12-31 becomes the as-of date: named, not evaluated",
     CHECK, rows=[*ROWS, "R9,2023-06-01,2199-12-31,1,1,"], blowup=True,
     stderr=["column 'end_date': the as-of date 2199-12-31 (the latest date in the data) is 2,121 months", "1 row: row 5 ('2199-12-31')"])
case("far_as_of_warned", "--as-of more than a month after every date in the data: warned",
     CHECK + ["--as-of", "2024-06-30"], exit=0, stderr=["warning[far-as-of]: --as-of 2024-06-30 is more than a month after every date in the data (the latest is 2023-05-09)"])
case("early_as_of_warned", "--as-of before every date in the data: warned",
     CHECK + ["--as-of", "2023-04-01"], exit=0, stderr=["warning[far-as-of]: --as-of 2023-04-01 is before every date in the data (the earliest is 2023-04-03)"])
# ---- 5. clearer messages
case("audit_filter_matches_nothing", "audit filters that match no record: warned, with the reason",
     ["audit", "contract.pmir", "data", "--measure", "DONE", "--as-of", "2023-05-31", "--period", "2023/04",
      "--group", "providr=North"], exit=0,
     stderr=["warning[empty-audit]: no record of DONE matches --period 2023/04 --group providr=North",
             "'providr' is not a group column of DONE", "periods are written YYYY-MM or YYYY-Qn, not '2023/04'"])
case("number_19_digits", "a 20-digit number: located at its first digit, not in its middle",
     ["lint", "contract.pmir"], rows=None, contract=SMALL + BIG.replace("10000000000000", "10000000000000000000"),
     stderr=["error[bad-amount]: a number of 20 digits; numbers have at most 18", "contract.pmir:22:38"])
# ---- 6. data as it is saved (issue 10) and what is left of issue 13
EXCEL_HEADER = HEADER + ",,"
JSON_APRIL = CHECK + ["--format", "json", "--as-of", "2023-05-31"]
APRIL_FIGURES = [["DONE", "2023-04", "in_month", "denominator", 2], ["DONE", "2023-04", "in_month", "numerator", 1]]
case("csv_cr_line_ends", "a CSV file with old Mac (CR-only) line ends: read as lines",
     JSON_APRIL, exit=0, rows=None, figures=APRIL_FIGURES,
     files={"data/referrals.csv": "\r".join([HEADER, *ROWS]) + "\r"})
case("csv_excel_utf8", "Excel's CSV UTF-8: a byte order mark, CRLF and trailing empty columns",
     JSON_APRIL, exit=0, rows=None, figures=APRIL_FIGURES,
     files={"data/referrals.csv": "\ufeff" + "\r\n".join([EXCEL_HEADER, *(r + ",," for r in ROWS)]) + "\r\n"})
case("csv_double_bom", "a CSV file that starts with two byte order marks: the column is named, and why",
     CHECK, rows=None, files={"data/referrals.csv": "\ufeff\ufeff" + "\n".join([HEADER, *ROWS]) + "\n"},
     stderr=["column 'referral_id': missing column",
             "the header has '\\ufeffreferral_id': the name with a byte order mark (U+FEFF) in it (the file starts with two byte order marks)"])
case("csv_windows_1252", "Excel's plain CSV (Windows-1252): refused, naming the column, rows and values",
     CHECK, rows=None,
     files={"data/referrals.csv": "\n".join([HEADER, *(r.replace("R", "Zo\u00eb-") for r in ROWS)]).encode("cp1252") + b"\n"},
     stderr=["column 'referral_id': text that is not UTF-8", "3 rows: row 2 ('Zo\ufffd-1')", "CSV UTF-8 (Comma delimited)"])
HUGE = "{ printf '" + HEADER + ",'; head -c %d /dev/zero | tr '\\0' x; printf '\\n" + ROWS[0] + ",\\n'; } > data/referrals.csv; pmirc check contract.pmir data"
case("csv_huge_header_cell", "a header cell of 200,000 characters", shell=HUGE % 200_000, rows=None,
     setup={"mkdir": ["data"]}, stderr=["data/referrals.csv: a header cell is longer than 131,072 characters", "a quote left open"])
case("csv_header_past_a_block", "a header row of 50 MB: never read whole", shell=(HUGE % 50_000_000).replace("| tr", "| tr '\\0' , | tr"),
     rows=None, setup={"mkdir": ["data"]}, blowup=True, stderr=["data/referrals.csv: the header row is longer than 4,194,304 bytes"])
case("declared_date_format", "dates declared DD/MM/YYYY: a bad one named with its rows and count",
     CHECK, contract=SMALL.replace("table referrals {", 'table referrals dates "DD/MM/YYYY" {'),
     rows=["R1,03/04/2023,20/04/2023,5,10,1", "R2,31/04/2023,,7,10,2", "R3,2023-05-02,09/05/2023,1,10,3"],
     stderr=["column 'referral_date': not a valid date (expected DD/MM/YYYY)", "2 rows: row 3 ('31/04/2023'), row 4 ('2023-05-02')",
             "write dates as DD/MM/YYYY, e.g. 31/03/2024, as the contract declares"])
case("pmir_cr_line_ends", "a contract with old Mac (CR-only) line ends: read as lines, errors located by line",
     ["lint", "contract.pmir"], contract=None, rows=None,
     files={"contract.pmir": SMALL.replace("met when", "met whn").replace("\n", "\r")},
     stderr=["contract.pmir:17:7", "17 |   met whn end_date is present"])


def _parquet_with_empty_dates() -> bytes:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq
    n, buf = 1000, io.BytesIO()
    pq.write_table(pa.table({"referral_id": [f"R{i}" for i in range(n)],
                             "referral_date": ["2023-04-03"] * (n - 2) + ["", ""],
                             "end_date": [""] * (n - 1) + ["2023-04-20"]}), buf)
    return buf.getvalue()


case("parquet_empty_string_dates", "'' for a date in Parquet is an empty cell: one message with the count for a required column, none for an optional one",
     CHECK, rows=None, files={"data/referrals.parquet": _parquet_with_empty_dates()},
     stderr=["column 'referral_date': empty, but a value is required", "2 rows: row 999 (''), row 1000 ('')"],
     no_stderr=["end_date", "not a valid date"])
GROUPED = SMALL.replace("  n: integer?\n", "  n: integer?\n  provider: text\n").replace("  target at least 50%\n", "  target at least 50%\n  group by provider\n")
case("data_lookalike_values", "'Café' in NFC and NFD, 'North' with a byte order mark or a zero-width space inside the cell: kept apart, and one data-quality entry per set naming the column, the values and the records",
     JSON_APRIL, exit=1, contract=GROUPED, rows=None,
     files={"data/referrals.csv": "\n".join([HEADER + ",provider", ROWS[0] + ",Caf\u00e9", ROWS[1] + ",Cafe\u0301",
                                             ROWS[2] + ",North", "R4,2023-04-06,,1,1,1,\ufeffNorth", "R5,2023-04-06,,1,1,1,North\u200b"]) + "\n"},
     stdout=["\"check\": \"provider: 2 values print alike but are kept apart: 'Cafe\\\\u0301' (1), 'Caf\\\\u00e9' (1)\"",
             "\"check\": \"provider: 3 values print alike but are kept apart: 'North' (1), 'North\\\\u200b' (1), '\\\\ufeffNorth' (1)\""])
# ---- 7. contracts that are not what they seem, and deep ones
case("pmir_bidi_in_string", "a right-to-left override in quoted text: warned at its line and column, escaped under a caret; the contract still checks",
     ["lint", "contract.pmir"], exit=0, rows=None, contract=SMALL.replace('"Referrals that end"', '"Referrals \u202edne taht"'),
     stdout=["contract.pmir: ok"],
     stderr=["warning[hidden-character]: a bidi control U+202E (RIGHT-TO-LEFT OVERRIDE) in a string", "--> contract.pmir:14:25",
             '14 | measure DONE "Referrals \\u202edne taht" {', "   | " + " " * 24 + "^^^^^^\n"])
case("pmir_bidi_in_comment", "bidi isolates in a comment (Trojan Source): warned, escaped",
     ["lint", "contract.pmir"], exit=0, rows=None,
     contract=SMALL.replace("  met when end_date is present\n", "  met when end_date is present  # \u2067 ends \u2069\n"),
     stderr=["warning[hidden-character]: a bidi control U+2067 (RIGHT-TO-LEFT ISOLATE) in a comment", "--> contract.pmir:17:35",
             "warning[hidden-character]: a bidi control U+2069 (POP DIRECTIONAL ISOLATE) in a comment", "--> contract.pmir:17:42"])
case("pmir_mixed_script", "a Cyrillic letter in a Latin word of a condition's text: warned, named and escaped",
     ["check", "contract.pmir", "data", "--as-of", "2023-05-31"], exit=0, rows=None,
     contract=GROUPED.replace("  population referrals\n", '  population referrals where provider is "N\u043erth"\n'),
     files={"data/referrals.csv": "\n".join([HEADER + ",provider", *(r + ",North" for r in ROWS)]) + "\n"},
     stderr=["warning[mixed-script]: the word 'N\\u043erth' mixes Latin and Cyrillic letters: U+043E (CYRILLIC SMALL LETTER O)",
             "--> contract.pmir:16:44", '16 |   population referrals where provider is "N\\u043erth"', "   | " + " " * 43 + "^^^^^^\n"])
case("pmir_invisible_in_name", "a zero-width space inside a measure's name: an unexpected character, located and escaped",
     ["lint", "contract.pmir"], rows=None, contract=SMALL.replace("measure DONE", "measure DO\u200bNE"),
     stderr=["error[unexpected-character]", "contract.pmir:14:11", "14 | measure DO\\u200bNE"])
CHAIN = ('printf \'import "m1.pmir"\\ncontract "C" {\\n  service start 2023-04-01\\n}\\n\' > main.pmir; '
         'for i in $(seq 1 999); do printf \'import "m%d.pmir"\\n\' $((i+1)) > m$i.pmir; done; '
         'printf \'table t {\\n  a: id\\n}\\n\' > m1000.pmir; pmirc lint main.pmir')
case("import_chain_1000_deep", "a chain of 1,000 imports: refused at the 51st, no RecursionError",
     shell=CHAIN, contract=None, rows=None, blowup=True,
     stderr=["error[import-depth]: imports nested more than 50 deep: main.pmir -> m1.pmir -> m2.pmir -> ... (46 more) -> m49.pmir -> m50.pmir -> m51.pmir",
             "--> m50.pmir:1:1"], no_stderr=["RecursionError", "nested too deeply"])
case("import_cycle_two_files", "two modules that import each other",
     ["lint", "main.pmir"], contract=None, rows=None,
     files={"main.pmir": 'import "a.pmir"\n' + GOOD_HEAD, "a.pmir": 'import "b.pmir"\n', "b.pmir": 'import "a.pmir"\n'},
     stderr=["error[import-cycle]: these files import each other in a circle: a.pmir -> b.pmir -> a.pmir", "--> b.pmir:1:1"])
DEEP_NOT = SMALL.replace("  met when end_date is present\n", "  met when " + "not " * 3000 + "end_date is present\n")
case("deep_not_chain", "3,000 'not's in a row: located at the first, no RecursionError",
     ["lint", "contract.pmir"], contract=DEEP_NOT, rows=None, blowup=True,
     stderr=["error[syntax]: conditions are nested too deeply to follow (3,000 brackets or 'not's inside each other from here)", "--> contract.pmir:17:12"],
     no_stderr=["RecursionError"])
DEEP_BRACKETS = SMALL.replace("  met when end_date is present\n", "  met when " + "(not " * 2000 + "end_date is present" + ")" * 2000 + "\n")
case("deep_brackets", "2,000 bracketed 'not's: located at the first bracket, no RecursionError",
     ["lint", "contract.pmir"], contract=DEEP_BRACKETS, rows=None, blowup=True,
     stderr=["error[syntax]: conditions are nested too deeply to follow (4,000 brackets or 'not's inside each other from here)", "--> contract.pmir:17:12"])
case("audit_escapes_formula_cells", "ids a spreadsheet would run or hide (=, +, -, @, a tab, CR, LF or NUL first): the audit CSV writes each with a leading quote",
     shell="pmirc audit contract.pmir data --measure DONE --as-of 2023-05-31 -o audit.csv && cat -A audit.csv", exit=0, rows=None,
     files={"data/referrals.csv": "\n".join([HEADER, "=1+1,2023-04-03,2023-04-20,5,10,1", "@SUM(A1),2023-04-05,,7,10,2",
                                             '"\tTAB",2023-04-06,,1,1,1', '"\rCR",2023-04-06,,1,1,1', '"\nLF",2023-04-06,,1,1,1',
                                             "-2,2023-04-07,,1,1,1", "+3,2023-04-07,,1,1,1", "\0NUL,2023-04-07,,1,1,1",
                                             "R1,2023-05-02,2023-05-09,1,10,3"]) + "\n"},
     stdout=["'=1+1", "'@SUM(A1)", "'^ITAB", "'^MCR", "\"'$\nLF\"", "'-2", "'+3", "'^@NUL"])
case("folder_table_link_loop", "a folder table holding a symbolic link that loops beside its Parquet files: named, not skipped",
     CHECK, rows=None, files={"data/referrals/part-1.parquet": _parquet_with_empty_dates()},
     setup={"symlink": [["data/referrals/part-2.parquet", "part-3.parquet"], ["data/referrals/part-3.parquet", "part-2.parquet"],
                        ["data/referrals/part-4.parquet", "nowhere.parquet"]]},
     stderr=["data/referrals/part-2.parquet: a symbolic link that loops, not a file", "data/referrals/part-3.parquet: a symbolic link that loops",
             "data/referrals/part-4.parquet: a symbolic link that leads nowhere, not a file"],
     no_stderr=["empty, but a value is required"])
case("pmir_lookalike_letter_in_name", "a Cyrillic 'о' in a column name: an unexpected character named by its code point, escaped under the caret",
     ["lint", "contract.pmir"], rows=None, contract=SMALL.replace("  met when end_date is present", "  met when end_date is pres\u0435nt"),
     stderr=["error[unexpected-character]: unexpected character '\\u0435'", "--> contract.pmir:17:28", "17 |   met when end_date is pres\\u0435nt",
             "   | " + " " * 27 + "^^^^^^\n", "U+0435 (CYRILLIC SMALL LETTER IE) is not a letter a name may have"])
case("pmir_double_bom", "a contract saved with two byte order marks: the second named, with its hint",
     ["lint", "contract.pmir"], rows=None, contract=None, files={"contract.pmir": "\ufeff\ufeff" + SMALL},
     stderr=["error[unexpected-character]: unexpected character '\\ufeff'", "--> contract.pmir:1:1", "saved as UTF-8 twice"])
case("condition_names_a_lookalike", "a condition names 'Café' composed; the data holds it decomposed: warned, the measure's figures as written",
     CHECK + ["--as-of", "2023-05-31"], exit=1, rows=None,
     contract=GROUPED.replace("  met when end_date is present\n", '  met when end_date is present and provider is "Caf\u00e9"\n'),
     files={"data/referrals.csv": "\n".join([HEADER + ",provider", *(r + ",Cafe\u0301" for r in ROWS)]) + "\n"},
     stderr=["warning[look-alike-value]: measure DONE: no record's provider is 'Caf\\u00e9', as a condition names it, but the data has 'Cafe\\u0301' (3 records), which prints alike"])
