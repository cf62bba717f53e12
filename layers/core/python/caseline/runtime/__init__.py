"""The local runtime (`caseline dev`): the whole platform in one process on embedded adapters."""
