#!/usr/bin/env bash
# Interoperability of gardefou's C2SP checkpoints with an independent implementation of the
# specs (aics-tlog / aics-witness). Needs Python >= 3.12 for them; they go into their own venv:
#   INTEROP_PYTHON=python3.12 scripts/c2sp_interop.sh
# gardefou signs checkpoints and witness requests -> aics verifies and cosigns (and refuses a
# tampered proof) -> gardefou verifies the cosigned checkpoint and one aics signed.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"${INTEROP_PYTHON:-python3.12}" -m venv "$work/venv"
"$work/venv/bin/pip" install -q "aics-tlog==0.2.1" "aics-witness==0.1.0"
g() { PYTHONPATH="$here/src" "${GARDEFOU_PYTHON:-python}" -c \
        'from gardefou.cli.main import main; main()' --db "$work/g.db" \
        evidence --origin log.example/evidence "$@"; }
g keygen > /dev/null
for i in 1 2 3 4 5 6 7 8; do
  echo "benign $i" > "$work/$i.txt"
  g append "$work/$i.txt" --actor interop --reason interop --no-checkpoint > /dev/null
  if [ "$i" = 3 ]; then g witness-request --old-size 0 > "$work/req0.txt"; fi
done
g vkey > "$work/vkey.txt"
g witness-request --old-size 3 > "$work/req1.txt"
g checkpoint --format c2sp > "$work/cp.c2sp"
"$work/venv/bin/python" "$here/scripts/c2sp_interop_check.py" "$work"
g verify-checkpoint "$work/cosigned.c2sp" --vkey "$(cat "$work/vkey.txt")"
g verify-checkpoint "$work/aics.c2sp" --vkey "$(cat "$work/aics.vkey")"
echo "interop ok"
