# Jishi: `make demo` runs the demo shop, `make test` runs the whole suite (SQLite, then
# PostgreSQL when JISHI_TEST_DATABASE_URL is set). Both create .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
TEST_DATA := $(CURDIR)/var/test
export JISHI_TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
# pytest-xdist workers (one per core here); each gets its own test databases and Redis database.
TEST_WORKERS ?= 2

.PHONY: demo test install lint typecheck test-sqlite test-postgres chromium bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP) fonts
	$(BIN)/jishi demo

chromium:
	@command -v chromium >/dev/null 2>&1 || { echo "installing Debian chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Demo pictures and share posters set Chinese in Noto Sans CJK (jishi/core/fonts.py); the browser
# draws category icons (emoji) with Noto Color Emoji.
.PHONY: fonts
fonts:
	@test -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc || { echo "installing Debian fonts-noto-cjk for Chinese in pictures"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null; }
	@test -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf || { echo "installing Debian fonts-noto-color-emoji for category icons in the browser"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-color-emoji >/dev/null; }

lint: $(STAMP)
	$(BIN)/ruff check jishi bench
	$(BIN)/ruff format --check jishi bench

typecheck: $(STAMP)
	$(BIN)/mypy jishi

test-sqlite: $(STAMP) chromium fonts
	@echo "== test suite on SQLite"
	env -u DATABASE_URL -u REDIS_URL JISHI_DATA_DIR=$(TEST_DATA)/sqlite $(BIN)/pytest -q -n $(TEST_WORKERS)

test-postgres: $(STAMP) chromium fonts
	@if [ -n "$$JISHI_TEST_DATABASE_URL" ]; then \
		echo "== test suite on PostgreSQL ($$JISHI_TEST_DATABASE_URL)"; \
		env -u REDIS_URL DATABASE_URL="$$JISHI_TEST_DATABASE_URL" JISHI_DATA_DIR=$(TEST_DATA)/postgres \
			JISHI_SCHEMATHESIS_EXAMPLES=$${JISHI_SCHEMATHESIS_EXAMPLES:-12} $(BIN)/pytest -q -n $(TEST_WORKERS); \
	else echo "== JISHI_TEST_DATABASE_URL not set: PostgreSQL pass not run"; fi
	@$(MAKE) --no-print-directory fuzz-served-postgres

# schemathesis from the command line against `jishi demo` served on PostgreSQL, with a buyer's
# and the operator's token: any 5xx fails the build. Bounded: the demo's start, then
# JISHI_SERVED_FUZZ_SECONDS of fuzzing (both tokens at once), killed after 8 minutes at most.
.PHONY: fuzz-served-postgres
fuzz-served-postgres: $(STAMP)
	@if [ -n "$$JISHI_TEST_DATABASE_URL" ]; then \
		echo "== schemathesis CLI against a served demo on PostgreSQL"; \
		timeout -k 10 480 $(BIN)/python -m jishi.testing.served_fuzz --database-url "$$JISHI_TEST_DATABASE_URL" \
			--seconds $${JISHI_SERVED_FUZZ_SECONDS:-40}; \
	else echo "== JISHI_TEST_DATABASE_URL not set: served fuzz not run"; fi

test: lint typecheck test-sqlite test-postgres

bench: $(STAMP)
	$(BIN)/python bench/checkout.py

clean:
	rm -rf var .mypy_cache .ruff_cache
