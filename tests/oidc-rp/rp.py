"""An independent OpenID Connect relying party, as an application would use
Seatgate: Authlib (PyPI) builds the authorization request with PKCE, state
and nonce and exchanges the code; joserfc (Authlib's JOSE library) validates
the ID token (signature against the provider's JWKS, iss, aud, exp, nonce),
and at_hash is checked as OpenID Connect Core 3.1.3.6 says; then userinfo.

The learner's browser is a requests session carrying Seatgate's session
cookie. Prints one JSON object: the validated ID token claims, its header,
and the userinfo answer. Exits non-zero with a reason on any failure.

  rp.py ISSUER CLIENT_ID REDIRECT_URI COOKIE [--secret S] [--auth-method M]
        [--scope "openid email profile"] [--jwks-cache FILE]
"""

import argparse
import base64
import hashlib
import json
import sys
from urllib.parse import parse_qs, urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet


def fail(why, **details):
    print(json.dumps({"error": why, **details}))
    sys.exit(3)


def header_of(token):
    segment = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def keys_for(config, kid, cache):
    """The key set, from the cache file when it has the token's key id;
    else fetched again (how relying parties follow a key rotation)."""
    if cache:
        try:
            with open(cache) as f:
                cached = json.load(f)
            if any(k.get("kid") == kid for k in cached["keys"]):
                return cached, False
        except FileNotFoundError:
            pass
    fetched = requests.get(config["jwks_uri"], timeout=10).json()
    if cache:
        with open(cache, "w") as f:
            json.dump(fetched, f)
    return fetched, True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("issuer")
    parser.add_argument("client_id")
    parser.add_argument("redirect_uri")
    parser.add_argument("cookie", help="NAME=VALUE of the learner's Seatgate session")
    parser.add_argument("--secret")
    parser.add_argument("--auth-method", default="client_secret_basic")
    parser.add_argument("--scope", default="openid email profile")
    parser.add_argument("--jwks-cache")
    args = parser.parse_args()

    config = requests.get(args.issuer + "/.well-known/openid-configuration", timeout=10).json()
    if config.get("issuer") != args.issuer:
        fail("discovery names another issuer", issuer=config.get("issuer"))

    session = OAuth2Session(
        args.client_id,
        args.secret,
        scope=args.scope,
        redirect_uri=args.redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method=args.auth_method,
    )
    verifier = generate_token(48)
    nonce = generate_token(20)
    url, state = session.create_authorization_url(
        config["authorization_endpoint"], nonce=nonce, code_verifier=verifier
    )

    browser = requests.Session()
    name, value = args.cookie.split("=", 1)
    browser.cookies.set(name, value)
    answer = browser.get(url, allow_redirects=False, timeout=10)
    location = answer.headers.get("Location", "")
    if answer.status_code not in (302, 303) or not location.startswith(args.redirect_uri):
        fail("authorize did not return to the application", status=answer.status_code,
             location=location, body=answer.text[:300])
    returned = parse_qs(urlsplit(location).query)
    if returned.get("iss") != [args.issuer]:
        fail("the authorization response lacks iss (RFC 9207)", returned=returned)

    token = session.fetch_token(
        config["token_endpoint"],
        authorization_response=location,
        code_verifier=verifier,
        state=state,
    )
    header = header_of(token["id_token"])
    jwks, refetched = keys_for(config, header.get("kid"), args.jwks_cache)
    decoded = jwt.decode(token["id_token"], KeySet.import_key_set(jwks), algorithms=["RS256", "ES256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": args.issuer},
        aud={"essential": True, "value": args.client_id},
        nonce={"essential": True, "value": nonce},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
    ).validate(decoded.claims)
    claims = decoded.claims
    digest = hashlib.sha256(token["access_token"].encode()).digest()
    at_hash = base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
    if claims.get("at_hash") != at_hash:
        fail("at_hash does not match the access token", at_hash=claims.get("at_hash"))
    userinfo = session.get(config["userinfo_endpoint"], timeout=10)
    if userinfo.status_code != 200:
        fail("userinfo refused the access token", status=userinfo.status_code, body=userinfo.text)
    print(json.dumps({
        "id_token": dict(claims),
        "header": header,
        "jwks_refetched": refetched,
        "scope": token.get("scope"),
        "userinfo": userinfo.json(),
        "discovery": config,
    }))


if __name__ == "__main__":
    main()
