# shellcheck shell=bash
# A cached venv with packages from PyPI: `pypi_venv DIR MODULE SPEC...` installs SPEC into DIR
# unless MODULE already imports there, and prints DIR's python on stdout.
pypi_venv() {
  local venv=$1 module=$2
  shift 2
  if ! "$venv/bin/python" -c "import $module" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$@" >&2
  fi
  echo "$venv/bin/python"
}
