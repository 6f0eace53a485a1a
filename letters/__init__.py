"""Protection letters: issuance, the signed credential in the QR code, the trilingual PDF and
the offline verifier page. No web framework here."""
