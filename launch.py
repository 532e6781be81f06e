#!/usr/bin/env python3
"""Affect Studio entry point.

python3 launch.py            start the studio (installs into ./.venv on first run)
python3 launch.py test       install the test dependencies and run the whole test suite
python3 launch.py --help     every subcommand (projects, generations, backends, …)
"""

import sys

from studio.bootstrap import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
