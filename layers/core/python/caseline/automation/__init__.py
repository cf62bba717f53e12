"""Routing, rules and SLAs as pure functions of (snapshot, policy, calendar, clock).

Nothing in this package reads a clock, a table or the network: callers pass "now" and the facts in, and
every decision comes back with the reasons it was made.
"""
