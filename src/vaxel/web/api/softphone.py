"""What the browser softphone needs to register (U1, U3, O2): `GET /api/v1/me/softphone`.

The /phone page registers over SIP over WebSocket (`/ws` of this site) with a credential
of its own, never the desk phone's SIP password (services/users.py `browser_credential`):
digest username `<extension>-web` and the MD5 HA1 of a random password, which JsSIP uses
in place of a password. The first call makes it; "log out everywhere" and a new web
password revoke it. With it come the numbers the user's calls may show (U8): the page
names one per call as RFC 3325's P-Preferred-Identity. The answer carries a secret, so
it is for a session or a token with the `calls` scope only, `Cache-Control: no-store`
(as the whole API), and never logged.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from vaxel.services import configuration, users
from vaxel.services.company_config import own_numbers
from vaxel.services.errors import NotFound
from vaxel.web.auth import Caller, Context
from vaxel.web.context import blocking
from vaxel.web.problems import Problem

router = APIRouter(prefix="/api/v1/me", tags=["me"])

#: Where SIP over WebSocket is served, on this same origin (web/sip_ws.py).
WS_PATH = "/ws"


class Softphone(BaseModel):
    uri: str = Field(description="the address the softphone registers: sip:EXT@DOMAIN")
    authorization_user: str = Field(description="the digest username: EXT-web")
    realm: str
    ha1: str = Field(description="MD5 HA1 of the browser's own SIP password (a secret)")
    ws_path: str = Field(description="SIP over WebSocket on this origin (ws:// or wss://)")
    display_name: str
    extension: str
    domain: str
    caller_ids: dict[str, str] = Field(
        description="the numbers my calls may show, by kind (main, direct, mobile, support):"
        " one sent as P-Preferred-Identity on a call is what that call shows (U8)"
    )


@router.get("/softphone")
async def softphone(who: Caller, ctx: Context) -> Softphone:
    """The browser softphone's SIP account, its credential made on first use."""
    account = who.account
    if account.company_id is None or account.extension is None or account.domain is None:
        raise Problem(404, "a provider admin has no phone")
    if who.via == "token":
        who.need("calls")  # a read-only token must not get a key that places calls
    try:
        username, realm, ha1 = await blocking(
            users.browser_credential, ctx.store, account.company_id, account.extension
        )
    except NotFound:
        raise Problem(404, "you have no phone") from None
    config = await blocking(configuration.load_document, ctx.store, account.company_id)
    numbers = own_numbers(config, account.extension) if config is not None else {}
    return Softphone(
        uri=f"sip:{account.extension}@{account.domain}",
        authorization_user=username,
        realm=realm,
        ha1=ha1,
        ws_path=WS_PATH,
        display_name=account.name,
        extension=account.extension,
        domain=account.domain,
        caller_ids=numbers,
    )
