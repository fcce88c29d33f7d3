# Sourced by the make_*_fixtures.sh scripts: the pinned Python environment the golden
# fixtures are generated in. `golden_run REQUIREMENTS... -- SCRIPT ARGS...` creates the venv
# ($GOLDEN_VENV, default tools/golden/.venv, git-ignored) if missing, installs the pinned
# requirement files into it and runs SCRIPT (relative to tools/golden) with ARGS.
GOLDEN_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

golden_run() {
    local venv="${GOLDEN_VENV:-$GOLDEN_DIR/.venv}"
    local reqs=()
    while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
        reqs+=(-r "$GOLDEN_DIR/$1")
        shift
    done
    shift
    local script="$1"
    shift
    if [ ! -x "$venv/bin/python" ]; then
        "${PYTHON:-python3}" -m venv "$venv"
    fi
    "$venv/bin/pip" install -q --disable-pip-version-check "${reqs[@]}"
    exec "$venv/bin/python" "$GOLDEN_DIR/$script" "$@"
}
