"""Verified cryptographic core of the audit transparency log: RFC 9162 Merkle trees and proofs,
C2SP signed checkpoints and cosignatures, and RFC 8785 canonical leaf encoding (no I/O)."""
