"""SIP transports (P2): UDP and TCP on IPv4 and IPv6 (RFC 3261 §18)."""
