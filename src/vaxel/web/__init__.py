"""The HTTP side of `vaxel serve` (P8, S7): the REST API under `/api/v1`, its OpenAPI
document, and (in `pages/`) the web pages, served by uvicorn in the switch's own loop.

It reaches data only through `services/` (never `store/`), and runs every database call
on a worker thread, so a slow query never delays the SIP and RTP the loop carries.
"""
