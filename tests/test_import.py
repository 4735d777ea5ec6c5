"""The architecture's rules, checked on the source (docs/ARCHITECTURE.md): imports point down the layers, stages
never import each other, nobody imports another module's private names, and heavy packages stay lazy."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIB = ROOT / "insight"

VOCABULARY = {"schema", "errors", "roles", "lexicon", "access"}
PLUMBING = {"config", "backends", "provenance", "nlp", "sentiment"}
STAGES = {"ingest", "clean", "embed", "themes", "tag", "report", "store", "demo"}
COMPOSITION = {"flow", "weekly", "operations", "assembly", "evaluate", "__init__"}


def _room(path: Path) -> str:
    """The top-level module or package of ``insight`` a file belongs to."""
    rel = path.relative_to(LIB)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(path: Path, package: str | None = None) -> list[tuple[str, list[str]]]:
    """(absolute module, imported names) for every import in ``path``; relative imports resolved."""
    if package is None:
        package = ".".join(path.relative_to(ROOT).parent.parts)
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names = [alias.name for alias in node.names]
            if node.level and not node.module:  # from . import x: x is a module of the package
                out += [(f"{module}.{n}", []) for n in names]
            else:
                out.append((module, names))
    return out


def _library_files() -> list[Path]:
    return sorted(p for p in LIB.rglob("*.py"))


def _insight_rooms(path: Path) -> set[str]:
    return {m.split(".")[1] for m, _ in _imports(path) if m.startswith("insight.") and len(m.split(".")) > 1}


def test_layers_point_down():
    """vocabulary <- plumbing <- stages <- composition; a stage never imports another stage."""
    allowed = {
        **{v: VOCABULARY for v in VOCABULARY},
        **{p: VOCABULARY | PLUMBING for p in PLUMBING},
        **{s: VOCABULARY | PLUMBING | {s} for s in STAGES},
        **{c: VOCABULARY | PLUMBING | STAGES | COMPOSITION for c in COMPOSITION},
    }
    assert set(allowed) >= {_room(p) for p in _library_files()}, "a new room needs a layer here and in the docs"
    for path in _library_files():
        room = _room(path)
        wrong = _insight_rooms(path) - allowed[room]
        assert not wrong, f"{path.relative_to(ROOT)} ({room}) imports {sorted(wrong)}"


def _private_imports(path: Path, package: str | None = None) -> list[str]:
    """Every private name (``_x``, or a module ``_x``) that ``path`` imports from another module."""
    found = []
    for module, names in _imports(path, package):
        found += [f"{module}.{n}" for n in names if n.startswith("_") and not n.startswith("__")]
        found += [module for part in module.split(".") if part.startswith("_") and part != "__future__"]
    return found


def test_nobody_imports_another_modules_private_names():
    files = _library_files() + sorted((ROOT / "pipelines").rglob("*.py")) + sorted((ROOT / "ui").rglob("*.py")) + \
        [ROOT / "app.py"]
    for path in files:
        assert not _private_imports(path), f"{path.relative_to(ROOT)} imports private {_private_imports(path)}"


def test_entry_points_use_the_public_api_only():
    """The CLI and the app import ``insight`` or one of its rooms, never a room's inner modules, and never each
    other."""
    for folder, other in (("pipelines", "ui"), ("ui", "pipelines")):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for module, _ in _imports(path):
                assert not module.startswith(other), f"{path.relative_to(ROOT)} imports {module}"
                if module.startswith("insight."):
                    assert len(module.split(".")) == 2, f"{path.relative_to(ROOT)} reaches into {module}"


def test_a_private_name_import_is_caught(tmp_path):
    """The rule above can fail: a module importing ``_helper`` from a sibling is reported."""
    bad = tmp_path / "m.py"
    bad.write_text("from .other import _helper, public\nfrom insight.tag import _kind\nimport insight._secret\n")
    assert _private_imports(bad, package="insight.clean") == [
        "insight.clean.other._helper", "insight.tag._kind", "insight._secret"]


@pytest.mark.parametrize("modules", [
    "insight, insight.config, insight.flow, insight.operations, insight.evaluate, pipelines.cli",
])
def test_import_insight_is_light(modules):
    """`import insight` (and the CLI module) must not pull torch, sentence-transformers, spaCy, UMAP, lingua,
    HDBSCAN, streamlit or dask: `insight --help` stays instant."""
    code = (
        f"import sys, {modules}\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'streamlit', 'spacy', 'hdbscan', 'dask', 'umap',"
        " 'lingua') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_library_never_imports_entry_point_frameworks():
    code = ("import sys, insight.flow, insight.operations, insight.store, insight.report, insight.evaluate\n"
            "print('typer' in sys.modules, 'dask' in sys.modules, 'streamlit' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False False"
