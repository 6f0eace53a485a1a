"""Encounter reports from Pakistan's officials, linked to pipeline records, and each agency's
own status claims about a person."""
