"""Checkpoint verification: is this person in the US pipeline, and under which letter."""
