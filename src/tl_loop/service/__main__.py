"""`python -m tl_loop.service`: the old spelling of `python -m tl_loop.relay`."""

import sys

from tl_loop.relay.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
