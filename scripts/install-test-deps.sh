#!/usr/bin/env bash
# Installs what the test suite starts for real: OpenSSH's ssh-agent,
# ssh-keygen and sshd, SoftHSM2 and OpenSC for PKCS#11, and protoc.
# Idempotent; needs root (or sudo) for apt-get.
set -euo pipefail

packages=(openssh-client openssh-server softhsm2 opensc protobuf-compiler python3)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	sudo=""
	[[ $(id -u) -ne 0 ]] && sudo="sudo"
	echo "installing: ${missing[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
