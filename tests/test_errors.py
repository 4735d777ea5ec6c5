"""The error catalogue: every code raised is listed with the class it is raised as, and the docs say the same."""

from __future__ import annotations

import ast
from pathlib import Path

from typer.testing import CliRunner

from insight import errors
from insight.errors import CATALOGUE, InsightError

ROOT = Path(__file__).resolve().parent.parent
CLASSES = {c.__name__ for c in vars(errors).values() if isinstance(c, type) and issubclass(c, InsightError)}


def _raise_sites() -> list[tuple[str, str, str | None]]:
    """(file:line, class name, code) for every construction of an insight error in the library and entry points."""
    sites = []
    files = [*ROOT.joinpath("insight").rglob("*.py"), *ROOT.joinpath("pipelines").rglob("*.py"),
             *ROOT.joinpath("ui").rglob("*.py")]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in CLASSES:
                code = next((k.value.value for k in node.keywords if k.arg == "code"
                             and isinstance(k.value, ast.Constant)), None)
                sites.append((f"{path.relative_to(ROOT)}:{node.lineno}", node.func.id, code))
    return sites


def test_every_raised_code_is_catalogued_with_its_class():
    sites = _raise_sites()
    assert len(sites) > 40  # the scan finds the raise sites
    for where, cls, code in sites:
        assert code is not None, f"{where}: {cls} raised without a code"
        assert code in CATALOGUE, f"{where}: {code} is missing from errors.CATALOGUE"
        assert CATALOGUE[code].error.__name__ == cls, f"{where}: {code} is a {CATALOGUE[code].error.__name__}"


def test_every_catalogued_code_is_raised_somewhere():
    raised = {code for _, _, code in _raise_sites()}
    assert set(CATALOGUE) == raised, f"catalogued but never raised: {sorted(set(CATALOGUE) - raised)}"


def test_the_docs_list_the_catalogue():
    assert (ROOT / "docs" / "errors.md").read_text(encoding="utf-8") == errors.catalogue_markdown()


def test_a_raised_error_names_its_code():
    exc = errors.InputError("input file not found: x.csv", code="E201")
    assert str(exc) == "[E201] input file not found: x.csv" and exc.code == "E201" and exc.message.startswith("input")


def test_cli_handles_coded_errors_in_one_place_for_every_command(tmp_path, home):
    """Before, `runs` and `themes list` let an InsightError escape as a traceback."""
    from pipelines.cli import app

    runner = CliRunner()
    missing = str(tmp_path / "nope.yaml")
    for args in (["runs"], ["themes", "list"], ["export"], ["eval", "themes", "--dataset", "banking77"],
                 ["run", "--input", "x.csv"]):
        result = runner.invoke(app, [*args, "--config", missing])
        assert result.exit_code == 2, (args, result.output)
        assert "[E101]" in result.output and "Traceback" not in result.output
