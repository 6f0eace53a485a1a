"""The change feed (records, letters, encounters), acknowledgements, and webhook delivery."""
