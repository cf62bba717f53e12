"""Embedded adapters for running on one machine: SQLite, the file system, local SMTP."""
