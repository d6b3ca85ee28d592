#!/usr/bin/env bash
# Build the cntr-tui node image (docker: cntr-tui-node:VERSION and VERSION-HASH) from
# this checkout, as root on Debian 12: a Debian 12 root file system made by mmdebstrap
# from the mirror, a virtual environment at /opt/cntr-tui holding the project's wheel
# and its dependencies (built here by the host's python3.11, which is Debian 12's, so
# they fit the image's), and the marker /etc/cntr-tui-node-image.
#
# Idempotent and cached: each step's output is kept under the cache folder keyed by a
# hash of its inputs (the base root by packages.txt and this script; the wheels by
# pyproject.toml, README.md and cntr_tui/; the image by both). A build whose image
# already exists only tags it. Prints where the time went, and the tag last on stdout.
#
#   deploy/node-image/build.sh [--save FILE]   (FILE: a `docker save` archive, for ctr)
#
# Environment: CNTR_TUI_NODE_IMAGE_CACHE (default /var/cache/cntr-tui/node-image),
# NODE_IMAGE_REPOSITORY (default cntr-tui-node), NODE_IMAGE_MIRROR (default
# deb.debian.org), PYTHON (default the repo's .venv/bin/python,
# else python3).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${CNTR_TUI_NODE_IMAGE_CACHE:-/var/cache/cntr-tui/node-image}"
MIRROR="${NODE_IMAGE_MIRROR:-http://deb.debian.org}"
SUITE=bookworm
REPOSITORY="${NODE_IMAGE_REPOSITORY:-cntr-tui-node}"
MARKER=/etc/cntr-tui-node-image
VENV=/opt/cntr-tui
# every file path the image leaves out (dpkg never unpacks them); copyrights stay
DPKG_OPTIONS=(
    --dpkgopt='path-exclude=/usr/share/man/*'
    --dpkgopt='path-exclude=/usr/share/locale/*'
    --dpkgopt='path-exclude=/usr/share/info/*'
    --dpkgopt='path-exclude=/usr/share/doc/*'
    --dpkgopt='path-include=/usr/share/doc/*/copyright'
)
IMAGE_CHANGES=(
    --change "ENV PATH=$VENV/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    --change 'ENV CNTR_TUI_HOST_ROOT=/host'
    --change 'ENV LANG=C.UTF-8'
    --change "ENTRYPOINT [\"$VENV/bin/cntr-tui\"]"
    --change 'WORKDIR /'
)

save=""
while (($#)); do
    case "$1" in
        --save) save="${2:?--save needs a file}"; shift 2 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "build: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

log() { printf 'build: %s\n' "$*" >&2; }
fail() { printf 'build: %s\n' "$*" >&2; exit 1; }
# milliseconds since the epoch (bash's EPOCHREALTIME: no bc or date per step)
now() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }
seconds() { local ms=$(($(now) - $1)); printf '%d.%d s' $((ms / 1000)) $((ms % 1000 / 100)); }
# "STEP  N.N s" for a step started at $1
took() { log "$(printf '%-30s %8s' "$2" "$(seconds "$1")")"; }

[[ $EUID -eq 0 ]] || fail "run as root (mmdebstrap, chroot and docker need it)"
for tool in mmdebstrap docker sha256sum flock; do
    command -v "$tool" >/dev/null || fail "no $tool on PATH (scripts/setup.sh installs it)"
done
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 \
    || fail "docker does not answer (bash scripts/services.sh start)"
PYTHON="${PYTHON:-$REPO/.venv/bin/python}"
[[ -x "$PYTHON" ]] || PYTHON=python3
"$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
    || fail "$PYTHON is not Python 3.11 (the image's python3 is Debian 12's 3.11)"

started=$(now)
mkdir -p "$CACHE"
exec {lock}>"$CACHE/build.lock"
flock "$lock"

hash_of() { sha256sum | cut -c1-16; }
packages=$(grep -Ev '^\s*(#|$)' "$HERE/packages.txt" | tr '\n' ',' | sed 's/,$//')
sources=(
    "deb $MIRROR/debian $SUITE main"
    "deb $MIRROR/debian $SUITE-updates main"
    "deb $MIRROR/debian-security $SUITE-security main"
)
base_key=$(printf '%s\n' "$packages" "${sources[@]}" "${DPKG_OPTIONS[@]}" | hash_of)
wheels_key=$(
    cd "$REPO"
    find cntr_tui -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 | sort -z \
        | xargs -0 sha256sum
    sha256sum pyproject.toml README.md
) 
wheels_key=$(printf '%s' "$wheels_key" | hash_of)
image_key=$(printf '%s\n' "$base_key" "$wheels_key" | cat - "$HERE/build.sh" | hash_of)
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$REPO/pyproject.toml" | head -1)
[[ -n "$version" ]] || fail "no version in pyproject.toml"
tag="$REPOSITORY:$version-${image_key:0:12}"

if docker image inspect "$tag" >/dev/null 2>&1; then
    log "image $tag is built (inputs unchanged)"
else
    # 1. the Debian root, keyed by its packages
    base="$CACHE/base-$base_key.tar"
    step=$(now)
    if [[ -f "$base" ]]; then
        took "$step" "base root (cached)"
    else
        rm -rf "$CACHE"/base-*
        mmdebstrap --quiet --variant=apt --format=tar --include="$packages" \
            "${DPKG_OPTIONS[@]}" "$SUITE" "$CACHE/base-partial.tar" "${sources[@]}"
        mv "$CACHE/base-partial.tar" "$base"
        took "$step" "base root (mmdebstrap)"
    fi

    # 2. the project's wheel and its dependencies' wheels, plus pip's own to install them
    wheels="$CACHE/wheels-$wheels_key"
    step=$(now)
    if [[ -e "$wheels/.complete" ]]; then
        took "$step" "wheels (cached)"
    else
        rm -rf "$CACHE"/wheels-*
        mkdir -p "$wheels"
        "$PYTHON" -m pip wheel -qq --disable-pip-version-check -w "$wheels" "$REPO" pip
        touch "$wheels/.complete"
        took "$step" "wheels (pip wheel)"
    fi

    # 3. the image's root: base + /opt/cntr-tui + marker, imported as one layer
    step=$(now)
    work=$(mktemp -d "$CACHE/root.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    root="$work/root"
    mkdir "$root"
    tar --numeric-owner -C "$root" -xpf "$base"
    mkdir -p "$root/tmp/wheels"
    cp "$wheels"/*.whl "$root/tmp/wheels/"
    pip_wheel=$(cd "$root/tmp/wheels" && ls pip-*.whl | head -1)
    # the image's own python makes the venv and runs pip from its wheel: the venv has
    # no pip of its own afterwards, and the scripts' first lines name the image's python
    in_root=(chroot "$root" env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8)
    "${in_root[@]}" /usr/bin/python3 -m venv --without-pip "$VENV"
    "${in_root[@]}" "$VENV/bin/python3" "/tmp/wheels/$pip_wheel/pip" install -q \
        --disable-pip-version-check --no-index --find-links /tmp/wheels cntr-tui
    rm -rf "$root/tmp/wheels" "$root/root/.cache"
    ln -sfn "$VENV/bin/cntr-tui" "$root/usr/local/bin/cntr-tui"
    printf 'cntr-tui-node-image %s %s\n' "$version" "$image_key" >"$root$MARKER"
    took "$step" "root assembled"

    step=$(now)
    tar --numeric-owner -C "$root" -c . | docker import \
        --change "LABEL org.opencontainers.image.version=$version" \
        --change "LABEL io.cntr-tui.node-image.inputs=$image_key" \
        "${IMAGE_CHANGES[@]}" - "$tag" >/dev/null
    took "$step" "docker import"
    rm -rf "$work"
    trap - EXIT

    # earlier builds' images (other input hashes) are this script's own: drop them
    docker image ls --format '{{.Repository}}:{{.Tag}}' "$REPOSITORY" \
        | grep -E "^$REPOSITORY:[^:]+-[0-9a-f]{12}$" | grep -vx "$tag" \
        | xargs -r docker image rm >/dev/null 2>&1 || true
fi
docker tag "$tag" "$REPOSITORY:$version"

if [[ -n "$save" ]]; then
    step=$(now)
    docker save -o "$save" "$tag" "$REPOSITORY:$version"
    took "$step" "docker save $save"
fi
size=$(docker image inspect -f '{{.Size}}' "$tag")
took "$started" total
log "$REPOSITORY:$version = $tag, $((size / 1000000)) MB"
echo "$tag"
