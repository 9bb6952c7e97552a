"""Incidents: surges of negative messages opened by the pipeline (surge.py), handled by people (service.py)."""
