#!/bin/sh
# Print the path of a Python 3.10 interpreter (Rasa 3.6 does not install on 3.11+).
# Looks at $PYTHON310, then PATH, then pyenv. Exits 1 with instructions if none.
for candidate in "${PYTHON310:-}" python3.10 "$HOME/.pyenv/versions/3.10"*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do
  [ -n "$candidate" ] || continue
  path=$(command -v "$candidate" 2>/dev/null) || continue
  if "$path" -c 'import sys, venv; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; then
    echo "$path"; exit 0
  fi
done
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root)
  for path in "$root"/versions/3.10*/bin/python3.10; do
    [ -x "$path" ] && { echo "$path"; exit 0; }
  done
fi
cat >&2 <<'MSG'
No Python 3.10 found. Rasa Open Source 3.6 needs Python 3.10 (it does not install on 3.11 or newer).
Install one, then run the command again:
  - with pyenv:   pyenv install 3.10
  - on Debian/Ubuntu: apt-get install python3.10 python3.10-venv (or the deadsnakes PPA)
  - or point to one: PYTHON310=/path/to/python3.10 make run
MSG
exit 1
