#!/bin/sh
# Provision a VM without a human: seed a cloud image with cloud-init, start
# it, wait until the guest is ready, reach it through a port forward, stop it.
#
# Runs as written in a directory holding Debian's cloud image
# (https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2).
# The variables let the test suite run this very script on its small guest.
set -eu

image=${IMAGE:-debian-12-genericcloud-amd64.qcow2}
vm=${VM:-./web}
ready=${READY:-'Cloud-init .* finished'}   # what the guest prints when it is ready
guest_port=${GUEST_PORT:-80}

# The guest's first-boot configuration, kept in the VM's home (a VM's own
# settings may hand the guest only files of its home): a web server.
mkdir -p "$vm"
if [ -n "${USERDATA:-}" ]; then
  cp "$USERDATA" "$vm/user-data"
else
  cat > "$vm/user-data" <<'YAML'
#cloud-config
packages: [nginx]
runcmd:
  - echo 'provisioned by vmtools' > /var/www/html/index.html
YAML
fi

# The VM: the image as its disk, no display, the seed, and a forward from a
# free host port (0: the system picks) to the web server.
vmcreate -y -n -c "$image" \
  -o vm_display_type=none \
  -o vm_cloudinit_userdata=user-data \
  -o vm_networking_iface1_enable=yes \
  -o vm_networking_iface1_hostfwd="tcp:127.0.0.1:0-:$guest_port" \
  "$vm"

# Start it and return once the guest's console printed the ready line (a
# failed or timed-out start stops the script here: no pipe hides its status).
vmup --json --wait "$ready" --timeout 900 "$vm" > "$vm.json"
port=$(jq -r '.[0].forwards[0].hostPort' "$vm.json")

curl -fsS "http://127.0.0.1:$port/"

vmdown -w "$vm"
