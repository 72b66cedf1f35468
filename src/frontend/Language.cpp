// Language table lookups.
#include "frontend/Language.h"

namespace mirtune {

std::string_view languageName(Language language) {
  for (const auto& info : kLanguages) {
    if (info.language == language) return info.name;
  }
  return "unknown";
}

std::string_view languageDisplayName(Language language) {
  for (const auto& info : kLanguages) {
    if (info.language == language) return info.displayName;
  }
  return "unknown";
}

std::optional<Language> parseLanguage(std::string_view name) {
  for (const auto& info : kLanguages) {
    if (info.name == name) return info.language;
  }
  return std::nullopt;
}

std::optional<Language> languageFromExtension(std::string_view extension) {
  if (extension.empty()) return std::nullopt;
  for (const auto& info : kLanguages) {
    for (std::string_view known : info.extensions) {
      if (!known.empty() && known == extension) return info.language;
    }
  }
  return std::nullopt;
}

std::string languageChoices() {
  std::string out;
  for (const auto& info : kLanguages) {
    if (!out.empty()) out += '|';
    out += info.name;
  }
  return out;
}

std::string knownExtensions() {
  std::string out;
  for (const auto& info : kLanguages) {
    for (std::string_view known : info.extensions) {
      if (known.empty()) continue;
      if (!out.empty()) out += ", ";
      out += known;
    }
  }
  return out;
}

}  // namespace mirtune
