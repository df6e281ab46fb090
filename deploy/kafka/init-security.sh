#!/bin/bash
# One-shot, run by the `kafka-security-init` service of docker-compose.yml as the admin principal: creates
# each service's SCRAM-SHA-512 user and grants it exactly the topics services/common/topics.py
# SERVICE_ACCESS names (tests/deploy/test_kafka_security.py checks the lists in docker-compose.yml against
# it). Safe to re-run: a user's password is set again, an ACL that exists is left as it is. Removing a
# grant is a manual `kafka-acls.sh --remove` (docs/operations.md#kafka-acls).
#
# Environment, per principal P in PRINCIPALS (P=sosafe-intake -> prefix INTAKE):
#   <PREFIX>_PASSWORD       its SCRAM password (unset: the user is not created here, only its ACLs)
#   <PREFIX>_READS          topics it reads            <PREFIX>_WRITES   topics it writes
#   <PREFIX>_CREATES        topics Faust declares      <PREFIX>_READ_PREFIXES  topic prefixes it reads
#   <PREFIX>_WRITE_PREFIXES topic prefixes it writes
#   <PREFIX>_GROUP          its consumer group (none: it reads without one)
# PARTNERS: partner ids; as principal `partner-P`, partner P may write only `referrals.submitted.P`
# (PARTNER_TOPIC_PREFIX) and read only `referrals.outcomes.P` (PARTNER_OUTCOMES_PREFIX), in consumer group
# `partner-P` or one starting `partner-P.` (ids have no dots, so that prefix names one partner only).
set -euo pipefail
admin=/opt/sosafe/kafka/admin.sh

acl() {  # acl <principal> <operation> <resource options...>
  "$admin" kafka-acls.sh --add --allow-principal "User:$1" --operation "$2" "${@:3}" >/dev/null
}

for principal in $PRINCIPALS; do
  prefix=$(printf '%s' "${principal#sosafe-}" | tr '[:lower:]-' '[:upper:]_')
  password_var=${prefix}_PASSWORD
  if [ -n "${!password_var:-}" ]; then
    "$admin" kafka-configs.sh --alter --entity-type users --entity-name "$principal" \
      --add-config "SCRAM-SHA-512=[iterations=8192,password=${!password_var}]" >/dev/null
    echo "user $principal: SCRAM-SHA-512 credential set"
  fi
  reads_var=${prefix}_READS writes_var=${prefix}_WRITES creates_var=${prefix}_CREATES
  prefixes_var=${prefix}_READ_PREFIXES write_prefixes_var=${prefix}_WRITE_PREFIXES group_var=${prefix}_GROUP
  for topic in ${!reads_var:-}; do acl "$principal" Read --topic "$topic"; done
  for topic in ${!writes_var:-}; do acl "$principal" Write --topic "$topic"; done
  for topic in ${!creates_var:-}; do acl "$principal" Create --topic "$topic"; done
  for topic_prefix in ${!prefixes_var:-}; do
    acl "$principal" Read --resource-pattern-type prefixed --topic "$topic_prefix"
  done
  for topic_prefix in ${!write_prefixes_var:-}; do
    acl "$principal" Write --resource-pattern-type prefixed --topic "$topic_prefix"
  done
  if [ -n "${!group_var:-}" ]; then acl "$principal" Read --group "${!group_var}"; fi
  echo "principal $principal: reads [${!reads_var:-}] writes [${!writes_var:-}] creates [${!creates_var:-}]" \
    "read prefixes [${!prefixes_var:-}] write prefixes [${!write_prefixes_var:-}] group [${!group_var:-}]"
done

for partner in ${PARTNERS:-}; do
  acl "partner-$partner" Write --topic "$PARTNER_TOPIC_PREFIX$partner"
  acl "partner-$partner" Read --topic "$PARTNER_OUTCOMES_PREFIX$partner"
  acl "partner-$partner" Read --group "partner-$partner"
  acl "partner-$partner" Read --resource-pattern-type prefixed --group "partner-$partner."
  echo "principal partner-$partner: writes [$PARTNER_TOPIC_PREFIX$partner] reads [$PARTNER_OUTCOMES_PREFIX$partner]" \
    "groups [partner-$partner partner-$partner.*] only"
done
echo "principals and ACLs ready"
