#!/bin/bash
# Runs a Kafka command-line tool as the cluster's admin principal (the only super user), over TLS on the
# BROKER listener: `admin.sh kafka-topics.sh --list`. Used by the broker's health check and the init
# services; the password comes from SOSAFE_KAFKA_ADMIN_PASSWORD, never from a file in the repository.
set -euo pipefail
: "${SOSAFE_KAFKA_ADMIN_PASSWORD:?set SOSAFE_KAFKA_ADMIN_PASSWORD (docs/operations.md#secrets)}"
bootstrap=${BOOTSTRAP:-localhost:9092}
properties=$(mktemp)
trap 'rm -f "$properties"' EXIT
cat > "$properties" <<PROPERTIES
security.protocol=SASL_SSL
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${SOSAFE_KAFKA_ADMIN_PASSWORD}";
ssl.truststore.type=PEM
ssl.truststore.location=/etc/kafka/secrets/ca.pem
PROPERTIES
tool=$1
shift
case "$tool" in
  kafka-configs.sh|kafka-acls.sh|kafka-topics.sh|kafka-broker-api-versions.sh)
    "/opt/kafka/bin/$tool" --bootstrap-server "$bootstrap" --command-config "$properties" "$@" ;;
  *) echo "admin.sh: $tool is not one of the tools it runs" >&2; exit 2 ;;
esac
