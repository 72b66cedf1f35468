// Loads libxgboost with dlopen on the first call of xgbApi() and resolves the entry points the heads use.
#include "tasks/common/XgbApi.h"

#include <dlfcn.h>

#include <fmt/format.h>

#include <mutex>
#include <string>
#include <type_traits>

#ifndef MIRTUNE_XGBOOST_SONAME
#error "MIRTUNE_XGBOOST_SONAME (the XGBoost library's soname, e.g. libxgboost.so.0) must come from the build"
#endif

namespace mirtune::heads::detail {

namespace {

constexpr const char* kLibraryName = MIRTUNE_XGBOOST_SONAME;

struct LoadedApi {
  XgbApi api;
  std::string error;  // empty when every entry point resolved
};

LoadedApi load() {
  LoadedApi loaded;
  // RTLD_LOCAL: XGBoost's symbols (and those of its dependencies) serve only the lookups below.
  void* handle = dlopen(kLibraryName, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* reason = dlerror();
    loaded.error = fmt::format("cannot load the XGBoost library {}, which the xgboost heads need: {}",
                               kLibraryName, reason != nullptr ? reason : "unknown reason");
    return loaded;
  }
  auto resolve = [&](auto& slot, const char* name) {
    if (!loaded.error.empty()) return;
    dlerror();  // clear any earlier message
    slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(dlsym(handle, name));
    if (slot == nullptr) {
      const char* reason = dlerror();
      loaded.error = fmt::format("the XGBoost library {} lacks {}: {}", kLibraryName, name,
                                 reason != nullptr ? reason : "null symbol");
    }
  };
  XgbApi& api = loaded.api;
  resolve(api.getLastError, "XGBGetLastError");
  resolve(api.setGlobalConfig, "XGBSetGlobalConfig");
  resolve(api.version, "XGBoostVersion");
  resolve(api.boosterCreate, "XGBoosterCreate");
  resolve(api.boosterFree, "XGBoosterFree");
  resolve(api.boosterGetNumFeature, "XGBoosterGetNumFeature");
  resolve(api.boosterLoadModelFromBuffer, "XGBoosterLoadModelFromBuffer");
  resolve(api.boosterPredictFromDMatrix, "XGBoosterPredictFromDMatrix");
  resolve(api.boosterSaveJsonConfig, "XGBoosterSaveJsonConfig");
  resolve(api.boosterSaveModelToBuffer, "XGBoosterSaveModelToBuffer");
  resolve(api.boosterSetParam, "XGBoosterSetParam");
  resolve(api.boosterUpdateOneIter, "XGBoosterUpdateOneIter");
  resolve(api.dmatrixCreateFromMat, "XGDMatrixCreateFromMat");
  resolve(api.dmatrixFree, "XGDMatrixFree");
  resolve(api.dmatrixSetFloatInfo, "XGDMatrixSetFloatInfo");
  // The handle is never closed: the entry points serve until the process exits.
  return loaded;
}

}  // namespace

Expected<const XgbApi*> xgbApi() {
  static std::once_flag once;
  static LoadedApi loaded;
  std::call_once(once, [] { loaded = load(); });
  if (!loaded.error.empty()) return makeError(ErrorCode::kNotFound, "{}", loaded.error);
  return &loaded.api;
}

}  // namespace mirtune::heads::detail
