# Sourced by demo.sh and test.sh: a virtualenv in .venv, and apt_install for the Debian packages a
# script needs (graph layout needs none: graphviz-pure comes with ckptviz).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

apt_install() {
    local missing=()
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "ckptviz: please install ${missing[*]} (apt-get install ${missing[*]})" >&2
        return 0
    fi
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    # Debian's own python3 needs python3-venv for this; a pyenv or python.org build has it.
    "$PYTHON" -m venv .venv 2>/dev/null || { rm -rf .venv; apt_install python3-venv; "$PYTHON" -m venv .venv; }
fi
VENV=$PWD/.venv/bin
"$VENV/pip" install -q --upgrade pip >/dev/null
