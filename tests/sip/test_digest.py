"""P2: SIP digest authentication (RFC 3261 §22, RFC 7616, RFC 8760)."""

from __future__ import annotations

import base64
import struct

import pytest

from vaxel.sip.digest import (
    Credentials,
    DigestClient,
    DigestServer,
    Verdict,
    ha1,
    parse_credentials,
)
from vaxel.sip.errors import RemoteProtocolError
from vaxel.sip.headers import parse_auth_params

SECRET = b"0123456789abcdef-test-secret"
REALM = "pbx.example.com"
URI = "sip:pbx.example.com"
USER = "alice"
PASSWORD = "correct horse"

# RFC 7616 §3.9.1
RFC_CHALLENGE = (
    'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm={alg}, '
    'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
    'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'
)
RFC_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
RFC_RESPONSES = {
    "MD5": "8ca523f5e9506fed4657c9700eebdbec",
    "SHA-256": "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
}


def by_algorithm(challenges: list[str], algorithm: str) -> str:
    for value in challenges:
        if parse_auth_params(value)[1]["algorithm"] == algorithm:
            return value
    raise AssertionError(f"no {algorithm} challenge in {challenges}")


def answer(
    client: DigestClient,
    challenge: str,
    *,
    password: str = PASSWORD,
    username: str = USER,
    method: str = "REGISTER",
) -> Credentials:
    value = client.authorization(
        challenge, method=method, uri=URI, username=username, password=password
    )
    return parse_credentials(value)


def check(server: DigestServer, creds: Credentials, now: float, **kw: str) -> Verdict:
    """verify() with alice's stored HA1 for the algorithm the credentials name."""
    stored = kw.get("ha1") or ha1(USER, REALM, PASSWORD, creds.algorithm)
    return server.verify(
        creds,
        method=kw.get("method", "REGISTER"),
        ha1=stored,
        realm=kw.get("realm", REALM),
        now=now,
        client=kw.get("client", ""),
    )


def with_nc(client: DigestClient, challenge: str, nc: int) -> Credentials:
    """Credentials for `challenge` whose nonce count is exactly `nc`."""
    client._nc[parse_auth_params(challenge)[1]["nonce"]] = nc - 1
    return answer(client, challenge)


# -- RFC vectors -------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
def test_rfc7616_example_response(algorithm: str) -> None:
    value = DigestClient().authorization(
        RFC_CHALLENGE.format(alg=algorithm),
        method="GET",
        uri="/dir/index.html",
        username="Mufasa",
        password="Circle of Life",
        cnonce=RFC_CNONCE,
    )
    creds = parse_credentials(value)
    assert creds.response == RFC_RESPONSES[algorithm]
    assert (creds.qop, creds.nc, creds.cnonce) == ("auth", "00000001", RFC_CNONCE)
    assert creds.algorithm == algorithm
    assert creds.opaque == "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"


def test_parse_rfc7616_authorization() -> None:
    creds = parse_credentials(
        'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", '
        'algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
        f'nc=00000001, cnonce="{RFC_CNONCE}", qop=auth, '
        f'response="{RFC_RESPONSES["SHA-256"]}", '
        'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'
    )
    assert creds == Credentials(
        username="Mufasa",
        realm="http-auth@example.org",
        nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        uri="/dir/index.html",
        response=RFC_RESPONSES["SHA-256"],
        algorithm="SHA-256",
        qop="auth",
        nc="00000001",
        cnonce=RFC_CNONCE,
        opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
    )


def test_nonce_not_issued_by_us_is_foreign() -> None:
    server = DigestServer(SECRET)
    creds = parse_credentials(
        DigestClient().authorization(
            RFC_CHALLENGE.format(alg="MD5").replace("http-auth@example.org", REALM),
            method="REGISTER",
            uri=URI,
            username=USER,
            password=PASSWORD,
        )
    )
    assert check(server, creds, 0.0) is Verdict.FOREIGN


# -- ha1 and parsing ---------------------------------------------------------------------------


def test_ha1_per_algorithm() -> None:
    md5 = ha1("Mufasa", "http-auth@example.org", "Circle of Life")
    sha = ha1("Mufasa", "http-auth@example.org", "Circle of Life", "SHA-256")
    assert len(md5) == 32 and len(sha) == 64
    assert ha1("Mufasa", "http-auth@example.org", "Circle of Life", "md5") == md5
    with pytest.raises(ValueError):
        ha1("a", "b", "c", "SHA-512-256")


@pytest.mark.parametrize(
    "value",
    [
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        'Digest realm="r", nonce="n", uri="sip:x", response="00"',  # no username
        'Digest username="u", realm="r", uri="sip:x", response="00"',  # no nonce
        'Digest username="u", realm="r", nonce="n", response="00"',  # no uri
        'Digest username="u", realm="r", nonce="n", uri="sip:x"',  # no response
        'Digest username="u", realm="r", nonce="n", uri="sip:x", response="xyz"',
        'Digest username="u", realm="r", nonce="n", uri="sip:x", response="00", qop=auth',
        'Digest username="u", realm="r", nonce="n", uri="sip:x", response="00", qop=auth, '
        'nc=1, cnonce="c"',
        'Digest username="u", realm="r", nonce="n", uri="sip:x", response="00", qop=auth, '
        'nc=0000000g, cnonce="c"',
        'Digest username="u", realm="r", nonce="n", uri="sip:x", response="00", bogus',
        "Digest",
    ],
)
def test_parse_credentials_rejects_malformed(value: str) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        parse_credentials(value)
    assert info.value.status == 400


def test_parse_credentials_defaults() -> None:
    creds = parse_credentials(
        'digest username="bob", realm="r", nonce="n", uri="sip:r", response="ABCDEF"'
    )
    assert creds.algorithm == "MD5"
    assert creds.response == "abcdef"
    assert (creds.qop, creds.nc, creds.cnonce, creds.opaque) == (None, None, None, None)


# -- challenges --------------------------------------------------------------------------------


def test_challenge_offers_strongest_first() -> None:
    server = DigestServer(SECRET)
    values = server.challenge(REALM, 0.0)
    parsed = [parse_auth_params(value) for value in values]
    assert [p["algorithm"] for _, p in parsed] == ["SHA-256", "MD5"]
    for scheme, params in parsed:
        assert scheme == "Digest"
        assert params["realm"] == REALM
        assert params["qop"] == "auth"
        assert params["opaque"]
        assert "stale" not in params
    assert parsed[0][1]["nonce"] == parsed[1][1]["nonce"]
    assert server.challenge(REALM, 0.0)[0] != values[0]  # fresh random nonce each time


def test_challenge_with_one_algorithm_and_bad_config() -> None:
    assert len(DigestServer(SECRET, algorithms=("MD5",)).challenge(REALM, 0.0)) == 1
    with pytest.raises(ValueError):
        DigestServer(SECRET, algorithms=("SHA-512-256",))
    with pytest.raises(ValueError):
        DigestServer(b"short")


def test_choose_challenge_picks_strongest() -> None:
    server = DigestServer(SECRET, algorithms=("MD5", "SHA-256"))
    values = ['Basic realm="x"', *server.challenge(REALM, 0.0)]
    chosen = DigestClient.choose_challenge(values)
    assert parse_auth_params(chosen)[1]["algorithm"] == "SHA-256"
    unknown = 'Digest realm="x", nonce="n", algorithm=SHA-512-256'
    assert DigestClient.choose_challenge([unknown, values[1]]) == values[1]
    with pytest.raises(RemoteProtocolError):
        DigestClient.choose_challenge([unknown, 'Basic realm="x"'])


# -- verification ------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["SHA-256", "MD5"])
def test_round_trip(algorithm: str) -> None:
    server = DigestServer(SECRET)
    challenge = by_algorithm(server.challenge(REALM, 100.0), algorithm)
    creds = answer(DigestClient(), challenge)
    assert creds.algorithm == algorithm
    assert creds.qop == "auth" and creds.nc == "00000001"
    assert check(server, creds, 101.0) is Verdict.OK


@pytest.mark.parametrize("algorithm", ["SHA-256", "MD5"])
def test_wrong_password_is_invalid(algorithm: str) -> None:
    server = DigestServer(SECRET)
    challenge = by_algorithm(server.challenge(REALM, 0.0), algorithm)
    creds = answer(DigestClient(), challenge, password="wrong")
    assert check(server, creds, 1.0) is Verdict.INVALID


def test_unknown_user_with_fake_ha1_is_invalid() -> None:
    server = DigestServer(SECRET)
    creds = answer(DigestClient(), server.challenge(REALM, 0.0)[0], username="mallory")
    fake = server.fake_ha1("mallory", REALM, creds.algorithm)
    assert len(fake) == 64
    assert fake == server.fake_ha1("mallory", REALM, creds.algorithm)
    assert fake != server.fake_ha1("mallory", "other.example.com", creds.algorithm)
    assert fake != DigestServer(SECRET + b"x").fake_ha1("mallory", REALM, creds.algorithm)
    assert len(server.fake_ha1("mallory", REALM, "MD5")) == 32
    assert check(server, creds, 1.0, ha1=fake) is Verdict.INVALID


def test_tampered_nonce_is_foreign() -> None:
    server = DigestServer(SECRET)
    challenge = server.challenge(REALM, 0.0)[0]
    nonce = parse_auth_params(challenge)[1]["nonce"]
    flipped = ("B" if nonce[0] == "A" else "A") + nonce[1:]
    # The client computes a correct response for the altered nonce.
    creds = answer(DigestClient(), challenge.replace(nonce, flipped))
    assert check(server, creds, 1.0) is Verdict.FOREIGN


def test_extending_nonce_lifetime_is_foreign() -> None:
    server = DigestServer(SECRET, nonce_ttl=10.0)
    challenge = server.challenge(REALM, 0.0)[0]
    nonce = parse_auth_params(challenge)[1]["nonce"]
    raw = base64.urlsafe_b64decode(nonce)
    later = base64.urlsafe_b64encode(struct.pack(">d", 1000.0) + raw[8:]).decode()
    creds = answer(DigestClient(), challenge.replace(nonce, later))
    assert check(server, creds, 1001.0) is Verdict.FOREIGN


def test_nonce_from_another_secret_is_foreign() -> None:
    other = DigestServer(b"another-secret-of-16+ bytes")
    creds = answer(DigestClient(), other.challenge(REALM, 0.0)[0])
    assert check(DigestServer(SECRET), creds, 1.0) is Verdict.FOREIGN
    assert check(other, creds, 1.0) is Verdict.OK


def test_expired_nonce_is_stale_then_rechallenged() -> None:
    server = DigestServer(SECRET, nonce_ttl=300.0)
    client = DigestClient()
    creds = answer(client, server.challenge(REALM, 0.0)[0])
    assert check(server, creds, 299.0) is Verdict.OK
    late = answer(client, server.challenge(REALM, 0.0)[0])
    assert check(server, late, 300.0) is Verdict.STALE
    again = server.challenge(REALM, 300.0, stale=True)
    assert all(parse_auth_params(value)[1]["stale"] == "true" for value in again)
    assert check(server, answer(client, again[0]), 301.0) is Verdict.OK


def test_expired_nonce_with_wrong_password_is_invalid_not_stale() -> None:
    server = DigestServer(SECRET, nonce_ttl=300.0)
    creds = answer(DigestClient(), server.challenge(REALM, 0.0)[0], password="wrong")
    assert check(server, creds, 1000.0) is Verdict.INVALID


def test_replayed_nc_is_replay_and_increasing_nc_is_ok() -> None:
    server = DigestServer(SECRET)
    client = DigestClient()
    challenge = server.challenge(REALM, 0.0)[0]
    first = answer(client, challenge)
    assert check(server, first, 1.0) is Verdict.OK
    assert check(server, first, 2.0) is Verdict.REPLAY
    second = answer(client, challenge)
    assert second.nc == "00000002"
    assert check(server, second, 3.0) is Verdict.OK
    jump = with_nc(client, challenge, 10)
    assert jump.nc == "0000000a"
    assert check(server, jump, 4.0) is Verdict.OK
    older = with_nc(client, challenge, 5)
    assert check(server, older, 5.0) is Verdict.REPLAY
    assert check(server, second, 6.0) is Verdict.REPLAY


def test_wrong_realm_is_refused() -> None:
    server = DigestServer(SECRET)
    creds = answer(DigestClient(), server.challenge(REALM, 0.0)[0])
    # Same credentials presented to another tenant's realm: the nonce is not that realm's.
    assert check(server, creds, 1.0, realm="other.example.com") is Verdict.FOREIGN
    # A nonce issued for another realm, answered for ours.
    foreign = server.challenge("other.example.com", 0.0)[0].replace("other.example.com", REALM)
    assert check(server, answer(DigestClient(), foreign), 1.0) is Verdict.FOREIGN


def test_wrong_method_or_ha1_algorithm_is_invalid() -> None:
    server = DigestServer(SECRET)
    creds = answer(DigestClient(), server.challenge(REALM, 0.0)[0])
    assert check(server, creds, 1.0, method="INVITE") is Verdict.INVALID
    md5_ha1 = ha1(USER, REALM, PASSWORD, "MD5")
    assert check(server, creds, 1.0, ha1=md5_ha1) is Verdict.INVALID


def test_unknown_algorithm_and_bad_qop_are_invalid() -> None:
    server = DigestServer(SECRET)
    client = DigestClient()
    challenge = by_algorithm(server.challenge(REALM, 0.0), "MD5")
    value = client.authorization(
        challenge, method="REGISTER", uri=URI, username=USER, password=PASSWORD
    )
    creds = parse_credentials(value.replace("algorithm=MD5", "algorithm=MD5-sess"))
    assert creds.algorithm == "MD5-sess"
    assert check(server, creds, 1.0, ha1=ha1(USER, REALM, PASSWORD)) is Verdict.INVALID
    auth_int = answer(client, challenge.replace('qop="auth"', 'qop="auth-int"'))
    assert auth_int.qop == "auth-int"
    assert check(server, auth_int, 1.0) is Verdict.INVALID


def test_an_answer_without_qop_is_refused_even_with_the_right_password() -> None:
    """qop=auth is required: an RFC 2069 answer has no nonce count, so a captured one could
    be replayed for the nonce's whole life."""
    server = DigestServer(SECRET)
    challenge = by_algorithm(server.challenge(REALM, 0.0), "MD5").replace(', qop="auth"', "")
    value = DigestClient().authorization(
        challenge, method="REGISTER", uri=URI, username=USER, password=PASSWORD
    )
    assert "qop=" not in value and "nc=" not in value and "cnonce=" not in value
    creds = parse_credentials(value)
    assert creds.qop is None
    assert check(server, creds, 1.0) is Verdict.INVALID
    assert check(server, creds, 2.0) is Verdict.INVALID  # replayed: refused as well
    assert server.tracked_nonces == 0


def test_a_nonce_answers_only_from_the_host_it_was_issued_to() -> None:
    """A nonce got at one address is FOREIGN from another: a forger of a phone's address has
    none for the phone's host, so its wrong passwords cannot count against that host."""
    server = DigestServer(SECRET)
    challenge = server.challenge(REALM, 0.0, client="192.0.2.1")[0]
    assert check(server, answer(DigestClient(), challenge), 1.0, client="192.0.2.1") is Verdict.OK
    for password in (PASSWORD, "wrong"):  # the verdict does not depend on the password
        creds = answer(DigestClient(), challenge, password=password)
        assert check(server, creds, 1.0, client="192.0.2.99") is Verdict.FOREIGN
    wrong = answer(DigestClient(), challenge, password="wrong")
    assert check(server, wrong, 1.0, client="192.0.2.1") is Verdict.INVALID


def test_client_auth_int_hashes_the_body() -> None:
    challenge = 'Digest realm="r", nonce="n", qop="auth-int"'
    client = DigestClient()
    one = client.authorization(
        challenge, method="MESSAGE", uri=URI, username="u", password="p", cnonce="c", body=b"hello"
    )
    two = DigestClient().authorization(
        challenge, method="MESSAGE", uri=URI, username="u", password="p", cnonce="c", body=b"world"
    )
    assert parse_credentials(one).response != parse_credentials(two).response


def test_client_rejects_unusable_challenges() -> None:
    client = DigestClient()
    kw = {"method": "REGISTER", "uri": URI, "username": "u", "password": "p"}
    for bad in (
        'Basic realm="r"',
        'Digest nonce="n"',
        'Digest realm="r", nonce="n", algorithm=SHA-512-256',
        'Digest realm="r", nonce="n", qop="auth-conf"',
    ):
        with pytest.raises(RemoteProtocolError):
            client.authorization(bad, **kw)


# -- bounded nonce tracking --------------------------------------------------------------------


def test_expired_nonces_are_forgotten() -> None:
    server = DigestServer(SECRET, nonce_ttl=10.0)
    client = DigestClient()
    for t in range(5):
        creds = answer(client, server.challenge(REALM, float(t))[0])
        assert check(server, creds, float(t)) is Verdict.OK
    assert server.tracked_nonces == 5
    creds = answer(client, server.challenge(REALM, 20.0)[0])
    assert check(server, creds, 20.0) is Verdict.OK
    assert server.tracked_nonces == 1


def test_tracking_is_bounded_and_forgotten_nonces_are_stale() -> None:
    server = DigestServer(SECRET, max_tracked_nonces=2)
    client = DigestClient()
    challenges = [server.challenge(REALM, float(t))[0] for t in range(3)]
    for t, challenge in enumerate(challenges):
        assert check(server, answer(client, challenge), float(t)) is Verdict.OK
    assert server.tracked_nonces == 2
    # The oldest nonce's count was forgotten while fresh: never accept it
    # blindly (it could be a replay); ask for a new nonce instead.
    assert check(server, answer(client, challenges[0]), 3.0) is Verdict.STALE
    # The newer ones are still tracked.
    assert check(server, answer(client, challenges[2]), 3.0) is Verdict.OK
    replay = with_nc(client, challenges[2], 1)
    assert check(server, replay, 3.0) is Verdict.REPLAY
    assert server.tracked_nonces == 2
