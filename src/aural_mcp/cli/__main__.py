"""`python -m aural_mcp.cli`: the same as the `aural-mcp` console script."""

import sys

from aural_mcp.cli import main

sys.exit(main())
