"""JWT logon: a real JWKS served over HTTP on 127.0.0.1, tokens signed with PyJWT, the verifier and the
Authenticator exercised end to end (no part of the verifier is mocked)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from pyengine.gateway import jwt_auth
from pyengine.gateway.auth import hash_password, verify_password
from pyengine.gateway.config import GatewayConfig, JwtConfig, User
from pyengine.gateway.jwt_auth import Authenticator, JwtError, JwtVerifier, looks_like_jwt

ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TestPool"
CLIENT_ID = "3n4b5urk1ft4fl3mg5e62d9ado"

RSA1 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA2 = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # the "rotated in later" key
RSA_IMPOSTOR = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # signs under RSA1's kid
EC1 = ec.generate_private_key(ec.SECP256R1())


def rsa_jwk(key: rsa.RSAPrivateKey, kid: str, **extra: Any) -> dict[str, Any]:
    jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    assert isinstance(jwk, dict)
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig", **extra}


def ec_jwk(key: ec.EllipticCurvePrivateKey, kid: str) -> dict[str, Any]:
    jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    assert isinstance(jwk, dict)
    return {**jwk, "kid": kid, "alg": "ES256", "use": "sig"}


def jwks(*keys: Any) -> bytes:
    return json.dumps({"keys": list(keys)}).encode()


START_JWKS = jwks(rsa_jwk(RSA1, "rsa1"), ec_jwk(EC1, "ec1"))


@dataclass
class JwksServer:
    """What the fake identity provider answers on /jwks.json; tests change it to rotate keys or break it."""

    port: int = 0
    status: int = 200
    body: bytes = START_JWKS
    hits: int = 0
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/jwks.json"


@pytest.fixture
def server() -> Iterator[JwksServer]:
    state = JwksServer()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with state.lock:
                state.hits += 1
                status, body, delay = state.status, state.body, state.delay
            time.sleep(delay)
            if self.path != "/jwks.json":
                status, body = 404, b"not found"
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def make_verifier(url: str, audience: str | None = CLIENT_ID, **kwargs: Any) -> JwtVerifier:
    return JwtVerifier(JwtConfig(jwks_url=url, issuer=ISSUER, audience=audience), **kwargs)


@pytest.fixture
def verifier(server: JwksServer) -> JwtVerifier:
    v = make_verifier(server.url, min_refresh_gap=0.0)
    v.load_keys()
    return v


def claims_for(token_use: Any = "id", username: str = "alice", **overrides: Any) -> dict[str, Any]:
    """Cognito-shaped claims; an override of None removes the claim."""
    now = int(time.time())
    claims: dict[str, Any] = {"sub": "6f1e-uuid", "iss": ISSUER, "token_use": token_use, "iat": now, "exp": now + 3600}
    if token_use == "id":
        claims.update({"aud": CLIENT_ID, "cognito:username": username, "email": "alice@example.com"})
    else:
        claims.update({"client_id": CLIENT_ID, "username": username, "scope": "aws.cognito.signin.user.admin"})
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def sign(claims: dict[str, Any], key: Any = RSA1, kid: str | None = "rsa1", alg: str = "RS256") -> str:
    return jwt.encode(claims, key, algorithm=alg, headers=None if kid is None else {"kid": kid})


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    return f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}.{b64url(signature)}"


HEADER_RSA1 = b64url(json.dumps({"alg": "RS256", "kid": "rsa1"}).encode())


def refused(verifier: JwtVerifier, token: str) -> str:
    with pytest.raises(JwtError) as info:
        verifier.verify(token)
    assert info.value.reason == str(info.value)
    return info.value.reason


# --- good tokens --------------------------------------------------------------------------------------


def test_valid_id_token(verifier: JwtVerifier) -> None:
    identity = verifier.verify(sign(claims_for("id")))
    assert (identity.username, identity.token_use) == ("alice", "id")
    assert identity.claims["email"] == "alice@example.com"
    assert "alice@example.com" not in repr(identity)


def test_valid_access_token_signed_with_ec_key(verifier: JwtVerifier) -> None:
    identity = verifier.verify(sign(claims_for("access", username="bob"), EC1, "ec1", "ES256"))
    assert (identity.username, identity.token_use) == ("bob", "access")


def test_rsa_key_without_alg_accepts_every_rs_variant(server: JwksServer) -> None:
    entry = rsa_jwk(RSA1, "rsa1")
    del entry["alg"]
    server.body = jwks(entry)
    v = make_verifier(server.url)
    v.load_keys()
    for alg in ("RS256", "RS384", "RS512"):
        assert v.verify(sign(claims_for(), alg=alg)).username == "alice"


def test_no_audience_configured_accepts_any_client(server: JwksServer) -> None:
    v = make_verifier(server.url, audience=None)
    v.load_keys()
    assert v.verify(sign(claims_for("id", aud="other-client"))).username == "alice"
    assert v.verify(sign(claims_for("access", client_id="other-client"))).username == "alice"


def test_leeway_tolerates_small_clock_skew(verifier: JwtVerifier) -> None:
    now = int(time.time())
    assert verifier.verify(sign(claims_for(exp=now - 5, iat=now + 5))).username == "alice"


# --- refused claims -----------------------------------------------------------------------------------


def test_wrong_issuer(verifier: JwtVerifier) -> None:
    other = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_OtherPool"
    assert refused(verifier, sign(claims_for(iss=other))) == f"issuer mismatch: {other!r}"
    # Exact comparison: a prefix or an extension of the configured issuer is not it.
    assert refused(verifier, sign(claims_for(iss=ISSUER[:-4]))).startswith("issuer mismatch")
    assert refused(verifier, sign(claims_for(iss=ISSUER + "x"))).startswith("issuer mismatch")
    assert refused(verifier, sign(claims_for(iss=None))) == "issuer mismatch: None"


def test_expired(verifier: JwtVerifier) -> None:
    now = int(time.time())
    assert refused(verifier, sign(claims_for(exp=now - 3600, iat=now - 7200))) == "token expired"


def test_iat_in_future(verifier: JwtVerifier) -> None:
    now = int(time.time())
    assert refused(verifier, sign(claims_for(iat=now + 600, exp=now + 4000))) == "token issued in the future (iat)"


def test_nbf_in_future(verifier: JwtVerifier) -> None:
    assert refused(verifier, sign(claims_for(nbf=int(time.time()) + 600))) == "token not yet valid (nbf)"


def test_missing_or_malformed_exp(verifier: JwtVerifier) -> None:
    assert refused(verifier, sign(claims_for(exp=None))) == "token has no exp claim"
    assert refused(verifier, sign(claims_for(exp="tomorrow"))) == "exp claim is not a number"
    assert refused(verifier, sign(claims_for(exp=True))) == "exp claim is not a number"
    assert refused(verifier, sign(claims_for(exp=float("inf")))) == "exp claim is not a number"
    assert refused(verifier, sign(claims_for(exp=float("nan")))) == "exp claim is not a number"
    assert refused(verifier, sign(claims_for(iat="now"))) == "iat claim is not a number"


def test_wrong_token_use(verifier: JwtVerifier) -> None:
    assert refused(verifier, sign(claims_for(token_use="refresh"))) == "token_use must be id or access, not 'refresh'"
    assert refused(verifier, sign(claims_for(token_use=None))) == "token_use must be id or access, not None"
    assert refused(verifier, sign(claims_for(token_use=["id"]))) == "token_use must be id or access, not ['id']"


def test_wrong_audience(verifier: JwtVerifier) -> None:
    assert refused(verifier, sign(claims_for("id", aud="someone-else"))) == "audience mismatch: aud 'someone-else'"
    assert refused(verifier, sign(claims_for("id", aud=None))) == "audience mismatch: aud None"
    assert verifier.verify(sign(claims_for("id", aud=["x", CLIENT_ID]))).username == "alice"
    # An access token is matched on client_id; its aud (Cognito sends none) is not what counts.
    assert (
        refused(verifier, sign(claims_for("access", client_id="someone-else", aud=CLIENT_ID)))
        == "audience mismatch: client_id 'someone-else'"
    )
    assert refused(verifier, sign(claims_for("access", client_id=None))) == "audience mismatch: client_id None"


def test_missing_username(verifier: JwtVerifier) -> None:
    no_user = claims_for("id")
    del no_user["cognito:username"]
    assert refused(verifier, sign(no_user)) == "id token has no cognito:username claim"
    # An access token's user is in "username", not "cognito:username".
    access = claims_for("access")
    del access["username"]
    access["cognito:username"] = "alice"
    assert refused(verifier, sign(access)) == "access token has no username claim"


# --- refused signatures and headers -------------------------------------------------------------------


def test_signature_by_another_key_with_the_same_kid(verifier: JwtVerifier) -> None:
    assert refused(verifier, sign(claims_for(), RSA_IMPOSTOR, "rsa1")) == "bad signature"


def test_tampered_payload(verifier: JwtVerifier) -> None:
    header, _, signature = sign(claims_for(username="alice")).split(".")
    forged = b64url(json.dumps(claims_for(username="admin")).encode())
    assert refused(verifier, f"{header}.{forged}.{signature}") == "bad signature"


def test_unknown_kid_wants_refresh_and_verifies_after_rotation(server: JwksServer, verifier: JwtVerifier) -> None:
    token = sign(claims_for(), RSA2, "rsa2")
    assert not verifier.refresh_wanted
    assert refused(verifier, token) == "unknown signing key id 'rsa2'"
    assert verifier.refresh_wanted
    server.body = jwks(rsa_jwk(RSA1, "rsa1"), rsa_jwk(RSA2, "rsa2"))
    hits = server.hits
    assert verifier.maybe_refresh()
    assert server.hits == hits + 1
    assert not verifier.refresh_wanted
    assert verifier.key_ids == ("rsa1", "rsa2")
    assert verifier.verify(token).username == "alice"


def test_unknown_kid_refresh_is_rate_limited(server: JwksServer) -> None:
    v = make_verifier(server.url, min_refresh_gap=3600.0)
    assert v.refresh_wanted  # never loaded
    v.load_keys()
    assert refused(v, sign(claims_for(), RSA2, "made-up")) == "unknown signing key id 'made-up'"
    assert not v.refresh_wanted
    hits = server.hits
    assert not v.maybe_refresh()
    assert server.hits == hits


def test_refresh_interval_makes_keys_stale(server: JwksServer) -> None:
    v = make_verifier(server.url, refresh_interval=0.0, min_refresh_gap=0.0)
    v.load_keys()
    assert v.refresh_wanted


def test_alg_none_refused(verifier: JwtVerifier) -> None:
    for alg in ("none", "None", "NONE"):
        token = hand_made({"alg": alg, "typ": "JWT", "kid": "rsa1"}, claims_for())
        assert looks_like_jwt(token)
        assert refused(verifier, token) == (
            f"algorithm {alg!r} is not allowed (allowed: ES256, ES384, RS256, RS384, RS512)"
        )


def test_hs256_key_confusion_refused(verifier: JwtVerifier) -> None:
    """The classic attack: HMAC-sign with the RSA *public* key's bytes, hoping the verifier uses them as a secret."""
    pem = RSA1.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = {"alg": "HS256", "typ": "JWT", "kid": "rsa1"}
    unsigned = hand_made(header, claims_for()).rsplit(".", 1)[0]
    token = unsigned + "." + b64url(hmac.new(pem, unsigned.encode(), hashlib.sha256).digest())
    assert refused(verifier, token).startswith("algorithm 'HS256' is not allowed")


def test_algorithm_must_fit_the_key(verifier: JwtVerifier) -> None:
    # An EC-signed token naming the RSA key's kid, and the reverse.
    assert (
        refused(verifier, sign(claims_for(), EC1, "rsa1", "ES256")) == "algorithm ES256 does not fit signing key 'rsa1'"
    )
    assert (
        refused(verifier, sign(claims_for(), RSA1, "ec1", "RS256")) == "algorithm RS256 does not fit signing key 'ec1'"
    )
    assert (
        refused(verifier, sign(claims_for(), RSA1, "rsa1", "RS512"))
        == "algorithm RS512 does not fit signing key 'rsa1'"
    )


def test_missing_kid_and_critical_header(verifier: JwtVerifier) -> None:
    assert refused(verifier, sign(claims_for(), kid=None)) == "token header has no kid"
    crit = jwt.encode(claims_for(), RSA1, algorithm="RS256", headers={"kid": "rsa1", "crit": ["exp"], "exp": 1})
    assert "critical extension" in refused(verifier, crit)


@pytest.mark.parametrize(
    ("garbage", "reason"),
    [
        ("", "malformed token: "),
        ("demo", "malformed token: "),
        ("a.b.c", "malformed token: "),
        ("...", "malformed token: "),
        ("a.b", "malformed token: "),
        ("a.b.c.d", "malformed token: "),
        ("\x00.\x01.\x02", "malformed token: "),
        ("é.é.é", "malformed token: "),
        (f"{HEADER_RSA1}.e30", "malformed token: "),  # two segments
        (f"{HEADER_RSA1}..", "bad signature"),  # the signature is checked before the (empty) payload is parsed
        (f"{HEADER_RSA1}.e30.c2ln", "bad signature"),
    ],
)
def test_garbage_refused(verifier: JwtVerifier, garbage: str, reason: str) -> None:
    assert refused(verifier, garbage).startswith(reason)


def test_overlong_token_refused(verifier: JwtVerifier) -> None:
    assert refused(verifier, "a" * 20_000 + ".b.c") == "token is longer than 16384 characters"


def test_truncated_tokens_refused(verifier: JwtVerifier) -> None:
    token = sign(claims_for())
    assert refused(verifier, token.rsplit(".", 1)[0]).startswith("malformed token: ")
    assert refused(verifier, token.rsplit(".", 1)[0] + ".") == "bad signature"
    for cut in (1, 2, 3, 10, 100, len(token) // 2):
        reason = refused(verifier, token[:-cut])
        assert reason == "bad signature" or reason.startswith("malformed token: "), reason


def test_non_json_header_and_payload(verifier: JwtVerifier) -> None:
    payload = b64url(json.dumps(claims_for()).encode())
    assert refused(verifier, f"{b64url(b'not json')}.{payload}.c2ln").startswith("malformed token: ")
    assert refused(verifier, f"{b64url(b'[1,2]')}.{payload}.c2ln").startswith("malformed token: ")
    assert refused(verifier, f"{b64url(b'{}')}.{payload}.c2ln").startswith("algorithm None is not allowed")

    def rs256(payload: bytes) -> str:  # validly signed, whatever the payload
        signing_input = f"{HEADER_RSA1}.{b64url(payload)}"
        return f"{signing_input}.{b64url(RSA1.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()))}"

    assert refused(verifier, rs256(b"[not json")).startswith("malformed token: Invalid payload string")
    assert refused(verifier, rs256(b"[1]")) == "malformed token: Invalid payload string: must be a json object"
    assert refused(verifier, rs256(b"{}")) == "token has no exp claim"


def test_deeply_nested_json_refused(verifier: JwtVerifier) -> None:
    nested = f"{b64url(b'[' * 5000)}.e30.c2ln"
    assert not looks_like_jwt(nested)
    assert refused(verifier, nested).startswith("malformed token: ")


def test_looks_like_jwt() -> None:
    assert looks_like_jwt(sign(claims_for()))
    assert looks_like_jwt(sign(claims_for(), EC1, "ec1", "ES256"))
    for text in ("demo", "", "a.b.c", "correct.horse.battery", "...", "x.y", "p@ss.w0rd.!!", "a" * 20_000):
        assert not looks_like_jwt(text), text
    no_alg = f"{b64url(json.dumps({'typ': 'JWT'}).encode())}.{b64url(b'{}')}.c2ln"
    assert not looks_like_jwt(no_alg)
    padded = sign(claims_for()).split(".")
    assert not looks_like_jwt(f"{padded[0]}==.{padded[1]}.{padded[2]}")


# --- loading the key set ------------------------------------------------------------------------------


def test_jwks_server_down() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/jwks.json"
    v = make_verifier(url, timeout=2.0)
    with pytest.raises(JwtError, match=rf"^JWKS fetch from {url} failed: .*refused"):
        v.load_keys()
    assert v.key_ids == ()
    assert refused(v, sign(claims_for())) == "unknown signing key id 'rsa1'"


def test_jwks_http_errors(server: JwksServer) -> None:
    v = make_verifier(server.url.replace("jwks.json", "missing.json"))
    with pytest.raises(JwtError, match=r"^JWKS fetch from http://\S+/missing.json failed: HTTP 404 Not Found$"):
        v.load_keys()
    server.status = 500
    with pytest.raises(JwtError, match=r"failed: HTTP 500 Internal Server Error$"):
        make_verifier(server.url).load_keys()
    server.status = 204
    with pytest.raises(JwtError, match=r"failed: HTTP 204$"):
        make_verifier(server.url).load_keys()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>oops</html>", "is not valid JSON: "),
        (b"\xff\xfe", "is not valid JSON: "),
        (b"[]", "has no 'keys' list"),
        (b'{"keys": {}}', "has no 'keys' list"),
        (b'{"keys": []}', "has no keys"),
    ],
)
def test_jwks_bad_documents(server: JwksServer, body: bytes, message: str) -> None:
    server.body = body
    with pytest.raises(JwtError) as info:
        make_verifier(server.url).load_keys()
    assert str(info.value).startswith(f"JWKS from {server.url} {message}")


def test_jwks_too_large(server: JwksServer) -> None:
    server.body = b" " * (1024 * 1024 + 1)
    with pytest.raises(JwtError, match=r"is larger than 1048576 bytes$"):
        make_verifier(server.url).load_keys()


def test_jwks_timeout(server: JwksServer) -> None:
    server.delay = 2.0
    with pytest.raises(JwtError, match=rf"^JWKS fetch from {server.url} failed: .*timed out"):
        make_verifier(server.url, timeout=0.2).load_keys()


def test_jwks_without_usable_keys(server: JwksServer) -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    server.body = jwks(
        {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
        rsa_jwk(small, "small"),
        rsa_jwk(RSA1, "enc", use="enc"),
        rsa_jwk(RSA1, "hs", alg="HS256"),
        {**rsa_jwk(RSA1, "nokid"), "kid": None},
    )
    with pytest.raises(JwtError) as info:
        make_verifier(server.url).load_keys()
    reason = str(info.value)
    assert reason.startswith(f"JWKS from {server.url} has no usable RSA/EC signing keys (")
    assert "key 'hmac': kty 'oct' is not RSA or EC" in reason
    assert "key 'small': RSA key of 1024 bits is too short" in reason
    assert "key 'enc': use 'enc' is not sig" in reason
    assert "key 'hs': alg 'HS256' is not allowed" in reason
    assert "key without a kid" in reason


def test_jwks_skips_bad_entries_but_keeps_good_ones(server: JwksServer) -> None:
    private = {**rsa_jwk(RSA2, "leaked"), **{k: "AQAB" for k in ("d", "p", "q", "dp", "dq", "qi")}}
    server.body = jwks(rsa_jwk(RSA1, "rsa1"), {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"}, private, "junk")
    v = make_verifier(server.url)
    v.load_keys()
    assert v.key_ids == ("rsa1",)
    assert v.skipped_keys == (
        "key 'hmac': kty 'oct' is not RSA or EC",
        "key 'leaked': contains private key material",
        "entry is not a JSON object",
    )


def test_failed_reload_keeps_the_old_keys(server: JwksServer, verifier: JwtVerifier) -> None:
    server.status = 503
    with pytest.raises(JwtError, match="HTTP 503"):
        verifier.load_keys()
    assert verifier.verify(sign(claims_for())).username == "alice"


def test_reloads_in_threads_while_verifying(server: JwksServer, verifier: JwtVerifier) -> None:
    token = sign(claims_for())
    errors: list[BaseException] = []

    def reload() -> None:
        try:
            for _ in range(5):
                verifier.load_keys()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reload) for _ in range(4)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        assert verifier.verify(token).username == "alice"
    for t in threads:
        t.join()
    assert errors == []


def test_constructor_checks_config() -> None:
    with pytest.raises(ValueError, match=r"jwt\.issuer is required"):
        JwtVerifier(JwtConfig(jwks_url="https://example.com/jwks.json"))
    with pytest.raises(ValueError, match="must be an http"):
        JwtVerifier(JwtConfig(jwks_url="file:///etc/passwd", issuer=ISSUER))
    with pytest.raises(ValueError, match="must be an http"):
        JwtVerifier(JwtConfig(issuer=ISSUER))


# --- the Authenticator --------------------------------------------------------------------------------

ALICE_PASSWORD = "correct horse battery staple"
USERS = (
    User("alice", hash_password(ALICE_PASSWORD), ("ACC1",)),
    User("bob", hash_password("bob's password"), ("ACC2",)),
)


@pytest.fixture
def scrypt_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts real scrypt verifications (the real function still runs) by the user whose hash is checked."""
    calls: list[str] = []
    real = verify_password
    by_hash = {u.password_hash: u.username for u in USERS}

    def counting(password: str, stored: str) -> bool:
        calls.append(by_hash[stored])
        return real(password, stored)

    monkeypatch.setattr(jwt_auth, "verify_password", counting)
    return calls


def test_password_path_and_cache(scrypt_calls: list[str]) -> None:
    auth = Authenticator(GatewayConfig(users=USERS), None)
    assert auth.authenticate("alice", ALICE_PASSWORD) is USERS[0]
    assert (scrypt_calls, auth.scrypt_checks, auth.cache_hits) == (["alice"], 1, 0)
    assert auth.authenticate("alice", ALICE_PASSWORD) is USERS[0]  # the fast path: no scrypt
    assert (scrypt_calls, auth.scrypt_checks, auth.cache_hits) == (["alice"], 1, 1)
    assert auth.last_error == ""
    # A wrong password after a cached right one still goes through scrypt, and is refused.
    assert auth.authenticate("alice", "correct horse battery stapl") is None
    assert auth.last_error == "bad password"
    assert scrypt_calls == ["alice", "alice"]
    assert auth.authenticate("alice", "") is None
    assert scrypt_calls == ["alice", "alice", "alice"]
    # ... and does not evict the right one.
    assert auth.authenticate("alice", ALICE_PASSWORD) is USERS[0]
    assert (len(scrypt_calls), auth.cache_hits) == (3, 2)
    # Alice's cached password is not Bob's.
    assert auth.authenticate("bob", ALICE_PASSWORD) is None
    assert scrypt_calls[-1] == "bob"


def test_wrong_password_is_never_cached(scrypt_calls: list[str]) -> None:
    auth = Authenticator(GatewayConfig(users=USERS), None)
    for _ in range(3):
        assert auth.authenticate("alice", "guess") is None
        assert auth.last_error == "bad password"
    assert (scrypt_calls, auth.cache_hits) == (["alice"] * 3, 0)


def test_unknown_user(scrypt_calls: list[str], verifier: JwtVerifier) -> None:
    auth = Authenticator(GatewayConfig(users=USERS), verifier)
    assert auth.authenticate("mallory", ALICE_PASSWORD) is None
    assert auth.last_error == "unknown user"
    assert auth.authenticate("mallory", sign(claims_for(username="mallory"))) is None
    assert auth.last_error == "unknown user"
    assert scrypt_calls == []


def test_token_path(scrypt_calls: list[str], verifier: JwtVerifier) -> None:
    auth = Authenticator(GatewayConfig(users=USERS), verifier)
    assert auth.authenticate("alice", sign(claims_for("id"))) is USERS[0]
    assert auth.authenticate("bob", sign(claims_for("access", username="bob"), EC1, "ec1", "ES256")) is USERS[1]
    assert auth.last_error == ""
    assert scrypt_calls == []
    # Passwords still work next to tokens.
    assert auth.authenticate("alice", ALICE_PASSWORD) is USERS[0]
    assert scrypt_calls == ["alice"]


def test_token_for_another_user_refused(scrypt_calls: list[str], verifier: JwtVerifier) -> None:
    auth = Authenticator(GatewayConfig(users=USERS), verifier)
    token = sign(claims_for(username="bob"))
    assert auth.authenticate("alice", token) is None
    assert auth.last_error == "token is for user 'bob', not Username(553) 'alice'"
    assert scrypt_calls == []


def test_refused_token_reason_without_secrets(scrypt_calls: list[str], verifier: JwtVerifier) -> None:
    auth = Authenticator(GatewayConfig(users=USERS), verifier)
    now = int(time.time())
    token = sign(claims_for(exp=now - 3600, iat=now - 7200))
    assert auth.authenticate("alice", token) is None
    assert auth.last_error == "token expired"
    assert refused(verifier, sign(claims_for(), RSA_IMPOSTOR)) == "bad signature"
    assert auth.authenticate("alice", sign(claims_for(), RSA_IMPOSTOR)) is None
    assert auth.last_error == "bad signature"
    assert scrypt_calls == []  # a refused token does not fall back to the password check
    assert auth.authenticate("alice", "not the password") is None
    assert "not the password" not in auth.last_error


def test_tokens_are_passwords_without_a_verifier(scrypt_calls: list[str]) -> None:
    auth = Authenticator(GatewayConfig(users=USERS), None)
    assert auth.authenticate("alice", sign(claims_for())) is None
    assert auth.last_error == "bad password"
    assert scrypt_calls == ["alice"]
