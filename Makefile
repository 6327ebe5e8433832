# Entry points. `make lab` sets up a fresh machine and converges the local
# lab; `make test` runs every test. See README.md.
SHELL := /bin/bash
VENV ?= $(CURDIR)/.venv
export REDISOPS_VENV := $(VENV)
export PATH := $(VENV)/bin:$(PATH)
export REDISOPS_DNS ?= $(shell awk '/^nameserver/ {print $$2; exit}' /etc/resolv.conf)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/playbooks/collections
export ANSIBLE_PIPELINING := true
LAB_INVENTORY := lab/inventory.yml
LAB_CLUSTER_INVENTORY := lab/cluster.yml
# Longest first: tests/molecule.sh runs MOLECULE_JOBS (2) at a time.
SCENARIOS ?= failover secure redis8 default cluster standalone valkey validation

.PHONY: lab lab-cluster lab-down lab-status doctor setup test lint sanity unit molecule bench docs

setup:
	lab/lab.sh deps
	lab/lab.sh engine
	lab/lab.sh image trixie & trixie=$$!; lab/lab.sh image bookworm && wait $$trixie

lab: setup
	lab/lab.sh up
	ansible-playbook -i $(LAB_INVENTORY) playbooks/site.yml
	ansible-playbook -i $(LAB_INVENTORY) playbooks/status.yml

# Six Redis Cluster nodes on the lab's containers (two each), beside the
# Sentinel topology of `make lab` or alone.
lab-cluster: setup
	lab/lab.sh up
	ansible-playbook -i $(LAB_CLUSTER_INVENTORY) playbooks/cluster.yml
	ansible-playbook -i $(LAB_CLUSTER_INVENTORY) playbooks/status.yml

lab-status:
	ansible-playbook -i $(LAB_INVENTORY) playbooks/status.yml

doctor:
	ansible-playbook -i $(LAB_INVENTORY) playbooks/doctor.yml

lab-down:
	lab/lab.sh down

# The checks run beside the scenarios (tests/all.sh); each part also runs
# alone: make lint, make sanity, make unit, make molecule.
test: setup
	tests/all.sh $(SCENARIOS)

lint:
	yamllint -s .
	ansible-lint --profile production

sanity:
	tests/sanity.sh

unit:
	python -m pytest -q

docs:
	python docs/generate.py

molecule:
	tests/molecule.sh $(SCENARIOS)

# Everything by default (3 runs). Shorter: BENCH_ONLY=speed (converge and re-run
# comparison only), BENCH_RUNS=1, BENCH_VARIANTS=head,old,... (benchmarks/report.py).
bench: setup
	python benchmarks/report.py
