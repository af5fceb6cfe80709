#!/usr/bin/env bash
# Install ckptviz into .venv and explore the bundled example: the TensorFlow guide's checkpoint.
source "$(dirname "$0")/_setup.sh"
"$VENV/pip" install -q -e .
EXAMPLE=tests/data/guide_legacy_adam
set -x
"$VENV/ckptviz" ls "$EXAMPLE"
"$VENV/ckptviz" show "$EXAMPLE" net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE
