"""Media engine: anchored RTP endpoints on the event loop, bridged by the calls layer (P5)."""
