#!/usr/bin/env bash
# Install ckptviz with its test tools and TensorFlow (the oracle of the interop tests) into
# .venv, then run the linters and the whole test suite. Extra arguments go to pytest.
source "$(dirname "$0")/_setup.sh"
# The system Graphviz, so that both layout engines are tested (graphviz-pure comes with ckptviz),
# and Debian's chromium for the browser tests (a test tool's own browser download cannot work here).
command -v dot >/dev/null || apt_install graphviz
command -v chromium >/dev/null || apt_install chromium
# TensorFlow (and tf_keras, Keras 2) pinned to the releases that wrote tests/data, so the oracle cannot drift; everything
# else at its newest compatible release (eager upgrades), so the import-cost and lazy-import checks
# hold for what a user gets today.
"$VENV/pip" install -q --upgrade --upgrade-strategy eager -e ".[test]" "tensorflow==2.21.0" "tf_keras==2.21.0"
export CKPTVIZ_REQUIRE_ORACLES=1
"$VENV/ruff" check ckptviz tests benchmarks
"$VENV/ruff" format --check ckptviz tests benchmarks  # `ruff format ckptviz tests benchmarks` fixes it
"$VENV/mypy" ckptviz
"$VENV/python" -m pytest "$@"
