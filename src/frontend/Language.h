// Source languages the front end accepts, declared once: names, file extensions and --lang spellings derive
// from kLanguages.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace mirtune {

enum class Language { kOpenCl, kC, kCxx, kCuda, kLlvm };

struct LanguageInfo {
  Language language;
  std::string_view name;           ///< --lang spelling and JSON "language" value
  std::string_view displayName;    ///< for messages: "OpenCL C", "C++", ...
  std::string_view extensions[4];  ///< recognised file extensions (empty entries unused)
};

inline constexpr std::array<LanguageInfo, 5> kLanguages = {{
    {Language::kOpenCl, "opencl", "OpenCL C", {".cl"}},
    {Language::kC, "c", "C", {".c"}},
    {Language::kCxx, "cxx", "C++", {".cpp", ".cc", ".cxx", ".C"}},
    {Language::kCuda, "cuda", "CUDA", {".cu"}},
    {Language::kLlvm, "llvm", "LLVM IR", {".ll", ".bc"}},
}};

std::string_view languageName(Language language);
/// "OpenCL C", "C", "C++", "CUDA", "LLVM IR".
std::string_view languageDisplayName(Language language);
/// From a --lang value ("opencl", "c", "cxx", "cuda", "llvm").
std::optional<Language> parseLanguage(std::string_view name);
/// From a file extension including the dot (".cl"); nullopt when unknown.
std::optional<Language> languageFromExtension(std::string_view extension);
/// "opencl|c|cxx|cuda|llvm", for help texts.
std::string languageChoices();
/// ".cl, .c, .cpp, ...", for error messages.
std::string knownExtensions();

}  // namespace mirtune
