#!/usr/bin/env bash
# Installs the Debian packages the tests and benchmarks use, when they are missing:
# Debian's AWS CLI and boto3 (real clients), nginx and wrk (benchmark anchors), etcd (cluster tests),
# chromium (the status page's browser test, driven by playwright-core), s3cmd and rclone (more
# clients verified in SIGV4 mode).
set -euo pipefail
need=()
[ -x /usr/bin/aws ] || need+=(awscli)
/usr/bin/python3 -c 'import boto3' 2>/dev/null || need+=(python3-boto3)
[ -x /usr/sbin/nginx ] || need+=(nginx)
[ -x /usr/bin/wrk ] || need+=(wrk)
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/s3cmd ] || need+=(s3cmd)
[ -x /usr/bin/rclone ] || need+=(rclone)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
