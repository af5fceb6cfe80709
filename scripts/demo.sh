#!/usr/bin/env bash
# Install ckptviz into .venv and open JupyterLab on the tour notebook: TensorFlow's "Training
# checkpoints" guide told with %ckpt on checkpoints TensorFlow wrote (the URL is printed when no
# browser is found; Ctrl-C stops the server). `--no-lab`: the same tour with the ckptviz command,
# narrated by scripts/tour.sh.
echo "Installing ckptviz into .venv (the first time takes a few minutes: it builds the JupyterLab panel)…"
source "$(dirname "$0")/_setup.sh"
command -v npm >/dev/null || apt_install nodejs npm   # installing from source builds the JupyterLab panel
if [ "${1:-}" != "--no-lab" ]; then
    "$VENV/pip" install -q -e ".[notebook]"
    exec "$VENV/ckptviz" lab "${@}"
fi
"$VENV/pip" install -q -e .
PATH="$VENV:$PATH" exec ./scripts/tour.sh   # `ckptviz` as in an activated venv
