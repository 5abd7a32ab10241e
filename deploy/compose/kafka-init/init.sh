#!/bin/sh
# kafka-init (deploy/compose): the Kafka CA, the broker's certificate and every principal's
# SCRAM password, made once into named volumes; a later run only makes what is missing.
#
#   /out/ca              kafka-ca        CA key and certificate (root only; no other container)
#   /out/trust           kafka-trust     ca.crt, public: every Kafka client trusts it
#   /out/vigie-broker    kafka-broker    broker.pem (key + certificate, SAN DNS:kafka and
#                                        DNS:localhost) and format.args (the operator's SCRAM
#                                        user for the first format), for the Kafka container
#   /out/vigie-admin     kafka-admin     admin.properties (the operator) and users/*.scram (the
#                                        services' SCRAM credentials, for kafka-users)
#   /out/vigie-<service> kafka-<service> client.properties of that service's principal
#   /out/audit           audit-key       signing.pem: the registry's Ed25519 key that signs
#                                        the audit chain's checkpoints (not Kafka's, but made
#                                        once like the rest)
#
# Every secret file is 0400 and owned by the one user that reads it: 1000 (appuser of
# apache/kafka) for the broker's, 10001 (deploy/Dockerfile) for the clients'. Passwords are
# 64 hex digits from openssl rand; they go through pipes and redirections only, never argv.
# To start over (new CA, new passwords), remove the volumes: docker compose down -v.
set -eu
umask 077

BROKER_UID=1000
CLIENT_UID=10001
ADMIN=vigie-admin
SERVICES="vigie-ingest vigie-triage vigie-registry"
CA_PATH=/etc/vigie/kafka-ca/ca.crt
BOOTSTRAP=kafka:9092
ITERATIONS=8192

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# put PATH MODE UID: write stdin to PATH atomically, owned by UID with MODE (never wider).
put() {
  rm -f "$1.tmp"
  cat >"$1.tmp"
  chmod "$2" "$1.tmp"
  chown "$3:$3" "$1.tmp"
  mv -f "$1.tmp" "$1"
}

new_password() {
  openssl rand -hex 32
}

# client_properties PRINCIPAL PASSWORD: the format vigie.credentials.KafkaClientConfig and
# Kafka's own tools (--command-config) both read.
client_properties() {
  cat <<PROPS
bootstrap.servers=$BOOTSTRAP
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.username=$1
sasl.password=$2
ssl.ca.location=$CA_PATH
ssl.truststore.type=PEM
ssl.truststore.location=$CA_PATH
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$1" password="$2";
PROPS
}

# --- CA ---------------------------------------------------------------------------------
new_ca=no
if [ ! -f /out/ca/ca.key ] || [ ! -f /out/ca/ca.crt ]; then
  echo "kafka-init: creating the Kafka CA"
  openssl req -x509 -newkey rsa:3072 -nodes -keyout "$work/ca.key" -out "$work/ca.crt" \
    -days 3650 -subj "/O=Vigie/CN=Vigie Kafka CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  put /out/ca/ca.key 0400 0 <"$work/ca.key"
  put /out/ca/ca.crt 0444 0 <"$work/ca.crt"
  new_ca=yes
fi
put /out/trust/ca.crt 0444 0 </out/ca/ca.crt

# --- broker certificate (server and client: the same one serves mutual TLS) --------------
if [ "$new_ca" = yes ] || [ ! -f /out/vigie-broker/broker.pem ]; then
  echo "kafka-init: issuing the broker certificate (vigie-broker, DNS:kafka)"
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/broker.key" 2>/dev/null
  openssl req -new -key "$work/broker.key" -subj "/O=Vigie/CN=vigie-broker" -out "$work/broker.csr"
  cat >"$work/broker.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:kafka,DNS:localhost
EXT
  openssl x509 -req -in "$work/broker.csr" -CA /out/ca/ca.crt -CAkey /out/ca/ca.key \
    -set_serial "0x$(openssl rand -hex 15)" -days 825 -extfile "$work/broker.ext" \
    -out "$work/broker.crt" 2>/dev/null
  cat "$work/broker.key" "$work/broker.crt" /out/ca/ca.crt | put /out/vigie-broker/broker.pem 0400 "$BROKER_UID"
fi

# --- the operator: SCRAM user at format time, client file for kafka-users and topics -------
# A new admin password only takes effect on a cluster formatted after it: with an existing
# kafka-data volume, remove the volumes instead of deleting one file.
if [ ! -f /out/vigie-admin/admin.properties ] || [ ! -f /out/vigie-broker/format.args ]; then
  echo "kafka-init: operator credentials ($ADMIN)"
  password=$(new_password)
  # Kafka's cluster id: 16 random bytes, URL-safe base64 without padding.
  cluster_id=$(openssl rand 16 | base64 | tr '+/' '-_' | tr -d '=\n')
  put /out/vigie-broker/format.args 0400 "$BROKER_UID" <<ARGS
kafka.tools.StorageTool
format
--cluster-id=$cluster_id
--config=/etc/vigie-kafka/server.properties
--ignore-formatted
--add-scram
SCRAM-SHA-512=[name=$ADMIN,iterations=$ITERATIONS,password=$password]
ARGS
  client_properties "$ADMIN" "$password" | put /out/vigie-admin/admin.properties 0400 "$CLIENT_UID"
fi

# --- the services: one principal, one password, one volume each ---------------------------
mkdir -p /out/vigie-admin/users
chmod 0755 /out/vigie-admin/users
for principal in $SERVICES; do
  client=/out/$principal/client.properties
  scram=/out/vigie-admin/users/$principal.scram
  if [ ! -f "$client" ] || [ ! -f "$scram" ]; then
    echo "kafka-init: credentials of $principal"
    password=$(new_password)
    client_properties "$principal" "$password" | put "$client" 0400 "$CLIENT_UID"
    echo "SCRAM-SHA-512=iterations=$ITERATIONS,password=$password" | put "$scram" 0400 "$CLIENT_UID"
  fi
done
# --- the registry's audit signing key (VIGIE_AUDIT_SIGNING_KEY_FILE) -----------------------
# Its public half is what `vigie audit verify` pins (VIGIE_AUDIT_VERIFY_KEY): see
# deploy/README.md. Never replaced once made: checkpoints signed with it must stay verifiable.
if [ ! -f /out/audit/signing.pem ]; then
  echo "kafka-init: the registry's audit signing key (Ed25519)"
  openssl genpkey -algorithm ed25519 -out "$work/signing.pem"
  put /out/audit/signing.pem 0400 "$CLIENT_UID" <"$work/signing.pem"
fi
echo "kafka-init: done"
