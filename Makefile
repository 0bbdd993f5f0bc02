# hinge — the two commands of the README, and a few more.
#   make demo   set up everything, then analyse a bundled sample clip
#   make serve  set up everything, add a demo patient's sessions (bundled samples), start the clinic's desk
#   make test   set up everything (and what only the tests use: Xvfb, Chromium where packaged), then run the whole test suite
#   make fuzz   run each fuzz target FUZZ_SECONDS (600) in turn; needs nightly and cargo-fuzz (README, "Fuzzing")
.PHONY: setup setup-test demo serve test fuzz bench bench-live bench-batch bench-memory eval models-heavy fixtures clean

SAMPLE ?= samples/dev_sessions/devs_01_mixed_side_left.mp4
DEMO_OUT ?= out/demo
SERVE_DATA ?= hinge-data
SERVE_LISTEN ?= 127.0.0.1:8080

setup:
	@bash scripts/setup.sh

setup-test:
	@bash scripts/setup.sh --test

demo: setup
	@echo "[demo] target/release/hinge analyze $(SAMPLE) --out $(DEMO_OUT)"
	@target/release/hinge analyze $(SAMPLE) --out $(DEMO_OUT)
	@echo "[demo] results in $(DEMO_OUT)/: frames.csv, summary.json, reps.csv, annotated.mp4, report.html (open it in a browser)"

serve: setup
	@echo "[serve] a demo patient's three sessions from the bundled samples: hinge batch samples/demo_patient.csv --out out/demo-patient --into $(SERVE_DATA)"
	@target/release/hinge batch samples/demo_patient.csv --out out/demo-patient --into $(SERVE_DATA)
	@echo "[serve] open http://$(SERVE_LISTEN)/ to upload videos; the demo patient: http://$(SERVE_LISTEN)/patients/demo (Ctrl-C stops)"
	@target/release/hinge serve --data $(SERVE_DATA) --listen $(SERVE_LISTEN)

test: setup-test
	@echo "[test] cargo test --release --locked"
	@cargo test --release --locked

FUZZ_SECONDS ?= 600
fuzz:
	@bash fuzz/run.sh $(FUZZ_SECONDS)

bench: setup
	@bash scripts/bench_vs_mediapipe.sh

bench-live: setup
	@bash scripts/bench_live.sh

bench-batch: setup
	@bash scripts/bench_batch.sh

bench-memory: setup
	@bash scripts/bench_memory.sh

models-heavy:
	@bash tools/models/convert.sh models --only heavy

fixtures:
	@bash tools/make_mediapipe_fixtures.sh

clean:
	cargo clean
	rm -rf out .work
