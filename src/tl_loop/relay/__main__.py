"""`python -m tl_loop.relay --config FILE [--host H] [--port P]`: the relay without the CLI."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tl_loop._errors import ConfigurationError, MissingDependencyError
from tl_loop.relay import configure_logging, require_serve_dependencies, run_serve


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and run the relay; configuration errors exit with 2."""
    parser = argparse.ArgumentParser(prog="python -m tl_loop.relay", description=__doc__)
    parser.add_argument("--config", help="TOML file (default: $TL_LOOP_CONFIG)")
    parser.add_argument("--host", help="address to listen on (default: [relay] host)")
    parser.add_argument("--port", type=int, help="port to listen on (default: [relay] port)")
    args = parser.parse_args(argv)
    configure_logging()
    try:
        require_serve_dependencies()
        return run_serve(args.config, args.host, args.port)
    except (ConfigurationError, MissingDependencyError) as error:
        print(f"tl-loop serve: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
