"""The REST API, `/api/v1` (P8): one module per resource."""
