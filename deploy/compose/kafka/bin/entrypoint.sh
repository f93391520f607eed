#!/bin/bash
# Same contract as the apache/kafka image: every KAFKA_<NAME> variable becomes a
# server.properties entry (_ -> ., __ -> _, ___ -> -), CLUSTER_ID formats the storage once.
set -euo pipefail
props=/opt/kafka/config/server.properties
: >"$props"
while IFS='=' read -r name value; do
  case "$name" in
    KAFKA_HEAP_OPTS | KAFKA_OPTS | KAFKA_JVM_PERFORMANCE_OPTS | KAFKA_LOG4J_OPTS) continue ;;
    KAFKA_*) ;;
    *) continue ;;
  esac
  key=$(printf '%s' "${name#KAFKA_}" | tr '[:upper:]' '[:lower:]' \
    | sed -e 's/___/-/g' -e 's/__/\x01/g' -e 's/_/./g' -e 's/\x01/_/g')
  printf '%s=%s\n' "$key" "$value" >>"$props"
done < <(env)
: "${CLUSTER_ID:?CLUSTER_ID is required}"
# --ignore-formatted: the data volume outlives the container.
/opt/kafka/bin/run-class.sh kafka.tools.StorageTool format --ignore-formatted \
  --cluster-id "$CLUSTER_ID" --config "$props"
exec /opt/kafka/bin/run-class.sh kafka.Kafka "$props"
