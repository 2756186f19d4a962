#!/usr/bin/env bash
# Builds the container images without a Docker daemon (buildah), reproducibly: the same commit gives the same
# digest. Each image is a static musl release binary on an empty base (`FROM scratch`), see images/*/Containerfile.
#
#   hack/image.sh [--push REGISTRY] [--verify] [IMAGE...]
#
# IMAGE is slb-operator and slb-emulator by default; pause and coredns are the local real node's images
# (hack/cluster.sh up --real-node builds them). Each one ends up as an OCI layout in target/image/IMAGE/oci
# (tag = the version), its digest in target/image/IMAGE/digest, and is printed with its size.
#   --push REGISTRY   copy each image to REGISTRY/IMAGE:VERSION (plain HTTP, e.g. the local node's 127.0.0.1 one),
#                     unchanged, so the digest there is the same
#   --verify          build each image a second time from a fresh context, without cache, and fail unless
#                     both builds have one digest
#
# Reproducibility: SOURCE_DATE_EPOCH (the commit's time unless set) is the image's creation time and every file's
# mtime; the binary is built with source paths remapped so that the checkout's location does not matter; layers
# are one sorted COPY; no build host, history or builder label is recorded. The CA bundle is the build machine's.
set -euo pipefail
HACK=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HACK")
cd "$REPO"
source "$HACK/versions.sh"
TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
OUT=$TARGET_DIR/image
MUSL=x86_64-unknown-linux-musl
log() { echo "image: $*" >&2; }
die() { log "$*"; exit 1; }

push="" verify=false images=()
while [ $# -gt 0 ]; do
  case $1 in
    --push) push=${2:?--push needs a registry}; shift 2 ;;
    --push=*) push=${1#--push=}; shift ;;
    --verify) verify=true; shift ;;
    -*) die "unknown flag: $1" ;;
    *) images+=("$1"); shift ;;
  esac
done
[ ${#images[@]} -gt 0 ] || images=(slb-operator slb-emulator)

command -v buildah >/dev/null || die "buildah is missing (hack/setup.sh installs it)"
[ -z "$push" ] || command -v skopeo >/dev/null || die "skopeo is missing (hack/setup.sh installs it)"

VERSION=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
SOURCE=$(sed -n '/^\[workspace.package\]/,/^\[/s/^repository = "\(.*\)"/\1/p' Cargo.toml)
REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || REVISION="$REVISION-dirty"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
CREATED=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)

# The release binaries of the workspace, static (musl). ring and aws-lc style crates need a musl C compiler.
build_rust() {
  local bins=() name
  for name in "$@"; do bins+=(-p "$name" --bin "$name"); done
  rustup target list --installed 2>/dev/null | grep -qx "$MUSL" || rustup target add "$MUSL" >&2
  command -v musl-gcc >/dev/null || die "musl-gcc is missing (hack/setup.sh installs musl-tools)"
  log "building ${*} (release, $MUSL)"
  # Without SOURCE_DATE_EPOCH: build scripts (ring, psm) rerun when it changes, which would rebuild everything on
  # every commit; the binaries do not depend on it.
  env -u SOURCE_DATE_EPOCH CC_x86_64_unknown_linux_musl=musl-gcc \
  RUSTFLAGS="--remap-path-prefix=$REPO=/src --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo --remap-path-prefix=${RUSTUP_HOME:-$HOME/.rustup}=/rustup" \
    cargo build --locked --quiet --release --target "$MUSL" "${bins[@]}"
}

# Where each image's binary comes from.
binary_of() {
  case $1 in
    slb-operator|slb-emulator) echo "$TARGET_DIR/$MUSL/release/$1" ;;
    pause|coredns) echo "$(tools_bin_dir)/$1" ;;
    *) die "unknown image $1 (slb-operator, slb-emulator, pause, coredns)" ;;
  esac
}
# The tag (and version label) of each image: the workspace's version for ours, the upstream one for CoreDNS.
tag_of() {
  case $1 in
    pause) echo 1.0.0 ;;
    coredns) echo "${COREDNS_VERSION#v}" ;;
    *) echo "$VERSION" ;;
  esac
}
containerfile_of() {
  case $1 in
    slb-operator|slb-emulator) echo "$REPO/images/$1/Containerfile" ;;
    *) echo "$HACK/images/$1/Containerfile" ;;
  esac
}

# The build context: the root file system to copy in, with normalised modes (the umask must not matter).
make_context() {
  local name=$1 context=$2
  rm -rf "$context"
  mkdir -p "$context/usr/local/bin"
  install -m 0755 "$(binary_of "$name")" "$context/usr/local/bin/$name"
  if [ "$name" != pause ]; then
    mkdir -p "$context/etc/ssl/certs"
    install -m 0644 images/rootfs/etc/passwd images/rootfs/etc/group "$context/etc/"
    install -m 0644 /etc/ssl/certs/ca-certificates.crt "$context/etc/ssl/certs/ca-certificates.crt"
  fi
  find "$context" -type d -exec chmod 0755 {} +
}

# Builds IMAGE into an OCI layout DIR and prints its manifest digest.
build_one() {
  local name=$1 layout=$2 context=$3 version
  version=$(tag_of "$1")
  local tag=localhost/$name:$version
  make_context "$name" "$context"
  buildah build --quiet --no-cache --layers=false --pull=never --timestamp "$SOURCE_DATE_EPOCH" \
    --identity-label=false --omit-history \
    --build-arg "VERSION=$version" --build-arg "REVISION=$REVISION" --build-arg "SOURCE=$SOURCE" \
    --build-arg "CREATED=$CREATED" \
    -f "$(containerfile_of "$name")" -t "$tag" "$context" >/dev/null
  rm -rf "$layout"
  buildah push --quiet "$tag" "oci:$layout:$version" >/dev/null
  jq -r '.manifests[0].digest' "$layout/index.json"
}

# Bytes of the image as stored in a registry (manifest, config and compressed layers) and unpacked (layers).
sizes() {
  local layout=$1 manifest
  manifest=$layout/blobs/sha256/$(jq -r '.manifests[0].digest' "$layout/index.json" | cut -d: -f2)
  jq -r '[.config.size, (.layers[].size)] | add' "$manifest" | awk -v m="$(stat -c %s "$manifest")" '{print $1 + m}'
  jq -r '.layers[].digest | sub("sha256:"; "")' "$manifest" \
    | while read -r blob; do gzip -dc "$layout/blobs/sha256/$blob" | wc -c; done | awk '{s += $1} END {print s + 0}'
}

mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }

rust=()
for name in "${images[@]}"; do
  case $name in slb-operator|slb-emulator) rust+=("$name") ;; esac
  binary_of "$name" >/dev/null
done
[ ${#rust[@]} -eq 0 ] || build_rust "${rust[@]}"
for name in "${images[@]}"; do
  [ -x "$(binary_of "$name")" ] || die "$(binary_of "$name") is missing (hack/build-tools.sh --real-node builds it)"
done

for name in "${images[@]}"; do
  dir=$OUT/$name
  version=$(tag_of "$name")
  mkdir -p "$dir"
  digest=$(build_one "$name" "$dir/oci" "$dir/context")
  if $verify; then
    again=$(build_one "$name" "$dir/oci-again" "$dir/context-again")
    rm -rf "$dir/oci-again" "$dir/context-again"
    [ "$digest" = "$again" ] || die "$name is not reproducible: $digest, then $again"
    log "$name: built twice, one digest"
  fi
  echo "$digest" >"$dir/digest"
  read -r -d '' stored unpacked < <(sizes "$dir/oci"; printf '\0') || true
  printf '%s:%s@%s  %s compressed, %s unpacked\n' "$name" "$version" "$digest" "$(mib "$stored")" "$(mib "$unpacked")"
  if [ -n "$push" ]; then
    skopeo copy --quiet --dest-tls-verify=false --preserve-digests "oci:$dir/oci:$version" "docker://$push/$name:$version"
    pushed=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$push/$name:$version")
    [ "$pushed" = "$digest" ] || die "$push/$name:$version has digest $pushed, not $digest"
    log "pushed $push/$name:$version@$digest"
  fi
done
