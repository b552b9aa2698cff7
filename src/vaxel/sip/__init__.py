"""Sans-I/O SIP (RFC 3261): bytes and events in, bytes, events and deadlines out."""
