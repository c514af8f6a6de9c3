#!/usr/bin/env bash
# Run `ansible-test sanity` on the collection without Docker and without the download host that
# ansible-test normally downloads from. Extra arguments go to ansible-test, e.g.
#   tools/ansible-test-sanity.sh --test pylint
# Environment: SANITY_PYTHON (controller, default 3.11), SANITY_TARGET_PYTHONS (more Pythons for
# module-side tests, default "3.8 3.13"), VENV (default .venv), ANSIBLE_TEST_HOME (where
# ansible-test caches its venvs; default build/ansible-test-home).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${VENV:-.venv}
[[ $venv = /* ]] || venv=$root/$venv
python_version=${SANITY_PYTHON:-3.11}
# ansible-test only works from a path ending in ansible_collections/<namespace>/<name>.
dest=$root/build/sanity/ansible_collections/netpolicy/vpn_passthrough
# ansible-test caches its venvs under ~/.ansible/test and does not guard them against concurrent
# runs; a HOME of this checkout's own keeps other checkouts' runs out of them, and the lock
# serialises runs in this one.
pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}
export HOME=${ANSIBLE_TEST_HOME:-$root/build/ansible-test-home}
mkdir -p "$HOME"
exec 9>"$root/build/sanity.lock"
flock 9
start=$SECONDS

# Findings are fixed, not ignored: tests/sanity/ignore-*.txt must stay empty.
for ignore in "$root"/tests/sanity/ignore-*.txt; do
  [[ -e $ignore ]] || continue
  if grep -qv '^[[:space:]]*$' "$ignore"; then
    echo "${ignore#"$root"/} must stay empty: fix the findings it lists instead of ignoring them" >&2
    exit 1
  fi
done

# 1. ansible-test bootstraps pip in each venv it creates with a cached get-pip script; put the
#    project's offline stand-in there, but never replace a real get-pip someone cached.
pip_version=$(cd / && "$venv/bin/python" -c '
import types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version="'"$python_version"'"))["pip"])')
cached=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
shim=$root/tools/get_pip_shim.py
if [[ ! -e $cached ]] || grep -q netpolicy-vpn-passthrough-get-pip-shim "$cached"; then
  if ! cmp -s "$shim" "$cached"; then
    install -D -m 0644 "$shim" "$cached"
  fi
fi

# 2. A fresh copy of what git would commit: tracked files plus untracked ones that are not
#    ignored. The copy keeps its own .git (step 3) and tests/output/ (ansible-test's cached
#    delegation venv), and loses every file that has left the work tree.
mkdir -p "$dest"
filter=$(mktemp)
trap 'rm -f "$filter"' EXIT
(
  cd "$root"
  echo 'P /.git/'
  echo 'P /tests/output/'
  git -c core.quotePath=false ls-files -co --exclude-standard | while IFS= read -r path; do
    [[ -e $path || -L $path ]] || continue  # deleted in the work tree, not yet committed
    dir=$path
    while [[ $dir = */* ]]; do
      dir=${dir%/*}
      echo "+ /$dir/"
    done
    echo "+ /$path"
  done | sort -u
  echo '- *'
) >"$filter"
rsync -a --delete --delete-excluded --filter="merge $filter" "$root/" "$dest/"

# 3. ansible-test lists files with git when the content root (or a parent) has a .git. The
#    parent work tree ignores build/, so the copy gets a repository of its own; nothing is
#    committed there, `git ls-files --others --exclude-standard` is enough. tests/output/ is
#    excluded in .git/info/exclude in case .gitignore ever stops ignoring it, since ansible-test
#    would lint its own venvs there.
if [[ ! -d $dest/.git ]]; then
  git -C "$dest" init -q
fi
printf '%s\n' '/tests/output/' >"$dest/.git/info/exclude"

# The copy must hold exactly the files git lists here, or sanity would pass on the wrong tree.
if ! listing=$(diff <(cd "$root" && git -c core.quotePath=false ls-files -co --exclude-standard | while IFS= read -r p; do
                        [[ -e $p || -L $p ]] && echo "$p"; done | sort) \
                    <(git -C "$dest" -c core.quotePath=false ls-files -co --exclude-standard | sort)); then
  echo "build/sanity copy differs from the work tree:" >&2
  echo "$listing" >&2
  exit 1
fi

# 4. Module-side code runs on the routers' Pythons, not the controller's: the tests that take a
#    Python version (compile, import) also run on these when an interpreter is found (python3.X
#    on PATH, else a pyenv install). ansible-test looks them up as python3.X on PATH, so working
#    links go first on PATH (pyenv's shims only run the global version).
target_args=(--target-python "$python_version")
pybin=$HOME/bin
mkdir -p "$pybin"
for ver in ${SANITY_TARGET_PYTHONS-3.8 3.13}; do
  [[ $ver = "$python_version" ]] && continue
  found=
  if "python$ver" -c '' 2>/dev/null; then
    found=$(command -v "python$ver")
  else
    candidates=("$pyenv_root"/versions/"$ver".*/bin/"python$ver")
    [[ -e ${candidates[0]} ]] && found=$(printf '%s\n' "${candidates[@]}" | sort -V | tail -n 1)
  fi
  if [[ -z $found ]]; then
    echo "NOTE: no Python $ver here: compile and import are not tested on it" >&2
    continue
  fi
  ln -sfn "$found" "$pybin/python$ver"
  target_args+=(--target-python "$ver")
done
export PATH=$pybin:$PATH

# 5. The controller runs in a venv ansible-test builds (as --venv does); ansible-test's own venvs
#    are cached under $HOME/.ansible/test/venv and tests/output/.tmp, so the project venv's pins
#    never clash with the sanity tools' pins.
cd "$dest"
status=0
"$venv/bin/ansible-test" sanity --controller "origin:python=venv/$python_version" "${target_args[@]}" \
  --color no "$@" || status=$?
echo "ansible-test sanity: exit $status after $((SECONDS - start)) s"
exit "$status"
