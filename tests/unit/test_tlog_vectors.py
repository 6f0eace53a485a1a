"""transparency-dev/merkle's published inclusion and consistency vectors against tlog.merkle."""

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tlog.canonical import canonical_json
from tlog.merkle import ProofError, verify_consistency, verify_inclusion

VECTORS = Path(__file__).parents[1] / "vectors" / "transparency-dev-merkle" / "testdata"


def load_cases(kind: str) -> list[Any]:
    paths = sorted((VECTORS / kind).rglob("*.json"))
    assert paths, f"no {kind} vectors under {VECTORS}"
    return [pytest.param(json.loads(p.read_text()), id=str(p.relative_to(VECTORS))) for p in paths]


def b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def proof_of(case: dict[str, Any]) -> list[bytes]:
    return [b64(element) for element in case["proof"] or []]


@pytest.mark.parametrize("case", load_cases("inclusion"))
def test_inclusion_vector(case: dict[str, Any]) -> None:
    def verify() -> None:
        verify_inclusion(
            case["leafIdx"],
            case["treeSize"],
            b64(case["leafHash"]),
            proof_of(case),
            b64(case["root"]),
        )

    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify()
    else:
        verify()


@pytest.mark.parametrize("case", load_cases("consistency"))
def test_consistency_vector(case: dict[str, Any]) -> None:
    def verify() -> None:
        verify_consistency(
            case["size1"], case["size2"], proof_of(case), b64(case["root1"]), b64(case["root2"])
        )

    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify()
    else:
        verify()


def test_every_vector_directory_is_exercised() -> None:
    """Both happy paths and refusals are present, so a loader bug cannot pass silently."""
    for kind in ("inclusion", "consistency"):
        outcomes = {param.values[0]["wantErr"] for param in load_cases(kind)}
        assert outcomes == {True, False}


def test_rfc8785_section_3_2_3_sample() -> None:
    sample = r"""{
        "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
        "literals": [null, true, false]
    }"""
    expected = (
        r"""{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"""
        r""""string":"€$\u000f\nA'B\"\\\\\"/"}"""
    )
    assert canonical_json(json.loads(sample)) == expected.encode()
