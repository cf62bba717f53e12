"""Key builders for the connection table (live updates). The only module that writes its key strings.

All connections of one region share a partition, so "every live connection" is one Query (paged), never a
Scan. A region holds a few hundred staff connections at most; see docs/data-model.md for when to shard.
"""

from __future__ import annotations

from ..ports.table import Key

CONNECTION_ENTITY = "connection"


def connections_partition(scope: str) -> str:
    return f"CONN#{scope}"


def connection(scope: str, connection_id: str) -> Key:
    return {"pk": connections_partition(scope), "sk": connection_id}
