// Lookups over the corpus source table.
#include "corpus/CorpusSource.h"

namespace mirtune {

const CorpusSourceInfo& corpusSourceInfo(CorpusSource source) {
  for (const CorpusSourceInfo& info : kCorpusSources) {
    if (info.source == source) return info;
  }
  return kCorpusSources.front();  // unreachable: every enumerator has a row
}

std::string_view corpusSourceName(CorpusSource source) {
  return corpusSourceInfo(source).name;
}

std::optional<CorpusSource> parseCorpusSource(std::string_view name) {
  for (const CorpusSourceInfo& info : kCorpusSources) {
    if (info.name == name) return info.source;
  }
  return std::nullopt;
}

std::string corpusSourceChoices() {
  std::string out;
  for (const CorpusSourceInfo& info : kCorpusSources) {
    if (!out.empty()) out += ", ";
    out += info.name;
  }
  return out;
}

Expected<std::vector<CorpusSource>> parseCorpusSourceList(const std::vector<std::string>& names) {
  std::vector<bool> selected(kCorpusSources.size(), false);
  for (const std::string& name : names) {
    auto source = parseCorpusSource(name);
    if (!source)
      return makeError(ErrorCode::kUsage, "unknown corpus source '{}' (expected {})", name,
                       corpusSourceChoices());
    for (std::size_t i = 0; i < kCorpusSources.size(); ++i) {
      if (kCorpusSources[i].source == *source) selected[i] = true;
    }
  }
  std::vector<CorpusSource> sources;
  for (std::size_t i = 0; i < kCorpusSources.size(); ++i) {
    if (selected[i]) sources.push_back(kCorpusSources[i].source);
  }
  return sources;
}

}  // namespace mirtune
