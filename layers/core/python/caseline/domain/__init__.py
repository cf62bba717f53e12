"""Pure domain: models and rules. No I/O, no clock, no boto3 — time and ids are passed in."""
