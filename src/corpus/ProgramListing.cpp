// Program listings for each corpus source: data-set files, archive members, CSV cells, kernels, csmith seeds.
#include "corpus/ProgramListing.h"

#include "support/Files.h"
#include "support/Sha256.h"
#include "support/Subprocess.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <functional>
#include <map>
#include <regex>
#include <system_error>

namespace mirtune {

namespace fs = std::filesystem;

// Archives are unpacked with tar into a scratch folder. Every program gets a stable id ("<family>:<name>")
// shared by all the forms of the same code, and a virtual file name that does not depend on where the scratch
// folder happened to be.

namespace {

constexpr const char* kVirtualRoot = "/mirtune-corpus";
constexpr double kExtractTimeoutSeconds = 300;

std::string familyPrefix(CorpusSource source) {
  return std::string(corpusSourceInfo(source).family) + ":";
}

std::string missingDataReason(const fs::path& path) {
  return fmt::format("data set file {} not found (set MIRTUNE_DATA or --data to the data set folder)",
                     path.string());
}

// Regular files under `folder` (recursively) whose extension satisfies `keep`, sorted by relative path.
std::vector<fs::path> filesUnder(const fs::path& folder, const std::function<bool(const fs::path&)>& keep) {
  std::vector<fs::path> files;
  std::error_code error;
  for (fs::recursive_directory_iterator it(folder, error), end; !error && it != end; it.increment(error)) {
    if (it->is_regular_file(error) && keep(it->path()))
      files.push_back(it->path().lexically_relative(folder));
  }
  std::sort(files.begin(), files.end(),
            [](const fs::path& a, const fs::path& b) { return a.generic_string() < b.generic_string(); });
  return files;
}

bool hasExtension(const fs::path& path, std::string_view extension) {
  return path.extension() == extension;
}

// Unpacks an archive into a new scratch folder; the skip reason when that fails.
Expected<ScratchDirectory> extractArchive(const fs::path& archive, const std::string& prefix) {
  auto scratch = ScratchDirectory::create(prefix);
  if (!scratch) return scratch.error();
  SubprocessOptions tar;
  tar.argv = {"tar", "-xf", archive.string(), "-C", scratch->path().string(), "--no-same-owner"};
  tar.timeoutSeconds = kExtractTimeoutSeconds;
  auto result = runSubprocess(tar);
  if (!result) return result.error().withContext(fmt::format("cannot extract {}", archive.string()));
  if (!result->succeeded()) {
    std::string detail = result->standardError.substr(0, result->standardError.find('\n'));
    return makeError(ErrorCode::kIo, "cannot extract {}: tar {}{}{}", archive.string(), result->describe(),
                     detail.empty() ? "" : ": ", detail);
  }
  return std::move(*scratch);
}

// A data set archive unpacked into a scratch folder; nothing, with the listing's skip reason set, when the archive
// is missing or cannot be unpacked.
std::optional<ScratchDirectory> extractDataArchive(const fs::path& archive, const std::string& prefix,
                                                   ProgramListing& listing) {
  if (!fs::is_regular_file(archive)) {
    listing.skipReason = missingDataReason(archive);
    return std::nullopt;
  }
  auto scratch = extractArchive(archive, prefix);
  if (!scratch) {
    listing.skipReason = scratch.error().message();
    return std::nullopt;
  }
  return std::move(*scratch);
}

// The NCC IR files of NPB kernels carry the input class in their name (npb-3.3-BT-add_A.ll); all classes are
// the same kernel, named in kernels.tar.bz2 without the suffix.
std::string devmapProgramName(const std::string& stem) {
  static const std::regex kNpbClass(R"(^(npb-.*)_[SWABC]$)");
  std::smatch match;
  if (std::regex_match(stem, match, kNpbClass)) return match[1].str();
  return stem;
}

// Hash of every file in a folder (names and contents), for cache keys of programs that include them.
std::string folderDigest(const fs::path& folder) {
  Sha256 hash;
  for (const fs::path& relative : filesUnder(folder, [](const fs::path&) { return true; })) {
    auto content = readFile(folder / relative);
    hash.update(relative.generic_string());
    hash.update(std::string_view("\0", 1));
    if (content) hash.update(*content);
  }
  auto digest = hash.finish();
  return toHex(digest.data(), digest.size());
}

void listIrFolder(CorpusSource source, const fs::path& dataDirectory, const std::string& subfolder,
                  ProgramListing& listing) {
  fs::path folder = dataDirectory / subfolder;
  if (!fs::is_directory(folder)) {
    listing.skipReason = missingDataReason(folder);
    return;
  }
  for (const fs::path& relative :
       filesUnder(folder, [](const fs::path& p) { return hasExtension(p, ".ll"); })) {
    CorpusProgram program;
    program.source = source;
    std::string stem = relative.stem().string();
    program.program =
        familyPrefix(source) + (source == CorpusSource::kDevmapLl ? devmapProgramName(stem) : stem);
    program.origin = subfolder + "/" + relative.generic_string();
    program.language = Language::kLlvm;
    program.file = folder / relative;
    program.virtualName = fmt::format("{}/{}", kVirtualRoot, program.origin);
    program.takeAsIs = true;
    listing.programs.push_back(std::move(program));
  }
}

void listDevmapSources(const CorpusOptions& /*options*/, const fs::path& dataDirectory,
                       ProgramListing& listing) {
  const std::string archiveName = "devmap/kernels.tar.bz2";
  fs::path archive = dataDirectory / archiveName;
  if (!fs::is_regular_file(archive)) {
    listing.skipReason = missingDataReason(archive);
    return;
  }
  auto scratch = extractArchive(archive, "mirtune-corpus-devmap");
  if (!scratch) {
    listing.skipReason = scratch.error().message();
    return;
  }
  for (const fs::path& relative :
       filesUnder(scratch->path(), [](const fs::path& p) { return hasExtension(p, ".cl"); })) {
    CorpusProgram program;
    program.source = CorpusSource::kDevmapCl;
    program.program = familyPrefix(program.source) + relative.stem().string();
    program.origin = archiveName + ":" + relative.generic_string();
    program.language = Language::kOpenCl;
    program.file = scratch->path() / relative;
    program.virtualName = fmt::format("{}/{}/{}", kVirtualRoot, archiveName, relative.generic_string());
    listing.programs.push_back(std::move(program));
  }
  listing.scratch.push_back(std::move(*scratch));
}

void listTcoarseningSources(const fs::path& dataDirectory, ProgramListing& listing) {
  const std::string csvName = "tcoarsening/pact-2014-runtimes.csv";
  fs::path csv = dataDirectory / csvName;
  auto content = readFile(csv);
  if (!content) {
    listing.skipReason = fs::exists(csv) ? content.error().message() : missingDataReason(csv);
    return;
  }
  std::vector<std::vector<std::string>> rows = parseCsv(*content);
  if (rows.empty()) {
    listing.skipReason = fmt::format("{}: empty CSV", csv.string());
    return;
  }
  const std::vector<std::string>& header = rows.front();
  auto kernelColumn = std::find(header.begin(), header.end(), "kernel") - header.begin();
  auto sourceColumn = std::find(header.begin(), header.end(), "src") - header.begin();
  if (kernelColumn == static_cast<std::ptrdiff_t>(header.size()) ||
      sourceColumn == static_cast<std::ptrdiff_t>(header.size())) {
    listing.skipReason = fmt::format("{}: no 'kernel' and 'src' columns", csv.string());
    return;
  }
  // Every coarsening-factor row of a kernel repeats its source; the first is taken.
  std::map<std::string, std::string> sourceOfKernel;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const std::vector<std::string>& row = rows[i];
    if (row.size() != header.size()) continue;
    const std::string& kernel = row[static_cast<std::size_t>(kernelColumn)];
    const std::string& text = row[static_cast<std::size_t>(sourceColumn)];
    if (!kernel.empty() && !text.empty()) sourceOfKernel.emplace(kernel, text);
  }
  for (const auto& [kernel, text] : sourceOfKernel) {
    CorpusProgram program;
    program.source = CorpusSource::kTcoarseningCl;
    program.program = familyPrefix(program.source) + kernel;
    program.origin = csvName + ":" + kernel;
    program.language = Language::kOpenCl;
    program.text = text;
    program.virtualName = fmt::format("{}/{}/{}.cl", kVirtualRoot, csvName, kernel);
    listing.programs.push_back(std::move(program));
  }
}

void listNeurovectorizer(const fs::path& dataDirectory, ProgramListing& listing) {
  const std::string archiveName = "neurovectorizer/training_data.tar.gz";
  fs::path archive = dataDirectory / archiveName;
  auto scratch = extractDataArchive(archive, "mirtune-corpus-neurovectorizer", listing);
  if (!scratch) return;
  std::vector<fs::path> headers =
      filesUnder(scratch->path(), [](const fs::path& p) { return p.filename() == "header.h"; });
  if (headers.empty()) {
    listing.skipReason = fmt::format("{}: no header.h in the archive", archive.string());
    return;
  }
  // The programs #include "header.h" from their own folder; the harness header.c is not a loop program.
  fs::path headerFolder = scratch->path() / headers.front().parent_path();
  auto header = readFile(headerFolder / "header.h");
  std::string keyMaterial = "header.h:" + (header ? sha256Hex(*header) : std::string("?"));
  for (const fs::path& relative : filesUnder(scratch->path(), [](const fs::path& p) {
         return hasExtension(p, ".c") && p.filename() != "header.c";
       })) {
    CorpusProgram program;
    program.source = CorpusSource::kNeurovectorizer;
    program.program = familyPrefix(program.source) + relative.stem().string();
    program.origin = archiveName + ":" + relative.generic_string();
    program.language = Language::kC;
    program.file = scratch->path() / relative;
    program.virtualName = fmt::format("{}/{}/{}", kVirtualRoot, archiveName, relative.generic_string());
    program.includeDirectories = {headerFolder.string()};
    program.keyMaterial = keyMaterial;
    listing.programs.push_back(std::move(program));
  }
  listing.scratch.push_back(std::move(*scratch));
}

void listKernels(const fs::path& kernelsDirectory, ProgramListing& listing) {
  if (!fs::is_directory(kernelsDirectory)) {
    listing.skipReason =
        fmt::format("kernels folder {} not found (pass --kernels DIR)", kernelsDirectory.string());
    return;
  }
  auto isSource = [](const fs::path& p) {
    auto language = languageFromExtension(p.extension().string());
    return language && *language != Language::kLlvm;
  };
  for (const fs::path& relative : filesUnder(kernelsDirectory, isSource)) {
    CorpusProgram program;
    program.source = CorpusSource::kKernels;
    program.program = familyPrefix(program.source) + relative.generic_string();
    program.origin = relative.generic_string();
    program.language = *languageFromExtension(relative.extension().string());
    program.file = kernelsDirectory / relative;
    // The real path, so that headers beside a kernel are found; those headers are also why kernels are not
    // cacheable.
    program.virtualName = fs::absolute(program.file).lexically_normal().string();
    program.cacheable = false;
    listing.programs.push_back(std::move(program));
  }
}

void listCsmith(const CorpusOptions& options, ProgramListing& listing) {
  if (options.csmithPrograms == 0) return;
  std::string version = csmithVersion(options);
  if (version.empty()) {
    listing.skipReason = fmt::format("'{}' cannot be run (Debian: apt-get install csmith libcsmith-dev)",
                                     options.csmithExecutable);
    return;
  }
  if (!fs::is_regular_file(options.csmithIncludeDirectory / "csmith.h")) {
    listing.skipReason = fmt::format("csmith.h not found in {} (Debian: apt-get install libcsmith-dev)",
                                     options.csmithIncludeDirectory.string());
    return;
  }
  std::string keyMaterial =
      fmt::format("{}|{}|csmith.h folder:{}", version, fmt::join(options.csmithArguments, " "),
                  folderDigest(options.csmithIncludeDirectory));
  std::size_t count = options.csmithPrograms;
  if (options.limitPerSource > 0) count = std::min(count, options.limitPerSource);
  for (std::size_t i = 0; i < count; ++i) {
    std::uint64_t seed = options.csmithSeed + i;
    CorpusProgram program;
    program.source = CorpusSource::kCsmith;
    program.program = fmt::format("{}{}", familyPrefix(program.source), seed);
    program.origin = fmt::format("seed:{}", seed);
    program.language = Language::kC;
    program.csmithSeed = seed;
    program.virtualName = fmt::format("{}/csmith/seed-{}.c", kVirtualRoot, seed);
    program.includeDirectories = {options.csmithIncludeDirectory.string()};
    program.keyMaterial = keyMaterial;
    listing.programs.push_back(std::move(program));
  }
}

// LS-CAT: one kernel per `<repo>/<n>/` folder with the headers it includes beside it. The listing is ordered by
// a hash of the kernel's path, so that a limit takes an even spread over the origin repositories rather than the
// first ones by name; the order is still fixed.
void listLsCat(const fs::path& dataDirectory, ProgramListing& listing) {
  const std::string archiveName = "ls-cat/ls-cat-kernels.tar.xz";
  fs::path archive = dataDirectory / archiveName;
  auto scratch = extractDataArchive(archive, "mirtune-corpus-ls-cat", listing);
  if (!scratch) return;
  std::vector<fs::path> kernels = filesUnder(scratch->path(), [](const fs::path& p) {
    return hasExtension(p, ".cu") && p.filename() != "main.cu";
  });
  if (kernels.empty()) {
    listing.skipReason = fmt::format("{}: no .cu kernel in the archive", archive.string());
    return;
  }
  std::vector<std::pair<std::string, fs::path>> ordered;
  for (const fs::path& relative : kernels) ordered.emplace_back(sha256Hex("ls-cat:" + relative.generic_string()), relative);
  std::sort(ordered.begin(), ordered.end());
  for (const auto& [hash, relative] : ordered) {
    fs::path folder = scratch->path() / relative.parent_path();
    // The kernel's folder path below the archive's kernels/ folder: "<repo>/<n>/<name>.cu".
    std::string name = relative.generic_string();
    if (auto at = name.find("kernels/"); at != std::string::npos) name = name.substr(at + 8);
    CorpusProgram program;
    program.source = CorpusSource::kLsCat;
    program.program = familyPrefix(program.source) + name;
    program.origin = archiveName + ":" + relative.generic_string();
    program.language = Language::kCuda;
    program.file = scratch->path() / relative;
    program.virtualName = fmt::format("{}/{}/{}", kVirtualRoot, archiveName, relative.generic_string());
    program.includeDirectories = {folder.string()};
    program.keyMaterial = "headers:" + folderDigest(folder);
    listing.programs.push_back(std::move(program));
  }
  listing.scratch.push_back(std::move(*scratch));
}

}  // namespace

Expected<ScratchDirectory> ScratchDirectory::create(const std::string& prefix) {
  std::error_code error;
  fs::path base = fs::temp_directory_path(error);
  if (error) base = "/tmp";
  std::string pattern = (base / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return makeError(ErrorCode::kIo, "cannot create a temporary folder {}: {}", pattern,
                     std::generic_category().message(errno));
  }
  return ScratchDirectory(fs::path(pattern));
}

ScratchDirectory::~ScratchDirectory() {
  if (path_.empty()) return;
  std::error_code error;
  fs::remove_all(path_, error);
}

ScratchDirectory::ScratchDirectory(ScratchDirectory&& other) noexcept : path_(std::move(other.path_)) {
  other.path_.clear();
}

ProgramListing listCorpusPrograms(CorpusSource source, const CorpusOptions& options,
                                  const fs::path& dataDirectory, const fs::path& kernelsDirectory) {
  ProgramListing listing;
  switch (source) {
    case CorpusSource::kDevmapCl:
      listDevmapSources(options, dataDirectory, listing);
      break;
    case CorpusSource::kDevmapLl:
      listIrFolder(source, dataDirectory, "devmap/kernels_ir", listing);
      break;
    case CorpusSource::kTcoarseningLl:
      listIrFolder(source, dataDirectory, "tcoarsening/kernels_ir", listing);
      break;
    case CorpusSource::kTcoarseningCl:
      listTcoarseningSources(dataDirectory, listing);
      break;
    case CorpusSource::kNeurovectorizer:
      listNeurovectorizer(dataDirectory, listing);
      break;
    case CorpusSource::kKernels:
      listKernels(kernelsDirectory, listing);
      break;
    case CorpusSource::kCsmith:
      listCsmith(options, listing);  // already in seed order and limited
      return listing;
    case CorpusSource::kLsCat:
      listLsCat(dataDirectory, listing);
      break;
  }
  if (options.limitPerSource > 0 && listing.programs.size() > options.limitPerSource) {
    listing.programs.resize(options.limitPerSource);
  }
  return listing;
}

Expected<std::string> generateCsmithProgram(const CorpusOptions& options, std::uint64_t seed) {
  SubprocessOptions csmith;
  csmith.argv = {options.csmithExecutable, "--seed", std::to_string(seed)};
  csmith.argv.insert(csmith.argv.end(), options.csmithArguments.begin(), options.csmithArguments.end());
  csmith.timeoutSeconds = options.csmithTimeoutSeconds;
  // csmith writes a platform.info file into its working directory; keep it out of the user's.
  csmith.workingDirectory = std::filesystem::temp_directory_path();
  auto result = runSubprocess(csmith);
  if (!result) return result.error().withContext(fmt::format("csmith --seed {}", seed));
  if (!result->succeeded() || result->standardOutput.empty()) {
    std::string detail = result->standardError.substr(0, result->standardError.find('\n'));
    return makeError(ErrorCode::kCompileError, "csmith --seed {}: {}{}{}", seed,
                     result->succeeded() ? "no output" : result->describe(), detail.empty() ? "" : ": ",
                     detail);
  }
  return std::move(result->standardOutput);
}

std::string csmithVersion(const CorpusOptions& options) {
  SubprocessOptions csmith;
  csmith.argv = {options.csmithExecutable, "--version"};
  csmith.timeoutSeconds = 10;
  auto result = runSubprocess(csmith);
  if (!result || !result->succeeded()) return {};
  const std::string& out = result->standardOutput;
  return out.substr(0, out.find('\n'));
}

std::vector<std::vector<std::string>> parseCsv(std::string_view text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  bool rowHasContent = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      rowHasContent = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      rowHasContent = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (rowHasContent || !field.empty()) {
        row.push_back(std::move(field));
        rows.push_back(std::move(row));
      }
      row.clear();
      field.clear();
      rowHasContent = false;
    } else {
      field += c;
      rowHasContent = true;
    }
  }
  if (rowHasContent || !field.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace mirtune
