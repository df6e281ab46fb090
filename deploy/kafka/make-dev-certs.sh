#!/bin/sh
# Makes a development CA and the broker's TLS certificate for docker-compose.yml, with openssl, in
# deploy/kafka/certs/ (git-ignored: never commit the private keys). See docs/operations.md#kafka-tls.
#
#   sh deploy/kafka/make-dev-certs.sh            # once, before the first `docker compose up`
#   sh deploy/kafka/make-dev-certs.sh --renew    # a new broker certificate from the same CA
#
# Writes: ca.pem (the CA certificate: the services' SOSAFE_KAFKA_CA_FILE), ca.key (the CA's private key:
# keep it offline outside development), broker.pem (the broker's private key and certificate, the PEM
# keystore Kafka reads). The broker certificate names `kafka` (the compose network) and `localhost` (the
# host port 9094 and the broker's own health check). For production use your organisation's CA instead.
set -eu
dir=$(dirname "$0")/certs
days=${CERT_DAYS:-397}
mkdir -p "$dir"
umask 077
if [ ! -f "$dir/ca.key" ]; then
  openssl req -x509 -newkey rsa:3072 -sha256 -nodes -days 3650 -subj "/CN=SoSafe development Kafka CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.pem"
elif [ "${1:-}" != "--renew" ] && [ -f "$dir/broker.pem" ]; then
  echo "deploy/kafka/certs already holds a CA and a broker certificate; --renew makes a new broker certificate" >&2
  exit 1
fi
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$dir/broker.key"
openssl req -new -key "$dir/broker.key" -subj "/CN=kafka" -out "$dir/broker.csr"
printf 'subjectAltName=DNS:kafka,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' > "$dir/broker.ext"
openssl x509 -req -in "$dir/broker.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
  -days "$days" -sha256 -extfile "$dir/broker.ext" -out "$dir/broker.crt"
# Kafka's PEM keystore: the (PKCS#8, unencrypted) private key followed by the certificate chain.
cat "$dir/broker.key" "$dir/broker.crt" "$dir/ca.pem" > "$dir/broker.pem"
rm -f "$dir/broker.csr" "$dir/broker.ext" "$dir/broker.key" "$dir/broker.crt"
# Readable by the broker's non-root user in the container (the directory is mounted read-only).
chmod 0644 "$dir/ca.pem" "$dir/broker.pem"
echo "wrote $dir/ca.pem, $dir/ca.key, $dir/broker.pem (valid $days days)"
