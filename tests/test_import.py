import subprocess
import sys


def test_import_insight_is_light():
    """`import insight` (and the CLI module) must not pull torch, sentence-transformers, spaCy or streamlit."""
    code = (
        "import sys, insight, insight.config, insight.flow, pipelines.cli\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'streamlit', 'spacy', 'hdbscan', 'dask')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_library_never_imports_entry_point_frameworks():
    code = ("import sys, insight.flow, insight.store, insight.export\n"
            "print('typer' in sys.modules, 'dask' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_stages_import_only_plumbing_and_their_own_helpers():
    """The architecture's one hard rule: stages never import each other; flow passes data between them."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "insight"
    plumbing = {"config", "schema", "errors", "nlp"}
    helpers = {"clean": {"pii", "language"}, "tag": {"calibration"}, "tagmodels": {"calibration", "tag"},
               "themes": set(), "registry": set(), "ingest": set(), "embed": set(), "measure": set(),
               "rank": set(), "store": set(), "export": set(), "pii": set(), "language": set(),
               "calibration": set(), "finetune": set()}
    for module, allowed in helpers.items():
        tree = ast.parse((root / f"{module}.py").read_text())
        imported = {node.module.split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module}
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                     and node.level == 1 and not node.module for alias in node.names}
        assert imported <= plumbing | allowed, f"{module} imports {imported - plumbing - allowed}"
