"""Password hashing for gateway users: scrypt, stored as ``scrypt$n$r$p$salt_b64$hash_b64``.

::

    stored = hash_password("s3cret")          # e.g. for a [[users]] password_hash in the TOML file
    verify_password("s3cret", stored)        # True; comparison is constant-time

A stored hash that does not parse (wrong scheme, field count, parameters or base64) is a ValueError,
never a silent ``False``: a broken configuration must not look like a wrong password.

Command line, to write a hash into a configuration file (the password is read from stdin, not argv)::

    printf '%s' 's3cret' | python -m pyengine.gateway.auth hash
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import sys
from typing import Final

__all__ = ["SCRYPT_N", "SCRYPT_P", "SCRYPT_R", "hash_password", "verify_password"]

SCRYPT_N: Final = 2**14
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
SALT_BYTES: Final = 16
HASH_BYTES: Final = 32
_SCHEME: Final = "scrypt"
# Bounds on parameters accepted from a stored hash, so a hostile config cannot ask for gigabytes of memory.
_MAX_N: Final = 2**20
_MAX_R: Final = 32
_MAX_P: Final = 16
_MAX_MEMORY: Final = 256 * 1024 * 1024


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    maxmem = 128 * r * (n + 2) + 128 * r * p + 1024 * 1024  # OpenSSL's need (V + B), plus slack
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=dklen)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """Hash ``password`` with scrypt (n=2**14, r=8, p=1) and a fresh 16-byte random salt."""
    if not isinstance(password, str):
        raise TypeError(f"password must be a str, not {type(password).__name__}")
    salt = os.urandom(SALT_BYTES)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, HASH_BYTES)
    return f"{_SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def _parse_int(text: str, name: str, low: int, high: int) -> int:
    if not text.isdigit() or not text.isascii():
        raise ValueError(f"malformed password hash: {name} {text!r} is not a decimal integer")
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f"malformed password hash: {name}={value} outside {low}..{high}")
    return value


def _parse_b64(text: str, name: str) -> bytes:
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError(f"malformed password hash: {name} is not valid base64") from exc
    if not data:
        raise ValueError(f"malformed password hash: {name} is empty")
    return data


def parse_hash(stored: str) -> tuple[int, int, int, bytes, bytes]:
    """Split a stored hash into ``(n, r, p, salt, digest)``; ValueError if it is malformed."""
    if not isinstance(stored, str):
        raise ValueError(f"malformed password hash: expected a str, not {type(stored).__name__}")
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != _SCHEME:
        raise ValueError("malformed password hash: expected 'scrypt$n$r$p$salt_b64$hash_b64'")
    n = _parse_int(parts[1], "n", 2, _MAX_N)
    if n & (n - 1):
        raise ValueError(f"malformed password hash: n={n} is not a power of two")
    r = _parse_int(parts[2], "r", 1, _MAX_R)
    p = _parse_int(parts[3], "p", 1, _MAX_P)
    if 128 * n * r > _MAX_MEMORY:
        raise ValueError(f"malformed password hash: n={n}, r={r} would need more than {_MAX_MEMORY >> 20} MiB")
    salt = _parse_b64(parts[4], "salt")
    digest = _parse_b64(parts[5], "hash")
    if len(digest) > 64:
        raise ValueError(f"malformed password hash: hash is {len(digest)} bytes, at most 64 expected")
    return n, r, p, salt, digest


def verify_password(password: str, stored: str) -> bool:
    """True if ``password`` matches ``stored``; constant-time comparison; ValueError for a malformed hash."""
    n, r, p, salt, digest = parse_hash(stored)
    candidate = _scrypt(password, salt, n, r, p, len(digest))
    return hmac.compare_digest(candidate, digest)


def _main(argv: list[str]) -> int:
    usage = "usage: python -m pyengine.gateway.auth hash   (reads the password from stdin, prints its hash)"
    if argv != ["hash"]:
        print(usage, file=sys.stderr)
        return 2
    if sys.stdin.isatty():
        import getpass

        password = getpass.getpass("password: ")
    else:
        password = sys.stdin.read()
        if password.endswith("\n"):  # `echo pw |` adds one newline; keep any other whitespace
            password = password[:-1]
            if password.endswith("\r"):
                password = password[:-1]
    if not password:
        print("error: empty password", file=sys.stderr)
        return 1
    print(hash_password(password))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
