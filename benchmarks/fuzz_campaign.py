#!/usr/bin/env python
"""The long structural fuzz campaign (CI runs a few hundred inputs of it; this runs thousands).

    python benchmarks/fuzz_campaign.py [--inputs 6000] [--seed 1] [--workers 2] [--json out.json]

Mutates the TensorFlow-written fixtures in tests/data with their CRCs recomputed, runs each
input through the whole user path in a forked child (memory limit, timeout) and prints the
outcomes, the worst memory ratio and every failure with what reproduces it. See
tests/fuzz/harness.py.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.fuzz.harness import main

if __name__ == "__main__":
    main()
