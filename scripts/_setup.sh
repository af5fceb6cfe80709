# Sourced by demo.sh and test.sh: a virtualenv in .venv with ckptviz installed editable, and the
# Debian packages the renderer needs (Graphviz) when the machine lacks them.
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

command -v dot >/dev/null || apt_install graphviz

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
VENV=$PWD/.venv/bin
"$VENV/pip" install -q --upgrade pip >/dev/null
