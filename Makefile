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
# What a converged part of the lab leaves on its first container: the Sentinel
# topology of `make lab` its sentinel.conf, the cluster of `make lab-cluster`
# the configuration file of its first node (redis_instance 7000).
LAB_SENTINEL_MARK := /etc/redis/sentinel.conf
LAB_CLUSTER_MARK := /etc/redis/redis-7000.conf
# Runs playbook $(1) on each part of the lab that has been converged, one run
# per inventory (they name the same containers with other ports, so they do
# not go together); with neither, on the Sentinel topology, whose run then says
# what is missing. Fails after both runs when one of them failed.
lab_playbook = rc=0; sentinel=; cluster=; \
	docker exec redisops-lab-1 test -e $(LAB_SENTINEL_MARK) 2>/dev/null && sentinel=1; \
	docker exec redisops-lab-1 test -e $(LAB_CLUSTER_MARK) 2>/dev/null && cluster=1; \
	for inventory in $${sentinel:+$(LAB_INVENTORY)} $${cluster:+$(LAB_CLUSTER_INVENTORY)}; do \
	  echo "ansible-playbook -i $$inventory $(1)"; ansible-playbook -i $$inventory $(1) || rc=1; \
	done; \
	if [ -z "$$sentinel$$cluster" ]; then ansible-playbook -i $(LAB_INVENTORY) $(1) || rc=1; fi; \
	exit $$rc
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

# The Sentinel topology, the cluster, or both: what has been converged.
lab-status:
	@$(call lab_playbook,playbooks/status.yml)

doctor:
	@$(call lab_playbook,playbooks/doctor.yml)

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
