"""Call control (P2, P3, P4): the SIP core's input pipeline and dispatch, the registrar,
the B2BUA and the call-control API that features are written against. No feature logic:
what a dialled string means is asked of a dial plan (`calls.dialplan`)."""
