"""A witness's key in a PKCS#11 token (SoftHSM 2): `sanad witness keygen --pkcs11-*` makes it
there and writes a key file that names it and holds no secret; the witness registers it and
cosigns the log's checkpoints through the API with it; a reference that does not give the
registered key, and incomplete options, are refused by name. Without the options, keygen
writes an owner-only key file as before."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from cli.main import app as cli
from sealing.token_login import TokenSettings
from sealing.token_signing import destroy_key_pair
from tests.conftest import World
from tlog.checkpoint import NoteVerifier, open_checkpoint
from transparency.witness import WitnessConfig, register_witness_key, witness_once
from transparency.witness_key import WitnessKeyError, load_witness_signer, new_witness_key


def _keygen(name: str, key_file: Path, token: TokenSettings, *drop: str) -> tuple[int, str]:
    options = {
        "--pkcs11-module": token.module,
        "--pkcs11-token": token.token_label,
        "--pkcs11-pin-file": token.pin_file,
    }
    args = ["witness", "keygen", "--name", name, "--key-file", str(key_file)]
    for option, value in options.items():
        if option not in drop:
            args += [option, value]
    result = CliRunner().invoke(cli, args)
    return result.exit_code, result.output


async def test_a_witness_key_made_in_the_token_cosigns_checkpoints(
    client: httpx.AsyncClient, world: World, tmp_path: Path, softhsm_token: TokenSettings
) -> None:
    key_file = tmp_path / "unhcr-witness.key"
    code, output = _keygen(f"{world.unhcr}.example/witness", key_file, softhsm_token)
    assert code == 0, output
    text = key_file.read_text()
    assert "PRIVATE+KEY" not in text and json.loads(text)["key"].startswith("p11key:")
    assert key_file.stat().st_mode & 0o077 == 0
    signer = load_witness_signer(key_file)
    assert output.strip() == signer.verifier().verifier_key()
    with pytest.raises(TypeError, match="never leaves"):
        signer.signer_key()

    client_id, secret = world.client_for("unhcr")
    await register_witness_key(client, client_id, secret, signer)
    headers = await world.headers("oversight", purpose=None, scopes=["audit:read"])
    latest = (await client.get("/v1/audit/checkpoints/latest", headers=headers)).json()
    config = WitnessConfig(client_id, secret, signer, tmp_path / "state.json", latest["log_key"])
    outcome = await witness_once(client, config)
    assert outcome.cosigned

    served = await client.get(f"/v1/audit/checkpoints/{outcome.size}", headers=headers)
    cosigned = [c for c in served.json()["cosignatures"] if c["agency_id"] == world.unhcr]
    assert cosigned, served.text
    verified = open_checkpoint(
        served.json()["note"].encode(),
        NoteVerifier.from_verifier_key(latest["log_key"]),
        [signer.verifier()],
    )
    assert len(verified.cosignatures) == 1


def test_a_reference_that_does_not_give_the_registered_key_is_refused(
    tmp_path: Path, softhsm_token: TokenSettings
) -> None:
    first = tmp_path / "first.key"
    second = tmp_path / "second.key"
    new_witness_key("us.example/witness", first, softhsm_token)
    new_witness_key("us.example/witness", second, softhsm_token)
    reference = json.loads(first.read_text())
    # the label now names another key than the one registered
    swapped = tmp_path / "swapped.key"
    swapped.write_text(json.dumps({**reference, "key": json.loads(second.read_text())["key"]}))
    with pytest.raises(WitnessKeyError, match="not the registered witness key"):
        load_witness_signer(swapped)
    destroy_key_pair(softhsm_token, reference["key"])
    with pytest.raises(WitnessKeyError, match="not in the token"):
        load_witness_signer(first)
    wrong_pin = tmp_path / "wrong-pin.key"
    pin_file = tmp_path / "wrong-pin"
    pin_file.write_text("000000\n")
    wrong_pin.write_text(json.dumps({**reference, "pin_file": str(pin_file)}))
    with pytest.raises(WitnessKeyError, match="PIN"):
        load_witness_signer(wrong_pin)
    unknown = tmp_path / "unknown.key"
    unknown.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(WitnessKeyError, match="not a witness key file"):
        load_witness_signer(unknown)
    incomplete = tmp_path / "incomplete.key"
    incomplete.write_text(json.dumps({"format": reference["format"]}))
    with pytest.raises(WitnessKeyError, match="KeyError"):
        load_witness_signer(incomplete)
    garbled = tmp_path / "garbled.key"
    garbled.write_text("PRIVATE+KEY+us.example/w+00+AAAA\n")
    with pytest.raises(WitnessKeyError, match="malformed signer key"):
        load_witness_signer(garbled)


def test_keygen_refuses_incomplete_token_options_and_an_existing_key_file(
    tmp_path: Path, softhsm_token: TokenSettings
) -> None:
    key_file = tmp_path / "w.key"
    code, output = _keygen("gop.example/w", key_file, softhsm_token, "--pkcs11-pin-file")
    assert code == 2 and "go together" in output
    assert not key_file.exists()
    assert _keygen("gop.example/w", key_file, softhsm_token)[0] == 0
    before = key_file.read_text()
    code, output = _keygen("gop.example/w", key_file, softhsm_token)
    assert code == 2 and "never overwritten" in output
    assert key_file.read_text() == before


def test_keygen_without_a_token_writes_an_owner_only_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "w.key"
    result = CliRunner().invoke(
        cli, ["witness", "keygen", "--name", "us.example/w", "--key-file", str(key_file)]
    )
    assert result.exit_code == 0, result.output
    assert key_file.read_text().startswith("PRIVATE+KEY+us.example/w+")
    assert key_file.stat().st_mode & 0o077 == 0
    assert load_witness_signer(key_file).verifier().verifier_key() == result.output.strip()
    key_file.write_text("not a key\n")
    refused = CliRunner().invoke(
        cli,
        ["witness", "register", "--server", "http://127.0.0.1:9", "--client-id", "c",
         "--client-secret", "s", "--key-file", str(key_file)],
    )  # fmt: skip
    assert refused.exit_code == 2 and "loading the witness key failed" in refused.output
