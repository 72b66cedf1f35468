// A stand-in nvcc for the CUDA coarsening tests, so sessions, exports and ingests run where there is no GPU.
#pragma once

#include "support/Files.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <string>

namespace mirtune {

/// A stand-in for nvcc: it checks that the source it is given defines the kernel MIRTUNE_KERNEL names and
/// that the headers it includes were copied beside it, then writes a program that prints a region time of
/// 8 ms / F and `mirtune-check: ok` (FAILED for the factor `wrongFactor`).
inline std::filesystem::path writeFakeNvcc(const std::filesystem::path& folder, int wrongFactor) {
  std::filesystem::create_directories(folder);
  const std::filesystem::path script = folder / "fake-nvcc";
  std::string text = R"sh(#!/bin/sh
out=; kernel=; cf=1; src=
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out=$2; shift ;;
    -DMIRTUNE_KERNEL=*) kernel=${1#-DMIRTUNE_KERNEL=} ;;
    -DMIRTUNE_CF=*) cf=${1#-DMIRTUNE_CF=} ;;
    -*) ;;
    *) src=$1 ;;
  esac
  shift
done
grep -q "__global__ void $kernel(" "$src" || { echo "fake-nvcc: $src has no kernel $kernel" >&2; exit 1; }
for header in $(sed -n 's/^#include "\(.*\)"/\1/p' "$src"); do
  [ -f "$header" ] || { echo "fake-nvcc: $header was not copied" >&2; exit 1; }
done
verdict=ok
[ "$cf" = "WRONG" ] && verdict="FAILED at 0: 1, expected 2"
printf '#!/bin/sh\necho "mirtune-region-seconds: %s"\necho "mirtune-check: %s"\n' "$(awk "BEGIN { printf \"%.6f\", 0.008 / $cf }")" "$verdict" > "$out"
chmod +x "$out"
)sh";
  const std::string marker = "\"WRONG\"";
  text.replace(text.find(marker), marker.size(), "\"" + std::to_string(wrongFactor) + "\"");
  EXPECT_TRUE(writeFileAtomically(script, text).ok());
  ::chmod(script.c_str(), 0755);
  return script;
}

}  // namespace mirtune
