"""Name and date core for record linkage of Afghan people across agencies.

Pure functions only (no web framework, no database); see docs/matching.md.
"""
