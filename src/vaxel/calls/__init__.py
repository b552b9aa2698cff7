"""Call control: the switch core, registrar and (later) the B2BUA."""
