"""Google Cloud Translation Advanced (v3) over HTTP, with an existing Google glossary.

`POST /v3/projects/{project}/locations/{location}:translateText` with a bearer token: a fixed
`access_token`, a `token_provider` callable, or Application Default Credentials read from a JSON
file (a service account key or gcloud's user login, `_google_auth`): no google-auth dependency.
Markup follows v2: `text/plain` for plain batches, `text/html` with `<span translate="no">`
around protected spans otherwise. A glossary is a Google resource created beforehand (from a
file in Cloud Storage); when one is configured, `glossaryTranslations` is used.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import anyio.to_thread
import httpx

from tl_loop._errors import ConfigurationError, ServiceError, ServiceResponseError
from tl_loop.engines._base import NO_OPTIONS, Capabilities, SegmentResult, TranslateOptions
from tl_loop.engines._google import GOOGLE_URL, GoogleEngineBase, parse_languages
from tl_loop.engines._google_auth import (
    GoogleCredentials,
    application_default_credentials,
    project_from,
)
from tl_loop.http import RetryPolicy
from tl_loop.text._token_markup import render_batch

__all__ = ["GoogleTranslateV3Engine"]

_GLOSSARY_NAME = re.compile(r"projects/[^/]+/locations/[^/]+/glossaries/[^/]+")
_ENV_PROJECT = "GOOGLE_CLOUD_PROJECT"
_ENV_LOCATION = "GOOGLE_TRANSLATE_LOCATION"
_ENV_TOKEN = "GOOGLE_OAUTH_ACCESS_TOKEN"


class GoogleTranslateV3Engine(GoogleEngineBase):
    """Google Cloud Translation Advanced (v3). Safe to share between threads.

    Shares language codes, markup and error mapping with the v2 engine; differs in endpoint,
    authentication (OAuth bearer token), limits, models and glossaries.

    Without `access_token` or `token_provider`, the token comes from Application Default
    Credentials: `credentials_file`, else `GOOGLE_APPLICATION_CREDENTIALS`, else the file of
    `gcloud auth application-default login` (`GOOGLE_OAUTH_ACCESS_TOKEN`, if set, comes first).

    Args:
        project: the Google Cloud project id or number; by default `GOOGLE_CLOUD_PROJECT`, the
            service account's `project_id`, or gcloud's configured project.
        location: `global`, or a region such as `us-central1` (glossaries and custom models
            need a region, the same as theirs).
        access_token: a fixed OAuth 2 access token (they expire after about an hour).
        token_provider: a callable returning a valid access token, called for every request;
            cache inside it (e.g. `google.auth` credentials' `token` after `refresh`).
        credentials_file: a service account key (JSON) or an `authorized_user` file: tokens
            are fetched with it (scope `cloud-translation`) and kept until shortly before
            they expire. Needs `cryptography` for keys (`pip install 'tl-loop[google]'`).
        credentials: `GoogleCredentials` already loaded (`application_default_credentials`).
        glossary: an existing Google glossary: its full resource name
            `projects/P/locations/L/glossaries/ID`, or just its ID in this project and location.
        glossary_ignore_case: match glossary terms case-insensitively.
        model: a model resource name, e.g. `projects/P/locations/L/models/general/translation-llm`.
        base_url: the API host.
        timeout: seconds for one request.
        retry: how rate limits and outages are retried.
        http_client: an `httpx.Client` to send with.
        async_http_client: an `httpx.AsyncClient` for `AsyncLoop`.

    Raises:
        ConfigurationError: no project, no token source (or two), an unusable credentials
            file, or a glossary with location `global`.
    """

    name = "google-v3"
    capabilities = Capabilities(
        max_items=1024,  # `contents`: "max length of this field is 1024"
        max_chars=20_000,  # hard limit 30 K code points, with room for markup
        trusted=False,
    )
    install_hint: ClassVar[str] = (
        "set GOOGLE_APPLICATION_CREDENTIALS to a service account key file (its project is "
        "used unless GOOGLE_CLOUD_PROJECT is set), or GOOGLE_CLOUD_PROJECT and "
        "GOOGLE_OAUTH_ACCESS_TOKEN; GOOGLE_TRANSLATE_LOCATION is optional (default global)"
    )

    def __init__(
        self,
        *,
        project: str | None = None,
        location: str = "global",
        access_token: str | None = None,
        token_provider: Callable[[], str] | None = None,
        credentials_file: str | None = None,
        credentials: GoogleCredentials | None = None,
        glossary: str | None = None,
        glossary_ignore_case: bool = False,
        model: str | None = None,
        base_url: str = GOOGLE_URL,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
    ) -> None:
        given = [access_token, token_provider, credentials_file, credentials]
        if sum(source is not None for source in given) > 1:
            raise ConfigurationError(
                "Google Translate v3 needs exactly one of access_token=, token_provider=, "
                "credentials_file= and credentials="
            )
        if not any(source is not None for source in given):
            access_token = os.environ.get(_ENV_TOKEN) or None
        if credentials_file is not None or (access_token is None and token_provider is None):
            credentials = credentials or application_default_credentials(
                os.environ, credentials_file=credentials_file
            )
        project = project or project_from(os.environ, credentials)
        if not project or not project.strip():
            raise ConfigurationError(
                f"Google Translate v3 needs project= ({_ENV_PROJECT} is not set"
                + (f" and {credentials.source} names none)" if credentials else ")")
            )
        if access_token is not None and not access_token.strip():
            raise ConfigurationError(f"access_token is empty; set {_ENV_TOKEN} or pass one")
        super().__init__(
            base_url=base_url,
            timeout=timeout,
            retry=retry,
            http_client=http_client,
            async_http_client=async_http_client,
        )
        self._model = model
        self._project = project.strip()
        self._location = location.strip() or "global"
        self._access_token = access_token.strip() if access_token else None
        self._token_provider = token_provider
        self._credentials = credentials
        self._glossary = self._glossary_name(glossary) if glossary else None
        self._ignore_case = glossary_ignore_case
        if self._glossary is not None:
            self.capabilities = Capabilities(
                max_items=self.capabilities.max_items,
                max_chars=self.capabilities.max_chars,
                trusted=False,
                glossary=True,
            )

    def _glossary_name(self, glossary: str) -> str:
        if self._location == "global":
            raise ConfigurationError(
                "Google glossaries need a regional location (e.g. location='us-central1', the "
                "glossary's own region), not 'global'"
            )
        glossary = glossary.strip()
        if _GLOSSARY_NAME.fullmatch(glossary):
            return glossary
        if "/" in glossary:
            raise ConfigurationError(
                f"glossary {glossary!r} is neither a glossary ID nor a resource name "
                "'projects/P/locations/L/glossaries/ID'"
            )
        return f"{self._parent}/glossaries/{glossary}"

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **options: Any
    ) -> GoogleTranslateV3Engine:
        """Build from the environment, as Google's client libraries do.

        The token: `GOOGLE_OAUTH_ACCESS_TOKEN` if set; else Application Default Credentials
        (the `credentials_file` option, `GOOGLE_APPLICATION_CREDENTIALS`, gcloud's
        `application_default_credentials.json`). The project: `GOOGLE_CLOUD_PROJECT` (or
        `GCLOUD_PROJECT`), else the service account's `project_id`, else gcloud's project.
        `GOOGLE_TRANSLATE_LOCATION` is optional (default `global`). `options` go to the
        constructor and win over the environment.

        Raises:
            ConfigurationError: no token source or no project (the message says what to set),
                or an unusable credentials file.
        """
        env = os.environ if environ is None else environ
        sources = ("access_token", "token_provider", "credentials_file", "credentials")
        if not any(options.get(name) is not None for name in sources):
            if env.get(_ENV_TOKEN, "").strip():
                options["access_token"] = env[_ENV_TOKEN].strip()
            else:
                options["credentials"] = application_default_credentials(env)
        elif options.get("credentials_file") is not None:
            options["credentials"] = application_default_credentials(
                env, credentials_file=options.pop("credentials_file")
            )
        if not options.get("project"):
            options["project"] = project_from(env, options.get("credentials"))
            if not options["project"]:
                raise ConfigurationError(f"{_ENV_PROJECT} is not set; {cls.install_hint}")
        options.setdefault("location", env.get(_ENV_LOCATION, "").strip() or "global")
        return cls(**options)

    @property
    def _parent(self) -> str:
        return f"projects/{self._project}/locations/{self._location}"

    @property
    def version(self) -> str:
        """`v3`, plus the model and the glossary resource when set."""
        return ";".join(part for part in ("v3", self._model, self._glossary) if part)

    def __repr__(self) -> str:
        return f"<GoogleTranslateV3Engine parent={self._parent!r} glossary={self._glossary!r}>"

    def _headers(self) -> dict[str, str]:
        if self._credentials is not None:
            headers = {"Authorization": f"Bearer {self._credentials.token(self._send)}"}
            if self._credentials.quota_project:
                headers["x-goog-user-project"] = self._credentials.quota_project
            return headers
        token = self._access_token
        if token is None:
            assert self._token_provider is not None
            token = self._token_provider()
        return {"Authorization": f"Bearer {token}"}

    async def atranslate_batch(
        self,
        segments: Sequence[str],
        *,
        source: str,
        target: str,
        options: TranslateOptions = NO_OPTIONS,
    ) -> list[SegmentResult]:
        """Async `translate_batch`; a token due for renewal is fetched off the event loop."""
        if self._credentials is not None and self._credentials.provider.needs_token():
            await anyio.to_thread.run_sync(self._headers)
        return await super().atranslate_batch(
            segments, source=source, target=target, options=options
        )

    def error_for(self, response: httpx.Response) -> ServiceError | None:
        """Google's mapping; a 401 also drops the held token, so the next request gets anew."""
        if response.status_code == 401 and self._credentials is not None:
            held = self._credentials.provider.token
            if held is not None:
                self._credentials.provider.invalidate(held)
        return super().error_for(response)

    def refresh_languages(self) -> None:
        """Replace the built-in language table with `GET …/supportedLanguages`.

        Raises:
            ServiceError: Google refused or failed the request.
        """
        request = httpx.Request(
            "GET", f"{self.base_url}/v3/{self._parent}/supportedLanguages", headers=self._headers()
        )
        response = self._send(request)
        self.raise_for_status(response)
        self._languages = parse_languages(response)

    def build_request(
        self, segments: Sequence[str], *, source: str, target: str, options: TranslateOptions
    ) -> httpx.Request:
        """`POST …:translateText` with `contents`, codes, an explicit `mimeType`, the glossary.

        Calls `token_provider` (if given) for the bearer token.
        """
        src, tgt = self._codes(source, target)
        texts, markup = render_batch(segments)
        body: dict[str, Any] = {
            "contents": texts,
            "sourceLanguageCode": src,
            "targetLanguageCode": tgt,
            "mimeType": "text/html" if markup else "text/plain",
        }
        if self._model:
            body["model"] = self._model
        if self._glossary:
            body["glossaryConfig"] = {"glossary": self._glossary, "ignoreCase": self._ignore_case}
        return httpx.Request(
            "POST",
            f"{self.base_url}/v3/{self._parent}:translateText",
            json=body,
            headers=self._headers(),
        )

    def parse_response(
        self,
        response: httpx.Response,
        *,
        segments: Sequence[str],
        source: str,
        target: str,
        options: TranslateOptions,
    ) -> list[SegmentResult]:
        """`glossaryTranslations` when present (the glossary applied), else `translations`.

        Google reports no billed count; `billed_characters` is the code points sent.
        """
        try:
            body = response.json()
            items = body.get("glossaryTranslations") or body["translations"]
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise ServiceResponseError(
                f"unexpected translateText body: {error!r}", service=self.name
            ) from None
        applied = self._glossary is not None and bool(body.get("glossaryTranslations"))
        return self._results(
            items, segments, extra={"glossary": self._glossary or ""} if applied else {}
        )
