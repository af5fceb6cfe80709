#!/usr/bin/env bash
# The tour of the ckptviz command, narrated: a heading per step saying what you are about to see
# and why, the command as you would type it, its output, and where the written files are. Needs
# `ckptviz` on PATH (./scripts/demo.sh --no-lab installs it and runs this); writes only to
# build/demo/ (or $CKPTVIZ_TOUR_OUT), never to the example checkpoints.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ -t 1 ]; then BOLD=$'\e[1m' DIM=$'\e[2m' OFF=$'\e[0m'; else BOLD="" DIM="" OFF=""; fi
STEP=0
step() {  # a heading: what the next command shows, and why you would want it
    STEP=$((STEP + 1))
    printf '\n%s%d. %s%s\n%s%s%s\n' "$BOLD" "$STEP" "$1" "$OFF" "$DIM" "$2" "$OFF"
}
run() {  # the command as you would type it, then its own output
    printf '%s$ %s%s\n' "$BOLD" "$*" "$OFF"
    "$@"
}

OUT=${CKPTVIZ_TOUR_OUT:-build/demo}   # everything the tour writes
[ "$OUT" = build/demo ] && rm -rf "$OUT"   # the tour's own directory; another must be new or empty
mkdir -p "$OUT"
EXAMPLE=ckptviz/examples/guide   # TensorFlow's guide: a CheckpointManager kept ckpt-2, -3 and -4

step "What is in a checkpoint" \
     "Every tensor with the name you know it by, its dtype, shape and size (a directory means its latest checkpoint)."
run ckptviz ls "$EXAMPLE"

step "Who owns what" \
     "The object graph TensorFlow saved: the model, its layers, the optimizer and its slot variables."
run ckptviz tree "$EXAMPLE"

step "One tensor" \
     "Values and statistics of a variable, asked for by its object path instead of its long key."
run ckptviz show "$EXAMPLE" net/l1/kernel

step "The graph as a picture" \
     "The dependency graph in the colours of TensorFlow's guide: optimizer red, variables blue, slots orange."
run ckptviz graph "$EXAMPLE" -o "$OUT/guide.svg"

step "What changed between two saves" \
     "Tensors sorted by how much they moved, then by subtree; the exit status is 1 because they differ."
run ckptviz diff "$EXAMPLE/ckpt-2" "$EXAMPLE/ckpt-4" --limit 5 || [ $? -eq 1 ]

step "A training run over time" \
     "Six saves of a Keras run: the relative change of every variable per step shows which layers moved and which froze."
run ckptviz timeline ckptviz/examples/training_run -o "$OUT/run.html"

step "Keep only what a partial restore needs" \
     "A new checkpoint holding just net/l1/bias (and what TensorFlow needs to restore it), and its picture."
run ckptviz select "$EXAMPLE" "$OUT/bias" net/l1/bias
run ckptviz graph "$OUT/bias" -o "$OUT/guide-partial.svg"

step "Drop a layer, then check the result" \
     "Everything except net/l1; verify reads every checksum, data file and reference of what was written."
run ckptviz select "$EXAMPLE" "$OUT/no-l1" --exclude net/l1
run ckptviz verify "$OUT/no-l1"

step "From TF1 to TF2" \
     "A TF1 Saver checkpoint (names only) converted to an object-based one that tf.train.Checkpoint restores."
run ckptviz convert ckptviz/examples/tf1_saver "$OUT/tf2" --to tf2
run ckptviz tree "$OUT/tf2"

printf '\n%sFiles written, in %s/%s\n' "$BOLD" "$OUT" "$OFF"
printf '  %s\n' "$OUT/guide.svg          the coloured graph (open it in a browser)" \
                "$OUT/guide-partial.svg  the graph of the partial checkpoint" \
                "$OUT/run.html           the training run: heatmap, histograms and tables" \
                "$OUT/bias, $OUT/no-l1, $OUT/tf2   new checkpoints TensorFlow reads"
printf '\nNext: ./scripts/demo.sh opens the same tour as a notebook in JupyterLab (%%ckpt and the explorer).\n'
