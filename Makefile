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
SCENARIOS ?= default failover secure standalone validation

.PHONY: lab lab-down lab-status setup test lint unit molecule bench

setup:
	lab/lab.sh deps
	lab/lab.sh engine
	lab/lab.sh image

lab: setup
	lab/lab.sh up
	ansible-playbook -i $(LAB_INVENTORY) playbooks/site.yml
	ansible-playbook -i $(LAB_INVENTORY) playbooks/status.yml

lab-status:
	ansible-playbook -i $(LAB_INVENTORY) playbooks/status.yml

lab-down:
	lab/lab.sh down

test: setup lint unit molecule

lint:
	yamllint -s .
	ansible-lint --profile production

unit:
	python -m pytest -q

molecule:
	for s in $(SCENARIOS); do molecule test -s $$s || exit 1; done

bench: setup
	benchmarks/converge.sh
	python benchmarks/failover.py
