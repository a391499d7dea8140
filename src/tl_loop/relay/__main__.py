"""`python -m tl_loop.relay --config FILE [--host H] [--port P]`: the relay without the CLI."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from tl_loop._errors import ConfigurationError
from tl_loop.relay import run_serve


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and run the relay; configuration errors exit with 2."""
    parser = argparse.ArgumentParser(prog="python -m tl_loop.relay", description=__doc__)
    parser.add_argument("--config", help="TOML file (default: $TL_LOOP_CONFIG)")
    parser.add_argument("--host", help="address to listen on (default: [relay] host)")
    parser.add_argument("--port", type=int, help="port to listen on (default: [relay] port)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per helpdesk call is noise
    try:
        return run_serve(args.config, args.host, args.port)
    except ConfigurationError as error:
        print(f"tl-loop serve: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
