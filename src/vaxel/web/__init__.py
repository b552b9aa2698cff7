"""The HTTP side of `vaxel serve` (P8, S7): the REST API under `/api/v1`, its OpenAPI
document, and (in `pages/`) the web pages, served by uvicorn in a process of its own
beside the switch (`process.py`, `launcher.py`, `link.py`), so the web's work never
delays the SIP and RTP the switch's loop carries.

It reaches data only through `services/` (never `store/`), and runs every database call
on a worker thread, so a slow query never delays the web's other requests.
"""
