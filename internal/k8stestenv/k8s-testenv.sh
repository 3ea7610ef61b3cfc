#!/usr/bin/env bash
# Real Kubernetes control plane for integration tests, built from the Go module proxy.
# Usage: k8s-testenv.sh build|start|stop|status|env
#   build : etcd + kube-apiserver + kube-controller-manager + kube-scheduler + kwok -> $BIN (skipped if already built)
#   start : builds if needed; certs, etcd, apiserver, KCM, scheduler, kwok + one fake node; writes $K8S_TESTENV_DIR/kubeconfig
#   stop  : kills the processes started by `start` (by recorded PID)
#   env   : prints the export lines (KUBECONFIG, KUBEBUILDER_ASSETS)
# Then: KUBECONFIG=$K8S_TESTENV_DIR/kubeconfig  or  KUBEBUILDER_ASSETS=$BIN (envtest: etcd + apiserver only)
# Binaries are cached per version under ${XDG_CACHE_HOME:-$HOME/.cache}/k8s-testenv: a cold build takes about
# 9 minutes on 2 cores (about 5 GB of Go caches); with the cache, start takes about 10 s.
# Pods never run containers: kwok marks them Running/Ready on a fake node, so Deployments, ReplicaSets,
# Services and EndpointSlices behave as on a real cluster, but no traffic reaches a pod.
# gantry's copy adds: kwok serves the pod log API on 127.0.0.1:$KUBELET_PORT from files named by
# kwok.x-k8s.io/v1alpha1 Logs objects (its CRD is installed), and the Gateway API v1.6.3 standard CRDs
# are installed (from the Go module cache). Used by `go test` through internal/k8stestenv and by .ci/run.
set -euo pipefail
K8S_VERSION=${K8S_VERSION:-1.35.4}        # k8s.io/kubernetes v$K8S_VERSION, staging modules v0.${K8S_VERSION#1.}
ETCD_VERSION=${ETCD_VERSION:-3.6.16}
KWOK_VERSION=${KWOK_VERSION:-0.8.0}
DIR=${K8S_TESTENV_DIR:-/tmp/k8s-testenv}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/k8s-testenv/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION
BIN=${K8S_TESTENV_BIN:-$CACHE/bin}; RUN=$DIR/run; PKI=$DIR/pki
API_PORT=${API_PORT:-6443}; ETCD_PORT=${ETCD_PORT:-2379}; KUBELET_PORT=${KUBELET_PORT:-10250}
GATEWAY_API_VERSION=${GATEWAY_API_VERSION:-1.6.3}
log(){ echo "[k8s-testenv $(date +%T)] $*" >&2; }

build_etcd(){
  local m=$CACHE/src/etcd; mkdir -p "$m"; cd "$m"
  # server/v3's go.mod has ../ replaces, so `go install` refuses it; require its siblings at the same tag.
  cat > go.mod <<MOD
module local/etcdbuild
go 1.24
require (
	go.etcd.io/etcd/server/v3 v$ETCD_VERSION
	go.etcd.io/etcd/api/v3 v$ETCD_VERSION
	go.etcd.io/etcd/client/pkg/v3 v$ETCD_VERSION
	go.etcd.io/etcd/client/v3 v$ETCD_VERSION
	go.etcd.io/etcd/pkg/v3 v$ETCD_VERSION
)
MOD
  printf '//go:build tools\npackage tools\nimport _ "go.etcd.io/etcd/server/v3"\n' > tools.go
  go mod tidy && go build -trimpath -ldflags "-s -w" -o "$BIN/etcd" go.etcd.io/etcd/server/v3
}

build_kube(){
  local m=$CACHE/src/kube sv="0.${K8S_VERSION#1.}"; mkdir -p "$m"; cd "$m"
  local kmod; kmod=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  { echo "module local/kubebuild"; echo "go 1.24.0"; echo "require k8s.io/kubernetes v$K8S_VERSION"; echo "replace ("
    grep -E '=> \./staging/' "$kmod" | awk -v sv="$sv" '{printf "\t%s => %s v%s\n", $1, $1, sv}'
    echo ")"; } > go.mod
  printf '//go:build tools\npackage tools\nimport (\n_ "k8s.io/kubernetes/cmd/kube-apiserver"\n_ "k8s.io/kubernetes/cmd/kube-controller-manager"\n_ "k8s.io/kubernetes/cmd/kube-scheduler"\n)\n' > tools.go
  go mod tidy
  local maj=${K8S_VERSION%%.*} min; min=${K8S_VERSION#*.}; min=${min%%.*}
  local ldf="-s -w" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldf="$ldf -X $p.gitVersion=v$K8S_VERSION -X $p.gitMajor=$maj -X $p.gitMinor=$min -X $p.gitTreeState=clean"
  done
  go build -trimpath -ldflags "$ldf" -o "$BIN/" k8s.io/kubernetes/cmd/kube-apiserver \
     k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler
}

build_kwok(){
  GOBIN=$BIN go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION"
  local d s; d=$(cd /tmp && go mod download -json "sigs.k8s.io/kwok@v$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')/kustomize/stage
  for s in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
    echo "---"; cat "$d/$s.yaml"; done > "$BIN/kwok-stages.yaml"
}

cmd_build(){
  mkdir -p "$BIN"; local t
  if [ -x "$BIN/etcd" ] && [ -x "$BIN/kube-apiserver" ] && [ -x "$BIN/kwok" ] && [ -f "$BIN/kwok-stages.yaml" ]; then
    log "already built in $BIN"; return 0; fi
  for c in etcd kube kwok; do t=$SECONDS; log "building $c"; ( build_$c ); log "$c done in $((SECONDS-t))s"; done
  command -v kubectl >/dev/null && ln -sf "$(command -v kubectl)" "$BIN/kubectl" || true
  ls -l "$BIN"
}

certs(){
  mkdir -p "$PKI"; cd "$PKI"; [ -f admin.crt ] && return 0
  openssl genrsa -out sa.key 2048 && openssl rsa -in sa.key -pubout -out sa.pub
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj /CN=testenv-ca
  openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj /CN=kube-apiserver
  printf 'subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n' > san.ext
  openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt -days 3650 -extfile san.ext
  openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr -subj "/O=system:masters/CN=admin"
  printf 'extendedKeyUsage=clientAuth\n' > client.ext
  openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out admin.crt -days 3650 -extfile client.ext
} >/dev/null 2>&1

bg(){ local name=$1; shift; nohup "$@" >"$RUN/$name.log" 2>&1 & echo $! >"$RUN/$name.pid"; }

cmd_start(){
  cmd_build; mkdir -p "$RUN"; certs; local t=$SECONDS KC=$DIR/kubeconfig
  cat > "$KC" <<KCFG
apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: "https://127.0.0.1:$API_PORT", certificate-authority: "$PKI/ca.crt"}}]
users: [{name: admin, user: {client-certificate: "$PKI/admin.crt", client-key: "$PKI/admin.key"}}]
contexts: [{name: local, context: {cluster: local, user: admin}}]
current-context: local
KCFG
  rm -rf "$RUN/etcd-data"
  bg etcd "$BIN/etcd" --data-dir "$RUN/etcd-data" --unsafe-no-fsync \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls http://127.0.0.1:0
  bg kube-apiserver "$BIN/kube-apiserver" --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API_PORT" --endpoint-reconciler-type=none \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" --client-ca-file="$PKI/ca.crt" \
    --service-cluster-ip-range=10.0.0.0/24 --service-account-issuer=https://kubernetes.default.svc \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --authorization-mode=RBAC --allow-privileged=true --kubelet-preferred-address-types=InternalIP
  local i; for i in $(seq 1 120); do
    curl -sf --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "https://127.0.0.1:$API_PORT/readyz" >/dev/null && break
    sleep 0.5; done
  bg kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig="$KC" \
    --authentication-kubeconfig="$KC" --authorization-kubeconfig="$KC" --bind-address=127.0.0.1 --secure-port=0 \
    --leader-elect=false --use-service-account-credentials=true --controllers='*' \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key"
  bg kube-scheduler "$BIN/kube-scheduler" --kubeconfig="$KC" --authentication-kubeconfig="$KC" \
    --authorization-kubeconfig="$KC" --leader-elect=false --bind-address=127.0.0.1 --secure-port=0
  local kwokdir crddir; kwokdir=$(cd /tmp && go mod download -json "sigs.k8s.io/kwok@v$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  crddir=$(cd /tmp && go mod download -json "sigs.k8s.io/gateway-api@v$GATEWAY_API_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')/config/crd/standard
  KUBECONFIG=$KC "$BIN/kubectl" apply -f "$kwokdir/kustomize/crd/bases/kwok.x-k8s.io_logs.yaml" >/dev/null
  for f in "$crddir"/gateway.networking.k8s.io_*.yaml; do KUBECONFIG=$KC "$BIN/kubectl" apply --server-side -f "$f" >/dev/null; done
  bg kwok "$BIN/kwok" --kubeconfig="$KC" --config="$BIN/kwok-stages.yaml" --manage-all-nodes=false \
    --enable-crds=Logs --node-ip=127.0.0.1 --node-port="$KUBELET_PORT" --server-address="127.0.0.1:$KUBELET_PORT" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake --manage-nodes-with-label-selector= \
    --disregard-status-with-annotation-selector=kwok.x-k8s.io/status=custom --disregard-status-with-label-selector= \
    --cidr=10.244.0.0/16 --node-lease-duration-seconds=40
  KUBECONFIG=$KC "$BIN/kubectl" apply -f - >/dev/null <<NODE
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-0
  annotations: {node.alpha.kubernetes.io/ttl: "0", kwok.x-k8s.io/node: fake}
  labels: {kubernetes.io/hostname: kwok-node-0, kubernetes.io/os: linux, kubernetes.io/arch: amd64, type: kwok}
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "110"}
  capacity: {cpu: "32", memory: 256Gi, pods: "110"}
NODE
  # pods need the default ServiceAccount (created by KCM) before they can be admitted
  for i in $(seq 1 60); do KUBECONFIG=$KC "$BIN/kubectl" get sa default >/dev/null 2>&1 && break; sleep 0.5; done
  log "control plane up in $((SECONDS-t))s; export KUBECONFIG=$KC"
}

cmd_stop(){ local n p i; for n in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
  [ -f "$RUN/$n.pid" ] || continue; p=$(cat "$RUN/$n.pid"); kill "$p" 2>/dev/null || true
  for i in $(seq 1 60); do kill -0 "$p" 2>/dev/null || break; sleep 0.5; done; rm -f "$RUN/$n.pid"; done; }
cmd_status(){ local f; for f in "$RUN"/*.pid; do [ -f "$f" ] && { kill -0 "$(cat "$f")" 2>/dev/null && echo "$(basename "$f" .pid) up" || echo "$(basename "$f" .pid) DOWN"; }; done; }

cmd_env(){ echo "export KUBECONFIG=$DIR/kubeconfig"; echo "export KUBEBUILDER_ASSETS=$BIN"; }
case "${1:-}" in build) cmd_build;; start) cmd_start;; stop) cmd_stop;; status) cmd_status;; env) cmd_env;; *) echo "usage: $0 build|start|stop|status|env" >&2; exit 2;; esac
