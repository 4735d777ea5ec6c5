import io
import json

import pandas as pd
import pytest

from insight.errors import ExportError
from insight.report import export, neutralise


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"x\")", "+1+1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_neutralised(cell):
    assert neutralise(cell).startswith("'")
    csv = export(pd.DataFrame({"title": [cell]}), "csv")
    back = pd.read_csv(io.StringIO(csv), keep_default_na=False)
    assert back["title"].iloc[0].startswith("'")


def test_csv_and_json_round_trip():
    frame = pd.DataFrame({"rank": [1, 2], "title": ["Fix A", "Fix B"], "evidence": [["a", "b"], ["c"]]})
    back = pd.read_csv(io.StringIO(export(frame, "csv")))
    assert back["title"].tolist() == ["Fix A", "Fix B"] and back["evidence"].iloc[0] == "a | b"
    doc = json.loads(export(frame, "json", meta={"run_id": "r1"}))
    assert doc["run_id"] == "r1" and doc["rows"][0]["evidence"] == ["a", "b"]


def test_unknown_format():
    with pytest.raises(ExportError, match="csv, json"):
        export(pd.DataFrame(), "xlsx")
