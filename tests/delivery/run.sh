#!/usr/bin/env bash
# The delivery tests (issue #6, docs/delivery.md): the GitLab pipeline, its scripts, the Ansible role and the
# Kubernetes manifests, all offline on this machine. Installs its Python tools in .venv-delivery/ (PyPI:
# requirements.txt beside this script; `ansible` bundles community.docker and community.crypto, since Ansible
# Galaxy is not reachable here) and needs the `mywebsite` and `mywebsite-data` binaries:
#
#   tests/delivery/run.sh                 uses .build/debug/ (runs `swift build` when they are missing)
#   MYWEBSITE_BIN=… MYWEBSITE_DATA_BIN=… tests/delivery/run.sh
#   tests/delivery/run.sh -k ansible      extra arguments go to pytest
#
# Each check counts once, each pytest test once; the last line is "delivery: N passed, N failed".
# Leaves nothing behind but the venv (gitignored): temporary directories are removed, servers stopped.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
root="$PWD"
started=$SECONDS
venv="$root/.venv-delivery"
requirements="$root/tests/delivery/requirements.txt"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/mywebsite-delivery.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
passed=0
failed=0
failures=()

step() { printf '\n== %s\n' "$*"; }
check() {
    local name="$1"
    shift
    step "$name"
    if "$@" >"$scratch/out" 2>&1; then
        tail -n 3 "$scratch/out"
        passed=$((passed + 1))
    else
        cat "$scratch/out"
        echo "FAILED: $name"
        failed=$((failed + 1))
        failures+=("$name")
    fi
}

# --- tools ---------------------------------------------------------------------------------------------------
step "Python tools in .venv-delivery/"
stamp="$venv/.requirements.sha256"
if [ ! -x "$venv/bin/python" ] || ! sha256sum --check --status "$stamp" 2>/dev/null; then
    if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
        sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
            --no-install-recommends python3-venv >/dev/null
    fi
    rm -rf "$venv"
    python3 -m venv "$venv" || exit 1
    "$venv/bin/pip" install --quiet --disable-pip-version-check --requirement "$requirements" || exit 1
    sha256sum "$requirements" >"$stamp"
fi
"$venv/bin/pip" list --disable-pip-version-check 2>/dev/null |
    grep -E '^(ansible|ansible-core|ansible-lint|check-jsonschema|kubernetes-validate|podman-compose|yamllint) '
export PATH="$venv/bin:$PATH"
# Everything Ansible and its linter cache goes to the scratch directory, not to ~ or the work tree.
export ANSIBLE_HOME="$scratch/ansible-home" ANSIBLE_LOCAL_TEMP="$scratch/ansible-tmp" XDG_CACHE_HOME="$scratch/cache"
export ANSIBLE_NOCOLOR=1 ANSIBLE_PIPELINING=1 PYTHONDONTWRITEBYTECODE=1

export MYWEBSITE_BIN="${MYWEBSITE_BIN:-$root/.build/debug/mywebsite}"
export MYWEBSITE_DATA_BIN="${MYWEBSITE_DATA_BIN:-$root/.build/debug/mywebsite-data}"
if [ ! -x "$MYWEBSITE_BIN" ] || [ ! -x "$MYWEBSITE_DATA_BIN" ]; then
    step "swift build (the Ansible test installs a data package built and checked by the real binaries)"
    swift build || exit 1
fi

# --- linters and validators ----------------------------------------------------------------------------------
check "check-jsonschema: .gitlab-ci.yml against GitLab's schema" \
    check-jsonschema --builtin-schema vendor.gitlab-ci --data-transform gitlab-ci .gitlab-ci.yml
check "yamllint: pipeline, Ansible, Kubernetes" \
    yamllint --strict -c tests/delivery/yamllint.yml .gitlab-ci.yml deployments/ansible deployments/kubernetes \
    tests/delivery
check "shellcheck: ci/ and tests/delivery/" \
    shellcheck ci/*.sh tests/delivery/run.sh tests/delivery/stand-ins/*
for environment in int prod; do
    check "ansible-playbook --syntax-check (inventory $environment)" \
        bash -c "cd deployments/ansible && ansible-playbook --syntax-check -i inventories/$environment deploy.yml \
            rollback.yml"
done
check "ansible-lint --offline --profile production" \
    bash -c "cd deployments/ansible && ansible-lint --offline --profile production --nocolor"
check "kubernetes-validate --strict: every manifest" \
    bash -c 'find deployments/kubernetes -name "*.yaml" ! -name kustomization.yaml -print0 |
        xargs -0 kubernetes-validate --strict --quiet'

# --- tests ---------------------------------------------------------------------------------------------------
step "pytest tests/delivery"
python -m pytest -p no:cacheprovider -ra --junitxml="$scratch/junit.xml" tests/delivery "$@"
if [ -s "$scratch/junit.xml" ]; then
    read -r tests errors failures_count skipped < <(python - "$scratch/junit.xml" <<'EOF'
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suite = root if root.tag == "testsuite" else root.find("testsuite")
print(*(int(suite.get(k, 0)) for k in ("tests", "errors", "failures", "skipped")))
EOF
    )
    passed=$((passed + tests - errors - failures_count - skipped))
    failed=$((failed + errors + failures_count))
    [ $((errors + failures_count)) -eq 0 ] || failures+=("pytest: $((errors + failures_count)) test(s)")
else
    failed=$((failed + 1))
    failures+=("pytest did not run")
fi

step "summary ($((SECONDS - started)) s)"
for failure in "${failures[@]}"; do echo "failed: $failure"; done
echo "delivery: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
