"""Which span families `protect` masks: the family names, and a deployment's own settings.

The rules of each family live in `_span_rules`; this module names the families (docs/protection.md
lists them with examples) and validates what a user turns off or adds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tl_loop._errors import ConfigurationError

__all__ = ["DEFAULT_PROTECTION", "FAMILIES", "Protection"]

FAMILIES: dict[str, str] = {
    "template": "helpdesk templates: {{ticket.id}}, {% if %}, {{name | fallback: 'there'}}",
    "icu": "ICU MessageFormat: {count, plural, one {# item} other {# items}}, select",
    "format": "format strings: {0}, {name}, {0,1:N0}, {0,number,integer}, %s, %1$tH, %<n>s, %1",
    "zammad": "Zammad: #{ticket.number}, the ticket hook [Ticket#31001]",
    "i18n": "i18n keys: $t(key), $(file), Vue @:key, %days%, Laravel :name, Erlang ~s",
    "shortcode": "emoji shortcodes: :smile:",
    "url": "URLs (also built from placeholders: #{config.fqdn}/x)",
    "email": "e-mail addresses",
    "domain": "domains and hosts without a scheme: acme.example/status, localhost:8080",
    "path": "file paths: /var/log/x.log, ~/Downloads, C:\\Users\\x, %APPDATA%\\Acme, src/a.py",
    "version": "versions: v2.7.1-beta, 1.4.0-rc.1, 10.0.0.1",
    "identifier": "code names: max_retry_count, ERR_CONNECTION_RESET, firstName, config.yml",
    "code": "codes mixing letters and digits: 0x80070005, Z999AA10123456784, E1234",
    "slug": "cloud regions and slugs with a digit: eu-west-1, europe-west1, team-42",
    "chord": "key chords: Ctrl+Shift+R, Cmd+Option+I, ⌘K",
    "mention": "@mentions: @support-team",
    "hashtag": "#hashtags and channels: #billing-help",
    "time": "times with AM/PM: 10:30 AM, 9pm, 7 a.m.",
    "order": "order and ticket numbers: #48213, ORD-2024-0042",
    "amount": "amounts: $49.99, 20 €, 1.299,00 EUR",
    "inline_code": "`inline code` (text and Markdown)",
    "tag": "tags typed in plain text: <bold>{firstName}</bold>, <br/>",
}


@dataclass(frozen=True, slots=True)
class Protection:
    """Which span families `protect` masks: all by default, minus `disabled`, plus `patterns`.

    Args:
        disabled: family names to leave unmasked (see `FAMILIES` and docs/protection.md); the
            fidelity check still verifies what they would have masked.
        patterns: regexes of your own; each match is masked as a `custom` token and wins a tie
            with the built-in rules.

    Raises:
        ConfigurationError: an unknown family, a pattern that does not compile or that can
            match the empty string.
    """

    disabled: frozenset[str] = frozenset()
    patterns: tuple[str, ...] = ()
    compiled: tuple[re.Pattern[str], ...] = field(default=(), init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "disabled", frozenset(self.disabled))
        object.__setattr__(self, "patterns", tuple(self.patterns))
        unknown = sorted(self.disabled - FAMILIES.keys())
        if unknown:
            raise ConfigurationError(
                f"unknown protection famil{'ies' if len(unknown) > 1 else 'y'} "
                f"{', '.join(map(repr, unknown))}; known: {', '.join(FAMILIES)}"
            )
        compiled = []
        for pattern in self.patterns:
            try:
                regex = re.compile(pattern)
            except re.error as exc:
                raise ConfigurationError(
                    f"protection pattern {pattern!r} is not a valid regex: {exc}"
                ) from None
            if regex.fullmatch(""):
                raise ConfigurationError(
                    f"protection pattern {pattern!r} matches the empty string; make it match "
                    "at least one character"
                )
            compiled.append(regex)
        object.__setattr__(self, "compiled", tuple(compiled))


DEFAULT_PROTECTION = Protection()
