#!/usr/bin/env bash
# Scans the real server in direct-TLS mode with testssl.sh (Debian's `testssl.sh` package) and fails on any
# finding of severity HIGH or CRITICAL. Prints the protocol and cipher summary.
#
#   tests/tls/testssl.sh [BINARY]        default BINARY: .build/debug/mywebsite
#
# Run by scripts/test.sh; needs openssl and testssl (scripts/setup.sh installs both).
set -euo pipefail
cd "$(dirname "$0")/../.."

bin="${1:-.build/debug/mywebsite}"
work="$(mktemp -d)"
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

sh Tests/Fixtures/make-certs.sh "$work/certs" >/dev/null
"$bin" serve --mode direct-tls --host 127.0.0.1 --https-port 0 --http-port off --threads 1 \
    --cert "$work/certs/ecdsa.pem" --key "$work/certs/ecdsa.key" \
    --cert "$work/certs/rsa.pem" --key "$work/certs/rsa.key" \
    --data-path "$work" --access-log off >"$work/out" 2>"$work/err" &
server_pid=$!
for _ in $(seq 100); do grep -q '^listening: https://' "$work/out" 2>/dev/null && break; sleep 0.1; done
port="$(sed -n 's|^listening: https://127.0.0.1:||p' "$work/out")"
[ -n "$port" ] || { echo "testssl: server did not start"; cat "$work/err"; exit 1; }

# --warnings off: no interactive prompts. --sneaky: no identifying user agent. --ip one: no DNS.
testssl --quiet --warnings off --color 0 --ip one --jsonfile "$work/result.json" \
    --add-ca "$work/certs/ca.pem" --protocols --std --server-preference --vulnerable --fs \
    "127.0.0.1:$port" >"$work/report.txt" 2>&1 || true

python3 - "$work/result.json" "$work/report.txt" <<'PY'
import json, re, sys
findings = json.load(open(sys.argv[1]))
if isinstance(findings, dict):
    findings = findings.get("scanResult", [findings])
# Findings about the certificate itself (validity, revocation URIs, chain) describe the throwaway test CA's
# certificate, not the server's TLS configuration; they are printed, not counted.
bad = [f for f in findings if f.get("severity") in ("HIGH", "CRITICAL") and not f.get("id", "").startswith("cert")]
scan_errors = [f for f in findings if f.get("id") == "scanProblem" or f.get("severity") == "FATAL"]
by_id = {f.get("id"): f.get("finding", "") for f in findings}
print("testssl.sh protocol and cipher summary:")
wanted = re.compile(r"^(SSLv2|SSLv3|TLS1|TLS1_1|TLS1_2|TLS1_3|cipher_order.*|cipherorder_.*|FS|FS_ciphers|FS_ECDHE_curves|"
                    r"ALPN|supportedciphers.*|cipherlist_.*)$")
for f in findings:
    if wanted.match(f.get("id", "")):
        print(f"  {f['id']:26} {f.get('finding', '')}")
for f in findings:
    if f.get("severity") in ("MEDIUM", "LOW") or (f.get("id", "").startswith("cert") and f.get("severity") in ("HIGH", "CRITICAL")):
        print(f"  note ({f['severity']}): {f['id']}: {f.get('finding', '')}")
if scan_errors:
    print("testssl.sh could not complete the scan:", scan_errors)
    sys.exit(1)
if bad:
    print("HIGH/CRITICAL findings:")
    for f in bad:
        print(f"  {f['severity']} {f['id']}: {f.get('finding', '')}")
    sys.exit(1)
print(f"{len(findings)} checks, no HIGH or CRITICAL finding")
PY
