"""No cyclic garbage collection while a function's modules load (docs/decisions/0114-no-gc-during-cold-start.md).

Importing a handler creates a few hundred thousand objects that live as long as the execution environment:
modules, classes, functions, pydantic validators. CPython runs a collection every few hundred new container
objects, and a full one each time the long-lived ones have grown by a quarter, so a cold start ran dozens of
collections that walked everything loaded so far and freed next to nothing: 40-50 ms, about 15% of the import.

Each handler imports this module before anything else and calls `done()` once its own module-level setup is
over. `done()` moves what the import created to the permanent generation (`gc.freeze()`), so the full
collections of later invocations do not walk it either, and turns collection back on.
"""

import gc

_was_enabled = gc.isenabled()
gc.disable()


def done() -> None:
    gc.freeze()
    if _was_enabled:
        gc.enable()
