#!/usr/bin/env bash
# Builds the control plane the tests and the demo run on: etcd (Debian's etcd-server) and kube-apiserver,
# kube-controller-manager and kubectl (benchmarks, demo) compiled from Debian's kubernetes 1.20.2 source package.
# The binaries land in $KEELSON_CACHE (default ~/.cache/keelson/control-plane-1.20.2); a second run finds them there and does nothing.
# Needs root (or sudo) for apt-get; takes about 6 minutes on 2 cores the first time.
set -euo pipefail

cache="${KEELSON_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/keelson}/control-plane-1.20.2"
bins=(etcd kube-apiserver kube-controller-manager kubectl)
step() { printf '[control-plane] %s\n' "$*" >&2; }

# Kubernetes 1.20 vendors reflect2 1.0.1, which crashes (SIGSEGV in mapiterinit) when built with Go >= 1.18: the
# apiserver dies on the first custom-resource write. The build swaps in Debian's reflect2 1.0.2; this marker tells a
# cache built without the fix from one built with it.
marker="$cache/.reflect2-1.0.2"
have_all() { for b in "${bins[@]}"; do [ -x "$cache/$b" ] || return 1; done; [ -f "$marker" ]; }
if have_all; then step "binaries already in $cache"; exit 0; fi

sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { step "need root or sudo to apt-get install golang-go etcd-server rsync"; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive

src_list=/etc/apt/sources.list.d/keelson-src.sources
if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
  step "adding a deb-src entry for bookworm ($src_list)"
  $sudo tee "$src_list" >/dev/null <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
step "apt-get update"
$sudo apt-get update -qq >&2
step "apt-get install golang-go etcd-server rsync dpkg-dev golang-github-modern-go-reflect2-dev"
$sudo apt-get install -y -qq --no-install-recommends golang-go etcd-server rsync dpkg-dev golang-github-modern-go-reflect2-dev >&2

work="$(mktemp -d "${TMPDIR:-/tmp}/keelson-k8s-build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"
step "downloading Debian's kubernetes source package"
apt-get source --download-only kubernetes >&2
step "unpacking"
dpkg-source --no-check -x kubernetes_*.dsc src >/dev/null
cd src
step "vendoring reflect2 1.0.2 (Go >= 1.18 fix)"
rm -rf vendor/github.com/modern-go/reflect2 && mkdir -p vendor/github.com/modern-go/reflect2
cp -r /usr/share/gocode/src/github.com/modern-go/reflect2/. vendor/github.com/modern-go/reflect2/
mkdir -p .go/src/k8s.io
ln -sfn "$PWD" .go/src/k8s.io/kubernetes
step "compiling kube-apiserver, kube-controller-manager and kubectl (about 6 minutes on 2 cores)"
start=$(date +%s)
( cd .go/src/k8s.io/kubernetes && GOPATH="$work/src/.go" GOFLAGS=-mod=vendor CGO_ENABLED=0 GO111MODULE=off \
    make WHAT="cmd/kube-apiserver cmd/kube-controller-manager cmd/kubectl" >&2 ) &
pid=$!
while kill -0 "$pid" 2>/dev/null; do sleep 30; kill -0 "$pid" 2>/dev/null && step "still compiling… $(( $(date +%s) - start ))s"; done
wait "$pid"
mkdir -p "$cache"
out=$(dirname "$(find . -path '*/_output/*' -type f -name kube-apiserver | head -n1)")
# Copy then rename, so a binary that a running test uses is replaced, not overwritten in place.
place() { cp "$1" "$cache/.$2.tmp" && mv -f "$cache/.$2.tmp" "$cache/$2"; }
for b in kube-apiserver kube-controller-manager kubectl; do place "$out/$b" "$b"; done
place "$(command -v etcd || echo /usr/bin/etcd)" etcd
touch "$marker"
step "done in $(( $(date +%s) - start ))s: $cache"
