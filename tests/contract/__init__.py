"""One behaviour, proved against every adapter of a port (embedded SQLite and AWS on moto)."""
