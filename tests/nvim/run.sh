#!/bin/sh
# The Neovim end-to-end test: installs Debian's `neovim` if it is missing,
# then runs tests/nvim.rs (which drives `nvim --headless -u NONE` with
# tests/nvim/e2e.lua against the built `camp lsp`).
set -eu
if ! command -v nvim >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO="sudo -n"; fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y neovim ||
    { $SUDO apt-get update && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y neovim; }
fi
cd "$(dirname "$0")/../.."
exec cargo test --test nvim "$@"
