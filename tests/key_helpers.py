"""Set-ups shared by the key tests: a database of their own, and a sealing key file the
settings name."""

from __future__ import annotations

from pathlib import Path

import pytest

from database.migrations import upgrade_to_head
from sealing.box import new_key


def keys_database(tmp_path: Path) -> str:
    """A fresh SQLite database built by the migrations, apart from the suite's."""
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    upgrade_to_head(url)
    return url


def sealing_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> Path:
    """A new key file, named by SANAD_SEALING_KEY_FILE."""
    key_file = tmp_path / name
    key_file.write_text(new_key())
    monkeypatch.setenv("SANAD_SEALING_KEY_FILE", str(key_file))
    return key_file
