// The shipped OpenMP suite's manifests (kernels/openmp): the apps, their sources and named sizes.
#include "tasks/common/OpenMpSuite.h"

#include "support/Files.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace mirtune {
namespace fs = std::filesystem;

Expected<std::vector<std::string>> OmpApp::sizeArguments(std::string_view size) const {
  std::vector<std::string> names;
  for (const auto& [sizeName, arguments] : sizes) {
    if (sizeName == size) return arguments;
    names.push_back(sizeName);
  }
  return Error(ErrorCode::kNotFound, fmt::format("app '{}' has no size '{}' (sizes: {})", this->name, size,
                                                 fmt::join(names, ", ")));
}

Expected<OmpApp> loadOmpAppFields(const fs::path& manifest);

Expected<OmpApp> loadOmpApp(const fs::path& manifest) {
  return readingJsonFrom(manifest, [&]() -> Expected<OmpApp> { return loadOmpAppFields(manifest); });
}

Expected<OmpApp> loadOmpAppFields(const fs::path& manifest) {
  auto text = readFile(manifest);
  if (!text) return text.error();
  auto json = nlohmann::json::parse(*text, nullptr, false);
  auto bad = [&](std::string_view what) {
    return Error(ErrorCode::kInvalidInput, fmt::format("{}: {}", manifest.string(), what));
  };
  if (json.is_discarded() || !json.is_object()) return bad("not a JSON object");
  OmpApp app;
  for (const char* key : {"name", "source"}) {
    if (!json.contains(key) || !json[key].is_string())
      return bad(fmt::format("\"{}\" must be a string", key));
  }
  app.name = json["name"].get<std::string>();
  app.source = manifest.parent_path() / json["source"].get<std::string>();
  app.description = json.value("description", std::string());
  app.category = json.value("category", std::string());
  if (!fs::exists(app.source)) return bad(fmt::format("source {} not found", app.source.string()));
  if (json.contains("args")) {
    if (!json["args"].is_array()) return bad("\"args\" must be an array of names");
    for (const auto& name : json["args"])
      app.argNames.push_back(name.is_string() ? name.get<std::string>() : name.dump());
  }
  if (!json.contains("sizes") || !json["sizes"].is_object() || json["sizes"].empty()) {
    return bad("\"sizes\" must be an object of named argument lists");
  }
  for (const auto& [name, arguments] : json["sizes"].items()) {
    if (!arguments.is_array()) return bad(fmt::format("\"sizes\".\"{}\" must be an array", name));
    std::vector<std::string> list;
    for (const auto& argument : arguments) {
      list.push_back(argument.is_string() ? argument.get<std::string>() : argument.dump());
    }
    app.sizes.emplace_back(name, std::move(list));
  }
  // nlohmann orders object keys alphabetically; the suite's sizes read best smallest first.
  const std::vector<std::string> order = {"test", "small", "medium", "large"};
  auto rank = [&](const std::string& name) {
    auto found = std::find(order.begin(), order.end(), name);
    return found == order.end() ? order.size() : static_cast<std::size_t>(found - order.begin());
  };
  std::stable_sort(app.sizes.begin(), app.sizes.end(),
                   [&](const auto& a, const auto& b) { return rank(a.first) < rank(b.first); });
  return app;
}

Expected<std::vector<OmpApp>> loadOmpSuite(const fs::path& directory) {
  if (!fs::is_directory(directory)) {
    return Error(ErrorCode::kNotFound, fmt::format("OpenMP app folder {} not found", directory.string()));
  }
  std::vector<fs::path> manifests;
  for (const auto& entry : fs::directory_iterator(directory)) {
    if (entry.path().extension() == ".json") manifests.push_back(entry.path());
  }
  std::sort(manifests.begin(), manifests.end());
  std::vector<OmpApp> apps;
  for (const auto& manifest : manifests) {
    auto app = loadOmpApp(manifest);
    if (!app) return app.error();
    apps.push_back(std::move(*app));
  }
  return apps;
}

fs::path ompSuiteDirectory() {
  return shareDirectory() / "kernels" / "openmp";
}

}  // namespace mirtune
