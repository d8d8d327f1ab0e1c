import sys

from spiko.cli import main

sys.exit(main())
