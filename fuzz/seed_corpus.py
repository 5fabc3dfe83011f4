#!/usr/bin/env python3
"""Writes the seed inputs of every fuzz target into fuzz/corpus/<target>/.

Real tokens signed with the fixed fuzzing key (seed 0x07 * 32, kid
latchkey_fuzz::KID), their broken and forged variants, real headers, bodies
and original URIs. `fuzz/run --minimize` then keeps what adds coverage.
Needs the `cryptography` package (pip install cryptography).
"""
import base64
import hashlib
import json
import os
import time
import uuid

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

HERE = os.path.dirname(os.path.abspath(__file__))
KID = "0193a1b2c3d47000800000000000f022"
ISS, AUD = "http://127.0.0.1:8080", "latchkey"
COMPANY = "0193a1b2-0000-7000-8000-000000000001"
KEY = Ed25519PrivateKey.from_private_bytes(bytes([7] * 32))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(header: dict, claims: dict, sign=True) -> str:
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    signature = KEY.sign(signing_input.encode()) if sign else b""
    return signing_input + "." + b64(signature)


def claims(kind="short_lived", **extra) -> dict:
    now = int(time.time())
    c = {"iss": ISS, "sub": str(uuid.uuid4()), "aud": AUD, "iat": now, "nbf": now,
         "exp": now + 900, "jti": str(uuid.uuid7() if hasattr(uuid, "uuid7") else uuid.uuid4()),
         "kind": kind}
    c.update(extra)
    return c


def tokens() -> list[str]:
    short = {"alg": "EdDSA", "typ": "at+jwt", "kid": KID}
    key = {"alg": "EdDSA", "typ": "apikey+jwt", "kid": KID}
    good = token(short, claims())
    api_key = token(key, claims("private", company_id=COMPANY, exp=int(time.time()) + 86400 * 30,
                                scope="datasets:read"))
    return [
        good,
        api_key,
        good[:-10],                                        # truncated signature
        good.rsplit(".", 1)[0] + ".",                      # empty signature
        token({**short, "alg": "none"}, claims(), sign=False),
        token({**short, "alg": "HS256"}, claims()),
        token({**short, "alg": "ES256"}, claims()).rsplit(".", 1)[0] + "." + b64(bytes(64)),
        token({**short, "kid": "../../etc/passwd"}, claims()),
        token({**short, "kid": "' OR 1=1 --"}, claims()),
        token({**short, "jku": "http://evil.example/jwks"}, claims()),
        token({**short, "crit": ["exp"]}, claims()),
        token({**short, "typ": "apikey+jwt"}, claims()),   # typ and kind swapped
        token(short, claims(exp="9999999999")),            # exp as a string
        token(short, {k: v for k, v in claims().items() if k != "aud"}),
        token(short, claims(iss="https://other.example")),
        token(short, claims(exp=2**63 - 1, iat=-(2**63))),
    ]


def write(target: str, inputs: list[bytes]) -> None:
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    for data in inputs:
        with open(os.path.join(folder, hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)


def main() -> None:
    toks = tokens()
    write("token_verify", [t.encode() for t in toks])
    basic = lambda raw: b"Basic " + base64.b64encode(raw)
    write("authorization_header", [
        b"Bearer " + toks[0].encode(),
        b"bearer   " + toks[1].encode() + b"  ",
        b"Bearer " + toks[0].encode() + b"\xff" + b"Bearer " + toks[1].encode(),
        b"Bearer",
        b"Bearer ",
        basic(b"0193a1b2c3d4:s3cret"),
        basic(b"my%20client:p%3As+s"),
        basic(b"a:%ZZ"),
        b"bAsIc   " + base64.b64encode(b"a:b"),
        b"Basic !!!notbase64",
        basic(b"\xff:x"),
    ])
    write("token_body", [
        b"\x00token=" + toks[0].encode(),
        b"\x01token=" + toks[1].encode() + b"&token_type_hint=access_token",
        b"\x01token_type_hint=refresh_token&token=a%2Bb+c",
        b"\x02" + json.dumps({"token": toks[0], "token_type_hint": "access_token"}).encode(),
        b"\x03{\"token\": 12}",
        b"\x00token=%ZZ",
        b"\x00token=\xff\xfe",
        b"\x02{\"token\":\"\\ud800\"}",
    ])
    ids = f"/api/v1/companies/{COMPANY}/datasets/".encode()
    write("forward_auth", [
        ids,
        ids + b"?page=2",
        b"/api/v1/compan%69es/" + COMPANY.encode() + b"/datasets/",
        b"https://api.example" + ids,
        b"/api/v1/companies/" + COMPANY.encode() + b"/..%2F..%2Fother/",
        b"/api/v1/companies//x;y\\z/%2e%2E/%00/%c3%28",
        ids + b"\xff\xff" + b"datasets:read datasets:write",
        ids + b"\xff" + ids + b"\xff\xff" + b"datasets:write",
        b"/api/v1/companies/not-a-uuid/\xff\xff  ",
    ])


if __name__ == "__main__":
    main()
