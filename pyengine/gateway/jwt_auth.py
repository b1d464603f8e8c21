"""Logon authentication: scrypt passwords, and (when a JWKS URL is configured) AWS Cognito-style JWTs.

::

    verifier = JwtVerifier(config.jwt)                  # config.jwt.jwks_url is set
    await loop.run_in_executor(None, verifier.load_keys)  # blocking fetch; JwtError if unusable
    auth = Authenticator(config, verifier)
    user = auth.authenticate(username, password)        # on the event loop; None → refuse, see auth.last_error
    ...
    await loop.run_in_executor(None, verifier.maybe_refresh)  # every few seconds, in the background

The Password(554) of a Logon may carry a Cognito id or access token instead of a password. The token must be
signed by a key of the configured JWKS with an asymmetric algorithm, unexpired, from the configured issuer,
with ``token_use`` "id" or "access", for the configured app client when one is set, and for the same user as
Username(553). The user's accounts and rights still come from the gateway configuration, never from the token.

:meth:`JwtVerifier.verify` never does network I/O, so it is safe on the event loop: a token signed with a key
the verifier does not know yet is refused, and the verifier asks (:attr:`JwtVerifier.refresh_wanted`) for a
background reload of the key set, at most once per ``min_refresh_gap`` so that tokens with made-up key ids
cannot make the gateway hammer the identity provider.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import math
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from pyengine.gateway.auth import verify_password
from pyengine.gateway.config import GatewayConfig, JwtConfig, User

__all__ = [
    "ALLOWED_ALGORITHMS",
    "Authenticator",
    "JwtError",
    "JwtIdentity",
    "JwtVerifier",
    "looks_like_jwt",
]

#: Asymmetric algorithms only: "none" would skip the signature, and HS* would let anyone who knows a public
#: key (it is public) sign tokens with it as the HMAC secret.
ALLOWED_ALGORITHMS: Final = frozenset({"RS256", "RS384", "RS512", "ES256", "ES384"})
_RSA_ALGORITHMS: Final = frozenset({"RS256", "RS384", "RS512"})
_EC_CURVE_ALGORITHM: Final[Mapping[str, str]] = {"P-256": "ES256", "P-384": "ES384"}
_MIN_RSA_BITS: Final = 2048
_MAX_TOKEN_CHARS: Final = 16 * 1024  # Cognito tokens are 1-4 KiB; anything far larger is not one
_MAX_JWKS_BYTES: Final = 1024 * 1024
_MAX_SHOWN: Final = 120  # longest attacker-supplied text quoted in an error message
_TOKEN_USES: Final = ("id", "access")
_USERNAME_CLAIM: Final[Mapping[str, str]] = {"id": "cognito:username", "access": "username"}


class JwtError(Exception):
    """A token or key set was refused; ``str(exc)`` (also :attr:`reason`) says why, fit for a log line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class JwtIdentity:
    """Who a verified token names. ``claims`` is the whole verified payload (left out of repr: it may hold PII)."""

    username: str
    token_use: str
    claims: dict[str, Any] = field(repr=False, hash=False, compare=False)


@dataclass(frozen=True)
class _Key:
    kid: str
    key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey
    algorithms: frozenset[str]  # which header "alg" values this key may verify


def _show(value: object) -> str:
    """repr() of attacker-supplied text, cut short so a hostile token cannot flood the log."""
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _b64url_decode(segment: str) -> bytes:
    if not segment or not all(c.isascii() and (c.isalnum() or c in "-_") for c in segment):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def looks_like_jwt(text: str) -> bool:
    """True if ``text`` has the shape of a compact JWS: ``header.payload.signature``, base64url, JSON header
    with an "alg". An ordinary password practically never passes, so it is never sent down the token path."""
    if len(text) > _MAX_TOKEN_CHARS:
        return False
    parts = text.split(".")
    if len(parts) != 3 or not parts[1]:
        return False
    if parts[2] and not all(c.isascii() and (c.isalnum() or c in "-_") for c in parts[2]):
        return False
    try:
        header = json.loads(_b64url_decode(parts[0]))
        _b64url_decode(parts[1])
    except (ValueError, RecursionError):  # binascii, JSON and UTF-8 errors are ValueErrors; "[[[[..." recurses
        return False
    return isinstance(header, dict) and "alg" in header


def _parse_key(entry: object, seen: Mapping[str, _Key]) -> _Key | str:
    """One JWKS entry → a usable verification key, or the reason it is skipped."""
    if not isinstance(entry, dict):
        return "entry is not a JSON object"
    kid = entry.get("kid")
    if not isinstance(kid, str) or not kid:
        return "key without a kid"
    name = f"key {_show(kid)}"
    kty, alg, use = entry.get("kty"), entry.get("alg"), entry.get("use")
    if kty not in ("RSA", "EC"):
        return f"{name}: kty {_show(kty)} is not RSA or EC"
    if use is not None and use != "sig":
        return f"{name}: use {_show(use)} is not sig"
    if alg is not None and (not isinstance(alg, str) or alg not in ALLOWED_ALGORITHMS):
        return f"{name}: alg {_show(alg)} is not allowed"
    if "d" in entry:  # a published private key is a broken identity provider, not a verification key
        return f"{name}: contains private key material"
    if kid in seen:
        return f"{name}: duplicate kid (the first one is kept)"
    try:
        key = jwt.PyJWK(entry).key
    except jwt.PyJWTError as exc:
        return f"{name}: {exc}"
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < _MIN_RSA_BITS:
            return f"{name}: RSA key of {key.key_size} bits is too short"
        return _Key(kid, key, frozenset({alg}) if alg else _RSA_ALGORITHMS)
    if isinstance(key, ec.EllipticCurvePublicKey):
        curve_alg = _EC_CURVE_ALGORITHM.get(str(entry.get("crv")))
        if curve_alg is None or (alg is not None and alg != curve_alg):
            return f"{name}: curve {_show(entry.get('crv'))} does not fit alg {_show(alg)}"
        return _Key(kid, key, frozenset({curve_alg}))
    return f"{name}: not a public key"


def _number(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    # NaN and Infinity (Python's json accepts them) would make "exp" never expire.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise JwtError(f"{name} claim is not a number")
    return float(value)


class JwtVerifier:
    """Checks Cognito-style JWTs against a JWKS fetched from ``config.jwks_url``.

    Thread-safety: :meth:`load_keys` may run in any thread while :meth:`verify` runs on the event loop; the
    key set is replaced as one dict, never mutated, so a verify sees either the old set or the new one.
    """

    def __init__(
        self,
        config: JwtConfig,
        *,
        timeout: float = 5.0,
        refresh_interval: float = 3600.0,
        min_refresh_gap: float = 30.0,
        leeway: float = 30.0,
    ) -> None:
        if not config.jwks_url or not config.jwks_url.startswith(("https://", "http://")):
            raise ValueError(f"jwt.jwks_url must be an http(s) URL, got {config.jwks_url!r}")
        if not config.issuer:
            raise ValueError("jwt.issuer is required: tokens must be checked against an issuer")
        self.config = config
        self.timeout = timeout
        self.refresh_interval = refresh_interval
        self.min_refresh_gap = min_refresh_gap
        self.leeway = leeway
        self._keys: Mapping[str, _Key] = {}
        self._skipped: tuple[str, ...] = ()
        self._load_lock = threading.Lock()  # one fetch at a time, so an older answer never replaces a newer one
        self._state_lock = threading.Lock()
        self._loaded_at: float | None = None  # time.monotonic() of the last successful load
        self._attempted_at: float | None = None  # ... and of the last attempt, successful or not
        self._kid_miss = False

    # --- the key set (blocking; call from a thread) ----------------------------------------------------

    def load_keys(self) -> None:
        """Fetch and parse the JWKS, then swap it in; JwtError (old keys kept) on any failure."""
        url = self.config.jwks_url
        assert url is not None
        with self._load_lock:
            with self._state_lock:
                self._attempted_at = time.monotonic()
                miss, self._kid_miss = self._kid_miss, False
            try:
                keys, skipped = self._fetch(url)
            except JwtError:
                with self._state_lock:
                    self._kid_miss = self._kid_miss or miss
                raise
            with self._state_lock:
                self._keys = keys
                self._skipped = skipped
                self._loaded_at = time.monotonic()

    def _fetch(self, url: str) -> tuple[dict[str, _Key], tuple[str, ...]]:
        request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "pyengine"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
                body = response.read(_MAX_JWKS_BYTES + 1)
        except urllib.error.HTTPError as exc:
            raise JwtError(f"JWKS fetch from {url} failed: HTTP {exc.code} {exc.reason}") from None
        except urllib.error.URLError as exc:
            raise JwtError(f"JWKS fetch from {url} failed: {exc.reason}") from None
        except (OSError, ValueError, http.client.HTTPException) as exc:  # timeouts, resets, broken responses
            raise JwtError(f"JWKS fetch from {url} failed: {str(exc) or type(exc).__name__}") from None
        if status != 200:
            raise JwtError(f"JWKS fetch from {url} failed: HTTP {status}")
        if len(body) > _MAX_JWKS_BYTES:
            raise JwtError(f"JWKS from {url} is larger than {_MAX_JWKS_BYTES} bytes")
        try:
            doc = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise JwtError(f"JWKS from {url} is not valid JSON: {exc}") from None
        entries = doc.get("keys") if isinstance(doc, dict) else None
        if not isinstance(entries, list):
            raise JwtError(f"JWKS from {url} has no 'keys' list")
        if not entries:
            raise JwtError(f"JWKS from {url} has no keys")
        keys: dict[str, _Key] = {}
        skipped: list[str] = []
        for entry in entries:
            parsed = _parse_key(entry, keys)
            if isinstance(parsed, str):
                skipped.append(parsed)
            else:
                keys[parsed.kid] = parsed
        if not keys:
            raise JwtError(f"JWKS from {url} has no usable RSA/EC signing keys ({'; '.join(skipped)})")
        return keys, tuple(skipped)

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(sorted(self._keys))

    @property
    def skipped_keys(self) -> tuple[str, ...]:
        """Why entries of the last loaded JWKS were ignored, for a start-up log line."""
        return self._skipped

    @property
    def refresh_wanted(self) -> bool:
        """True when the key set should be reloaded: never loaded, a token named an unknown kid, or it is older
        than ``refresh_interval`` — but never sooner than ``min_refresh_gap`` after the previous attempt."""
        now = time.monotonic()
        with self._state_lock:
            if self._attempted_at is not None and now - self._attempted_at < self.min_refresh_gap:
                return False
            if self._loaded_at is None or self._kid_miss:
                return True
            return now - self._loaded_at >= self.refresh_interval

    def maybe_refresh(self) -> bool:
        """Blocking: :meth:`load_keys` if :attr:`refresh_wanted`; True if it reloaded. JwtError if that failed."""
        if not self.refresh_wanted:
            return False
        self.load_keys()
        return True

    # --- tokens (no I/O; event loop) -------------------------------------------------------------------

    def verify(self, token: str) -> JwtIdentity:
        """The identity in ``token`` if it passes every check; JwtError saying which check failed otherwise."""
        if len(token) > _MAX_TOKEN_CHARS:
            raise JwtError(f"token is longer than {_MAX_TOKEN_CHARS} characters")
        try:
            header = jwt.get_unverified_header(token)
        except (jwt.PyJWTError, RecursionError) as exc:
            raise JwtError(f"malformed token: {exc}") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in ALLOWED_ALGORITHMS:
            raise JwtError(f"algorithm {_show(alg)} is not allowed (allowed: {', '.join(sorted(ALLOWED_ALGORITHMS))})")
        if "crit" in header:  # RFC 7515 §4.1.11: extensions we do not understand must be refused
            raise JwtError("token header has critical extensions, none are supported")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise JwtError("token header has no kid")
        key = self._keys.get(kid)
        if key is None:
            with self._state_lock:
                self._kid_miss = True
            raise JwtError(f"unknown signing key id {_show(kid)}")
        if alg not in key.algorithms:
            raise JwtError(f"algorithm {alg} does not fit signing key {_show(kid)}")
        try:
            # Signature only: the claims are checked below, the same way whatever the PyJWT version.
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                options={
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_aud": False,
                    "verify_iss": False,
                    "verify_sub": False,
                    "verify_jti": False,
                },
            )
        except jwt.InvalidSignatureError:
            raise JwtError("bad signature") from None
        except (jwt.PyJWTError, RecursionError) as exc:
            raise JwtError(f"malformed token: {exc}") from None
        return self._check_claims(claims)

    def _check_claims(self, claims: dict[str, Any]) -> JwtIdentity:
        now = time.time()
        exp = _number(claims, "exp")
        if exp is None:
            raise JwtError("token has no exp claim")
        if exp <= now - self.leeway:
            raise JwtError("token expired")
        iat = _number(claims, "iat")
        if iat is not None and iat > now + self.leeway:
            raise JwtError("token issued in the future (iat)")
        nbf = _number(claims, "nbf")
        if nbf is not None and nbf > now + self.leeway:
            raise JwtError("token not yet valid (nbf)")
        iss = claims.get("iss")
        if iss != self.config.issuer:
            raise JwtError(f"issuer mismatch: {_show(iss)}")
        token_use = claims.get("token_use")
        if token_use not in _TOKEN_USES:
            raise JwtError(f"token_use must be id or access, not {_show(token_use)}")
        audience = self.config.audience
        if audience is not None:
            if token_use == "id":
                aud = claims.get("aud")
                # RFC 7519 §4.1.3 allows a list; Cognito always sends one string.
                if aud != audience and not (isinstance(aud, list) and audience in aud):
                    raise JwtError(f"audience mismatch: aud {_show(aud)}")
            elif claims.get("client_id") != audience:
                raise JwtError(f"audience mismatch: client_id {_show(claims.get('client_id'))}")
        username_claim = _USERNAME_CLAIM[token_use]
        username = claims.get(username_claim)
        if not isinstance(username, str) or not username:
            raise JwtError(f"{token_use} token has no {username_claim} claim")
        return JwtIdentity(username, token_use, claims)


class Authenticator:
    """The gateway's Logon check: a JWT when a verifier is configured and the password looks like one,
    a scrypt password otherwise.

    scrypt costs ~50 ms and this runs on the event loop, so a successful password check is remembered as an
    HMAC-SHA256 of the password under a random per-process key: a reconnect with the same password costs
    microseconds, the plaintext is never kept, and the MACs are useless outside this process. A wrong password
    always pays for scrypt: there is no negative cache an attacker could benefit from.
    """

    def __init__(self, config: GatewayConfig, verifier: JwtVerifier | None) -> None:
        self.config = config
        self.verifier = verifier
        self.last_error = ""
        #: Counters for /metrics: scrypt verifications run, and logons answered from the cache.
        self.scrypt_checks = 0
        self.cache_hits = 0
        self._mac_key = secrets.token_bytes(32)
        self._verified: dict[str, tuple[str, bytes]] = {}  # username → (password_hash, MAC of the password)

    def authenticate(self, username: str, password: str) -> User | None:
        """The configured user if the credentials are good, else None with :attr:`last_error` saying why.

        A password that looks like a JWT is only ever checked as a token (no fallback to scrypt), so a
        refused token is reported as such. ValueError if the user's stored hash is malformed (a config bug).
        """
        self.last_error = ""
        try:
            user = self.config.user(username)
        except KeyError:
            self.last_error = "unknown user"
            return None
        if self.verifier is not None and looks_like_jwt(password):
            try:
                identity = self.verifier.verify(password)
            except JwtError as exc:
                self.last_error = exc.reason
                return None
            if identity.username != username:
                self.last_error = f"token is for user {_show(identity.username)}, not Username(553) {_show(username)}"
                return None
            return user
        return user if self._check_password(user, password) else None

    def _check_password(self, user: User, password: str) -> bool:
        mac = hmac.new(self._mac_key, password.encode("utf-8"), hashlib.sha256).digest()
        cached = self._verified.get(user.username)
        if cached is not None and cached[0] == user.password_hash and hmac.compare_digest(cached[1], mac):
            self.cache_hits += 1
            return True
        self.scrypt_checks += 1
        if not verify_password(password, user.password_hash):
            self.last_error = "bad password"
            return False
        self._verified[user.username] = (user.password_hash, mac)
        return True
