"""Finding 8: CSV export. Every text cell is quoted, and a formula start is neutralised wherever a
spreadsheet could start a cell: also after a ``;`` or ``,`` inside the text, since semicolon-locale
spreadsheets split an unquoted ``Backend;=1+cmd|' /C calc'!A0`` into a live formula cell."""
from __future__ import annotations

import csv
import io
import re

import pytest

from plugins.interviews.export import safe_cell
from tests.plugins.interviews.helpers import NO_RATE_LIMIT, create

REVIEWERS_TITLE = "Backend;=1+cmd|' /C calc'!A0"
FORMULA = re.compile(r"[=+\-@\uff1d\uff0b\uff0d\uff20\t\r]")


def cells_a_naive_reader_sees(line: str) -> list[str]:
    """What a spreadsheet that ignores quoting and splits on both ``,`` and ``;`` would put in cells."""
    return re.split(r"[,;\t]", line)


def live_formulas(text: str) -> list[str]:
    """Cells that begin (after spaces and quotes) with a formula character."""
    found = []
    for line in text.split("\r\n"):
        for cell in cells_a_naive_reader_sees(line):
            stripped = cell.lstrip(' "')
            if stripped and FORMULA.match(stripped):
                found.append(cell)
    return found


@pytest.mark.parametrize("value,expected", [
    (REVIEWERS_TITLE, "Backend;'=1+cmd|' /C calc'!A0"),
    ("QA, =HYPERLINK(\"http://evil\")", "QA, '=HYPERLINK(\"http://evil\")"),
    ("a;\"@SUM(1,2)\"", "a;\"'@SUM(1,2)\""),
    ("line one\n+cmd", "line one\n'+cmd"),
    ("x;\uff1d1+1", "x;'\uff1d1+1"),
    ("=1+1", "'=1+1"),
    ("C++ - Back-end; Go", "C++ - Back-end; Go"),  # no cell would start with a formula: unchanged
])
def test_formula_starts_are_neutralised_after_separators_too(value, expected):
    assert safe_cell(value) == expected


def test_the_export_quotes_every_text_cell_and_no_cell_is_a_live_formula(make_app):
    app = make_app(plugins=["interviews"], **NO_RATE_LIMIT)
    doc = create(app, "cand-csv", title=REVIEWERS_TITLE, role="QA;@SUM(1,2), +Lead")
    response = app.get("/api/export/interviews", {"format": "csv"}, headers=app.auth("adm-csv", "admin"))
    header, line = response.text.split("\r\n")[:2]

    # Every text cell is quoted, in the header and in the row; numbers (version) stay numbers.
    assert header.startswith('"id","ownerId","title"')
    assert f'"{doc["id"]}","cand-csv","Backend;\'=1+cmd|\' /C calc\'!A0","QA;\'@SUM(1,2), \'+Lead"' in line
    assert ',"medium","scheduled",' in line and re.search(r',1,"', line)  # version 1 unquoted

    # Neither a comma- nor a semicolon-locale spreadsheet sees a formula, even splitting naively.
    assert live_formulas(response.text) == []

    # A standard CSV reader still gets the text back, with only the neutralising quotes added.
    [row] = list(csv.DictReader(io.StringIO(response.text)))
    assert row["title"] == "Backend;'=1+cmd|' /C calc'!A0"
    assert row["role"] == "QA;'@SUM(1,2), '+Lead"
