"""Declarative adapter settings: one list of options gives from_env and the required checks."""

from __future__ import annotations

import pytest

from tl_loop import ConfigurationError
from tl_loop.helpdesk import AdapterSettings, Setting, load_adapter_class

ACME = AdapterSettings(
    "acme",
    Setting("api_token", required=True, secret=True, where="Acme → Settings → API"),
    Setting("subdomain"),
    Setting("base_url"),
    Setting("page_size", kind="int"),
    Setting("window", kind="float"),
    Setting("allow_unsigned", kind="bool"),
    Setting("locale_ids", kind="mapping"),
    Setting("kind", choices=("rule", "app")),
    Setting("region", env="ACME_DATACENTER"),
    one_of=(("subdomain", "base_url"),),
)


def test_each_variable_is_read_by_its_kind() -> None:
    values = ACME.from_env(
        {
            "ACME_API_TOKEN": "tok",
            "ACME_SUBDOMAIN": "shop",
            "ACME_PAGE_SIZE": "25",
            "ACME_WINDOW": "2.5",
            "ACME_ALLOW_UNSIGNED": "Yes",
            "ACME_LOCALE_IDS": "en=1, es=2,pt-BR=x",
            "ACME_KIND": "APP",
            "ACME_DATACENTER": "eu",
            "ACME_BASE_URL": "",  # empty: the constructor's default applies
        }
    )
    assert values == {
        "api_token": "tok",
        "subdomain": "shop",
        "page_size": 25,
        "window": 2.5,
        "allow_unsigned": True,
        "locale_ids": {"en": 1, "es": 2, "pt-BR": "x"},
        "kind": "app",
        "region": "eu",
    }


def test_every_missing_required_variable_is_named() -> None:
    with pytest.raises(ConfigurationError, match="set the environment variable ACME_API_TOKEN"):
        ACME.from_env({"ACME_SUBDOMAIN": "shop"})
    with pytest.raises(ConfigurationError, match="set ACME_SUBDOMAIN or ACME_BASE_URL"):
        ACME.from_env({"ACME_API_TOKEN": "tok"})


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("ACME_PAGE_SIZE", "ten", "ACME_PAGE_SIZE must be a whole number"),
        ("ACME_WINDOW", "soon", "ACME_WINDOW must be a number"),
        ("ACME_ALLOW_UNSIGNED", "maybe", "ACME_ALLOW_UNSIGNED must be true or false"),
        ("ACME_LOCALE_IDS", "en:1", "key=value pairs"),
        ("ACME_KIND", "other", 'ACME_KIND must be "rule" or "app"'),
    ],
)
def test_a_value_of_the_wrong_kind_says_which_variable(
    variable: str, value: str, problem: str
) -> None:
    env = {"ACME_API_TOKEN": "tok", "ACME_SUBDOMAIN": "shop", variable: value}
    with pytest.raises(ConfigurationError, match=problem):
        ACME.from_env(env)


def test_the_constructor_check_says_where_to_find_a_missing_value() -> None:
    with pytest.raises(ConfigurationError, match=r"acme: api_token is required \(Acme → Settings"):
        ACME.check(api_token="", subdomain="shop")
    with pytest.raises(ConfigurationError, match='kind must be "rule" or "app"'):
        ACME.check(api_token="t", subdomain="shop", kind="webhook")
    with pytest.raises(ConfigurationError, match="set subdomain or base_url"):
        ACME.check(api_token="t", subdomain=None, base_url=None)
    assert ACME.secrets == frozenset({"api_token"})


@pytest.mark.parametrize(
    ("platform", "env"),
    [
        (
            "helpscout",
            {"HELPSCOUT_APP_ID": "a", "HELPSCOUT_APP_SECRET": "b", "HELPSCOUT_WEBHOOK_SECRET": "c",
             "HELPSCOUT_LANGUAGE_FIELD_ID": "31"},
        ),
        (
            "front",
            {"FRONT_API_TOKEN": "t", "FRONT_WEBHOOK_SECRET": "s", "FRONT_WEBHOOK_KIND": "app",
             "FRONT_LANGUAGE_TAG_IDS": "es=tag_1"},
        ),
        (
            "intercom",
            {"INTERCOM_ACCESS_TOKEN": "t", "INTERCOM_CLIENT_SECRET": "s", "INTERCOM_ADMIN_ID": "7",
             "INTERCOM_PER_PAGE": "20"},
        ),
        (
            "zendesk",
            {"ZENDESK_SUBDOMAIN": "acme", "ZENDESK_EMAIL": "a@b.c", "ZENDESK_API_TOKEN": "t",
             "ZENDESK_WEBHOOK_SECRET": "s", "ZENDESK_AUTHOR_ID": "42"},
        ),
        (
            "chatwoot",
            {"CHATWOOT_BASE_URL": "https://chat.test", "CHATWOOT_ACCOUNT_ID": "3",
             "CHATWOOT_API_ACCESS_TOKEN": "t", "CHATWOOT_WEBHOOK_SECRET": "s",
             "CHATWOOT_WRITE_LANGUAGE": "true"},
        ),
        (
            "freshdesk",
            {"FRESHDESK_DOMAIN": "acme", "FRESHDESK_API_KEY": "k",
             "FRESHDESK_WEBHOOK_SECRET": "s"},
        ),
        (
            "zammad",
            {"ZAMMAD_BASE_URL": "https://z.test", "ZAMMAD_TOKEN": "t",
             "ZAMMAD_WEBHOOK_SECRET": "s", "ZAMMAD_KB_LOCALE_IDS": "en=1,es=2"},
        ),
    ],
)  # fmt: skip
def test_declared_adapters_are_built_from_the_environment(
    platform: str, env: dict[str, str]
) -> None:
    adapter_class = load_adapter_class(platform)
    assert adapter_class.settings is not None
    adapter = adapter_class.from_env(env)
    assert adapter.name == platform
    incomplete = {k: v for k, v in env.items() if not k.endswith(("_SECRET", "_TOKEN"))}
    with pytest.raises(ConfigurationError, match=f"{platform.upper()}_") as missing:
        adapter_class.from_env(incomplete)
    required = [
        adapter_class.settings.variable(o.name) for o in adapter_class.settings if o.required
    ]
    for variable in required:  # every missing variable is named at once
        assert (variable in str(missing.value)) == (variable not in incomplete)


def test_zendesk_needs_a_token_one_way_or_the_other() -> None:
    zendesk = load_adapter_class("zendesk")
    base = {"ZENDESK_SUBDOMAIN": "acme", "ZENDESK_WEBHOOK_SECRET": "s"}
    with pytest.raises(
        ConfigurationError, match="ZENDESK_OAUTH_TOKEN or ZENDESK_EMAIL with ZENDESK_API_TOKEN"
    ):
        zendesk.from_env({**base, "ZENDESK_EMAIL": "a@b.c"})
    assert zendesk.from_env({**base, "ZENDESK_OAUTH_TOKEN": "o"}).name == "zendesk"
