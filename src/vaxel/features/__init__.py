"""Features: what a call does, written against the call-control API (`vaxel.calls.api`) only."""
