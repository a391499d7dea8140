"""Cross-check tl_loop's service-account assertion against google-auth's own.

google-auth (not a tl_loop dependency) must verify tl_loop's JWT with the key's certificate,
and build the same header and claims for the same key file. Run in a scratch venv:

    python -m venv /tmp/xc && /tmp/xc/bin/pip install google-auth cryptography httpx pydantic \
        tenacity cachetools anyio lingua-language-detector pyyaml markdownify langcodes
    PYTHONPATH=src /tmp/xc/bin/python scripts/crosscheck/google_jwt.py
"""

from __future__ import annotations

import datetime
import json
import sys
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import jwt
from google.oauth2 import service_account

from tl_loop.engines import load_credentials_file

AUDIENCE = "https://oauth2.googleapis.com/token"
SCOPE = "https://www.googleapis.com/auth/cloud-translation"


def main() -> int:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "crosscheck")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256())
    )  # fmt: skip
    certs = {"kid-1": certificate.public_bytes(serialization.Encoding.PEM).decode()}
    info = {"type": "service_account", "project_id": "p", "private_key_id": "kid-1",
            "private_key": pem, "client_email": "sa@p.iam.gserviceaccount.com",
            "client_id": "1", "token_uri": AUDIENCE}  # fmt: skip
    path = Path(tempfile.mkdtemp()) / "key.json"
    path.write_text(json.dumps(info), encoding="utf-8")

    grant: object = load_credentials_file(path).provider.grant
    ours = grant.assertion()  # type: ignore[attr-defined]
    google = service_account.Credentials.from_service_account_info(info, scopes=[SCOPE])
    theirs = google._make_authorization_grant_assertion()

    mine, reference = (jwt.decode(t, certs=certs, audience=AUDIENCE) for t in (ours, theirs))
    checks = {
        "google-auth verifies tl_loop's signature": bool(mine),
        "same header": jwt.decode_header(ours) == jwt.decode_header(theirs),
        "same claims but the times": _untimed(mine) == _untimed(reference),
        "same lifetime": mine["exp"] - mine["iat"] == reference["exp"] - reference["iat"],
    }
    for check, passed in checks.items():
        print(f"{'ok  ' if passed else 'FAIL'} {check}")
    print("header", jwt.decode_header(ours), "claims", _untimed(mine))
    return 0 if all(checks.values()) else 1


def _untimed(claims: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in claims.items() if k not in ("iat", "exp")}


if __name__ == "__main__":
    sys.exit(main())
