"""Vaxel: a hosted business phone system (multi-tenant cloud PBX)."""

__version__ = "0.1.0"
