"""Sans-I/O SIP (P2, RFC 3261): bytes and events in, bytes, events and deadlines out."""
