"""A throwaway PostgreSQL + PostGIS cluster for tests and benchmarks (Debian packages
``postgresql`` and ``postgresql-15-postgis-3``, installed by ``.ci/run``).

``Cluster`` runs initdb into a temporary folder, starts the server on a free port with its socket
in that folder, and removes everything on ``stop()``. As root it runs the server as ``postgres``.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def pg_bin() -> Path | None:
    """Folder of the newest installed PostgreSQL server binaries, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def postgis_available() -> bool:
    return bool(glob.glob("/usr/share/postgresql/*/extension/postgis.control"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, settings: dict[str, str] | None = None) -> None:
        #: extra server settings (name -> value), e.g. {"shared_buffers": "1GB"} for a benchmark
        self.settings = dict(settings or {})
        self.bin = pg_bin()
        if self.bin is None or not postgis_available():
            raise RuntimeError("PostgreSQL with PostGIS is not installed (apt: postgresql postgresql-15-postgis-3)")
        self.dir = Path(tempfile.mkdtemp(prefix="qamtu-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self.user = "postgres" if os.geteuid() == 0 else None

    def _run(self, *args: str, **kw) -> subprocess.CompletedProcess:
        cmd = [str(a) for a in args]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)

    def start(self) -> "Cluster":
        if self.user:
            shutil.chown(self.dir, self.user)
        self._run(self.bin / "initdb", "-D", self.data, "-U", "qamtu", "--auth=trust", "-E", "UTF8",
                  "--no-instructions")
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=50"
        opts += "".join(f" -c {name}={value}" for name, value in self.settings.items())
        self._run(self.bin / "pg_ctl", "-D", self.data, "-o", opts, "-l", self.dir / "log", "-w", "-t", "60", "start")
        return self

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://qamtu@127.0.0.1:{self.port}/{db}"

    def create_db(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}"')
            con.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
