"""Helpers shared by test suites (no fixtures here: each suite's conftest wires what it needs)."""
