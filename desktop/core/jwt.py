"""HS256 JSON Web Tokens, the kind Label Studio issues as personal access tokens.

Twenty lines of hmac do what is needed; no dependency is worth it.
"""

import base64
import hashlib
import hmac

import orjson


class InvalidToken(Exception):
    pass


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode(payload, key):
    header = _b64(orjson.dumps({"alg": "HS256", "typ": "JWT"}))
    body = _b64(orjson.dumps(payload))
    signing_input = f"{header}.{body}".encode()
    signature = hmac.new(key.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"


def decode(token, key):
    """The payload of a token signed with `key`; InvalidToken if it is not one. No expiry check."""
    try:
        header, body, signature = token.split(".")
        expected = hmac.new(key.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(_unb64(signature), expected):
            raise InvalidToken("bad signature")
        if orjson.loads(_unb64(header)).get("alg") != "HS256":
            raise InvalidToken("bad algorithm")
        payload = orjson.loads(_unb64(body))
    except (ValueError, AttributeError, orjson.JSONDecodeError):
        raise InvalidToken("malformed") from None
    if not isinstance(payload, dict):
        raise InvalidToken("malformed")
    return payload
