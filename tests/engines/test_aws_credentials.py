"""The AWS credential chain behind `AmazonEngine`: each source in botocore's order, with files
in tmp_path, a real `credential_process`, and the container endpoint and EC2 instance metadata
emulated on 127.0.0.1. What a source provides is checked where it shows: the signed request."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from loopback import Loopback, Request, Route, loopback
from tl_loop import ConfigurationError
from tl_loop.engines import AmazonEngine, RetryPolicy

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
FILE_SECRET = "file-secret-0123456789abcdefghijklmnopqrstu"
NO_WAIT = RetryPolicy(attempts=2, initial_wait=0.0, max_wait=0.01)

__all__ = ["loopback"]  # the fixture


def later(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def answer(key: str, minutes: float = 60, token_key: str = "Token") -> str:
    return json.dumps({"AccessKeyId": key, "SecretAccessKey": SECRET, token_key: f"token-{key}",
                       "Expiration": later(minutes)})  # fmt: skip


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment where nothing provides credentials until a test adds it."""
    return {
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_REGION": "eu-west-1",
        **extra,
    }


def signed_with(engine: AmazonEngine) -> tuple[str, str | None]:
    """Translate once; the access key id and session token the request was signed with."""
    seen: list[httpx.Request] = []

    def translate(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"TranslatedText": "Hola"})

    engine._client = httpx.Client(transport=httpx.MockTransport(translate))
    engine.translate_batch(["Hello"], source="en", target="es")
    authorization = seen[-1].headers["Authorization"]
    key = authorization.split("Credential=", 1)[1].split("/", 1)[0]
    return key, seen[-1].headers.get("X-Amz-Security-Token")


def build(env: dict[str, str], **options: Any) -> AmazonEngine:
    client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(500)))
    return AmazonEngine.from_env(env, retry=NO_WAIT, http_client=client, **options)


# -- options and the environment -----------------------------------------------------------------


def test_the_environment_keys_sign_the_request(tmp_path: Path) -> None:
    env = base_env(tmp_path, AWS_ACCESS_KEY_ID="AKIDENV", AWS_SECRET_ACCESS_KEY=SECRET,
                   AWS_SESSION_TOKEN="env-token")  # fmt: skip
    assert signed_with(build(env)) == ("AKIDENV", "env-token")


def test_options_win_over_the_environment(tmp_path: Path) -> None:
    env = base_env(tmp_path, AWS_ACCESS_KEY_ID="AKIDENV", AWS_SECRET_ACCESS_KEY=SECRET)
    engine = build(env, access_key_id="AKIDOPT", secret_access_key=SECRET)
    assert signed_with(engine) == ("AKIDOPT", None)


def test_half_a_key_is_named_without_the_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="AWS_ACCESS_KEY_ID is not set") as caught:
        build(base_env(tmp_path, AWS_SECRET_ACCESS_KEY=SECRET))
    assert SECRET not in str(caught.value)


# -- the shared files --------------------------------------------------------------------------


def write_files(tmp_path: Path) -> None:
    (tmp_path / "credentials").write_text(
        "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = " + FILE_SECRET
        + "\n\n[work]\naws_access_key_id = AKIDWORK\naws_secret_access_key = " + FILE_SECRET
        + "\naws_session_token = work-token\n",
        encoding="utf-8",
    )  # fmt: skip
    (tmp_path / "config").write_text(
        "[default]\nregion = us-east-2\n\n[profile work]\nregion = ap-south-1\n"
        "aws_access_key_id = AKIDCONFIGWORK\naws_secret_access_key = x\n\n"
        "[profile onlyconfig]\nregion = sa-east-1\naws_access_key_id = AKIDCONFIG\n"
        "aws_secret_access_key = " + FILE_SECRET + "\n\n[sso-session corp]\nsso_region = x\n",
        encoding="utf-8",
    )


def test_the_default_profile_of_the_credentials_file(tmp_path: Path) -> None:
    write_files(tmp_path)
    env = base_env(tmp_path)
    del env["AWS_REGION"]
    engine = build(env)
    assert engine.region == "us-east-2"  # from [default] in the config file
    assert signed_with(engine) == ("AKIDDEFAULT", None)


def test_aws_profile_picks_a_profile_and_its_region(tmp_path: Path) -> None:
    write_files(tmp_path)
    env = base_env(tmp_path, AWS_PROFILE="work")
    del env["AWS_REGION"]
    engine = build(env)
    assert engine.region == "ap-south-1"
    # the credentials file comes before the config file's keys for the same profile
    assert signed_with(engine) == ("AKIDWORK", "work-token")
    assert signed_with(build({**env, "AWS_PROFILE": "onlyconfig"})) == ("AKIDCONFIG", None)


def test_the_environment_comes_before_aws_profile_but_not_before_profile_option(
    tmp_path: Path,
) -> None:
    write_files(tmp_path)
    env = base_env(tmp_path, AWS_PROFILE="work", AWS_ACCESS_KEY_ID="AKIDENV",
                   AWS_SECRET_ACCESS_KEY=SECRET)  # fmt: skip
    assert signed_with(build(env))[0] == "AKIDENV"
    assert signed_with(build(env, profile="work"))[0] == "AKIDWORK"


def test_an_unknown_profile_lists_the_known_ones(tmp_path: Path) -> None:
    write_files(tmp_path)
    with pytest.raises(ConfigurationError, match=r"'wrok' \(from AWS_PROFILE\).*default, "):
        build(base_env(tmp_path, AWS_PROFILE="wrok"))


def test_a_profile_with_half_a_key_is_an_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "credentials").write_text(
        f"[default]\naws_secret_access_key = {FILE_SECRET}\n", encoding="utf-8"
    )
    with pytest.raises(ConfigurationError, match=r"credentials.*no aws_access_key_id") as caught:
        build(base_env(tmp_path))
    assert FILE_SECRET not in str(caught.value)


def test_a_broken_file_says_which_line_and_never_echoes_it(tmp_path: Path) -> None:
    (tmp_path / "credentials").write_text(
        f"aws_secret_access_key = {FILE_SECRET}\n[default]\n", encoding="utf-8"
    )
    with pytest.raises(ConfigurationError, match="line 1 comes before any") as caught:
        build(base_env(tmp_path))
    assert FILE_SECRET not in str(caught.value)


def test_nothing_found_lists_every_source_tried_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        build(base_env(tmp_path))
    message = str(caught.value)
    for source in ("environment (AWS_ACCESS_KEY_ID is not set)", "shared credentials file",
                   "credential_process", "config file", "container", "EC2 instance metadata",
                   "disabled by AWS_EC2_METADATA_DISABLED", "set AWS_ACCESS_KEY_ID"):  # fmt: skip
        assert source in message


def test_an_sso_profile_is_pointed_at_credential_process(tmp_path: Path) -> None:
    (tmp_path / "config").write_text(
        "[profile corp]\nsso_session = corp\nsso_account_id = 1\n", encoding="utf-8"
    )
    with pytest.raises(ConfigurationError, match="aws configure export-credentials --profile corp"):
        build(base_env(tmp_path, AWS_PROFILE="corp"))


# -- credential_process -----------------------------------------------------------------------


def process(tmp_path: Path, body: str) -> str:
    script = tmp_path / "creds.py"
    script.write_text(body, encoding="utf-8")
    return f"{sys.executable} {script}"


def test_credential_process_output_signs_the_request(tmp_path: Path) -> None:
    printed = {**json.loads(answer("ASIAPROC", token_key="SessionToken")), "Version": 1}
    command = process(tmp_path, f"print({json.dumps(printed)!r})")
    (tmp_path / "config").write_text(f"[default]\ncredential_process = {command}\n")
    assert signed_with(build(base_env(tmp_path))) == ("ASIAPROC", "token-ASIAPROC")


def test_credential_process_failures_say_why(tmp_path: Path) -> None:
    failing = process(tmp_path, "import sys\nsys.exit('MFA device not found')")
    (tmp_path / "config").write_text(f"[default]\ncredential_process = {failing}\n")
    with pytest.raises(ConfigurationError, match="exited with 1: MFA device not found"):
        build(base_env(tmp_path))
    wrong = process(tmp_path, 'print(\'{"Version": 2, "AccessKeyId": "A"}\')')
    (tmp_path / "config").write_text(f"[default]\ncredential_process = {wrong}\n")
    with pytest.raises(ConfigurationError, match="Version 2; only 1 is supported"):
        build(base_env(tmp_path))


def test_credentials_about_to_expire_are_fetched_again(tmp_path: Path) -> None:
    counter = tmp_path / "count"
    command = process(tmp_path, (
        "import json, pathlib, datetime as d\n"
        f"p = pathlib.Path({str(counter)!r}); n = int(p.read_text()) + 1 if p.exists() else 1\n"
        "p.write_text(str(n))\n"
        "end = d.datetime.now(d.UTC) + d.timedelta(minutes=5 if n == 1 else 60)\n"
        "print(json.dumps({'Version': 1, 'AccessKeyId': f'ASIA{n}', 'SecretAccessKey': 's',"
        " 'SessionToken': f't{n}', 'Expiration': end.isoformat()}))\n"
    ))  # fmt: skip
    (tmp_path / "config").write_text(f"[default]\ncredential_process = {command}\n")
    engine = build(base_env(tmp_path))
    # the first credentials expire within 15 minutes: the request goes with fresh ones
    assert signed_with(engine) == ("ASIA2", "t2")
    assert signed_with(engine) == ("ASIA2", "t2")  # good for an hour: not fetched again
    assert counter.read_text() == "2"


# -- the container endpoint ------------------------------------------------------------------


def test_container_credentials_with_an_authorization_token_file(
    tmp_path: Path, loopback: Callable[[dict[str, Route]], Loopback]
) -> None:
    server = loopback({"GET /creds": lambda request: (200, answer("ASIACONTAINER"))})
    token_file = tmp_path / "token"
    token_file.write_text("from-the-file", encoding="utf-8")
    env = base_env(tmp_path, AWS_CONTAINER_CREDENTIALS_FULL_URI=server.url + "/creds",
                   AWS_CONTAINER_AUTHORIZATION_TOKEN="from-the-variable",
                   AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=str(token_file))  # fmt: skip
    assert signed_with(build(env)) == ("ASIACONTAINER", "token-ASIACONTAINER")
    assert server.requests[0].headers["authorization"] == "from-the-file"  # the file wins
    del env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]
    build(env)
    assert server.requests[1].headers["authorization"] == "from-the-variable"


def test_container_credentials_are_refreshed_before_they_expire(
    tmp_path: Path, loopback: Callable[[dict[str, Route]], Loopback]
) -> None:
    keys = iter(["ASIAOLD", "ASIANEW"])
    server = loopback({"GET /creds": lambda request: (200, answer(next(keys), minutes=12))})
    engine = build(base_env(tmp_path, AWS_CONTAINER_CREDENTIALS_FULL_URI=server.url + "/creds"))
    assert signed_with(engine)[0] == "ASIANEW"
    # the endpoint is down now: 12 minutes left is more than the mandatory 10, keep the held ones
    server.routes.clear()
    assert signed_with(engine)[0] == "ASIANEW"


def test_a_container_uri_on_a_foreign_host_is_refused(tmp_path: Path) -> None:
    env = base_env(tmp_path, AWS_CONTAINER_CREDENTIALS_FULL_URI="http://example.com/creds")
    with pytest.raises(ConfigurationError, match="use https, a loopback address"):
        build(env)


def test_a_failing_container_endpoint_is_an_error_not_a_skip(
    tmp_path: Path, loopback: Callable[[dict[str, Route]], Loopback]
) -> None:
    server = loopback({"GET /creds": lambda request: (403, "no")})
    env = base_env(tmp_path, AWS_CONTAINER_CREDENTIALS_FULL_URI=server.url + "/creds")
    with pytest.raises(ConfigurationError, match=r"container credentials endpoint .* HTTP 403"):
        build(env)


# -- EC2 instance metadata ---------------------------------------------------------------------


def imds(token_status: int = 200) -> dict[str, Route]:
    def token(request: Request) -> tuple[int, str]:
        assert request.headers["x-aws-ec2-metadata-token-ttl-seconds"] == "21600"
        return token_status, "imds-session"

    role = "/latest/meta-data/iam/security-credentials/"
    return {
        "PUT /latest/api/token": token,
        f"GET {role}": lambda request: (200, "translator-role\n"),
        f"GET {role}translator-role": lambda request: (
            200, answer("ASIAEC2").replace("{", '{"Code": "Success", ', 1)
        ),
        "GET /latest/meta-data/placement/region": lambda request: (200, "eu-north-1"),
    }  # fmt: skip


def test_instance_metadata_v2_token_then_role_then_credentials(
    tmp_path: Path, loopback: Callable[[dict[str, Route]], Loopback]
) -> None:
    server = loopback(imds())
    env = base_env(tmp_path, AWS_EC2_METADATA_DISABLED="false",
                   AWS_EC2_METADATA_SERVICE_ENDPOINT=server.url)  # fmt: skip
    del env["AWS_REGION"]
    engine = build(env)
    assert signed_with(engine) == ("ASIAEC2", "token-ASIAEC2")
    assert engine.region == "eu-north-1"  # no region configured: the instance's
    role = "/latest/meta-data/iam/security-credentials/"
    assert [(r.method, r.path) for r in server.requests[:3]] == [
        ("PUT", "/latest/api/token"), ("GET", role), ("GET", role + "translator-role"),
    ]  # fmt: skip
    for request in server.requests:
        if request.method == "GET":
            assert request.headers["x-aws-ec2-metadata-token"] == "imds-session"


def test_instance_metadata_v1_only_instances_still_work(
    tmp_path: Path, loopback: Callable[[dict[str, Route]], Loopback]
) -> None:
    server = loopback(imds(token_status=405))
    env = base_env(tmp_path, AWS_EC2_METADATA_DISABLED="false",
                   AWS_EC2_METADATA_SERVICE_ENDPOINT=server.url)  # fmt: skip
    assert signed_with(build(env))[0] == "ASIAEC2"
    assert "x-aws-ec2-metadata-token" not in server.requests[1].headers
    with pytest.raises(ConfigurationError, match="refused a session token"):
        build({**env, "AWS_EC2_METADATA_V1_DISABLED": "true"})


def test_no_metadata_service_is_a_short_clear_failure(tmp_path: Path) -> None:
    closed = Loopback({})
    closed.close()  # nothing listens on that port any more
    env = base_env(tmp_path, AWS_EC2_METADATA_DISABLED="false",
                   AWS_EC2_METADATA_SERVICE_ENDPOINT=closed.url)  # fmt: skip
    with pytest.raises(ConfigurationError, match="no instance metadata service answered"):
        build(env)
