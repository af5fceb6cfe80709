#!/usr/bin/env bash
# Install ckptviz into .venv and explore the bundled example: the TensorFlow guide's checkpoint
# (tf_keras model, Adam slots, a tf.data iterator, three saves by CheckpointManager).
source "$(dirname "$0")/_setup.sh"
"$VENV/pip" install -q -e .
EXAMPLE=tests/data/guide_legacy_adam
set -x
"$VENV/ckptviz" ls "$EXAMPLE"
"$VENV/ckptviz" show "$EXAMPLE" net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE
"$VENV/ckptviz" graph "$EXAMPLE" -o guide.svg
"$VENV/ckptviz" select "$EXAMPLE" /tmp/ckptviz-demo/bias net/l1/bias --overwrite
"$VENV/ckptviz" graph /tmp/ckptviz-demo/bias -o guide-partial.svg
