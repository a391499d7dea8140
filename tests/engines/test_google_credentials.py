"""Google v3 with Application Default Credentials: a service account key generated here, gcloud's
`authorized_user` file, and a token endpoint and Translation API emulated on 127.0.0.1 that
check the JWT bearer assertion's signature with the key's public half."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import anyio
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from loopback import Loopback, Request, Route, loopback
from tl_loop import AuthenticationError, ConfigurationError, load_config
from tl_loop.engines import GoogleTranslateV3Engine, RetryPolicy, load_credentials_file

__all__ = ["loopback"]  # the fixture

NO_WAIT = RetryPolicy(attempts=2, initial_wait=0.0, max_wait=0.01)
ACCOUNT = "translator@acme-support.iam.gserviceaccount.com"
SCOPE = "https://www.googleapis.com/auth/cloud-translation"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = KEY.private_bytes(
    serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption(),
).decode()


def b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def verified_claims(assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of an RS256 JWT whose signature KEY's public half verifies."""
    header, claims, signature = assertion.split(".")
    KEY.public_key().verify(
        b64decode(signature), f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    return json.loads(b64decode(header)), json.loads(b64decode(claims))


class Google:
    """Google's token endpoint and `translateText`, on one loopback server."""

    def __init__(self, start: Callable[[dict[str, Route]], Loopback]) -> None:
        self.issued = 0
        self.forms: list[dict[str, str]] = []
        self.refuse: str | None = None
        self.server = start({
            "POST /token": self.token,
            "POST /v3/projects/acme-support/locations/global:translateText": self.translate,
            "POST /v3/projects/from-env/locations/global:translateText": self.translate,
        })  # fmt: skip
        self.url = self.server.url

    def token(self, request: Request) -> tuple[int, str]:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        self.forms.append(form)
        if self.refuse:
            return 400, json.dumps({"error": "invalid_grant", "error_description": self.refuse})
        if form["grant_type"] == JWT_BEARER:
            header, claims = verified_claims(form["assertion"])
            assert header == {"alg": "RS256", "typ": "JWT", "kid": "key-1"}
            assert claims["iss"] == ACCOUNT
            assert claims["scope"] == SCOPE
            assert claims["aud"] == "https://oauth2.googleapis.com/token"
            assert claims["exp"] - claims["iat"] == 3600
        self.issued += 1
        return 200, json.dumps({"access_token": f"ya29.token-{self.issued}",
                                "expires_in": 3599, "token_type": "Bearer"})  # fmt: skip

    def translate(self, request: Request) -> tuple[int, str]:
        if request.headers.get("authorization") != f"Bearer ya29.token-{self.issued}":
            return 401, json.dumps({"error": {"code": 401, "status": "UNAUTHENTICATED"}})
        contents = json.loads(request.body)["contents"]
        return 200, json.dumps({"translations": [{"translatedText": f"es:{c}"} for c in contents]})

    def api_requests(self) -> list[Request]:
        return [r for r in self.server.requests if "translateText" in r.path]


@pytest.fixture
def google(loopback: Callable[[dict[str, Route]], Loopback]) -> Google:
    return Google(loopback)


def service_account(tmp_path: Path, google: Google, **extra: str) -> Path:
    path = tmp_path / "key.json"
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "acme-support", "private_key_id": "key-1",
        "private_key": PEM, "client_email": ACCOUNT, "client_id": "1234567890",
        "token_uri": google.url + "/token", **extra,
    }), encoding="utf-8")  # fmt: skip
    return path


def engine_from(env: dict[str, str], google: Google, **options: Any) -> GoogleTranslateV3Engine:
    return GoogleTranslateV3Engine.from_env(env, base_url=google.url, retry=NO_WAIT, **options)


def test_a_service_account_key_gets_a_token_and_its_project(tmp_path: Path, google: Google) -> None:
    env = {"GOOGLE_APPLICATION_CREDENTIALS": str(service_account(tmp_path, google))}
    engine = engine_from(env, google)

    assert "projects/acme-support/locations/global" in repr(engine)  # project from the key
    results = engine.translate_batch(["Hello", "Bye"], source="en", target="es")
    assert [r.text for r in results] == ["es:Hello", "es:Bye"]
    engine.translate_batch(["Again"], source="en", target="es")
    assert google.issued == 1  # one token, kept for the second request
    assert google.forms[0]["grant_type"] == JWT_BEARER


def test_the_project_variable_wins_over_the_key(tmp_path: Path, google: Google) -> None:
    env = {"GOOGLE_APPLICATION_CREDENTIALS": str(service_account(tmp_path, google)),
           "GOOGLE_CLOUD_PROJECT": "from-env"}  # fmt: skip
    engine = engine_from(env, google)
    assert engine.translate_batch(["Hi"], source="en", target="es")[0].text == "es:Hi"
    assert "/projects/from-env/" in google.api_requests()[0].path


def test_a_token_near_expiry_is_fetched_again(tmp_path: Path, google: Google) -> None:
    now = [1_000_000.0]
    credentials = load_credentials_file(service_account(tmp_path, google), clock=lambda: now[0])
    engine = GoogleTranslateV3Engine(credentials=credentials, base_url=google.url, retry=NO_WAIT)
    engine.translate_batch(["One"], source="en", target="es")
    now[0] += 3599 - 300  # five minutes left: still good
    engine.translate_batch(["Two"], source="en", target="es")
    assert google.issued == 1
    now[0] += 100  # 3 min 20 s left: inside google-auth's 3 min 45 s threshold
    engine.translate_batch(["Three"], source="en", target="es")
    assert google.issued == 2
    authorizations = [r.headers["authorization"] for r in google.api_requests()]
    assert authorizations == ["Bearer ya29.token-1"] * 2 + ["Bearer ya29.token-2"]


def test_a_token_the_api_refuses_is_dropped(tmp_path: Path, google: Google) -> None:
    engine = engine_from({}, google, credentials_file=str(service_account(tmp_path, google)))
    engine.translate_batch(["One"], source="en", target="es")
    google.issued += 1  # the token was revoked: the API refuses the held one
    with pytest.raises(AuthenticationError):
        engine.translate_batch(["Two"], source="en", target="es")
    assert engine.translate_batch(["Three"], source="en", target="es")[0].text == "es:Three"


def test_a_refused_key_says_which_account_without_the_key(tmp_path: Path, google: Google) -> None:
    google.refuse = "Invalid JWT Signature."
    engine = engine_from({}, google, credentials_file=str(service_account(tmp_path, google)))
    with pytest.raises(AuthenticationError) as caught:
        engine.translate_batch(["Hi"], source="en", target="es")
    message = str(caught.value)
    assert "invalid_grant: Invalid JWT Signature." in message
    assert ACCOUNT in message
    assert "BEGIN PRIVATE KEY" not in message
    assert "roles/cloudtranslate.user" in message


def test_async_translation_fetches_the_token_too(tmp_path: Path, google: Google) -> None:
    engine = engine_from({}, google, credentials_file=str(service_account(tmp_path, google)))

    async def main() -> list[str]:
        results = await engine.atranslate_batch(["Hola?"], source="en", target="es")
        await engine.aclose()
        return [r.text for r in results]

    assert anyio.run(main) == ["es:Hola?"]
    assert google.issued == 1


def test_gcloud_user_credentials_use_the_refresh_token_and_quota_project(
    tmp_path: Path, google: Google
) -> None:
    gcloud = tmp_path / "gcloud"
    (gcloud / "configurations").mkdir(parents=True)
    (gcloud / "application_default_credentials.json").write_text(json.dumps({
        "type": "authorized_user", "client_id": "764086051850-x.apps.googleusercontent.com",
        "client_secret": "d-FL95Q19q7MQmFpd7hHD0Ty", "refresh_token": "1//refresh",
        "quota_project_id": "acme-billing", "token_uri": google.url + "/token",
    }))  # fmt: skip
    (gcloud / "configurations" / "config_default").write_text("[core]\nproject = acme-support\n")
    engine = engine_from({"CLOUDSDK_CONFIG": str(gcloud)}, google)

    assert engine.translate_batch(["Hi"], source="en", target="es")[0].text == "es:Hi"
    assert google.forms == [{"grant_type": "refresh_token", "refresh_token": "1//refresh",
                             "client_id": "764086051850-x.apps.googleusercontent.com",
                             "client_secret": "d-FL95Q19q7MQmFpd7hHD0Ty"}]  # fmt: skip
    assert google.api_requests()[0].headers["x-goog-user-project"] == "acme-billing"


def test_a_fixed_token_in_the_environment_comes_first(tmp_path: Path, google: Google) -> None:
    env = {"GOOGLE_APPLICATION_CREDENTIALS": str(service_account(tmp_path, google)),
           "GOOGLE_OAUTH_ACCESS_TOKEN": "ya29.token-0",
           "GOOGLE_CLOUD_PROJECT": "acme-support"}  # fmt: skip
    engine = engine_from(env, google)
    assert engine.translate_batch(["Hi"], source="en", target="es")[0].text == "es:Hi"
    assert google.forms == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, r"does not exist"),
        ("{not json", r"is not JSON"),
        ('{"type": "external_account"}', r"type 'external_account'; tl_loop reads"),
        ('{"type": "service_account", "client_email": "a@b"}', r"has no private_key"),
        ('{"type": "service_account", "client_email": "a@b", "private_key": "MIIE"}',
         r"not an unencrypted PEM private key; create a new JSON key"),
    ],
)  # fmt: skip
def test_bad_credentials_files_are_named_with_the_fix(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "key.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    env = {"GOOGLE_APPLICATION_CREDENTIALS": str(path), "GOOGLE_CLOUD_PROJECT": "p"}
    with pytest.raises(ConfigurationError, match=message) as caught:
        GoogleTranslateV3Engine.from_env(env)
    assert "GOOGLE_APPLICATION_CREDENTIALS" in str(caught.value) or "key" in message


def test_no_credentials_anywhere_says_what_to_set(tmp_path: Path) -> None:
    env = {"CLOUDSDK_CONFIG": str(tmp_path), "GOOGLE_CLOUD_PROJECT": "p", "NO_GCE_CHECK": "true"}
    with pytest.raises(ConfigurationError, match="GOOGLE_APPLICATION_CREDENTIALS is not set"):
        GoogleTranslateV3Engine.from_env(env)


def test_on_google_cloud_the_metadata_server_gives_token_and_project(
    tmp_path: Path, google: Google
) -> None:
    flavor = {"Metadata-Flavor": "Google"}

    def token(request: Request) -> tuple[int, str, dict[str, str]]:
        assert request.headers["metadata-flavor"] == "Google"
        assert request.path.endswith(
            "?scopes=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fcloud-translation"
        )
        google.issued += 1
        return 200, json.dumps({"access_token": f"ya29.token-{google.issued}",
                                "expires_in": 3599, "token_type": "Bearer"}), flavor  # fmt: skip

    google.server.routes |= {
        "GET /": lambda request: (200, "", flavor),
        "GET /computeMetadata/v1/project/project-id": lambda request: (200, "acme-support", flavor),
        "GET /computeMetadata/v1/instance/service-accounts/default/token": token,
    }  # fmt: skip
    address = google.url.removeprefix("http://")
    env = {"CLOUDSDK_CONFIG": str(tmp_path), "GCE_METADATA_IP": address,
           "GCE_METADATA_HOST": address}  # fmt: skip
    engine = engine_from(env, google)
    assert "projects/acme-support" in repr(engine)
    assert engine.translate_batch(["Hi"], source="en", target="es")[0].text == "es:Hi"
    assert google.issued == 1


def test_a_host_answering_without_the_google_flavor_is_not_google_cloud(
    tmp_path: Path, google: Google
) -> None:
    google.server.routes["GET /"] = lambda request: (200, "an AWS instance, say")
    address = google.url.removeprefix("http://")
    env = {
        "CLOUDSDK_CONFIG": str(tmp_path),
        "GCE_METADATA_IP": address,
        "GOOGLE_CLOUD_PROJECT": "p",
    }
    with pytest.raises(ConfigurationError, match="is not a Google metadata server"):
        GoogleTranslateV3Engine.from_env(env)


def test_the_configuration_file_names_a_key_file(tmp_path: Path, google: Google) -> None:
    key = service_account(tmp_path, google)
    config = tmp_path / "tl-loop.toml"
    config.write_text(
        f'engines = ["google-v3"]\n[engine.google-v3]\ncredentials_file = "{key}"\n'
        f'base_url = "{google.url}"\n',
        encoding="utf-8",
    )
    [engine] = load_config(config).build_chain().engines
    assert "projects/acme-support" in repr(engine)
    assert engine.translate_batch(["Hi"], source="en", target="es")[0].text == "es:Hi"
