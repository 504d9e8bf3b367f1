#!/usr/bin/env bash
# Generates a local certificate authority and a server certificate signed by it (ECDSA P-256), for local
# HTTPS: nginx in the compose stack, or `mywebsite serve --mode direct-tls`.
#
#   certs/generate.sh [--out DIR] [--days N] [NAME ...]
#
# NAMEs are the DNS names and IP addresses the server certificate covers (default: localhost 127.0.0.1 ::1).
# Writes DIR/ca.crt, DIR/ca.key, DIR/server.crt (leaf + CA chain), DIR/server.key (default DIR: certs/out).
# An existing CA in DIR is reused, so browsers that trust it keep trusting new server certificates.
# Keys are created mode 0600 and are never committed (.gitignore).
set -euo pipefail

out="$(cd "$(dirname "$0")" && pwd)/out"
days=397   # the longest validity browsers accept for a server certificate
names=()
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out="$2"; shift 2 ;;
        --days) days="$2"; shift 2 ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        -*) echo "generate.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) names+=("$1"); shift ;;
    esac
done
[ ${#names[@]} -gt 0 ] || names=(localhost 127.0.0.1 ::1)
command -v openssl >/dev/null || { echo "generate.sh: openssl is needed (apt-get install openssl)" >&2; exit 1; }

mkdir -p "$out"
umask 077
san=""
for n in "${names[@]}"; do
    if [[ "$n" =~ ^[0-9.]+$ || "$n" == *:* ]]; then san+="IP:$n,"; else san+="DNS:$n,"; fi
done
san="${san%,}"

if [ ! -s "$out/ca.key" ] || [ ! -s "$out/ca.crt" ]; then
    openssl ecparam -name prime256v1 -genkey -noout -out "$out/ca.key"
    openssl req -x509 -new -key "$out/ca.key" -sha256 -days 3650 -subj "/CN=mywebsite local CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "$out/ca.crt" 2>/dev/null
    echo "created CA $out/ca.crt"
fi

openssl ecparam -name prime256v1 -genkey -noout -out "$out/server.key"
openssl req -new -key "$out/server.key" -subj "/CN=${names[0]}" -out "$out/server.csr" 2>/dev/null
ext="$(mktemp)"
trap 'rm -f "$ext" "$out/server.csr"' EXIT
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
    "$san" >"$ext"
openssl x509 -req -in "$out/server.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial -days "$days" \
    -sha256 -extfile "$ext" -out "$out/server.leaf.crt" 2>/dev/null
cat "$out/server.leaf.crt" "$out/ca.crt" >"$out/server.crt"
rm -f "$out/server.leaf.crt" "$out/ca.srl"
chmod 0644 "$out/ca.crt" "$out/server.crt"
echo "created $out/server.crt for $san (valid $days days), key $out/server.key"
