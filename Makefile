# Everything a newcomer needs:  make run  (all services)  and  make test  (every test).
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR)
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: help run test model check bench lock clean unit validate system-deps desk-user purge erase

help:
	@echo "make run    install, train if needed, start every service (Ctrl-C stops them)"
	@echo "make test   install, train if needed, run every test"
	@echo "make check  check content and training data, in French with file and line (no training)"
	@echo "make preview FLOW=sextortion LANGUE=fr   a flow as the user sees it, with its branches"
	@echo "make desk-user USERNAME=lea FIRST_NAME=Léa ROLE=counsellor|supervisor   create a desk account"
	@echo "make bench  speed against a bare 'rasa init' bot (p50/p95, messages/s, ratio)"

$(VENV)/.installed: requirements/lock.txt
	@PYBIN=$$(scripts/find_python310.sh) || exit 1; \
	 [ -x $(PY) ] || $$PYBIN -m venv $(VENV); \
	 $(PY) -m pip install --quiet --disable-pip-version-check --upgrade "pip==24.0" && \
	 $(PY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements/lock.txt && \
	 $(PY) -m pip check >/dev/null && touch $@

model: $(VENV)/.installed
	@$(PY) scripts/train.py > /dev/null

# The web widget's front-end packages (socket.io-client, axe-core for the tests), exactly as locked.
WIDGET_DEPS := widget/node_modules/.installed
$(WIDGET_DEPS): widget/package-lock.json widget/package.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js 20 and npm (apt install nodejs npm)"; exit 1; }
	@cd widget && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed

widget-deps: $(WIDGET_DEPS)

run: model $(WIDGET_DEPS)
	@$(PY) scripts/services.py "$$($(PY) scripts/train.py)"

validate: $(VENV)/.installed
	$(PY) -m rasa data validate --config config.yml --domain bot/domain.yml --data bot/data --fail-on-warnings

# Everything an editor can touch, in plain French with file and line (no training, < 30 s):
#   make check            (DETAILS=1 adds Rasa's original messages; STRICT_PROVENANCE=1 fails on provenance)
check: $(VENV)/.installed
	@TF_CPP_MIN_LOG_LEVEL=3 $(PY) scripts/check_content.py $(if $(DETAILS),--details) 2> >(grep -v -e "^$$" -e tensorflow -e "rebuild TensorFlow" -e "TF-TRT" >&2)

# A flow as the user would see it, with its branches:  make preview FLOW=sextortion LANGUE=fr
.PHONY: preview
preview: $(VENV)/.installed
	@$(PY) scripts/preview.py $(FLOW) --langue $(or $(LANGUE),fr)

unit: $(VENV)/.installed
	$(PY) -m pytest -q tests/unit

system-deps:
	@scripts/system_deps.sh

test: model system-deps $(WIDGET_DEPS)
	$(PY) -m pytest tests

# Create a counsellor or supervisor account for the desk (asks for the password):
#   make desk-user USERNAME=lea FIRST_NAME=Léa ROLE=counsellor
# Apply the retention period now (closed cases, transcripts, Rasa conversations; the desk does it hourly).
purge: $(VENV)/.installed
	@$(PY) -m desk.manage purge

# Erase one conversation everywhere, as the person asked (README, "Privacy"):
#   make erase ID=<conversation id>     or     make erase CASE=<case number>
# With Rasa running, its side is erased by Rasa (and the person told); stopped, in its stores.
erase: $(VENV)/.installed
	@$(PY) -m desk.manage erase $(if $(CASE),--case "$(CASE)",--id "$(ID)")

desk-user: $(VENV)/.installed
	@$(PY) -m desk.manage create-user --username "$(USERNAME)" --first-name "$(FIRST_NAME)" --role "$(or $(ROLE),counsellor)"

bench: model
	$(PY) scripts/bench.py "$$($(PY) scripts/train.py)"

lock:
	rm -rf /tmp/lock-venv && $$(scripts/find_python310.sh) -m venv /tmp/lock-venv && \
	/tmp/lock-venv/bin/pip install --quiet "pip==24.0" && /tmp/lock-venv/bin/pip install --quiet -r requirements/base.in && \
	{ head -2 requirements/lock.txt; /tmp/lock-venv/bin/pip freeze --all | grep -v "^pip=="; } > requirements/lock.new && mv requirements/lock.new requirements/lock.txt

clean:
	rm -rf models var .rasa results widget/node_modules
