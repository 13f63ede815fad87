# Kejiyun: `make run` sets everything up on SQLite and serves the site; `make test` runs
# every check; `make check` is the quick loop (static checks and the unit tests on SQLite,
# no browser). All work on a fresh machine with Python 3.11, Node.js/npm and (for the
# browser tests) root to install Debian's chromium.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
PG_URL ?= postgres://postgres@127.0.0.1:5432/kejiyun
HOST ?= 127.0.0.1
PORT ?= 8000
VENDOR := kejiyun/static/vendor
# pytest-xdist workers per pytest run. Each worker has its own test database (an in-memory
# SQLite, or test_<name>_gw0, _gw1, ... on PostgreSQL). `--dist load` hands every worker its
# tests in collection order, so each worker still runs its transactional tests (browser
# tests, races), whose teardown empties its database, after all its other tests.
TEST_WORKERS ?= 2
PYTEST := KEJIYUN_TESTING=1 $(PY) -m pytest -p no:cacheprovider -n $(TEST_WORKERS) --dist load

.PHONY: run setup test check lint typecheck boundaries deploy-check test-sqlite test-postgres \
        test-api-fuzz test-unit chromium static messages lock clean security-checks \
        security-figures drill-restore test-resilience

run: setup
	DEBUG=1 $(MANAGE) seed_demo --scale small --seed 1
	DEBUG=1 $(MANAGE) create_demo_admin
	@echo "Serving Kejiyun at http://$(HOST):$(PORT)/ with the periodic jobs beside it  (Ctrl-C to stop)"
	DEBUG=1 $(MANAGE) run_periodic & jobs=$$!; \
	  trap 'kill $$jobs 2>/dev/null' EXIT INT TERM; \
	  DEBUG=1 $(MANAGE) runserver $(HOST):$(PORT)

setup: $(VENV)/.installed $(VENDOR)/.installed
	mkdir -p var
	DEBUG=1 $(MANAGE) migrate --noinput
	DEBUG=1 $(MANAGE) load_regions
	DEBUG=1 $(MANAGE) load_classifications

$(VENV)/.installed: requirements.lock pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv==0.13.9 || \
	  $(VENV)/bin/pip install --quiet --disable-pip-version-check uv
	$(VENV)/bin/uv pip sync --quiet --python $(PY) requirements.lock
	$(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps -e .
	touch $@

static: $(VENDOR)/.installed

$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)/bootstrap $(VENDOR)/htmx $(VENDOR)/echarts
	cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/js/bootstrap.bundle.min.js $(VENDOR)/bootstrap/
	# Their source maps too: production's collectstatic (hashed names) follows the
	# sourceMappingURL comments and refuses a file whose map is missing.
	cp node_modules/bootstrap/dist/css/bootstrap.min.css.map node_modules/bootstrap/dist/js/bootstrap.bundle.min.js.map $(VENDOR)/bootstrap/
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx/
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/echarts/
	touch $@

chromium:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	KEJIYUN_TESTING=1 $(VENV)/bin/mypy kejiyun kejiyun_match

deploy-check: $(VENV)/.installed
	SECRET_KEY=ci-only-$$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
	  FIELD_ENCRYPTION_KEYS=v1:$$(head -c 32 /dev/urandom | base64) \
	  FIELD_LOOKUP_KEY=$$(head -c 32 /dev/urandom | base64) \
	  SMS_BACKEND=kejiyun.notifications.sms.HttpGatewayBackend \
	  SMS_GATEWAY_URL=https://sms.example.cn/send \
	  SMS_GATEWAY_SECRET=ci-only-$$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
	  ALLOWED_HOSTS=kejiyun.example.cn $(MANAGE) check --deploy --fail-level WARNING

boundaries: $(VENV)/.installed
	$(VENV)/bin/lint-imports
	mkdir -p var
	KEJIYUN_TESTING=1 $(MANAGE) makemigrations --check --dry-run

# Static security checks (docs/security.md, "Static checks"): bandit with no high-severity
# finding; Kejiyun's semgrep rules in .semgrep/ (offline, no registry), after their own
# fixtures in .semgrep/tests/ prove each rule fires on a bad line and not on a good one
# (`semgrep --test` skips dot-folders, so the fixtures run from a copy); and
# django-migration-linter over the migrations added since tools/migrations-baseline.txt.
SEMGREP := SEMGREP_ENABLE_VERSION_CHECK=0 $(VENV)/bin/semgrep
security-checks: $(VENV)/.installed
	@echo "=== bandit: no high-severity finding in kejiyun/ and kejiyun_match/ ==="
	$(VENV)/bin/bandit -c pyproject.toml -r kejiyun kejiyun_match --severity-level high -q
	@echo "=== semgrep: the rules' own fixtures ==="
	@tmp=$$(mktemp -d) && cp .semgrep/*.yml .semgrep/tests/* $$tmp/ && \
	  $(SEMGREP) --metrics=off --test $$tmp; rc=$$?; rm -rf $$tmp; exit $$rc
	@echo "=== semgrep: Kejiyun's rules over kejiyun/ and kejiyun_match/ ==="
	$(SEMGREP) scan --metrics=off --config .semgrep/ --error --quiet kejiyun kejiyun_match
	@echo "=== django-migration-linter: migrations since the baseline ==="
	$(PY) tools/lint_migrations.py

# The headline security figures the suites recorded in var/security-figures/ (written by
# tests/security_figures.py), with their targets; fails when one is missing or off target.
# `make test` empties the folder before the suites; run by hand with ARGS=--allow-missing.
security-figures: $(VENV)/.installed
	$(PY) tools/security_figures.py $(ARGS)

# Point-in-time restore drill (docs/backup-restore.md): a scratch PostgreSQL cluster in
# var/pitr-drill/, base backup, WAL archive, restore to a noted time, verify; JSON last line.
# It migrates a fresh schema twice over (~1 min unloaded, 3.5 min on a loaded 2-core box), so
# .ci/run runs it after `make test` rather than inside it.
drill-restore: $(VENV)/.installed
	$(PY) tools/pitr_drill.py

# The failure drills (docs/resilience.md): Redis stopped, a Celery worker killed mid-task,
# PostgreSQL restarted, the upload disk full. Each runs on scratch servers of its own
# (PostgreSQL on 5434, Redis on 6390, gunicorn with 2 sync workers, real Celery workers, the
# upload folders on a 4 MB tmpfs, which needs root) and never touches CI's 5432 and 6379.
# About 3 minutes on two idle cores, more the first time (collectstatic). Like drill-restore,
# .ci/run runs it after `make test`; the other pytest runs never collect tests/resilience/.
test-resilience: $(VENV)/.installed $(VENDOR)/.installed
	KEJIYUN_RESILIENCE=1 KEJIYUN_TESTING=1 $(PY) -m pytest -p no:cacheprovider -n 0 \
	  -m resilience tests/resilience -v -s

# The coverage gate runs on the engine's own tests (tests/engine), which cover kejiyun_match
# in full by themselves; the rest of the suite runs without the tracer, which would slow it
# by almost half.
test-sqlite: $(VENV)/.installed $(VENDOR)/.installed chromium
	@echo "=== pytest on SQLite: the engine's tests, which must cover kejiyun_match in full ==="
	DATABASE_URL=sqlite:///var/test.sqlite3 $(PYTEST) tests/engine \
	  --cov=kejiyun_match --cov-report=term-missing --cov-fail-under=100
	@echo "=== pytest on SQLite: every other test ==="
	DATABASE_URL=sqlite:///var/test.sqlite3 $(PYTEST) --ignore=tests/engine

# The crawls (tests marked `crawl`: every URL as every role, the cross-jurisdiction figure,
# the masking figure, the second-factor walk) run once, on SQLite: they prove views and
# selectors, which both databases share, and take minutes each. Everything else runs here too.
test-postgres: $(VENV)/.installed $(VENDOR)/.installed chromium
	@echo "=== pytest on PostgreSQL ($(PG_URL)), without the crawls (they ran on SQLite) ==="
	DATABASE_URL=$(PG_URL) $(PYTEST) -m "not crawl"

# schemathesis against the live OpenAPI document, as five demo roles and anonymous, on a
# scratch demo database (var/fuzz.sqlite3) and a runserver on a free port; fails on any 5xx
# or answer the document does not describe, and prints the case counts (docs/api-fuzzing.md).
test-api-fuzz: $(VENV)/.installed
	$(PY) tools/api_fuzz.py

# The two suites run one after the other, each spread over TEST_WORKERS workers: on two cores
# that measured faster than running the SQLite and PostgreSQL suites side by side. The API
# fuzz run comes after them.
test: lint typecheck boundaries security-checks deploy-check clear-figures test-sqlite test-postgres \
      test-api-fuzz security-figures
	@echo "all checks passed (ruff, mypy, import boundaries, security checks, pytest on SQLite and PostgreSQL, API fuzzing, security figures)"

.PHONY: clear-figures
clear-figures:
	rm -rf var/security-figures
	mkdir -p var/security-figures

test-unit: $(VENV)/.installed $(VENDOR)/.installed
	@echo "=== pytest on SQLite, without the browser tests ==="
	DATABASE_URL=sqlite:///var/test.sqlite3 $(PYTEST) -m "not e2e"

check: lint typecheck boundaries test-unit
	@echo "quick checks passed (ruff, mypy, import boundaries, pytest on SQLite without e2e)"

messages: $(VENV)/.installed
	cd kejiyun && DEBUG=1 ../$(PY) ../manage.py makemessages -l en --no-obsolete --no-wrap
	cd kejiyun && DEBUG=1 ../$(PY) ../manage.py compilemessages

lock: $(VENV)/.installed
	$(VENV)/bin/uv pip compile --quiet pyproject.toml --extra dev -o requirements.lock

clean:
	rm -rf $(VENV) node_modules $(VENDOR) var

# --- The production stack on this machine (docs/deploy.md, tools/prod_stack.py) ---------
# Its own PostgreSQL (var/prod/pg, port 5433) and Redis (6380), Celery worker and beat,
# gunicorn and nginx (https://127.0.0.1:8443/), secrets generated once into var/prod/env.
# Idempotent; PROD_SCALE=large seeds at province scale; ports and sizes from PROD_* (see the
# script's docstring). Installs Debian's nginx when missing (needs root).
.PHONY: prod-up prod-down prod-status prod-nginx-test
prod-up: $(VENV)/.installed $(VENDOR)/.installed
	$(PY) tools/prod_stack.py up

prod-down:
	$(PY) tools/prod_stack.py down

prod-status:
	$(PY) tools/prod_stack.py status

# Render the loopback nginx configuration and check it with `nginx -t` (no server started).
prod-nginx-test: $(VENV)/.installed
	$(PY) tools/prod_stack.py nginx-test

# --- Benchmarks: each prints its figures, the last line one JSON object -----------------
.PHONY: bench-match-quality bench-match-speed bench-popsci-audience bench-match-platform

bench-match-quality: $(VENV)/.installed
	$(PY) -m bench.match_quality

# A throwaway SQLite database in var/bench-cache/platform/; never DATABASE_URL's.
bench-match-platform: $(VENV)/.installed
	$(PY) -m bench.match_platform

bench-match-speed: $(VENV)/.installed
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(PY) -m bench.match_speed $(BENCH_ARGS)

# PostgreSQL only; empties citizen profiles in BENCH_DATABASE_URL (default .../kejiyun_bench).
bench-popsci-audience: $(VENV)/.installed
	$(PY) -m bench.popsci_audience $(BENCH_ARGS)

# PostgreSQL only; creates, migrates and fills BENCH_DATABASE_URL (default .../kejiyun_bench_ops):
# three years of province-scale activity (generated once), rollups, dashboard and map timings.
.PHONY: bench-ops
bench-ops: $(VENV)/.installed
	$(PY) -m bench.ops $(BENCH_ARGS)

# No database: a simulated population ranked with kejiyun/popsci/targeting/feed.py.
.PHONY: bench-popsci-feed
bench-popsci-feed: $(VENV)/.installed
	$(PY) -m bench.popsci_feed $(BENCH_ARGS)

# No database: a synthetic province's year with planted gaming (bench/generate_integrity.py),
# the detectors of kejiyun/integrity/detectors/ and the ranking by kejiyun/performance/scoring.py.
.PHONY: bench-integrity
bench-integrity: $(VENV)/.installed
	$(PY) -m bench.integrity $(BENCH_ARGS)

# Kejiyun's common pages under load against a bare Django page (bench/anchor/), both under
# gunicorn with the same settings, each driven by wrk at 50 connections in the same run
# (issue 16). Embedded default: a demo database seeded once into var/bench-cache/pages/,
# served on 127.0.0.1:8741 (anchor :8742). BENCH_ARGS="--target prod": the `make prod-up`
# stack at https://127.0.0.1:8443, the anchor behind its own nginx on :8743.
.PHONY: bench-pages
bench-pages: $(VENV)/.installed $(VENDOR)/.installed
	@command -v wrk >/dev/null || { \
	  echo "installing Debian wrk for bench-pages"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(if $(findstring prod,$(BENCH_ARGS)),@command -v nginx >/dev/null || { \
	  echo "installing Debian nginx for bench-pages --target prod"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; })
	$(PY) -m bench.pages $(BENCH_ARGS)
# The province-scale load test (bench/load.py, bench/locustfile.py): locust at 50 and 200 users
# against BENCH_ARGS' --base-url (default the `make prod-up` stack, https://127.0.0.1:8443,
# self-signed certificate accepted), after a setup step in that site's database (--env-file,
# default var/prod/env): load-test staff with TOTP secrets, open docking invitations.
.PHONY: bench-load prod-seed-province
bench-load: $(VENV)/.installed
	$(PY) -m bench.load $(BENCH_ARGS)

# Province scale for the load test in the prod stack's database (--env-file, default
# var/prod/env): seed_demo --scale large, three years of generated operations history and
# their rollups; each step once (a marker table), so a second run adds nothing.
prod-seed-province: $(VENV)/.installed
	$(PY) -m bench.province_seed $(BENCH_ARGS)
