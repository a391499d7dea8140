"""The helpers adapter authors use: headers, JSON, errors, pages, languages, markup, KB."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import pytest

from tl_loop import (
    Article,
    ConfigurationError,
    ContentType,
    HelpdeskAdapter,
    HelpdeskEvent,
    HelpdeskMessage,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
    ServiceResponseError,
)
from tl_loop.helpdesk import (
    article_from,
    as_id,
    as_mapping,
    body_event_id,
    env_int,
    error_body,
    header,
    html_to_markdown,
    iso_timestamp,
    json_body,
    language_from_labels,
    language_hint,
    next_page_request,
    numeric_id,
    require_env,
    response_array,
    response_object,
    retry_after_from,
    seconds_until,
    text_to_html,
    translation_target,
    with_detail,
)

PAGE = "https://acme.example/api/tickets/7/comments?per_page=50&page=2"


def answer(status: int = 200, *, url: str = PAGE, **kwargs: Any) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request("GET", url), **kwargs)


# -- headers and payloads --------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Acme-Delivery": "d-1"},
        {"x-acme-delivery": "d-1"},
        httpx.Headers({"X-ACME-DELIVERY": "d-1"}),
    ],
)
def test_headers_are_found_in_any_case(headers: Mapping[str, str]) -> None:
    assert header(headers, "X-Acme-Delivery") == "d-1"
    assert header(headers, "x-acme-signature") is None


def test_a_webhook_body_is_a_json_object() -> None:
    assert json_body(b'{"id": 5}', service="acme") == {"id": 5}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<html>", "not JSON; set the format to JSON"),
        (b"\xff\xfe", "not JSON; set the format to JSON"),
        (b"[1, 2]", "not a JSON object"),
    ],
)
def test_a_webhook_body_that_is_no_object_is_refused(body: bytes, problem: str) -> None:
    with pytest.raises(InvalidRequestError, match=problem) as refused:
        json_body(body, service="acme", hint="set the format to JSON")
    assert refused.value.service == "acme"


def test_api_responses_must_have_the_documented_shape() -> None:
    assert response_object(answer(json={"a": 1}), service="acme") == {"a": 1}
    assert response_array(answer(json=[1, 2]), service="acme") == [1, 2]
    with pytest.raises(ServiceResponseError, match="JSON object from /api/tickets/7") as wrong:
        response_object(answer(json=[1]), service="acme")
    assert wrong.value.status_code == 200
    with pytest.raises(ServiceResponseError, match="JSON array"):
        response_array(answer(text="<html>"), service="acme")


def test_optional_payload_parts_chain_safely() -> None:
    payload = {"data": {"item": {"id": 9}}, "list": [1]}
    assert as_mapping(as_mapping(payload.get("data")).get("item")).get("id") == 9
    assert as_mapping(payload.get("list")).get("id") is None
    assert as_mapping(None) == {}


@pytest.mark.parametrize(
    ("value", "expected"),
    [(42, "42"), ("cnv_1", "cnv_1"), ("", None), (None, None), (True, None), (1.5, None)],
)
def test_ids_are_strings_or_none(value: object, expected: str | None) -> None:
    assert as_id(value) == expected


@pytest.mark.parametrize(("value", "expected"), [("42", 42), ("tea_1", "tea_1"), ("²", "²")])
def test_numeric_ids_become_json_numbers(value: str, expected: int | str) -> None:
    assert numeric_id(value) == expected


def test_a_body_without_a_delivery_id_is_keyed_by_its_content() -> None:
    first = body_event_id(b'{"ticket_id": 1}')
    assert first == body_event_id(b'{"ticket_id": 1}')  # a retry dedupes
    assert first != body_event_id(b'{"ticket_id": 2}')
    assert first.startswith("body:")
    assert len(first) == len("body:") + 32


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1700000000, "2023-11-14T22:13:20Z"),
        (1700000000.5, "2023-11-14T22:13:20.500000Z"),
        ("2024-09-06T18:52:11Z", "2024-09-06T18:52:11Z"),
        (True, None),
        (None, None),
    ],
)
def test_times_become_iso_8601(value: object, expected: str | None) -> None:
    assert iso_timestamp(value) == expected


# -- languages -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("pt_br", "pt-BR"), ("es", "es"), ("Spanish!", None), ("  ", None), (None, None), (3, None)],
)
def test_a_language_hint_is_a_tag_or_nothing(value: object, expected: str | None) -> None:
    assert language_hint(value) == expected


def test_the_first_valid_language_label_wins() -> None:
    labels = ["vip", "lang-??", "lang-pt_br", "lang-es"]
    assert language_from_labels(labels, prefix="lang-") == "pt-BR"
    assert language_from_labels(["vip", 3], prefix="lang-") is None
    assert language_from_labels("lang-es", prefix="lang-") is None  # not a list


# -- markup ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("text", "1 &lt; 2 &amp; <br>done"),
        ("markdown", "1 &lt; 2 &amp; <br>done"),
        ("html", "1 < 2 & \ndone"),
    ],
)
def test_text_becomes_an_html_body(content_type: ContentType, expected: str) -> None:
    assert text_to_html("1 < 2 & \ndone", content_type) == expected


def test_html_becomes_markdown() -> None:
    html = (
        "<p>Hi <strong>Ana</strong>,</p>\n<p>see <a href='https://x.test/a'>the guide</a>"
        " and <a>this</a>:</p><ul><li>one</li><li><em>two</em></li></ul>use <code>tl</code>"
        "<br>bye &amp; thanks"
    )
    assert html_to_markdown(html) == (
        "Hi **Ana**,\n\nsee [the guide](https://x.test/a) and this:\n\n- one\n- *two*\n\n"
        "use `tl`\nbye & thanks"
    )


def test_html_becomes_markdown_with_numbered_lists_code_headings_and_images() -> None:
    html = (
        "<h2>Reset</h2><ol><li>Open the app</li><li>Tap <b>Settings</b></li></ol>"
        "<pre><code>npm run build\n  --force</code></pre><img src='/a.png' alt='Logo'>"
        "<script>track('x')</script><style>p { color: red }</style><p>snake_case</p>"
    )
    assert html_to_markdown(html) == (
        "## Reset\n\n1. Open the app\n2. Tap **Settings**\n\n"
        "```\nnpm run build\n  --force\n```\n\n![Logo](/a.png)\n\nsnake_case"
    )


# -- errors and rate limits ------------------------------------------------------------------


class _Bare(HelpdeskAdapter):
    """Only the base `error_for`, to check `with_detail` against its real messages."""

    name = "acme"
    base_url = "https://acme.example"

    def verify_webhook(
        self, body: bytes, headers: Mapping[str, str], *, now: float | None = None
    ) -> None:
        raise NotImplementedError

    def parse_event(self, body: bytes, headers: Mapping[str, str]) -> HelpdeskEvent:
        raise NotImplementedError

    def build_get_messages(self, conversation_id: str) -> httpx.Request:
        raise NotImplementedError

    def parse_messages(self, response: httpx.Response) -> list[HelpdeskMessage]:
        raise NotImplementedError

    def build_post_note(
        self, conversation_id: str, text: str, *, content_type: ContentType = "html"
    ) -> httpx.Request:
        raise NotImplementedError

    def build_post_reply(
        self, conversation_id: str, text: str, *, content_type: ContentType = "html"
    ) -> httpx.Request:
        raise NotImplementedError


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"json": {"message": "slow down"}}, {"message": "slow down"}),
        ({"json": ["x"]}, {}),
        ({"text": "<html>Bad gateway</html>"}, {}),
        ({}, {}),
    ],
)
def test_an_error_body_is_read_without_raising(
    body: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert error_body(answer(429, **body)) == expected


def test_the_platforms_detail_is_added_to_the_mapped_error() -> None:
    response = answer(429, headers={"Retry-After": "7"}, text="ignored")
    base = _Bare().error_for(response)
    assert base is not None
    detailed = with_detail(base, response, "Too many requests for this token")
    assert isinstance(detailed, RateLimitError)
    assert str(detailed) == (
        "acme: rate limited (HTTP 429 from GET /api/tickets/7/comments): "
        "Too many requests for this token"
    )
    assert (detailed.status_code, detailed.retry_after) == (429, 7.0)
    assert with_detail(base, response, None) is base
    assert with_detail(base, response, "") is base


def test_a_refused_requests_body_is_replaced_by_the_detail() -> None:
    response = answer(422, text='{"errors": ["body: blank"]}')
    base = _Bare().error_for(response)
    assert base is not None
    detailed = with_detail(base, response, "body: blank")
    assert isinstance(detailed, InvalidRequestError)
    assert str(detailed).endswith("(HTTP 422 from GET /api/tickets/7/comments): body: blank")
    assert str(detailed).count("body: blank") == 1
    not_found = _Bare().error_for(answer(404))
    assert isinstance(not_found, NotFoundError)
    assert isinstance(with_detail(not_found, answer(404), "Ticket not found"), NotFoundError)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-RateLimit-Retry-After": "12", "Retry-After": "60"}, 12.0),
        ({"X-RateLimit-Retry-After": "soon", "Retry-After": "60"}, 60.0),
        ({"retry-after": "2.5"}, 2.5),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # a past HTTP date: now
        ({}, None),
    ],
)
def test_the_first_wait_header_that_parses_wins(
    headers: dict[str, str], expected: float | None
) -> None:
    assert retry_after_from(headers, "x-ratelimit-retry-after", "retry-after") == expected


def test_a_reset_time_is_read_by_the_servers_clock() -> None:
    server = {"X-RateLimit-Reset": "1700000060", "Date": "Tue, 14 Nov 2023 22:13:20 GMT"}
    assert seconds_until(server, "x-ratelimit-reset") == 60.0
    assert seconds_until(server, "x-ratelimit-reset", now=1700000050.0) == 10.0
    assert seconds_until(server, "x-ratelimit-reset", now=1800000000.0) == 0.0  # never negative


@pytest.mark.parametrize("reset", ["soon", "inf", "nan", ""])
def test_a_reset_time_that_is_no_number_is_ignored(reset: str) -> None:
    assert seconds_until({"X-RateLimit-Reset": reset}, "x-ratelimit-reset", now=0.0) is None
    assert seconds_until({}, "x-ratelimit-reset") is None


# -- pagination ------------------------------------------------------------------------------


def test_the_platforms_next_link_is_followed() -> None:
    auth = {"Authorization": "Bearer t"}
    absolute = next_page_request(answer(), link="https://acme.example/next?c=abc", headers=auth)
    assert absolute is not None
    assert str(absolute.url) == "https://acme.example/next?c=abc"
    assert absolute.method == "GET"
    assert absolute.headers["Authorization"] == "Bearer t"
    relative = next_page_request(answer(), link="/api/tickets/7/comments?cursor=x", headers=auth)
    assert relative is not None
    assert str(relative.url) == "https://acme.example/api/tickets/7/comments?cursor=x"


def test_without_a_link_the_page_parameter_moves_on() -> None:
    following = next_page_request(answer(), link="", params={"page": 3}, headers={})
    assert following is not None
    assert str(following.url) == "https://acme.example/api/tickets/7/comments?per_page=50&page=3"
    assert next_page_request(answer(), link=None, params=None, headers={}) is None
    assert next_page_request(answer(), link=42, headers={}) is None


# -- configuration ---------------------------------------------------------------------------


def test_required_variables_are_all_named_when_missing() -> None:
    with pytest.raises(ConfigurationError, match="variables ACME_TOKEN, ACME_SECRET"):
        require_env({"ACME_URL": "u", "ACME_SECRET": ""}, "ACME_TOKEN", "ACME_SECRET", service="x")
    with pytest.raises(ConfigurationError, match=r"^acme: set the environment variable ACME_T"):
        require_env({}, "ACME_TOKEN", service="acme")
    env = {"ACME_TOKEN": "t"}
    assert require_env(env, "ACME_TOKEN", service="acme") is env


def test_the_process_environment_is_read_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TL_LOOP_TEST_TOKEN", "t-1")
    assert require_env(None, "TL_LOOP_TEST_TOKEN", service="acme")["TL_LOOP_TEST_TOKEN"] == "t-1"


@pytest.mark.parametrize(("value", "expected"), [("360001", 360001), ("", None), (None, None)])
def test_numeric_variables_are_read(value: str | None, expected: int | None) -> None:
    env = {} if value is None else {"ACME_FIELD_ID": value}
    assert env_int(env, "ACME_FIELD_ID", service="acme") == expected


@pytest.mark.parametrize("value", ["12a", "-1", " 5", "²"])
def test_numeric_variables_that_are_no_number_are_refused(value: str) -> None:
    with pytest.raises(ConfigurationError, match="ACME_FIELD_ID must be a whole number"):
        env_int({"ACME_FIELD_ID": value}, "ACME_FIELD_ID", service="acme")


# -- knowledge base --------------------------------------------------------------------------


def test_an_article_object_becomes_its_own_source() -> None:
    item = {"id": 12, "title": "Returns", "description": "<p>30 days</p>", "updated_at": "2024"}
    article = article_from(item, locale="en", body="description")
    assert article == Article(
        id="12",
        title="Returns",
        body="<p>30 days</p>",
        locale="en",
        updated_at="2024",
        source_id="12",
    )
    assert article_from({"id": 3}, locale="es").title == ""


def test_a_translation_goes_under_its_source_article() -> None:
    source = Article(id="12", title="Returns", body="…", locale="en", source_id="12")
    assert translation_target(source, "es") == ("12", False)  # create the translation
    translated = Article(id="12", title="Devoluciones", body="…", locale="ES", source_id="12")
    assert translation_target(translated, "es") == ("12", True)  # update it
    bare = Article(id="99", title="t", body="b", locale="en")
    assert translation_target(bare, "fr") == ("99", False)
