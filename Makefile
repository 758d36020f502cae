# The README's two commands are `make demo` and `make test`; everything they
# need (Docker engine, images, virtualenv, collections) is installed by lab/setup.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help setup test demo lab-down unit lint sanity current build ee syntax molecule bench

help:
	@echo "make demo      deploy and verify a whole cluster in local containers"
	@echo "make test      run every test (unit, lint, sanity, build, molecule)"
	@echo "make lab-down  remove the demo containers, network and volumes"
	@echo "make unit|lint|sanity|build|syntax   one step of make test"
	@echo "make current   unit and sanity under the newest ansible-core (.venv-current)"
	@echo "make ee        the execution environment's build context in build/ee (execution-environment.yml)"
	@echo "make molecule [SCENARIO=name]       molecule scenarios (all by default)"
	@echo "make bench     measure converge (docker exec and SSH), mail throughput, drain, rotation (bench/README.md)"

setup:
	lab/setup all

test:
	lab/run-tests

demo:
	lab/demo.sh up

lab-down:
	lab/demo.sh down

unit lint sanity current build ee syntax:
	lab/setup venv
	lab/run-tests $@

molecule:
	lab/setup all
	MOLECULE_SCENARIOS="$(SCENARIO)" lab/run-tests molecule

# Builds its own lab (bench-* containers on 172.30.70.0/24, image clustered-mail/bench:12
# with sshd) and a throwaway SSH key under build/bench, writes bench/results/.
bench:
	lab/setup all
	source lab/env.sh && python bench/run.py
