# Lyhörd. `make run` starts the demo, `make test` runs the tests; both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 5000
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
PO := $(wildcard survey/translations/*/LC_MESSAGES/messages.po)
MO := $(PO:.po=.mo)

.PHONY: run test test-pg test-fast lint format bench translations extract-messages browser lock clean

run: $(STAMP) $(MO)
	$(BIN)/lyhord demo --host $(HOST) --port $(PORT)

test: $(STAMP) $(MO) browser
	$(BIN)/pytest -q

# The same suite on PostgreSQL (browser tests drive their own SQLite-backed server).
test-pg: $(STAMP) $(MO)
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	LYHORD_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q -m "not browser"

test-fast: $(STAMP) $(MO)
	$(BIN)/pytest -q -m "not browser and not slow"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP) $(MO)
	$(BIN)/python -m bench

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -c requirements.lock -e '.[dev]'
	touch $@

# Compiled catalogs are build output (not in git).
%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile -i $< -o $@

translations: $(MO)

# After changing UI texts: refresh the template and the catalogs, then translate what is new.
extract-messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		-o survey/translations/messages.pot .
	$(BIN)/pybabel update -i survey/translations/messages.pot -d survey/translations \
		--ignore-obsolete

# Debian's Chromium drives the browser tests; Playwright never downloads a browser here.
browser:
	@command -v chromium >/dev/null || { apt-get update -q && apt-get install -y -q chromium; }

lock: $(STAMP)
	( echo '# Exact versions `make` installs (pip constraints). Refresh: make lock'; \
	  $(BIN)/pip freeze --exclude-editable ) > requirements.lock

clean:
	rm -rf $(VENV) instance/*.sqlite3* .pytest_cache .mypy_cache .ruff_cache
