# Python tools of the build (cfn-lint, host-mode LocalStack and its AWS CLI) live in virtual
# environments under .cache/, created on first use and reused while their requirements are
# unchanged. Sourced, not run: defines find_python and ensure_venv.

# Prints a Python interpreter of at least the given version (default 3.12). ETL_PYTHON wins; then
# python3.N on PATH, pyenv's versions, and python3. Fails with the list of what it tried.
find_python() {
  local min=${1:-3.12} candidate tried=() roots=()
  local check="import sys; sys.exit(0 if sys.version_info[:2] >= tuple(map(int, '$min'.split('.'))) else 1)"
  local candidates=()
  [[ -n "${ETL_PYTHON:-}" ]] && candidates+=("$ETL_PYTHON")
  candidates+=(python3.14 python3.13 python3.12)
  command -v pyenv >/dev/null 2>&1 && roots+=("$(pyenv root 2>/dev/null)")
  roots+=("${PYENV_ROOT:-}" "$HOME/.pyenv")
  for root in "${roots[@]}"; do
    [[ -n "$root" && -d "$root/versions" ]] || continue
    # Newest first.
    while IFS= read -r dir; do candidates+=("$dir/bin/python3"); done < <(ls -d "$root"/versions/3.* 2>/dev/null | sort -rV)
  done
  candidates+=(python3)
  for candidate in "${candidates[@]}"; do
    tried+=("$candidate")
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "$check" 2>/dev/null && "$candidate" -c 'import venv, ensurepip' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  echo "no Python >= $min with the venv module found (tried: ${tried[*]}); install one (e.g. pyenv install 3.12, or apt-get install python3.12-venv) or set ETL_PYTHON" >&2
  return 1
}

# ensure_venv DIR MIN_PYTHON PIP_INSTALL_ARGS...: a venv in DIR holding PIP_INSTALL_ARGS. The
# arguments are recorded in DIR/.requirements; the venv is rebuilt only when they change.
ensure_venv() {
  export PIP_CACHE_DIR=${PIP_CACHE_DIR:-$(pwd)/.cache/pip}
  local dir=$1 min=$2
  shift 2
  local wanted="$*"
  if [[ -x "$dir/bin/python" && "$(cat "$dir/.requirements" 2>/dev/null)" == "$wanted" ]]; then
    return 0
  fi
  local python
  python=$(find_python "$min") || return 1
  echo "creating $dir with $("$python" --version 2>&1) ($python): pip install $wanted" >&2
  rm -rf "$dir"
  "$python" -m venv "$dir"
  # A recent pip first: --uploaded-prior-to needs pip >= 26.
  "$dir/bin/pip" install --quiet --disable-pip-version-check -U pip
  "$dir/bin/pip" install --quiet --disable-pip-version-check "$@"
  echo "$wanted" >"$dir/.requirements"
}
