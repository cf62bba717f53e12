"""Services: one function per command or query. They take their ports through `Deps`, check who may do
what (`authz`), and write state, timeline, audit and events in one unit of work."""
