# Glyphgrid: every step of the pipeline as a plain command (the same steps docker-compose.yml runs).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.glyphgrid-installed
PIP_INSTALL := $(BIN)/pip install -q -c constraints.txt

.PHONY: install system venv npm-fonts dataset build primitives tokenize phase1 phase2 baseline evaluate export predict analyze ablate pipeline serve test test-fast demo bench bench-serve containers clean-outputs

install: system $(STAMP) npm-fonts

# The pinned npm font packages of the built-in corpus, installed exactly as locked (fonts/node_modules).
NPM_STAMP := fonts/node_modules/.package-lock.json
npm-fonts: $(NPM_STAMP)

$(NPM_STAMP): fonts/package.json fonts/package-lock.json
	cd fonts && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

system:
	@scripts/install-system.sh

$(STAMP): constraints.txt requirements/dev.txt packages/glyph-core/pyproject.toml services/rasterd/pyproject.toml services/rasterd/setup.py $(wildcard services/rasterd/src/rasterd/_core/*.pyx services/rasterd/src/rasterd/_core/*.pxd services/rasterd/src/rasterd/_core/*.h) packages/glyph-train/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --upgrade pip setuptools wheel
	$(PIP_INSTALL) cython numpy
	$(PIP_INSTALL) -r requirements/dev.txt
	$(PIP_INSTALL) --no-build-isolation -e packages/glyph-core -e services/rasterd -e packages/glyph-train
	touch $@

dataset: install
	@test -f dataset/glyphs.db && echo "dataset/glyphs.db exists (delete it to re-ingest)" || $(BIN)/rasterd ingest --config configs/ingest.yaml

build: dataset
	$(BIN)/rasterd build --config configs/rasterizer.yaml

serve: build
	$(BIN)/rasterd serve --config configs/rasterd.yaml

# Two processes (pytest-xdist), the tests of one shared training run kept on one of them (xdist_group).
TEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup

test: install
	$(PYTEST)

test-fast: install
	$(PYTEST) -m "not slow"

primitives: build
	$(BIN)/glyph-train primitives --config configs/primitives.yaml

tokenize: primitives
	$(BIN)/rasterd tokenize --config configs/rasterizer.yaml

phase1: tokenize
	$(BIN)/glyph-train phase1 --config configs/phase1.yaml

phase2: phase1
	$(BIN)/glyph-train phase2 --config configs/phase2.yaml

baseline: build
	$(BIN)/glyph-train baseline --config configs/baseline.yaml

evaluate: phase2 baseline
	$(BIN)/glyph-train evaluate --config configs/evaluate.yaml

# The trained Phase 1 + Phase 2 as a LiteRT bundle (outputs/export/end_to_end/), then its predictions.
export: phase2
	$(BIN)/glyph-train export --config configs/export.yaml

predict: export
	$(BIN)/glyph-train predict --config configs/predict.yaml

# The HTML error report of the trained end-to-end model (outputs/analysis/report/index.html).
analyze: phase2
	$(BIN)/glyph-train analyze --config configs/analyze.yaml

# The ablation table (outputs/ablations/ablation.md): each row a pipeline variant in its own group root.
ablate: dataset
	$(BIN)/glyph-train ablate --config configs/ablations.yaml

# Every training stage in order, skipping the ones whose config and inputs are unchanged.
pipeline: build
	$(BIN)/glyph-train pipeline --config configs/pipeline.yaml

# The main job on the built-in default: install, ingest the Debian Arabic fonts, build the rasters,
# then primitives, tokenize, Phase 1, the baseline, Phase 2, evaluation (quick profiles) and the export, timed.
demo: build
	@began=$$(date +%s); $(BIN)/glyph-train pipeline --config configs/pipeline.yaml && \
	echo "make demo: pipeline finished in $$(( $$(date +%s) - began )) s"

# Containers without a Docker engine: podman behind a Docker API socket, a local Debian base image,
# then every image of docker-compose.yml (docs/containers.md). Needs root; prints what it changed.
containers:
	scripts/containers.sh setup
	scripts/containers.sh build
	@echo 'use it with: eval "$$(scripts/containers.sh env)"; docker-compose up -d rasterd'

bench: install
	$(BIN)/python bench/bench_core.py

bench-serve: dataset
	$(BIN)/python bench/bench_serve.py

clean-outputs:
	rm -rf outputs/* && touch outputs/.gitkeep
