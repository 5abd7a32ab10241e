#!/bin/bash
# Kafka's command in deploy/compose: format the storage once with the operator's SCRAM user,
# then run the broker with server.properties.
#
# Nobody can authenticate to a new KRaft cluster, so vigie-admin must be in its first metadata
# (kafka-storage format --add-scram, KIP-900). Its password is not put on a command line: the
# StorageTool's main class and arguments come from a Java argument file (java @file) that
# kafka-init wrote in the broker's volume, 0400, readable by the broker's user only.
set -euo pipefail
config=/etc/vigie-kafka/server.properties
if [ ! -f /var/lib/kafka/data/meta.properties ]; then
  "${JAVA_HOME:+$JAVA_HOME/bin/}java" \
    -Dlog4j2.configurationFile=/opt/kafka/config/tools-log4j2.yaml \
    -cp '/opt/kafka/libs/*' \
    @/run/secrets/vigie-kafka-broker/format.args
fi
# The broker's heap here, not in the container's environment: the healthcheck's JVM keeps the
# tools' default.
export KAFKA_HEAP_OPTS="-Xms512m -Xmx512m"
exec /opt/kafka/bin/kafka-server-start.sh "$config"
