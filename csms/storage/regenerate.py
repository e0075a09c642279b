"""Regenerate the initial migration from ``tables.py`` (development only, before the first
release: once a schema has shipped, changes get migrations of their own).

    python -m csms.storage.regenerate
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command

from csms.storage.migrate import MIGRATIONS, alembic_config

INITIAL = "0001"


def main() -> None:
    for old in (MIGRATIONS / "versions").glob(f"{INITIAL}_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'empty.db'}"
        command.revision(alembic_config(url), message="initial schema", autogenerate=True,
                         rev_id=INITIAL)


if __name__ == "__main__":
    main()
