// Listing the modules of a corpus folder.
#include "corpus/CorpusFiles.h"

#include "corpus/Manifest.h"
#include "frontend/Language.h"

#include <algorithm>

namespace mirtune {

Expected<std::vector<std::filesystem::path>> corpusModuleFiles(const std::filesystem::path& corpus) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  if (fs::exists(corpus / kCorpusManifestFile)) {
    auto records = readCorpusManifest(corpus);
    if (!records) return records.error();
    for (const CorpusRecord& record : *records) files.push_back(corpus / record.file);
    return files;
  }
  for (const auto& entry : fs::recursive_directory_iterator(corpus)) {
    if (entry.is_regular_file() && languageFromExtension(entry.path().extension().string())) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace mirtune
