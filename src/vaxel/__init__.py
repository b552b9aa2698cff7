"""Vaxel: a hosted business phone system (multi-tenant cloud PBX)."""

from vaxel import native

__version__ = "0.1.0"

native.install()  # the compiled hot modules, when `make` built them for these sources
