"""Declarative adapter settings: each option named once, with its variable, type and source.

An adapter lists its options as `Setting`s in `settings`; the kit then gives it, with no code of
its own: `from_env()` (each option from `<PLATFORM>_<OPTION>`, converted to its type), the check
that required options are there (naming where in the helpdesk to find each one), and the list
of documented variables.

```python
class AcmeAdapter(HelpdeskAdapter):
    name = "acme"
    settings = AdapterSettings(
        "acme",
        Setting("api_token", required=True, secret=True, where="Settings → API"),
        Setting("webhook_secret", required=True, secret=True, where="Settings → Webhooks"),
        Setting("base_url", default="https://api.acme.example"),
        Setting("page_size", kind=int),
    )

    def __init__(self, *, api_token: str, webhook_secret: str,
                 base_url: str = "https://api.acme.example", page_size: int | None = None):
        self.settings.check(api_token=api_token, webhook_secret=webhook_secret)
        ...
```
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from tl_loop._errors import ConfigurationError

__all__ = ["AdapterSettings", "Setting"]

Kind = Literal["str", "int", "float", "bool", "mapping"]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


@dataclass(frozen=True, slots=True)
class Setting:
    """One adapter option.

    Attributes:
        name: the keyword argument (`api_token`); its variable is `<PLATFORM>_<NAME>`.
        required: the adapter cannot work without it.
        secret: a credential: never shown in `repr`, errors or logs.
        kind: how the variable's text is read: `str`, `int`, `float`, `bool` (1/0,
            true/false, yes/no, on/off), or `mapping` (`key=value,key=value`; values that are
            whole numbers become ints).
        default: documents the constructor's default (the constructor applies it).
        choices: the values allowed, if only a few are.
        where: where in the helpdesk to find the value, for the error when it is missing.
        env: the variable's name when it is not `<PLATFORM>_<NAME>`.
    """

    name: str
    required: bool = False
    secret: bool = False
    kind: Kind = "str"
    default: Any = None
    choices: tuple[str, ...] = ()
    where: str = ""
    env: str | None = None


class AdapterSettings:
    """An adapter's options, in order.

    Args:
        platform: the adapter's name; variables are `<PLATFORM>_<OPTION>` in capitals.
        *settings: the options.
        one_of: groups of options of which at least one must be set (a subdomain or a base
            URL; an OAuth token or an email with an API token: write the latter as
            `"email+api_token"`).
    """

    def __init__(
        self, platform: str, *settings: Setting, one_of: tuple[tuple[str, ...], ...] = ()
    ) -> None:
        self.platform = platform
        self.settings = settings
        self.one_of = one_of
        self._by_name = {setting.name: setting for setting in settings}

    def __iter__(self) -> Any:
        return iter(self.settings)

    def variable(self, name: str) -> str:
        """The environment variable of option `name`."""
        setting = self._by_name[name]
        return setting.env or f"{self.platform}_{name}".upper()

    @property
    def secrets(self) -> frozenset[str]:
        """The names of the options that are credentials."""
        return frozenset(s.name for s in self.settings if s.secret)

    # -- checks ------------------------------------------------------------------------------

    def check(self, **values: Any) -> None:
        """Raise if a required option (or every option of a `one_of` group) is missing, or a
        value is not one of its choices.

        Raises:
            ConfigurationError: names the option and where in the helpdesk to find it.
        """
        for name, value in values.items():
            setting = self._by_name[name]
            if setting.required and (value is None or value == ""):
                raise ConfigurationError(self._missing(setting.name, setting.where))
            if setting.choices and value not in setting.choices:
                allowed = " or ".join(f'"{choice}"' for choice in setting.choices)
                raise ConfigurationError(
                    f"{self.platform}: {name} must be {allowed}, not {value!r}"
                )
        for group in self.one_of:
            if not any(_all_set(values, member) for member in group):
                names = " or ".join(member.replace("+", " with ") for member in group)
                raise ConfigurationError(f"{self.platform}: set {names}")

    def _missing(self, name: str, where: str) -> str:
        hint = f" ({where})" if where else ""
        return f"{self.platform}: {name} is required{hint}"

    # -- the environment ---------------------------------------------------------------------

    def from_env(self, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The keyword arguments the environment gives: each set variable, read by its kind.

        Unset or empty variables are left out, so the constructor's defaults apply.

        Raises:
            ConfigurationError: a required variable is missing (all of them are named), or a
                value cannot be read as its kind.
        """
        env = os.environ if environ is None else environ
        missing = [
            self.variable(s.name)
            for s in self.settings
            if s.required and not env.get(self.variable(s.name))
        ]
        if missing:
            plural = "variables" if len(missing) > 1 else "variable"
            raise ConfigurationError(
                f"{self.platform}: set the environment {plural} {', '.join(missing)}"
            )
        values: dict[str, Any] = {}
        for setting in self.settings:
            variable = self.variable(setting.name)
            text = env.get(variable)
            if text is None or (text == "" and setting.kind != "bool"):
                continue
            values[setting.name] = self._read(setting, variable, text)
        for group in self.one_of:
            if not any(_all_set(values, member) for member in group):
                names = " or ".join(
                    " with ".join(self.variable(part) for part in member.split("+"))
                    for member in group
                )
                raise ConfigurationError(f"{self.platform}: set {names}")
        return values

    def _read(self, setting: Setting, variable: str, text: str) -> Any:
        value = text.strip()
        if setting.kind == "int":
            if not (value.isascii() and value.lstrip("-").isdigit()):
                raise ConfigurationError(
                    f"{self.platform}: {variable} must be a whole number, not {text!r}"
                )
            return int(value)
        if setting.kind == "float":
            try:
                return float(value)
            except ValueError:
                raise ConfigurationError(
                    f"{self.platform}: {variable} must be a number, not {text!r}"
                ) from None
        if setting.kind == "bool":
            lowered = value.lower()
            if lowered not in _TRUE | _FALSE:
                raise ConfigurationError(
                    f"{self.platform}: {variable} must be true or false, not {text!r}"
                )
            return lowered in _TRUE
        if setting.kind == "mapping":
            return self._mapping(variable, value)
        if setting.choices:
            value = value.lower()
            if value not in setting.choices:
                allowed = " or ".join(f'"{choice}"' for choice in setting.choices)
                raise ConfigurationError(
                    f"{self.platform}: {variable} must be {allowed}, not {text!r}"
                )
        return value

    def _mapping(self, variable: str, value: str) -> dict[str, Any]:
        pairs: dict[str, Any] = {}
        for item in filter(None, (part.strip() for part in value.split(","))):
            key, sep, raw = item.partition("=")
            if not sep or not key.strip():
                raise ConfigurationError(
                    f"{self.platform}: {variable} must be key=value pairs separated by commas "
                    f"(e.g. en=1,es=2), not {value!r}"
                )
            raw = raw.strip()
            pairs[key.strip()] = int(raw) if raw.isascii() and raw.isdigit() else raw
        return pairs


def _all_set(values: Mapping[str, Any], member: str) -> bool:
    return all(values.get(part) not in (None, "") for part in member.split("+"))
