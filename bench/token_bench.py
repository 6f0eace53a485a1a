"""What keeping keys in a PKCS#11 token costs per call, against the same work with the key in
this process's memory: sealing and opening a webhook secret (AES-256-GCM), an ECDSA P-256
signature (access tokens, letters) and an Ed25519 signature (the log's checkpoints). A SoftHSM 2
token is made in a temporary directory (`scripts/os-packages --with-hsm`); a hardware HSM adds
its own latency and round trip. The last line sums up.

Run from the repository root: `python -m bench.token_bench [--calls 5000]`.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from sealing.box import SecretBox, new_key
from sealing.token import TokenBox, create_key
from sealing.token_signing import (
    TokenEd25519Key,
    TokenSigningKey,
    generate_ed25519_key,
    generate_signing_key,
)
from tests.softhsm import new_softhsm_token

SECRET = "whsec_" + "x" * 32
CONTEXT = "subscription:00000000-0000-0000-0000-000000000000"
MESSAGE = b"sanad.local/audit-log\n1000000\n" + b"r" * 44 + b"\n"


def per_call_us(call: Callable[[], object], calls: int) -> float:
    call()  # warm: the first call finds the key
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=5000)
    calls = parser.parse_args().calls
    with tempfile.TemporaryDirectory(prefix="sanad-token-bench-") as home:
        token = new_softhsm_token(Path(home))
        sealing = replace(token, key_label="bench-sealing")
        create_key(sealing)
        in_token, in_memory = TokenBox(sealing), SecretBox.from_file(_key_file(Path(home)))
        sealed = {box: box.seal(SECRET, CONTEXT) for box in (in_token, in_memory)}
        p256, ed = (TokenSigningKey(token, generate_signing_key(token)[0]),
                    TokenEd25519Key(token, generate_ed25519_key(token)))  # fmt: skip
        ecdsa = ec.ECDSA(hashes.SHA256())
        p256_here, ed_here = (
            ec.generate_private_key(ec.SECP256R1()),
            ed25519.Ed25519PrivateKey.generate(),
        )
        rows = [
            ("seal a secret (AES-256-GCM)",
             per_call_us(lambda: in_token.seal(SECRET, CONTEXT), calls),
             per_call_us(lambda: in_memory.seal(SECRET, CONTEXT), calls)),
            ("open a secret",
             per_call_us(lambda: in_token.open(sealed[in_token], CONTEXT), calls),
             per_call_us(lambda: in_memory.open(sealed[in_memory], CONTEXT), calls)),
            ("ECDSA P-256 signature",
             per_call_us(lambda: p256.sign(MESSAGE, ecdsa), calls),
             per_call_us(lambda: p256_here.sign(MESSAGE, ecdsa), calls)),
            ("Ed25519 signature",
             per_call_us(lambda: ed.sign(MESSAGE), calls),
             per_call_us(lambda: ed_here.sign(MESSAGE), calls)),
        ]  # fmt: skip
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"SoftHSM 2, {calls} calls each")  # fmt: skip
    print(f"{'operation':<30} {'in the token':>14} {'in memory':>12}")
    for name, token_us, memory_us in rows:
        print(f"{name:<30} {token_us:>11.1f} µs {memory_us:>9.1f} µs")
    print("summary: " + ", ".join(f"{name} {token_us:.0f} µs" for name, token_us, _ in rows)
          + " per call in the token")  # fmt: skip


def _key_file(home: Path) -> Path:
    path = home / "sealing.key"
    path.write_text(new_key())
    return path


if __name__ == "__main__":
    main()
