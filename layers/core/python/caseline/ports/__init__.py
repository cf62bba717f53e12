"""Ports: what the services need from the outside world, as abstract interfaces.

Each port has an AWS adapter (`caseline.adapters.aws`) and an embedded one (`caseline.adapters.embedded`);
`tests/contract/` runs the same tests against both.
"""
