#!/usr/bin/env bash
# Install ckptviz into .venv and open JupyterLab on the tour notebook: TensorFlow's "Training
# checkpoints" guide told with %ckpt on checkpoints TensorFlow wrote (the URL is printed when no
# browser is found; Ctrl-C stops the server). `--no-lab`: the same tour with the ckptviz command.
source "$(dirname "$0")/_setup.sh"
command -v npm >/dev/null || apt_install nodejs npm   # installing from source builds the JupyterLab panel
if [ "${1:-}" != "--no-lab" ]; then
    "$VENV/pip" install -q -e ".[notebook]"
    exec "$VENV/ckptviz" lab "${@}"
fi
"$VENV/pip" install -q -e .
EXAMPLE=ckptviz/examples/guide   # CheckpointManager kept ckpt-2..4; a directory means the latest
OUT=$(mktemp -d)
set -x
"$VENV/ckptviz" ls "$EXAMPLE"
"$VENV/ckptviz" tree "$EXAMPLE"
"$VENV/ckptviz" show "$EXAMPLE" net/l1/kernel
"$VENV/ckptviz" graph "$EXAMPLE" -o "$OUT/guide.svg"
"$VENV/ckptviz" diff "$EXAMPLE/ckpt-2" "$EXAMPLE/ckpt-4" --limit 5 || [ $? -eq 1 ]   # exit 1: they differ
"$VENV/ckptviz" timeline ckptviz/examples/training_run -o "$OUT/run.html"
"$VENV/ckptviz" select "$EXAMPLE" "$OUT/bias" net/l1/bias
"$VENV/ckptviz" graph "$OUT/bias" -o "$OUT/guide-partial.svg"
"$VENV/ckptviz" select "$EXAMPLE" "$OUT/no-head" --exclude net/l1
"$VENV/ckptviz" verify "$OUT/no-head"
"$VENV/ckptviz" convert ckptviz/examples/tf1_saver "$OUT/tf2" --to tf2
"$VENV/ckptviz" tree "$OUT/tf2"
