"""The audit transparency log: sequencing audit events into an RFC 9162 Merkle tree, signed
checkpoints, proofs, witness cosignatures, export and offline verification (over `tlog`)."""
