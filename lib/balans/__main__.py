import sys

from balans.faces.cli import main

sys.exit(main())
