"""Caseline: cases, customers and one timeline.

The package is shipped as the `core` Lambda layer and installed with `pip install -e .` on one machine.
"""

__version__ = "0.1.0"
