"""``python -m retrieval_index``: build, serve and search indexes (see :mod:`retrieval_index.cli`)."""

import sys

from retrieval_index.cli import main

if __name__ == "__main__":
    sys.exit(main())
