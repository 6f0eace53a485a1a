"""Load run of `POST /v1/verifications` (real tokens, audit on) next to a bare FastAPI endpoint,
on SQLite and PostgreSQL, with wrk: five alternating 5-second runs of each against both servers
(one uvicorn worker each, same settings), medians reported. Prints requests/s, p50, p99 of both
and their ratio."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

import httpx

from bench.servers import fresh_database, uvicorn_server
from cli.demo import seed_demo
from config.settings import Settings
from database.migrations import upgrade_to_head

DURATION = "5s"
CONNECTIONS = "32"
# Alternating short runs, medians taken: on a shared machine the load changes between two long
# runs, and the ratio of one verification run to one bare run swung from 0.24 to 0.45.
ROUNDS = 5
_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk(url: str, body: Mapping[str, object], headers: Mapping[str, str]) -> dict[str, float]:
    lines = [
        'wrk.method = "POST"',
        f"wrk.body = {json.dumps(json.dumps(body))}",
        'wrk.headers["Content-Type"] = "application/json"',
        *(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()),
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines) + "\n")
    out = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency", "-s", script.name, url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    Path(script.name).unlink()
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": _latency(out, "50%"),
        "p99_ms": _latency(out, "99%"),
        "non2xx": float(m.group(1))
        if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out))
        else 0.0,
    }


def _latency(out: str, label: str) -> float:
    match = re.search(rf"{re.escape(label)}\s+([\d.]+)(us|ms|s)", out)
    assert match, out
    return float(match.group(1)) * _UNIT[match.group(2)]


def run(backend: str) -> dict[str, dict[str, float]]:
    with fresh_database(backend) as url:
        upgrade_to_head(url)
        settings = Settings(database_url=url, log_level="WARNING")
        demo = seed_demo(settings)
        gop = next(c for c in demo["clients"] if c["agency"] == "gop" and "verify" in c["scopes"])
        env = {"DATABASE_URL": url, "SANAD_LOG_LEVEL": "WARNING"}
        with uvicorn_server("api.main:app", env, "/healthz") as base:
            token = httpx.post(
                f"{base}/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(gop["client_id"], gop["client_secret"]),
            ).json()["access_token"]
            headers = {
                "Authorization": f"Bearer {token}",
                "Purpose-Of-Use": "protection-verification",
            }
            body = {"letter_id": "LTR-2023-000101"}
            check = httpx.post(f"{base}/v1/verifications", json=body, headers=headers)
            assert check.status_code == 200 and check.json()["in_pipeline"], check.text
            with uvicorn_server("bench.bare_app:app", {}, "/docs") as bare_base:
                runs: dict[str, list[dict[str, float]]] = {"verification": [], "bare": []}
                for _ in range(ROUNDS):
                    runs["verification"].append(_wrk(f"{base}/v1/verifications", body, headers))
                    runs["bare"].append(_wrk(f"{bare_base}/bare", body, {}))
    return {name: _median(results) for name, results in runs.items()}


def _median(results: list[dict[str, float]]) -> dict[str, float]:
    """The run with the median throughput (its latencies come with it), and the sum of non-2xx."""
    middle = sorted(results, key=lambda r: r["rps"])[len(results) // 2]
    return {**middle, "non2xx": sum(r["non2xx"] for r in results)}


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is needed: scripts/os-packages --with-bench", file=sys.stderr)
        return 2
    summary = []
    for backend in sys.argv[1:] or ("sqlite", "postgresql"):
        result = run(backend)
        v, b = result["verification"], result["bare"]
        ratio = v["rps"] / b["rps"]
        print(f"{backend}: verification {v['rps']:.0f} req/s p50 {v['p50_ms']:.2f} ms "
              f"p99 {v['p99_ms']:.2f} ms (non-2xx {v['non2xx']:.0f}) | bare {b['rps']:.0f} req/s "
              f"p50 {b['p50_ms']:.2f} ms p99 {b['p99_ms']:.2f} ms | ratio {ratio:.2f}")  # fmt: skip
        summary.append(f"{backend} ratio {ratio:.2f} ({v['rps']:.0f}/{b['rps']:.0f} req/s)")
    print("verification bench: " + "; ".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
