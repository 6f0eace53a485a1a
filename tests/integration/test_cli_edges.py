"""The `sanad` command line at its edges: refusals end in one line and exit 2 (never a traceback),
files of personal data or of the audit log are the owner's alone, nonsense arguments and
settings are refused, no letter key is made for an agency that issues no letters, and no
secret is printed where it should not be."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import httpx
import pytest
from click.testing import Result
from pydantic import ValidationError
from sqlmodel import select
from typer.testing import CliRunner

from cli.main import app as cli
from config.settings import Settings
from schemas.letters import LetterSigningKey
from tests.conftest import World

PIPELINE = Path(__file__).parents[2] / "cli" / "demo_data" / "pipeline.csv"
PASSWORD = "hunter2-secret"


def _sanad(settings: Settings | None, *args: str, **env: str) -> Result:
    if settings is not None:
        env = {"DATABASE_URL": settings.database_url, **env}
    return CliRunner().invoke(cli, list(args), env=env)


def _refused(result: Result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.stderr.startswith("refused: ") or "Invalid value" in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def _owner_only(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_operator_refusals_are_one_line_not_tracebacks(
    client: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    """Each crashed with a traceback (exit 1) before: a domain refusal or input that did not
    validate escaped the command; `client list` of no agency printed nothing and exited 0."""

    def run(*args: str) -> Result:
        return _sanad(settings, *args)

    _refused(
        await asyncio.to_thread(run, "agency", "create", world.us, "X", "us_mission"), "conflict"
    )
    _refused(await asyncio.to_thread(run, "client", "reset-secret", "no-such-client"), "not-found")
    empty = ("client", "create", "--agency-id", world.gop, "--name", "x", "--scopes", "")
    _refused(await asyncio.to_thread(run, *empty), "scopes")
    _refused(await asyncio.to_thread(run, "client", "list", "no-such-agency"), "no agency")


async def test_no_letter_key_for_an_agency_that_issues_no_letters(
    client: httpx.AsyncClient, world: World, settings: Settings, sync_session
) -> None:  # type: ignore[no-untyped-def]
    """`sanad letter rotate-key --agency-id GOP` made and published a letter-signing key in
    Pakistan's name (the offline verifier bundled it); an unknown agency crashed on a foreign
    key. Only a mission issues letters."""
    for agency in (world.gop, world.unhcr, world.oversight):
        result = await asyncio.to_thread(
            _sanad, settings, "letter", "rotate-key", "--agency-id", agency
        )
        _refused(result, "may issue no letters")
    _refused(
        await asyncio.to_thread(
            _sanad, settings, "letter", "rotate-key", "--agency-id", "no-such-agency"
        ),
        "no agency",
    )
    with sync_session() as session:
        holders = set(session.exec(select(LetterSigningKey.agency_id)).all())
    assert not holders & {world.gop, world.unhcr, world.oversight, "no-such-agency"}
    made = await asyncio.to_thread(
        _sanad, settings, "letter", "rotate-key", "--agency-id", world.us
    )
    assert made.exit_code == 0, made.output


async def test_the_audit_export_file_is_the_owners_alone(
    client: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    """It says which record was shown to which agency, when and why; it was written 0644. A
    file already there keeps no looser mode either."""
    out = tmp_path / "audit.ndjson"
    out.write_text("old")
    out.chmod(0o644)
    result = await asyncio.to_thread(_sanad, settings, "audit", "export", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert _owner_only(out)
    assert out.read_text().startswith('{"type":"header"')
    missing = tmp_path / "no-such-dir" / "audit.ndjson"
    refused = await asyncio.to_thread(_sanad, settings, "audit", "export", "--out", str(missing))
    assert refused.exit_code == 2 and "Traceback" not in refused.output, refused.output


def test_offline_links_are_the_owners_alone(tmp_path: Path) -> None:
    """Each link's reason quotes names and birth dates; links.csv was written 0644."""
    out = tmp_path / "links.csv"
    args = ("reconcile", str(PIPELINE), str(PIPELINE), "--out", str(out), "--quiet")
    result = _sanad(None, *args)
    assert result.exit_code == 0, result.output
    assert _owner_only(out)
    assert "Mohammad Nabi" in out.read_text("utf-8")


def test_a_file_that_is_not_utf8_is_refused_in_one_line(tmp_path: Path) -> None:
    """A header that is not UTF-8 crashed with a UnicodeDecodeError traceback."""
    latin = tmp_path / "latin.csv"
    latin.write_bytes("record_id,given_name\nR1,Zarghuna Barakzaí\n".encode("latin-1"))
    result = _sanad(None, "reconcile", str(latin), str(PIPELINE), "--out", str(tmp_path / "l.csv"))
    assert result.exit_code == 1, result.output
    assert "latin.csv: not UTF-8" in result.stderr and "Traceback" not in result.output


def test_migrate_does_not_print_the_database_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cli.main.upgrade_to_head", lambda url: None)
    url = f"postgresql://sanad:{PASSWORD}@db.example:5432/sanad"
    result = _sanad(None, "migrate", DATABASE_URL=url)
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output and "db.example" in result.output


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        # a negative batch left the last audit event of a burst uncommitted for ever
        ("SANAD_AUDIT_BATCH_MAX", "-1"),
        ("SANAD_MAX_TOKEN_BYTES", "0"),
        ("SANAD_JWKS_MIN_REFETCH_SECONDS", "-5"),
        ("SANAD_ISSUER", "127.0.0.1:8000"),
        ("SANAD_ISSUER", "https://sanad.example/"),
        ("SANAD_LOG_LEVEL", "LOUD"),
        ("DATABASE_URL", f"postgres://sanad:{PASSWORD}@db.example/sanad"),
        ("DATABASE_URL", f"mysql://sanad:{PASSWORD}@db.example/sanad"),
    ],
)
def test_settings_that_make_no_sense_are_refused_without_their_value(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setattr("cli.main.upgrade_to_head", lambda url: None)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as raised:
        Settings()
    assert PASSWORD not in str(raised.value)  # pydantic quoted the URL, password and all
    result = _sanad(None, "migrate", **{variable: value})
    _refused(result, "invalid Settings")
    assert PASSWORD not in result.output


def test_settings_a_deployment_uses_are_accepted() -> None:
    for url in ("sqlite://", "sqlite:///./sanad.db", "postgresql+psycopg://sanad@db:5432/s"):
        assert Settings(database_url=url).database_url == url
    for issuer in ("http://127.0.0.1:8000", "https://sanad.example.org", "http://testserver"):
        assert Settings(issuer=issuer).issuer == issuer
    assert Settings(log_level="warning").log_level == "WARNING"


def test_serve_refuses_nonsense_and_warns_of_insecure_choices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`--port 70000` listened on port 4464 (70000 mod 65536) without a word; `--workers 0`
    was passed on. And a service storing its signing keys unsealed said nothing of it."""
    import uvicorn

    served: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: served.append(kwargs))
    _refused(_sanad(None, "serve", "--port", "70000", "--no-migrate"), "--port")
    _refused(_sanad(None, "serve", "--workers", "0", "--no-migrate"), "--workers")
    assert served == []
    env = {"SANAD_ISSUER": "http://10.1.2.3:8000"}
    started = _sanad(None, "serve", "--no-migrate", **env)
    assert started.exit_code == 0, started.output
    assert served and served[0]["port"] == 8000
    assert "warning: no sealing key" in started.stderr
    assert "plain http on 10.1.2.3" in started.stderr


def test_verify_refuses_unreadable_inputs_in_one_line(tmp_path: Path) -> None:
    """A missing JWKS or trusted checkpoint, or a JSON file without a `note`, crashed."""
    missing = str(tmp_path / "missing.json")
    _refused(_sanad(None, "letter", "verify", "--jwks", missing, "SL1:abc"), "--jwks")
    _refused(_sanad(None, "audit", "verify", "--trusted-checkpoint", missing))
    not_a_state = tmp_path / "state.json"
    not_a_state.write_text('{"size": 3}')
    result = _sanad(None, "audit", "verify", "--trusted-checkpoint", str(not_a_state))
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert "neither a checkpoint note nor a witness state file" in result.stderr


def test_a_witness_interval_below_zero_is_refused(tmp_path: Path) -> None:
    """It crashed in time.sleep after the first round that failed."""
    args = ["witness", "run", "--server", "http://127.0.0.1:9", "--client-id", "c"]
    args += ["--key-file", str(tmp_path / "k"), "--state-file", str(tmp_path / "s")]
    result = _sanad(None, *args, "--interval", "-1", SANAD_CLIENT_SECRET="x")
    _refused(result, "--interval")


def test_a_database_the_cli_creates_is_the_owners_alone(tmp_path: Path) -> None:
    """`sanad migrate` (and `serve`, which migrates first) made the SQLite database, which
    holds the lists and, without a sealing key, the signing keys, readable by everyone."""
    database = tmp_path / "new.db"
    before = os.umask(0o022)  # a common default: files readable by everyone
    try:
        result = _sanad(None, "migrate", DATABASE_URL=f"sqlite:///{database}")
    finally:
        os.umask(before)
    assert result.exit_code == 0, result.output
    assert _owner_only(database)
