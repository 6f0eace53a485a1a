"""Where a witness's private key lives, on the agency's own machine: in a key file (sumdb's
`PRIVATE+KEY+…` line), or in a PKCS#11 token it never leaves. For a token key the witness's key
file holds no secret, only a reference: the witness name, the token's library and label, the
PIN file's path, the key's label in the token and the verifier key it must have. A stolen
reference file and host disk then cosign nothing; only the token can."""

from __future__ import annotations

import json
from pathlib import Path

from sealing.token_login import TokenSettings
from sealing.token_signing import TokenEd25519Key, generate_ed25519_key
from tlog.checkpoint import NoteSigner, SignatureType
from transparency.keys import write_key_file, write_owner_only

REFERENCE_FORMAT = "sanad-witness-key-in-pkcs11-token/v1"


class WitnessKeyError(ValueError):
    """The witness key file, or the token it names, does not give the key it should."""


def new_witness_key(name: str, path: Path, token: TokenSettings | None = None) -> NoteSigner:
    """Generate a witness key, in `token` when one is given, else into a new owner-only key
    file; either way `path` is created and never overwritten."""
    if token is None:
        signer = NoteSigner.generate(name, SignatureType.COSIGNATURE_V1)
        write_key_file(path, signer)
        return signer
    if path.exists():  # before a key is made in the token that nothing would name
        raise FileExistsError(f"{path} exists; a witness key file is never overwritten")
    stored = generate_ed25519_key(token)
    signer = NoteSigner(name, TokenEd25519Key(token, stored), SignatureType.COSIGNATURE_V1)
    reference = {
        "format": REFERENCE_FORMAT,
        "name": name,
        "verifier_key": signer.verifier().verifier_key(),
        "module": token.module,
        "token_label": token.token_label,
        "pin_file": str(Path(token.pin_file).resolve()),  # the witness may run elsewhere
        "key": stored,
    }
    write_owner_only(path, json.dumps(reference, indent=2) + "\n")
    return signer


def load_witness_signer(path: Path) -> NoteSigner:
    """The witness's signer (typed tlog-cosignature/v1) from its key file or token reference;
    WitnessKeyError saying what is wrong with either."""
    text = path.read_text("utf-8").strip()
    try:
        if not text.startswith("{"):
            return NoteSigner.from_signer_key(text, SignatureType.COSIGNATURE_V1)
        return _signer_in_token(json.loads(text))
    except WitnessKeyError as exc:
        raise WitnessKeyError(f"{path}: {exc}") from None
    except (ValueError, KeyError, TypeError) as exc:  # a malformed file, or the token refused
        raise WitnessKeyError(f"{path}: {type(exc).__name__}: {exc}") from None


def _signer_in_token(reference: dict[str, str]) -> NoteSigner:
    if reference.get("format") != REFERENCE_FORMAT:
        raise WitnessKeyError("not a witness key file nor a token key reference")
    token = TokenSettings(
        reference["module"], reference["token_label"], reference["pin_file"], key_label=""
    )
    key = TokenEd25519Key(token, reference["key"])
    signer = NoteSigner(reference["name"], key, SignatureType.COSIGNATURE_V1)
    if signer.verifier().verifier_key() != reference["verifier_key"]:
        raise WitnessKeyError(
            f"the token's key {reference['key']!r} is not the registered witness key"
        )
    return signer
