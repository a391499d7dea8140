"""Running the relay a configuration describes, under uvicorn, with its logs on stderr."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.applications import Starlette

from tl_loop._config import TlLoopConfig
from tl_loop._errors import ConfigurationError
from tl_loop._loop import Loop
from tl_loop.relay._app import create_app
from tl_loop.relay._edge import ACCEPT_BACKLOG, EdgeLimits, raise_open_files_limit
from tl_loop.relay._settings import RelaySettings, build_adapters, load_config_file

if TYPE_CHECKING:
    import uvicorn

__all__ = ["configure_logging", "run_relay", "run_serve", "serve", "uvicorn_config"]


def configure_logging(level: int = logging.INFO) -> None:
    """Relay and engine logs on stderr with time, level and logger name.

    A process running the relay is a service: its INFO lines (jobs, retries, breaker
    transitions) are what an operator reads, so they must not be dropped.
    """
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per helpdesk call is noise


def serve(
    app: Starlette, *, host: str = "127.0.0.1", port: int = 8080, log_level: str = "info"
) -> None:
    """Run an app from `create_app` under uvicorn until interrupted (SIGINT/SIGTERM).

    The edge limits of the app's `RelaySettings` apply (connections, header and body time,
    body size, webhooks in flight; see docs/relay.md "Security"). One process: the relay's
    workers are threads inside it, and the SQLite queue belongs to it. Scale out with more
    relays on separate queue files, not uvicorn workers on one file.
    """
    import uvicorn  # imported here: uvicorn starts slowly and only serve() needs it

    uvicorn.Server(uvicorn_config(app, host=host, port=port, log_level=log_level)).run()


def uvicorn_config(
    app: Starlette, *, host: str = "127.0.0.1", port: int = 8080, log_level: str = "info"
) -> uvicorn.Config:
    """The uvicorn configuration `serve` runs: the app behind the relay's edge limits.

    Raises the process's open-files limit to fit `max_connections` (or lowers the cap to fit
    the limit, with a warning).
    """
    import uvicorn

    relay = getattr(app.state, "relay", None)
    settings = relay.settings if relay is not None else RelaySettings()
    connections = raise_open_files_limit(settings.max_connections)
    if connections < settings.max_connections:
        logging.getLogger("tl_loop.relay").warning(
            "the open-files limit allows %d connections, not relay.max_connections = %d; "
            "raise it (ulimit -n, LimitNOFILE=) to serve more",
            connections,
            settings.max_connections,
        )
    limits = EdgeLimits(max_connections=connections, header_timeout=settings.header_timeout)
    return uvicorn.Config(
        app, host=host, port=port, log_level=log_level, access_log=False,
        timeout_graceful_shutdown=30, http=limits.protocol(), backlog=ACCEPT_BACKLOG,
        timeout_keep_alive=max(1, int(settings.header_timeout)),
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
    )  # fmt: skip


def run_relay(
    config: TlLoopConfig,
    settings: RelaySettings,
    *,
    host: str | None = None,
    port: int | None = None,
) -> int:
    """Build the adapters, the loop and the app the configuration describes, and serve them.

    `host` and `port` override `[relay]`. Returns the exit code (0) once interrupted.

    Raises:
        ConfigurationError: an unknown adapter, bad options or a missing variable.
    """
    adapters = build_adapters(settings)
    loop = Loop.from_config(config)
    app = create_app(loop=loop, adapters=adapters, settings=settings, close_loop=True)
    serve(app, host=host or settings.host, port=settings.port if port is None else port)
    return 0


def run_serve(
    config_path: str | os.PathLike[str] | None, host: str | None = None, port: int | None = None
) -> int:
    """Run the relay a TOML file describes (default: `$TL_LOOP_CONFIG`); returns the exit code.

    Raises:
        ConfigurationError: no file, a bad key, an unknown adapter or a missing variable.
    """
    path = config_path if config_path is not None else os.environ.get("TL_LOOP_CONFIG")
    if not path:
        raise ConfigurationError(
            "the relay needs a configuration file: pass --config FILE or set TL_LOOP_CONFIG"
        )
    config, settings = load_config_file(Path(path))
    return run_relay(config, settings, host=host, port=port)
