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
