"""Survey and plan imports against broken and hostile files (issue 18 item 18): every problem is a
message naming the file and row, read before anything is imported, without reading huge files."""

# ruff: noqa: F811 - the imported fixtures are parameters of the tests below
from __future__ import annotations

import resource
import time
import zipfile

import pytest

from qamtu.reports.surveys import MAX_FILE_BYTES, SurveyImportError, check_plan_file, check_survey_file
from test_problems_import import TODAY, villages, write_csv  # noqa: F401 - fixture

HEADER = "kato,year,dimension,value,observed_on,observer,note\n"


def survey(tmp_path, text: str, name="s.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_an_unbalanced_quote_is_an_error_naming_the_row(tmp_path, gazetteer, villages):
    a, b, c = villages
    text = (HEADER + f'{a},2024,post,yes,,,"forgot to close\n{b},2024,post,no,,,fine\n'
            f'{c},2024,post,yes,,,"quoted"\n')
    with pytest.raises(SurveyImportError, match=r"s\.csv: row 2: .*(unbalanced quote|quotes)"):
        check_survey_file(survey(tmp_path, text), gazetteer, today=TODAY)
    never_closed = HEADER + f'{a},2024,post,yes,,,ok\n{b},2024,post,no,,,"never closed\n'
    with pytest.raises(SurveyImportError, match=r"row 3: .*(unbalanced quote|check its quotes)"):
        check_survey_file(survey(tmp_path, never_closed), gazetteer, today=TODAY)


def test_huge_cells_duplicate_columns_and_junk_dates_are_refused(tmp_path, gazetteer, villages):
    a, b, _ = villages
    with pytest.raises(SurveyImportError, match="row 2, column note: 5000 characters"):
        check_survey_file(survey(tmp_path, HEADER + f"{a},2024,post,yes,,,{'x' * 5000}\n"), gazetteer, today=TODAY)
    big = HEADER + f'{a},2024,post,yes,,,"{"y" * 300_000}"\n'  # above the csv module's own field limit
    with pytest.raises(SurveyImportError, match=r"row 2"):
        check_survey_file(survey(tmp_path, big), gazetteer, today=TODAY)
    with pytest.raises(SurveyImportError, match="column.* value given twice"):
        check_survey_file(survey(tmp_path, "kato,year,dimension,value,value\n"
                                           f"{a},2024,post,yes,no\n"), gazetteer, today=TODAY)
    for junk in ("2024-08-14 junk", "20240814", "2024-08-14T10:00"):
        with pytest.raises(SurveyImportError, match="observed_on .* is not a date"):
            check_survey_file(survey(tmp_path, HEADER + f"{a},2024,post,yes,{junk},,\n"), gazetteer, today=TODAY)
    assert check_survey_file(survey(tmp_path, HEADER + f"{a},2024,post,yes,2024-08-14,,\n"), gazetteer,
                             today=TODAY)[0]["observed_on"] == "2024-08-14"
    with pytest.raises(SurveyImportError, match="column.* kato given twice"):
        check_plan_file(survey(tmp_path, f"kato,kato,dimension,planned_year\n{a},{b},post,2026\n", "p.csv"), gazetteer)


def test_a_42_mb_file_is_refused_before_it_is_read(tmp_path, gazetteer, villages):
    a = villages[0]
    p = tmp_path / "big.csv"
    with p.open("w", encoding="utf-8") as f:
        f.write(HEADER)
        row = f"{a},2024,post,yes,,,note\n"
        f.write(row * (42_000_000 // len(row)))
    assert p.stat().st_size > MAX_FILE_BYTES
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    with pytest.raises(SurveyImportError, match="bytes, more than the"):
        check_survey_file(p, gazetteer, today=TODAY)
    assert time.perf_counter() - t < 0.5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 20_000  # KiB: nothing was read


def test_an_xlsx_that_inflates_hugely_is_refused(tmp_path, gazetteer):
    p = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * (200 << 20))
    assert p.stat().st_size < 1 << 20
    with pytest.raises(SurveyImportError, match="unpacks to"):
        check_survey_file(p, gazetteer, today=TODAY)
