// The part of XGBoost's C API the tree heads call, reached through dlopen on first use so that a process that
// never uses a tree head never loads libxgboost and its dependencies. Internal to mirtune_heads.
#pragma once

#include "support/Error.h"

#include <xgboost/c_api.h>

namespace mirtune::heads::detail {

/// Entry points of libxgboost, typed from xgboost/c_api.h so that a changed signature fails to compile here.
struct XgbApi {
  decltype(&XGBGetLastError) getLastError = nullptr;
  decltype(&XGBSetGlobalConfig) setGlobalConfig = nullptr;
  decltype(&XGBoostVersion) version = nullptr;
  decltype(&XGBoosterCreate) boosterCreate = nullptr;
  decltype(&XGBoosterFree) boosterFree = nullptr;
  decltype(&XGBoosterGetNumFeature) boosterGetNumFeature = nullptr;
  decltype(&XGBoosterLoadModelFromBuffer) boosterLoadModelFromBuffer = nullptr;
  decltype(&XGBoosterPredictFromDMatrix) boosterPredictFromDMatrix = nullptr;
  decltype(&XGBoosterSaveJsonConfig) boosterSaveJsonConfig = nullptr;
  decltype(&XGBoosterSaveModelToBuffer) boosterSaveModelToBuffer = nullptr;
  decltype(&XGBoosterSetParam) boosterSetParam = nullptr;
  decltype(&XGBoosterUpdateOneIter) boosterUpdateOneIter = nullptr;
  decltype(&XGDMatrixCreateFromMat) dmatrixCreateFromMat = nullptr;
  decltype(&XGDMatrixFree) dmatrixFree = nullptr;
  decltype(&XGDMatrixSetFloatInfo) dmatrixSetFloatInfo = nullptr;
};

/// The API of the XGBoost library the build found (by its soname, through the dynamic loader's search path),
/// loaded and resolved on the first call in the process, from whichever thread makes it; later calls return
/// the same pointer (or the same error) at once. The library stays loaded until the process exits. kNotFound
/// naming the library and the loader's reason when it cannot be loaded or lacks one of the entry points.
Expected<const XgbApi*> xgbApi();

}  // namespace mirtune::heads::detail
