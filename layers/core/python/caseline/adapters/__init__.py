"""Adapters: the AWS and embedded implementations of the ports, and the store that lays out our items."""
