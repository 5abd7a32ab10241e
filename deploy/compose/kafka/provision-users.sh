#!/bin/bash
# The kafka-users step of deploy/compose, run as the operator (vigie-admin): create or update
# the services' SCRAM-SHA-512 users with Kafka's own kafka-configs tool.
#
# Each users/<principal>.scram file (written by kafka-init, 0400) holds one line,
#   SCRAM-SHA-512=iterations=8192,password=...
# and is handed over with --add-config-file: the password never is on a command line.
# (The Vigie CLI has no command to create service users on a remote cluster; see the comment
# on kafka-users in compose.yaml.)
set -euo pipefail
secrets=/run/secrets/vigie-kafka
for file in "$secrets"/users/*.scram; do
  principal=$(basename "$file" .scram)
  /opt/kafka/bin/kafka-configs.sh --bootstrap-server kafka:9092 \
    --command-config "$secrets/admin.properties" \
    --alter --entity-type users --entity-name "$principal" --add-config-file "$file"
done
