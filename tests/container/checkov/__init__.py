"""Checkov checks of this repository (see compose_checks.py)."""
