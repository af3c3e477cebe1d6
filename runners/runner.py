#!/usr/bin/env python3
"""Entry point of the in-sandbox runner (``python3 -u /opt/hx/runner.py``): the runner itself is the
package ``hxrunner`` beside this file (see its ``__init__``). Standard library only."""
from hxrunner.loop import main

if __name__ == "__main__":
    main()
