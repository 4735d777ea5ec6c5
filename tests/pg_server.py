"""A throwaway PostgreSQL for the store tests (``INSIGHT_TEST_STORE=postgresql``), and a fresh database per test.

The cluster lives in a temporary folder, listens on a Unix socket only, trusts local connections and is stopped
at the end of the session. Debian keeps ``initdb`` outside ``PATH`` (``/usr/lib/postgresql/<v>/bin``); when the
tests run as root the server runs as the ``postgres`` user, since PostgreSQL refuses root.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path


def _bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)),
                                       None)
    if found is None:
        raise RuntimeError(f"PostgreSQL's {name} was not found: install PostgreSQL (apt-get install postgresql) "
                           f"or point INSIGHT_TEST_PG_URL at a server")
    return found


@contextlib.contextmanager
def throwaway_cluster(port: int = 55439) -> Iterator[str]:
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    folder = Path(tempfile.mkdtemp(prefix="insight-pg-"))  # not under pytest's root-only folder: postgres reads it
    folder.chmod(0o777)
    data = folder / "data"
    subprocess.run([*as_user, _bin("initdb"), "-D", str(data), "-A", "trust", "-U", "insight", "--no-sync"],
                   check=True, capture_output=True)
    subprocess.run([*as_user, _bin("pg_ctl"), "-D", str(data), "-w", "-l", str(folder / "log"), "-o",
                    f"-p {port} -k {folder} -c listen_addresses='' -c fsync=off", "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://insight@/postgres?host={folder}&port={port}"
    finally:
        subprocess.run([*as_user, _bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """``server`` names any database on the server; yields the URL of a new, empty one, dropped afterwards."""
    import sqlalchemy as sa

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    base, _, query = server.partition("?")
    url = f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")
    try:
        yield url
    finally:
        from insight.store.sql import dispose

        dispose(url)
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
