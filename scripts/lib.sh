# shellcheck shell=bash
# Helpers shared by the scripts in this folder. Source it; do not run it.
# shellcheck disable=SC2034 # the variables are for the scripts that source this

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS="$ROOT/.tools"
DENO="$TOOLS/bin/deno"
DENO_VERSION=2.9.6

# Everything the program, its tests and the demo need from Debian. This is
# the only list: add a package here, nowhere else.
DEBIAN_PACKAGES=(
  qemu-system-x86   # qemu-system-x86_64, qemu-system-i386
  qemu-utils        # qemu-img; qemu-nbd for the tests
  qemu-block-extra  # QEMU's drivers for http(s), ftp(s), ssh and iscsi URLs
  util-linux        # lsblk: block devices' mount state and read-only flag
  mount             # tests only: losetup and mount for the block device tests
  e2fsprogs         # tests only: mkfs.ext2, a file system to mount on a loop device
  genisoimage       # ISO images made on the fly from directories, cloud-init seeds
  ovmf              # UEFI firmware and its descriptors (vm_firmware=uefi)
  xorriso           # tests only: the El Torito ISO fixtures (the program may not run it)
  busybox-static    # user space of the small Linux test guest
  linux-image-amd64 # its kernel
  isolinux          # boot loader of the ISO test fixture
  syslinux-common   # ldlinux.c32 for isolinux
  procps            # ps, pgrep: tests watch QEMU processes
  zsh               # tests only: the zsh completion script parses
  fish              # tests only: the fish completion script parses and completes
  tmux              # tests only: questions answered with keys in a real terminal
  libvirt-clients   # virsh: vmup --libvirt and the VMs it starts (vmps, vmdown, vmmon)
  libxml2-utils     # tests only: virt-xml-validate checks the domain XML of vminfo --libvirt
  libvirt-daemon             # tests only: the libvirt daemon scripts/libvirt-daemon starts
  libvirt-daemon-driver-qemu # tests only: its QEMU driver
  jq                # tests only: examples/provision.sh reads vmup --json with it
  curl              # tests only: examples/provision.sh reaches the guest with it
  python3-pyftpdlib # tests only: an FTP server for vmup ftp:// URLs (storage_servers_test)
  tgt               # tests only: tgtd, an iSCSI target for vmup iscsi:// URLs (storage_servers_test)
)

# The names the program answers to (links to the one executable).
VMTOOLS_COMMANDS=(vmup vmcreate vmdown vmps vminfo vmcp vmfork vmmerge vmmv vmrm vmfix vmmon vmrndmac)

export DEBIAN_FRONTEND=noninteractive
export DENO_NO_UPDATE_CHECK=1 # the update server is unreachable here anyway
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

# The command line every script uses to run the program. Permissions come
# from the "vmtools" set in deno.json and nowhere else.
VMTOOLS_RUN=("$DENO" run -q --no-prompt -P=vmtools --config "$ROOT/deno.json" "$ROOT/main.ts")

say() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() {
  say "$*"
  exit 1
}

# Run as root, through sudo when we are not; return 1 when neither is possible.
as_root() {
  if [[ $(id -u) == 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    return 1
  fi
}

# Print the packages among the arguments that are not installed.
missing_debian_packages() {
  local p
  for p in "$@"; do
    # "ii" = wanted and installed; a removed package keeps other states.
    [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null) == ii* ]] || printf '%s\n' "$p"
  done
}

# ensure_debian_packages [PACKAGE...]: install what is missing (default: the
# project's list), with a single apt-get update before.
ensure_debian_packages() {
  local wanted=("$@") missing
  ((${#wanted[@]})) || wanted=("${DEBIAN_PACKAGES[@]}")
  if ! command -v dpkg-query >/dev/null; then
    say "warning: not a Debian system; make sure these (or their equivalents) are installed: ${wanted[*]}"
    return 0
  fi
  mapfile -t missing < <(missing_debian_packages "${wanted[@]}")
  ((${#missing[@]})) || return 0
  if [[ $(id -u) != 0 ]] && ! command -v sudo >/dev/null; then
    say "missing Debian packages; as root run:"
    say "  apt-get update && apt-get install -y ${missing[*]}"
    exit 1
  fi
  say "installing Debian packages: ${missing[*]}"
  # Other jobs may hold the dpkg lock for a while: wait for it, do not fail.
  as_root apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 ||
    die "apt-get update failed"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
    install -y -qq "${missing[@]}" >&2 || die "apt-get install failed: ${missing[*]}"
}

deno_version() {
  [[ -x $DENO ]] || return 0
  "$DENO" --version 2>/dev/null | awk 'NR == 1 { print $2 }'
}

# Make .tools/bin/deno the pinned Deno, from the npm registry.
ensure_deno() {
  [[ $(deno_version) == "$DENO_VERSION" ]] && return 0
  command -v npm >/dev/null || ensure_debian_packages npm
  say "installing deno $DENO_VERSION into ${TOOLS#"$ROOT"/} (npm)"
  mkdir -p "$TOOLS/bin"
  npm install --prefix "$TOOLS" --save-exact \
    --loglevel=error "deno@$DENO_VERSION" >&2 || die "npm install deno@$DENO_VERSION failed"
  # The package's postinstall copies the platform binary next to it; when
  # scripts are disabled (npm's ignore-scripts) take the platform package's.
  local exe="$TOOLS/node_modules/deno/deno"
  if [[ ! -f $exe ]]; then
    exe=$(find "$TOOLS/node_modules/@deno" -mindepth 2 -maxdepth 2 -type f -name deno | head -n 1)
    [[ -n $exe ]] || die "the npm package deno@$DENO_VERSION holds no binary for this platform"
    chmod +x "$exe"
  fi
  ln -sfn "../${exe#"$TOOLS"/}" "$DENO"
  [[ $(deno_version) == "$DENO_VERSION" ]] ||
    die "$DENO is not deno $DENO_VERSION after installing it"
}

# The real file behind $DENO (it is a symbolic link into node_modules).
deno_binary() { readlink -f "$DENO"; }

# Serialize the setup steps of scripts running at the same time (npm and
# apt-get do not like two of themselves in one place).
setup_lock() {
  mkdir -p "$TOOLS"
  exec 9>"$TOOLS/.setup.lock"
  flock 9
}

# Stop the QEMU processes whose command line mentions DIR (a scratch
# directory of a script): the ones that script started.
kill_qemus_under() {
  local pid
  for pid in $(pgrep -f -- "$1"); do
    [[ $(ps -o comm= -p "$pid" 2>/dev/null) == qemu-system* ]] && kill "$pid" 2>/dev/null
  done
  return 0
}
