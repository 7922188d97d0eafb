"""``python -m torch_tensorrt``: the command line (see :mod:`torch_tensorrt.cli`)."""

import sys

from torch_tensorrt.cli import main

if __name__ == "__main__":
    sys.exit(main())
