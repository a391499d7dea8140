"""`python -m tl_loop.cli`: the same as the `tl-loop` command."""

import sys

from tl_loop.cli import main

if __name__ == "__main__":
    sys.exit(main())
