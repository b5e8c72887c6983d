#!/usr/bin/env bash
# Installs what fivelink needs on a fresh Debian machine (idempotent, safe to re-run):
# system packages (Java, Maven, Go, Prometheus, Chromium), uv, and the Python workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v java >/dev/null || need_apt+=(default-jre-headless)
command -v mvn >/dev/null || need_apt+=(maven)
command -v go >/dev/null || need_apt+=(golang-go)
command -v prometheus >/dev/null || need_apt+=(prometheus)
command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || need_apt+=(docker-compose)
if [ "${FIVELINK_WITH_BROWSER:-1}" = 1 ]; then
  # the browser tests drive Debian's Chromium; the fonts make Chinese and Mongolian
  # readable in their screenshots
  command -v chromium >/dev/null || need_apt+=(chromium)
  [ -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || need_apt+=(fonts-noto-cjk)
  [ -d /usr/share/fonts/truetype/noto ] || need_apt+=(fonts-noto-core)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "==> apt-get install ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need_apt[@]}"
fi
# Debian's prometheus package starts a system service on :9090; ours runs on its own ports.
if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
  systemctl stop prometheus || true
fi

if ! command -v uv >/dev/null; then
  echo "==> installing uv"
  python3 -m pip install --quiet uv
fi
echo "==> uv sync (locked)"
uv sync --locked --quiet
