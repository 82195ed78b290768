"""A throwaway PostgreSQL server for the tests: initdb into a temporary directory, start it
on 127.0.0.1 with a free port, stop it with ``pg_ctl stop``.

Debian's ``postgresql`` package puts the binaries in ``/usr/lib/postgresql/<version>/bin``.
PostgreSQL refuses to run as root, so as root the cluster belongs to the ``postgres``
system user (the package creates it) and every server command runs through ``runuser``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

START_TIMEOUT = 30


def find_bin_dir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` that has initdb and pg_ctl."""
    found = []
    for initdb in glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        bin_dir = Path(initdb).parent
        version = bin_dir.parent.name
        if (bin_dir / "pg_ctl").exists() and version.isdigit():
            found.append((int(version), bin_dir))
    if not found and shutil.which("initdb") and shutil.which("pg_ctl"):
        return Path(str(shutil.which("initdb"))).parent
    return max(found)[1] if found else None


def unavailable_reason() -> str | None:
    """Why no server can be started here, or None if one can."""
    if find_bin_dir() is None:
        return ("no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin: "
                "apt-get install -y postgresql")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' system user to run the server as"
        if shutil.which("runuser") is None:
            return "running as root without runuser to drop to the 'postgres' user"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """One PostgreSQL cluster in a temporary directory, owned by the current user (or by
    ``postgres`` when we are root)."""

    def __init__(self) -> None:
        bin_dir = find_bin_dir()
        assert bin_dir is not None, unavailable_reason()
        self.bin_dir = bin_dir
        # as root, somewhere the postgres user can reach (TMPDIR may be private to root)
        base = "/tmp" if os.geteuid() == 0 and os.path.isdir("/tmp") else None
        self.root = Path(tempfile.mkdtemp(prefix="geokb-pg-", dir=base))
        self.data = self.root / "data"
        self.sockets = self.root / "run"
        self.logfile = self.root / "server.log"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0
        self.user = "postgres"
        self.started = False

    @property
    def admin_dsn(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"

    def dsn(self, database: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def _run(self, args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False,
                              cwd=self.root)

    def _check(self, args: Sequence[str]) -> None:
        done = self._run(args)
        if done.returncode != 0:
            log = self.logfile.read_text() if self.logfile.exists() else ""
            raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}"
                               f"{done.stderr}{log}")

    def start(self) -> None:
        self.sockets.mkdir()
        if self.as_postgres:
            entry = pwd.getpwnam("postgres")
            for path in (self.root, self.sockets):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._check([str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", self.user,
                     "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"])
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.sockets} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                   "-c max_connections=200 -c shared_buffers=32MB")
        self._check([str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.logfile),
                     "-o", options, "-w", "-t", str(START_TIMEOUT), "start"])
        self.started = True

    def stop(self) -> None:
        if self.started:
            self._run([str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                       "-w", "stop"])
            self.started = False
        shutil.rmtree(self.root, ignore_errors=True)
