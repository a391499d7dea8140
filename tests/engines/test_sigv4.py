"""SigV4 signing against AWS's published Signature Version 4 test suite.

Vectors: the 2015-08-30 suite (credentials `AKIDEXAMPLE`, region `us-east-1`, service
`service`), as shipped in awslabs/aws-c-auth `tests/aws-signing-test-suite/v4/` and formerly on
docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from tl_loop.engines._sigv4 import (
    AWSCredentials,
    canonical_request,
    sign_request,
    signing_key,
    string_to_sign,
)

SUITE = AWSCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
WHEN = datetime(2015, 8, 30, 12, 36, tzinfo=UTC)
SCOPE = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
STS_TOKEN = (
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSP"
    "fIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYw"
    "T7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKm"
    "lzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
)


def signed(request: httpx.Request, credentials: AWSCredentials = SUITE) -> str:
    sign_request(request, credentials=credentials, region="us-east-1", service="service", now=WHEN)
    return request.headers["Authorization"]


def test_post_vanilla() -> None:
    request = httpx.Request("POST", "https://example.amazonaws.com/")

    assert signed(request) == (
        f"AWS4-HMAC-SHA256 Credential={SCOPE}, SignedHeaders=host;x-amz-date, "
        "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
    )
    assert request.headers["X-Amz-Date"] == "20150830T123600Z"


def test_post_x_www_form_urlencoded_hashes_the_body() -> None:
    request = httpx.Request(
        "POST",
        "https://example.amazonaws.com/",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        content=b"Param1=value1",
    )

    assert signed(request) == (
        f"AWS4-HMAC-SHA256 Credential={SCOPE}, SignedHeaders=content-type;host;x-amz-date, "
        "Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"
    )


def test_post_sts_header_before_signs_the_session_token() -> None:
    request = httpx.Request("POST", "https://example.amazonaws.com/")

    authorization = signed(
        request, AWSCredentials(SUITE.access_key_id, SUITE.secret_access_key, STS_TOKEN)
    )

    assert authorization == (
        f"AWS4-HMAC-SHA256 Credential={SCOPE}, "
        "SignedHeaders=host;x-amz-date;x-amz-security-token, "
        "Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"
    )
    assert request.headers["X-Amz-Security-Token"] == STS_TOKEN


def test_get_vanilla_query_order_key_case_sorts_parameters() -> None:
    request = httpx.Request("GET", "https://example.amazonaws.com/?Param2=value2&Param1=value1")

    assert signed(request).endswith(
        "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
    )


def test_the_intermediate_strings_match_the_suite() -> None:
    canonical, names = canonical_request(
        "POST",
        httpx.URL("https://example.amazonaws.com/"),
        [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")],
        EMPTY,
    )

    assert canonical == (
        "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
        f"host;x-amz-date\n{EMPTY}"
    )
    assert names == "host;x-amz-date"
    assert string_to_sign("20150830T123600Z", SCOPE.split("/", 1)[1], canonical) == (
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
        "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87"
    )


def test_header_values_are_trimmed_and_repeated_headers_joined() -> None:
    canonical, names = canonical_request(
        "GET",
        httpx.URL("https://example.amazonaws.com/"),
        [("My-Header1", "  a   b  "), ("my-header1", "c"), ("Host", "example.amazonaws.com")],
        EMPTY,
    )

    assert "my-header1:a b,c\n" in canonical
    assert names == "host;my-header1"


def test_the_signing_key_depends_on_every_scope_part() -> None:
    base = signing_key(SUITE.secret_access_key, "20150830", "us-east-1", "service")

    assert len(base) == 32
    assert base != signing_key(SUITE.secret_access_key, "20150831", "us-east-1", "service")
    assert base != signing_key(SUITE.secret_access_key, "20150830", "eu-west-1", "service")
    assert base != signing_key(SUITE.secret_access_key, "20150830", "us-east-1", "translate")


@pytest.mark.parametrize("credentials", [SUITE, AWSCredentials("AKID", "s3cr3t", "t0k3n")])
def test_secrets_are_not_in_the_repr(credentials: AWSCredentials) -> None:
    text = repr(credentials)

    assert credentials.access_key_id in text
    assert credentials.secret_access_key not in text
    assert not credentials.session_token or credentials.session_token not in text
