// mirtune's own shared modules (the SentencePiece shim, the LibTorch parts), loaded with dlopen when a command first
// needs them, so that a process that does not need them never loads what they link.
#pragma once

#include "support/Error.h"

#include <string>

namespace mirtune {

/// Loads `fileName` from $MIRTUNE_LIB_DIR, the executable's folder, <executable's folder>/../lib, or `buildPath`
/// (where the build put it), the first that exists; `flags` are dlopen's (RTLD_NOW | RTLD_LOCAL at least). Each
/// file is opened once per process; later calls return the same handle. The error names every path tried.
Expected<void*> loadPlugin(const std::string& fileName, const std::string& buildPath, int flags);

/// dlsym(handle, name), or an error naming the module and the symbol.
Expected<void*> pluginSymbol(void* handle, const std::string& fileName, const char* name);

}  // namespace mirtune
