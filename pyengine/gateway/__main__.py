"""``python -m pyengine.gateway``: load the configuration (``--help`` lists every option) and serve."""

from __future__ import annotations

import logging
import sys

from pyengine.gateway.config import load_config
from pyengine.gateway.server import run


def main(argv: list[str] | None = None) -> int:
    try:
        config = load_config(sys.argv[1:] if argv is None else argv)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return run(config)


if __name__ == "__main__":
    sys.exit(main())
