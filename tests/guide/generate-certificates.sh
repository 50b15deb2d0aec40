# The guide's "Generate Cluster Certificates" (Security Management), verbatim.
# shellcheck shell=bash
# Create CA certificate
openssl genrsa -out ca-key.pem 4096
openssl req -new -x509 -days 365 -key ca-key.pem -out ca-cert.pem

# Generate node certificates
for i in 1 2 3; do
    openssl genrsa -out node-$i-key.pem 4096
    openssl req -new -key node-$i-key.pem -out node-$i.csr \
      -subj "/CN=192.168.1.10$i"
    openssl x509 -req -days 365 -in node-$i.csr -CA ca-cert.pem \
      -CAkey ca-key.pem -out node-$i-cert.pem -CAcreateserial
done
