#!/bin/sh
# Writes throw-away test certificates into DIR (created if missing) with the openssl CLI. Test use only:
# every key is fresh and lives only as long as DIR.
#
#   ca.pem                 root CA (ECDSA P-256) — what test clients trust
#   intermediate.pem       intermediate CA (ECDSA P-256), signed by the root
#   ecdsa.pem / .key       leaf chain (leaf + intermediate), P-256; SAN localhost, 127.0.0.1, example.test,
#                          www.example.test, *.wild.test
#   rsa.pem / .key         the same names with an RSA 2048 key
#   other.pem / .key       P-256 leaf for other.test and *.other.test (SNI)
#   expired.pem / .key     P-256 leaf for localhost, valid 2020-01-01 .. 2020-01-02
#   future.pem / .key      P-256 leaf for localhost, valid from 2099
#   mismatch.pem / .key    a valid leaf and a key that is not its key
#   garbage.pem            not PEM at all
#
# Usage: Tests/Fixtures/make-certs.sh DIR
set -eu

dir=${1:?usage: make-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"

ec_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
rsa_key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }

# `openssl ca` (not `x509 -req`) so validity dates can be set exactly: needs a database and a config.
mkdir -p db
: >db/index.txt
echo 1000 >db/serial
cat >ca.cnf <<'CNF'
[ca]
default_ca = test_ca
[test_ca]
database = db/index.txt
serial = db/serial
new_certs_dir = db
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[anything]
commonName = supplied
[root_ext]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[intermediate_ext]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf_ext]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = $ENV::SAN
CNF

SAN=DNS:unused
export SAN

# sign NAME CN ISSUER EXTENSIONS START END: NAME.csr from NAME.key, signed by ISSUER into NAME.crt.
sign() {
    openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr" 2>/dev/null
    if [ "$3" = self ]; then selfsign=-selfsign; issuer=$1; else selfsign=; issuer=$3; fi
    openssl ca -batch -config ca.cnf -notext $selfsign -cert "$issuer.crt" -keyfile "$issuer.key" \
        -extensions "$4" -startdate "$5" -enddate "$6" -in "$1.csr" -out "$1.crt" 2>/dev/null
    rm -f "$1.csr"
}

# The root is self-signed: `openssl ca -selfsign` wants its own certificate path to exist, so use req -x509.
ec_key ca.key
openssl req -new -x509 -key ca.key -subj "/CN=mywebsite test root" -days 3650 \
    -addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out ca.crt 2>/dev/null
cp ca.crt ca.pem

ec_key intermediate.key
sign intermediate "mywebsite test intermediate" ca intermediate_ext 20200101000000Z 20991231000000Z
cp intermediate.crt intermediate.pem

leaf() {  # leaf NAME KEYKIND CN SAN START END
    "$2_key" "$1.key"
    SAN=$4 sign "$1" "$3" intermediate leaf_ext "$5" "$6"
    cat "$1.crt" intermediate.crt >"$1.pem"
    rm -f "$1.crt"
}

names="DNS:localhost,IP:127.0.0.1,DNS:example.test,DNS:www.example.test,DNS:*.wild.test"
leaf ecdsa ec localhost "$names" 20200101000000Z 20991231000000Z
leaf rsa rsa localhost "$names" 20200101000000Z 20991231000000Z
leaf other ec other.test "DNS:other.test,DNS:*.other.test" 20200101000000Z 20991231000000Z
leaf expired ec localhost "DNS:localhost" 20200101000000Z 20200102000000Z
leaf future ec localhost "DNS:localhost" 20990101000000Z 20991231000000Z
leaf mismatch ec localhost "DNS:localhost" 20200101000000Z 20991231000000Z
ec_key mismatch.key  # replace the key: the certificate no longer matches it

echo "this is not a certificate" >garbage.pem

rm -rf db ca.cnf ca.crt intermediate.crt intermediate.key ca.key
