#!/usr/bin/env bash
# qemu-system-aarch64 with the `virt` board, for src/boot/qemu.ts's runQemu
# (which builds a machine-less argv for x86): prepends -M and, on request,
# turns its single-threaded TCG into multi-threaded TCG.  exec keeps the PID,
# so runQemu's timeout kills QEMU itself.
#   GMEMTEST_ARM64_MACHINE     default virt,virtualization=on,gic-version=3
#   GMEMTEST_ARM64_TCG_THREAD  single (as given) | multi
set -euo pipefail
args=()
for a in "$@"; do
  if [[ $a == tcg,thread=single && ${GMEMTEST_ARM64_TCG_THREAD:-single} == multi ]]; then a=tcg,thread=multi; fi
  args+=("$a")
done
exec qemu-system-aarch64 -M "${GMEMTEST_ARM64_MACHINE:-virt,virtualization=on,gic-version=3}" "${args[@]}"
