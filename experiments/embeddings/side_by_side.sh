#!/usr/bin/env bash
# Embedding cost of IR2Vec and mirtune side by side on the devmap .ll files (experiments/README.md): makes a
# virtual environment with the pinned ir2vec wheel outside the repository, then runs side_by_side.py.
# Usage: experiments/embeddings/side_by_side.sh [--build DIR] [--files N] [--cold-sample N] [--repeats N] [--json OUT]
#        (every option of side_by_side.py --help; the environment lives in $MIRTUNE_BENCH_VENV, default
#        ${XDG_CACHE_HOME:-~/.cache}/mirtune-bench/venv-ir2vec-2.1.1)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ir2vec_version=2.1.1
venv=${MIRTUNE_BENCH_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/mirtune-bench/venv-ir2vec-$ir2vec_version}
if ! "$venv/bin/python" -c "import ir2vec, sys; sys.exit(ir2vec.__version__ != '$ir2vec_version')" 2>/dev/null; then
  echo "setting up $venv (ir2vec==$ir2vec_version)" >&2
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet "ir2vec==$ir2vec_version" >&2
fi
exec "$venv/bin/python" "$here/side_by_side.py" --python "$venv/bin/python" "$@"
