#!/bin/sh
# Print the path of a Python 3.13 interpreter, or explain what to install.
# The Lambda runtime is python3.13, so the venv, the tests and `sam build` must use 3.13.
# Candidates are tried in order and each one is asked for its own version, because a
# pyenv shim named python3.13 can exist and still fail to run.
set -u
is313() {
    "$@" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 13) else 1)' >/dev/null 2>&1
}
for cand in "${PYTHON:-}" python3.13 python3 python; do
    [ -n "$cand" ] || continue
    if command -v "$cand" >/dev/null 2>&1 && is313 "$cand"; then
        command -v "$cand"; exit 0
    fi
done
# pyenv installs: ask pyenv itself, then look in its versions folder.
if command -v pyenv >/dev/null 2>&1; then
    root=$(pyenv root 2>/dev/null)
    for exe in "$root"/versions/3.13*/bin/python3.13 "$root"/versions/3.13*/bin/python3; do
        if [ -x "$exe" ] && is313 "$exe"; then echo "$exe"; exit 0; fi
    done
fi
for exe in "$HOME"/.pyenv/versions/3.13*/bin/python3 /usr/local/bin/python3.13 /usr/bin/python3.13 /opt/homebrew/bin/python3.13; do
    if [ -x "$exe" ] && is313 "$exe"; then echo "$exe"; exit 0; fi
done
if command -v uv >/dev/null 2>&1; then
    exe=$(uv python find 3.13 2>/dev/null) && [ -n "$exe" ] && is313 "$exe" && { echo "$exe"; exit 0; }
fi
cat >&2 <<'MSG'
error: no Python 3.13 interpreter found (the Lambda runtime is python3.13).
Install one, then run make again, for example:
    pyenv install 3.13        # pyenv
    uv python install 3.13    # uv
    apt-get install python3.13 / brew install python@3.13
or point PYTHON at it:  make test PYTHON=/path/to/python3.13
MSG
exit 1
