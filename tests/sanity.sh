#!/usr/bin/env bash
# ansible-test sanity on the working tree as it is (committed or not).
# Usage: tests/sanity.sh [ansible-test sanity options, e.g. --test pep8]
#
# ansible-test only accepts a collection that sits at
# .../ansible_collections/NAMESPACE/NAME, so this copies the files git would
# list (tracked and untracked-but-not-ignored, minus deleted ones) into a
# temporary tree of that shape and runs the tests there; the copy is
# removed afterwards (SANITY_KEEP=1 keeps it and prints where it is).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
venv=${REDISOPS_VENV:-$top/.venv}
export PATH="$venv/bin:$PATH"
python=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')

log() { printf '[sanity] %s\n' "$*"; }

# ansible-test bootstraps pip in each test venv with a get-pip script that
# it downloads from ci-files.testing.ansible.com and caches under
# ~/.ansible/test/cache. That server is unreachable here (only PyPI and
# Debian mirrors are), so the download fails on a bare machine. When the
# cache lacks the script, put a stand-in there that bootstraps pip with the
# interpreter's own ensurepip instead; ansible-test then installs the
# sanity requirements from PyPI as usual. The file name carries the pip
# version ansible-test asks for, so read it from ansible-test itself.
pip_version=$("$venv/bin/python" -c '
import types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version="'"$python"'"))["pip"])') || {
  log "cannot read the pip bootstrap version from ansible-test in $venv"
  exit 1
}
get_pip=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
if [ ! -s "$get_pip" ]; then
  log "no pip $pip_version bootstrap script cached: writing an ensurepip stand-in to $get_pip"
  mkdir -p "$(dirname "$get_pip")"
  cat >"$get_pip" <<'EOF'
# Offline stand-in for ansible-test's pip bootstrap: the interpreter's ensurepip.
import ensurepip
ensurepip.bootstrap(upgrade=True)
EOF
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/redisops-sanity.XXXXXX")
if [ "${SANITY_KEEP:-}" = 1 ]; then
  trap 'log "kept $work"' EXIT
else
  trap 'rm -rf "$work"' EXIT
fi
name=$(awk '$1 == "name:" {print $2}' "$top/galaxy.yml")
namespace=$(awk '$1 == "namespace:" {print $2}' "$top/galaxy.yml")
dest=$work/ansible_collections/$namespace/$name
mkdir -p "$dest"

# The same file list ansible-test takes from git (--cached --others
# --exclude-standard, without deleted files); symlinks are copied as links.
list=$work/files
git -C "$top" ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do
    if [ -e "$top/$f" ] || [ -L "$top/$f" ]; then printf '%s\0' "$f"; fi
  done >"$list"
tar -C "$top" --null --no-recursion -T "$list" -cf - | tar -C "$dest" -xf -
# ansible-test lists the files of a git checkout with git ls-files --cached
# --others --exclude-standard: stage the copied ones (also any that are tracked
# although .gitignore matches them) so that it sees exactly this list.
git -C "$dest" init -q
git -C "$dest" add -f --pathspec-from-file="$list" --pathspec-file-nul

log "ansible-test sanity --python $python in $dest"
cd "$dest"
ansible-test sanity --local --python "$python" "$@"
