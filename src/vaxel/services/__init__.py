"""Services: validate input, then read or write the store (one module per resource).

Callers above this layer (web/, features/, the CLI, the registrar) use these
functions and the frozen dataclasses they return, never `store/` itself.
"""

from vaxel.services.errors import Conflict, Invalid, NotFound, ServiceError

__all__ = ["Conflict", "Invalid", "NotFound", "ServiceError"]
