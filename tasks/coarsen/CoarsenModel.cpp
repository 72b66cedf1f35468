// Saving and loading the thread-coarsening heads through the shared task-model manifest.
#include "tasks/coarsen/CoarsenModel.h"

#include "tasks/common/TaskModel.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mirtune::coarsen {

namespace fs = std::filesystem;

namespace {
constexpr heads::TaskModelKind kCoarsenModelKind{"coarsen", "thread-coarsening", kCoarsenModelFormat,
                                                 "mirtune coarsen train"};
}  // namespace

fs::path defaultCoarsenModelDirectory() { return heads::taskModelDirectory("coarsen", kShippedCoarsenName); }

Expected<FactorChoice> CoarsenModel::choose(const std::vector<float>& embedding, std::size_t platform) const {
  if (curve) return curve->choose(embedding, platform);
  std::string name = pooling == Pooling::kPooled ? kPooledHead : std::string(kPlatforms[platform].name);
  auto found = heads.find(name);
  if (found == heads.end()) {
    return makeError(ErrorCode::kNotFound, "{}: no head '{}' for platform {}", directory.string(), name,
                     kPlatforms[platform].name);
  }
  return chooseFactor(*found->second, form, embedding, platform);
}

Expected<CoarsenModel> loadCoarsenModel(const fs::path& directory, const Encoder& encoder) {
  auto manifest = heads::readTaskManifest(directory, kCoarsenModelKind, encoder.id());
  if (!manifest) return manifest.error();
  std::string manifestPath = (directory / "manifest.json").string();
  CoarsenModel model;
  model.directory = directory;
  model.encoderId = encoder.id();
  auto irSource = parseIrSource(manifest->value("ir", "source"));
  auto form = parseHeadForm(manifest->value("form", ""));
  auto pooling = parsePooling(manifest->value("pooling", ""));
  if (!irSource) return irSource.error().withContext(manifestPath);
  model.irSource = *irSource;
  std::vector<int> factors = manifest->value("factors", std::vector<int>());
  if (factors != std::vector<int>(kFactors.begin(), kFactors.end())) {
    return makeError(ErrorCode::kVersion, "{}: factors {} differ from this mirtune's {}", manifestPath,
                     fmt::join(factors, ", "), fmt::join(kFactors, ", "));
  }
  model.method = manifest->value("method", "classifier");
  if (model.method != "classifier") {
    // A curve head: one folder, inputs are the fused embedding alone.
    auto method = parseCurveMethod(model.method);
    if (!method) return Error(ErrorCode::kInvalidInput, method.error().message()).withContext(manifestPath);
    auto curve = loadCurveModel(directory / kPooledHead, *method, encoder.dimension(Modality::kFused));
    if (!curve) return curve.error();
    model.curve = std::move(*curve);
    model.manifest = std::move(*manifest);
    return model;
  }
  if (!form) return Error(ErrorCode::kInvalidInput, form.error().message()).withContext(manifestPath);
  if (!pooling) return Error(ErrorCode::kInvalidInput, pooling.error().message()).withContext(manifestPath);
  model.form = *form;
  model.pooling = *pooling;
  auto heads = heads::loadNamedHeads(directory, *manifest, "heads",
                                     headFeatureCount(encoder.dimension(Modality::kFused), model.form),
                                     model.form == HeadForm::kClass ? static_cast<int>(kFactors.size()) : 2);
  if (!heads) return heads.error();
  std::vector<std::string> expected;
  if (model.pooling == Pooling::kPooled) {
    expected.push_back(kPooledHead);
  } else {
    for (const CoarsenPlatform& platform : kPlatforms) expected.emplace_back(platform.name);
  }
  for (const std::string& name : expected) {
    if (heads->count(name) == 0) {
      return makeError(ErrorCode::kInvalidInput, "{}: {} heads need one named '{}'", manifestPath,
                       poolingName(model.pooling), name);
    }
  }
  model.heads = std::move(*heads);
  model.manifest = std::move(*manifest);
  return model;
}

Status saveCoarsenModel(const fs::path& directory, const Encoder& encoder, IrSource irSource, HeadForm form,
                        Pooling pooling, const std::vector<NamedHead>& heads, const std::string& command) {
  nlohmann::json entries = nlohmann::json::object();
  for (const NamedHead& entry : heads) {
    if (auto saved = entry.head.model->save(directory / entry.name); !saved) return saved;
    entries[entry.name] = {{"head", entry.head.candidate.kind},
                           {"params", entry.head.candidate.params},
                           {"inner_cv_speedup", entry.head.innerSpeedup},
                           {"rows", entry.head.rows},
                           {"data", entry.data}};
  }
  nlohmann::json platforms = nlohmann::json::array();
  for (const CoarsenPlatform& platform : kPlatforms) {
    platforms.push_back({{"name", platform.name}, {"hardware", platform.hardware}});
  }
  nlohmann::json manifest = {
      {"features", form == HeadForm::kClass ? "fused embedding + platform one-hot"
                                            : "fused embedding + platform one-hot + log2(factor)"},
      {"form", headFormName(form)},
      {"pooling", poolingName(pooling)},
      {"factors", kFactors},
      {"near_oracle", form == HeadForm::kFactor ? nlohmann::json(kNearOracle) : nlohmann::json(nullptr)},
      {"ir", irSourceName(irSource)},
      {"platforms", platforms},
      {"heads", entries}};
  return heads::writeTaskManifest(directory, kCoarsenModelKind, encoder.id(), std::move(manifest), command);
}

Status saveCoarsenCurveModel(const fs::path& directory, const Encoder& encoder, IrSource irSource,
                             const TrainedCurve& trained, const nlohmann::json& data, const std::string& command) {
  // A directory that held classifier heads must not keep their files beside the curve head's.
  std::error_code ec;
  fs::remove_all(directory / kPooledHead, ec);
  for (const CoarsenPlatform& platform : kPlatforms) fs::remove_all(directory / std::string(platform.name), ec);
  if (auto saved = trained.model->save(directory / kPooledHead); !saved) return saved;
  nlohmann::json candidates = nlohmann::json::array();
  for (std::size_t i = 0; i < trained.candidateSpeedups.size(); ++i) {
    candidates.push_back(trained.candidateSpeedups[i]);
  }
  nlohmann::json platforms = nlohmann::json::array();
  for (const CoarsenPlatform& platform : kPlatforms) {
    platforms.push_back({{"name", platform.name}, {"hardware", platform.hardware}});
  }
  std::string method(curveMethodName(trained.candidate.method));
  nlohmann::json manifest = {
      {"features", trained.candidate.method == CurveMethod::kPrior
                       ? "none (per GPU, the mean training speedup of each factor)"
                       : "fused embedding, standardised" +
                             std::string(trained.candidate.params.value("pca", 0) > 0
                                             ? ", then principal components of the training kernels"
                                             : "")},
      {"method", method},
      {"params", trained.candidate.params},
      {"factors", kFactors},
      {"near_oracle", kNearOracle},
      {"ir", irSourceName(irSource)},
      {"platforms", platforms},
      {"heads",
       {{kPooledHead,
         {{"head", method},
          {"params", trained.candidate.params},
          {"inner_cv_speedup", trained.innerSpeedup},
          {"candidate_inner_cv_speedups", candidates},
          {"data", data}}}}}};
  return heads::writeTaskManifest(directory, kCoarsenModelKind, encoder.id(), std::move(manifest), command);
}

}  // namespace mirtune::coarsen
