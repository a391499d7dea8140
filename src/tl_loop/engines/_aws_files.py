"""The AWS shared config and credentials files, read as the AWS CLI and botocore read them.

- The credentials file (`~/.aws/credentials`, or `AWS_SHARED_CREDENTIALS_FILE`) has one section
  per profile, named plainly: `[default]`, `[work]`.
- The config file (`~/.aws/config`, or `AWS_CONFIG_FILE`) names them `[default]` and
  `[profile work]`; other sections (`[sso-session x]`, `[services x]`) are not profiles.
- A profile's settings are the config file's, with the credentials file's on top (botocore's
  `Session.full_config`): that is where `region` and `credential_process` are looked up. Access
  keys are looked up in each file on its own, the credentials file first.

Both are INI files read with `configparser.RawConfigParser` (as botocore does): keys are
case-insensitive, `#`/`;` start comment lines, indented lines continue a value.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tl_loop._errors import ConfigurationError

__all__ = ["AWSProfiles", "load_profiles", "profile_name"]

Sections = dict[str, dict[str, str]]


@dataclass(frozen=True, slots=True)
class AWSProfiles:
    """The profiles of both files, and where the files are (present or not)."""

    credentials_path: Path
    config_path: Path
    credentials: Sections
    config: Sections

    def settings(self, name: str) -> dict[str, str]:
        """Every setting of profile `name`: the config file's, the credentials file's on top."""
        return {**self.config.get(name, {}), **self.credentials.get(name, {})}

    def names(self) -> list[str]:
        """The profile names in either file."""
        return sorted({*self.credentials, *self.config})

    def has(self, name: str) -> bool:
        """Whether either file has profile `name`."""
        return name in self.credentials or name in self.config


def profile_name(environ: Mapping[str, str], explicit: str | None = None) -> tuple[str, str]:
    """The profile to use and where it was named: `explicit`, `AWS_DEFAULT_PROFILE`,
    `AWS_PROFILE` (botocore's order), else `default`."""
    if explicit:
        return explicit, "profile="
    for variable in ("AWS_DEFAULT_PROFILE", "AWS_PROFILE"):
        if environ.get(variable):
            return environ[variable], variable
    return "default", ""


def load_profiles(environ: Mapping[str, str]) -> AWSProfiles:
    """Read both files at the places `environ` names (a missing file has no profiles).

    Raises:
        ConfigurationError: a file exists but is not a valid INI file (the message says where).
    """
    credentials_path = _path(environ, "AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")
    config_path = _path(environ, "AWS_CONFIG_FILE", "~/.aws/config")
    config: Sections = {}
    for section, values in _read(config_path).items():
        parts = section.split()
        if section == "default":
            config.setdefault("default", {}).update(values)
        elif len(parts) == 2 and parts[0] == "profile":
            config.setdefault(parts[1], {}).update(values)
    return AWSProfiles(credentials_path, config_path, _read(credentials_path), config)


def _path(environ: Mapping[str, str], variable: str, default: str) -> Path:
    text = environ.get(variable) or default
    if text.startswith("~") and environ.get("HOME"):
        text = environ["HOME"] + text[1:]
    return Path(os.path.expanduser(text))


def _read(path: Path) -> Sections:
    parser = configparser.RawConfigParser()
    try:
        with path.open(encoding="utf-8") as file:
            parser.read_file(file)
    except (FileNotFoundError, NotADirectoryError):
        return {}
    except OSError as error:
        raise ConfigurationError(f"cannot read the AWS file {path}: {error.strerror}") from None
    except (configparser.Error, UnicodeDecodeError) as error:
        raise ConfigurationError(
            f"the AWS file {path} is not a valid INI file ({_reason(error)}); fix it or point "
            "AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE elsewhere"
        ) from None
    return {name: dict(parser.items(name)) for name in parser.sections()}


def _reason(error: Exception) -> str:
    # Say where, never what: the offending line may hold a secret key.
    if isinstance(error, configparser.MissingSectionHeaderError):
        return f"line {error.lineno} comes before any [section] header"
    if isinstance(error, configparser.ParsingError):
        return "cannot parse line " + ", ".join(str(number) for number, _ in error.errors)
    if isinstance(error, configparser.DuplicateOptionError | configparser.DuplicateSectionError):
        return str(error)
    return "not UTF-8" if isinstance(error, UnicodeDecodeError) else type(error).__name__
