// SentencePiece-backed IR tokenizer: training, loading with version checks, and module sequences.
#include "ir/Tokenizer.h"

#include "ir/ProgramGraph.h"
#include "support/Files.h"
#include "support/Log.h"
#include "support/Plugin.h"
#include "support/Sha256.h"

#include "ir/SentencePieceShim.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <numeric>
#include <mutex>
#include <unordered_map>

namespace mirtune {

namespace fs = std::filesystem;

namespace {

// SentencePiece lives in libmirtune_sentencepiece, loaded privately (SentencePieceShim.h says why).
struct SentencePieceLibrary {
  decltype(&mirtuneSpmLoad) load = nullptr;
  decltype(&mirtuneSpmFree) free = nullptr;
  decltype(&mirtuneSpmEncode) encode = nullptr;
  decltype(&mirtuneSpmPieceCount) pieceCount = nullptr;
  decltype(&mirtuneSpmPieceToId) pieceToId = nullptr;
  decltype(&mirtuneSpmIdToPiece) idToPiece = nullptr;
  decltype(&mirtuneSpmTrain) train = nullptr;
  decltype(&mirtuneSpmFreeBuffer) freeBuffer = nullptr;
  decltype(&mirtuneSpmSetLogLevel) setLogLevel = nullptr;
  std::string error;
};

constexpr const char* kShimName = "libmirtune_sentencepiece.so";

const SentencePieceLibrary& sentencePiece() {
  static const SentencePieceLibrary library = [] {
    SentencePieceLibrary lib;
    auto handle = loadPlugin(kShimName, MIRTUNE_SPM_SHIM_PATH, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (!handle) {
      lib.error = handle.error().message();
      return lib;
    }
    auto resolve = [&](auto& slot, const char* name) {
      auto symbol = pluginSymbol(*handle, kShimName, name);
      if (symbol) {
        slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(*symbol);
      } else if (lib.error.empty()) {
        lib.error = symbol.error().message();
      }
    };
    resolve(lib.load, "mirtuneSpmLoad");
    resolve(lib.free, "mirtuneSpmFree");
    resolve(lib.encode, "mirtuneSpmEncode");
    resolve(lib.pieceCount, "mirtuneSpmPieceCount");
    resolve(lib.pieceToId, "mirtuneSpmPieceToId");
    resolve(lib.idToPiece, "mirtuneSpmIdToPiece");
    resolve(lib.train, "mirtuneSpmTrain");
    resolve(lib.freeBuffer, "mirtuneSpmFreeBuffer");
    resolve(lib.setLogLevel, "mirtuneSpmSetLogLevel");
    return lib;
  }();
  return library;
}

}  // namespace

struct Tokenizer::Processor {
  void* model = nullptr;
  ~Processor() {
    if (model != nullptr) sentencePiece().free(model);
  }
  void encode(std::string_view text, std::vector<int>& ids) const {
    ids.resize(std::max<std::size_t>(ids.capacity(), 64));
    int count = sentencePiece().encode(model, text.data(), text.size(), ids.data(), static_cast<int>(ids.size()));
    if (count > static_cast<int>(ids.size())) {
      ids.resize(static_cast<std::size_t>(count));
      count = sentencePiece().encode(model, text.data(), text.size(), ids.data(), count);
    }
    ids.resize(static_cast<std::size_t>(count));
  }
  int pieceToId(const std::string& piece) const { return sentencePiece().pieceToId(model, piece.c_str()); }

  // Appends one line's pieces, remembered by line. Every line is encoded on its own, so the cache changes no
  // result; and lines repeat, within a module and across modules ("%v = load float, float* %v, align 4", graph
  // node texts such as "i32"): SentencePiece's BPE was the largest cost of preparing a module. Bounded: cleared
  // when it reaches kLineCacheEntries.
  void encodeLine(std::string_view line, std::vector<int>& out) const {
    std::string key(line);
    {
      std::lock_guard<std::mutex> lock(lineCacheMutex);
      if (auto found = lineCache.find(key); found != lineCache.end()) {
        out.insert(out.end(), found->second.begin(), found->second.end());
        return;
      }
    }
    std::vector<int> ids;
    encode(line, ids);
    out.insert(out.end(), ids.begin(), ids.end());
    std::lock_guard<std::mutex> lock(lineCacheMutex);
    if (lineCache.size() >= kLineCacheEntries) lineCache.clear();
    lineCache.emplace(std::move(key), std::move(ids));
  }
  static constexpr std::size_t kLineCacheEntries = 1 << 17;
  mutable std::mutex lineCacheMutex;
  mutable std::unordered_map<std::string, std::vector<int>> lineCache;
};

namespace {

constexpr const char* kModelFile = "tokenizer.model";
constexpr const char* kManifestFile = "manifest.json";

void appendLineTokens(const Tokenizer::Processor& model, std::string_view text, std::vector<int>& out) {
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) model.encodeLine(text.substr(start, end - start), out);
    start = end + 1;
  }
}

}  // namespace

Tokenizer::Tokenizer(std::unique_ptr<Processor> processor, nlohmann::json manifest, std::string id)
    : processor_(std::move(processor)), manifest_(std::move(manifest)), id_(std::move(id)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

fs::path Tokenizer::defaultDirectory() {
  return shippedModelDirectory(fmt::format("ir-tokenizer-{}", kShippedTokenizerVersion));
}

Expected<Tokenizer> Tokenizer::load(const fs::path& directory) {
  return readingJsonFrom(directory / kManifestFile, [&]() -> Expected<Tokenizer> {
    auto read = readJsonObject(directory / kManifestFile);
    if (!read) {
      if (read.error().code() != ErrorCode::kNotFound) return read.error();
      return makeError(ErrorCode::kNotFound, "{}: no tokenizer here ({}); rebuild it with `mirtune tokenizer train`",
                       directory.string(), read.error().message());
    }
    nlohmann::json manifest = std::move(*read);
    int formatVersion = manifest.value("format_version", -1);
    int normaliserVersion = manifest.value("normaliser_version", -1);
    if (formatVersion != kTokenizerFormatVersion || normaliserVersion != kNormaliserVersion) {
      return makeError(ErrorCode::kVersion,
                       "{}: tokenizer built for format {} / normaliser {}, this mirtune needs format {} / normaliser {}; "
                       "retrain it with `mirtune tokenizer train`",
                       directory.string(), formatVersion, normaliserVersion, kTokenizerFormatVersion, kNormaliserVersion);
    }
    auto modelBytes = readFile(directory / kModelFile);
    if (!modelBytes) return modelBytes.error();
    std::string sha = sha256Hex(*modelBytes);
    if (sha != manifest.value("model_sha256", "")) {
      return makeError(ErrorCode::kVersion, "{}: SHA-256 {} does not match the manifest's {} (corrupted or replaced)",
                       (directory / kModelFile).string(), sha, manifest.value("model_sha256", "(none)"));
    }
    const SentencePieceLibrary& library = sentencePiece();
    if (!library.error.empty()) return makeError(ErrorCode::kNotFound, "{}", library.error);
    auto processor = std::make_unique<Processor>();
    char error[512] = "";
    processor->model = library.load(modelBytes->data(), modelBytes->size(), error, sizeof error);
    if (processor->model == nullptr) {
      return makeError(ErrorCode::kInvalidInput, "{}: {}", (directory / kModelFile).string(), error);
    }
    for (const SpecialToken& special : {kPadToken, kUnknownToken, kClassToken, kSeparatorToken, kMaskToken}) {
      if (processor->pieceToId(std::string(special.piece)) != special.id) {
        return makeError(ErrorCode::kVersion, "{}: special token {} does not have id {}",
                         (directory / kModelFile).string(), special.piece, special.id);
      }
    }
    std::string id = fmt::format("ir-tokenizer-{}/{}", manifest.value("version", 0), sha.substr(0, 12));
    return Tokenizer(std::move(processor), std::move(manifest), std::move(id));
  });
}

int Tokenizer::vocabularySize() const { return sentencePiece().pieceCount(processor_->model); }

std::vector<int> Tokenizer::encodeText(std::string_view text) const {
  std::vector<int> ids;
  appendLineTokens(*processor_, text, ids);
  return ids;
}

std::string Tokenizer::piece(int id) const {
  if (id < 0 || id >= vocabularySize()) return std::string(kUnknownToken.piece);
  char piece[256];
  int length = sentencePiece().idToPiece(processor_->model, id, piece, sizeof piece);
  return std::string(piece, static_cast<std::size_t>(std::min<int>(length, sizeof piece - 1)));
}

std::vector<std::size_t> truncatedSegmentLengths(const std::vector<std::size_t>& lengths, std::size_t maxLength) {
  std::size_t segments = lengths.size();
  std::size_t total = std::accumulate(lengths.begin(), lengths.end(), std::size_t{0});
  if (total + segments + 1 <= maxLength) return lengths;
  // Drop trailing segments until every kept one can have at least kMinSegmentTokens (or its whole length).
  std::size_t kept = segments;
  auto floorCost = [&](std::size_t count) {
    std::size_t cost = 1 + count;
    for (std::size_t i = 0; i < count; ++i) cost += std::min(lengths[i], Tokenizer::kMinSegmentTokens);
    return cost;
  };
  while (kept > 0 && floorCost(kept) > maxLength) --kept;
  std::vector<std::size_t> result(kept, 0);
  if (kept == 0) return result;
  std::size_t budget = maxLength - 1 - kept;
  // The largest cap c with sum(min(L_i, c)) <= budget, found by binary search.
  std::size_t low = 0, high = *std::max_element(lengths.begin(), lengths.begin() + static_cast<long>(kept));
  auto used = [&](std::size_t cap) {
    std::size_t sum = 0;
    for (std::size_t i = 0; i < kept; ++i) sum += std::min(lengths[i], cap);
    return sum;
  };
  while (low < high) {
    std::size_t middle = (low + high + 1) / 2;
    if (used(middle) <= budget) low = middle;
    else high = middle - 1;
  }
  for (std::size_t i = 0; i < kept; ++i) result[i] = std::min(lengths[i], low);
  // Hand the tokens left over by the integer cap to the earliest segments that were cut.
  std::size_t spare = budget - used(low);
  for (std::size_t i = 0; i < kept && spare > 0; ++i) {
    if (result[i] < lengths[i]) {
      ++result[i];
      --spare;
    }
  }
  return result;
}

TokenSequence Tokenizer::encodeModule(const NormalisedModule& module, std::size_t maxLength) const {
  std::vector<std::vector<int>> segments;
  std::vector<int> preamble;
  for (const std::string& line : module.structTexts()) appendLineTokens(*processor_, line, preamble);
  for (const std::string& line : module.globalTexts()) appendLineTokens(*processor_, line, preamble);
  if (!preamble.empty()) segments.push_back(std::move(preamble));
  for (const FunctionText& function : module.functionTexts()) {
    std::vector<int> tokens;
    appendLineTokens(*processor_, function.text, tokens);
    segments.push_back(std::move(tokens));
  }
  std::vector<std::size_t> lengths;
  for (const auto& segment : segments) lengths.push_back(segment.size());
  TokenSequence sequence;
  sequence.untruncatedLength =
      1 + segments.size() + std::accumulate(lengths.begin(), lengths.end(), std::size_t{0});
  std::vector<std::size_t> kept = truncatedSegmentLengths(lengths, std::max<std::size_t>(maxLength, 2));
  sequence.ids.push_back(kClassToken.id);
  for (std::size_t i = 0; i < kept.size(); ++i) {
    sequence.segmentStarts.push_back(sequence.ids.size());
    sequence.ids.insert(sequence.ids.end(), segments[i].begin(), segments[i].begin() + static_cast<long>(kept[i]));
    sequence.ids.push_back(kSeparatorToken.id);
  }
  return sequence;
}

void tokenizeNodes(ProgramGraph& graph, const Tokenizer& tokenizer) {
  std::unordered_map<std::string_view, std::vector<int>> cache;
  for (GraphNode& node : graph.nodes) {
    auto [entry, inserted] = cache.try_emplace(node.text);
    if (inserted) entry->second = tokenizer.encodeText(node.text);
    node.tokens = entry->second;
  }
}

namespace {


}  // namespace

Status trainTokenizer(const std::vector<std::string>& lines, const fs::path& outDirectory,
                      const TokenizerTrainOptions& options, const nlohmann::json& provenance) {
  if (lines.empty()) return makeError(ErrorCode::kInvalidInput, "no IR lines to train a tokenizer on");
  std::error_code ec;
  fs::create_directories(outDirectory, ec);
  if (ec) return makeError(ErrorCode::kIo, "{}: cannot create: {}", outDirectory.string(), ec.message());
  std::size_t step = (lines.size() + options.maxLines - 1) / options.maxLines;
  std::string arguments = fmt::format(
      "--model_type=bpe --vocab_size={} --character_coverage=1.0 --normalization_rule_name=identity "
      "--pad_id={} --unk_id={} --bos_id={} --eos_id={} --pad_piece={} --unk_piece={} --bos_piece={} --eos_piece={} "
      "--user_defined_symbols={} --byte_fallback=true --hard_vocab_limit=false --input_sentence_size=0 --shuffle_input_sentence=false "
      "--max_sentence_length=4192 --num_threads={} --minloglevel=2 --split_by_whitespace={} --max_sentencepiece_length={}",
      options.vocabularySize, kPadToken.id, kUnknownToken.id, kClassToken.id, kSeparatorToken.id, kPadToken.piece,
      kUnknownToken.piece, kClassToken.piece, kSeparatorToken.piece, kMaskToken.piece, options.threads,
      options.piecesSpanSpaces ? "false" : "true", options.maxPieceLength);
  const SentencePieceLibrary& library = sentencePiece();
  if (!library.error.empty()) return makeError(ErrorCode::kNotFound, "{}", library.error);
  library.setLogLevel(logLevel() >= LogLevel::kDebug ? 0 : 2);
  std::vector<const char*> pointers;
  std::vector<std::size_t> lengths;
  pointers.reserve(lines.size());
  lengths.reserve(lines.size());
  for (const std::string& line : lines) {
    pointers.push_back(line.data());
    lengths.push_back(line.size());
  }
  logInfo("training a {}-piece BPE tokenizer on {} of {} lines", options.vocabularySize,
          (lines.size() + step - 1) / step, lines.size());
  char* buffer = nullptr;
  std::size_t bufferSize = 0;
  char error[1024] = "";
  if (!library.train(arguments.c_str(), pointers.data(), lengths.data(), pointers.size(), step, &buffer, &bufferSize,
                     error, sizeof error)) {
    return makeError(ErrorCode::kInvalidInput, "tokenizer training failed: {}", error);
  }
  std::string model(buffer, bufferSize);
  library.freeBuffer(buffer);
  nlohmann::json manifest = {
      {"kind", "mirtune IR tokenizer"},
      {"version", options.version},
      {"format_version", kTokenizerFormatVersion},
      {"normaliser_version", kNormaliserVersion},
      {"model_type", "bpe"},
      {"pieces_span_spaces", options.piecesSpanSpaces},
      {"max_piece_length", options.maxPieceLength},
      {"vocab_size", options.vocabularySize},
      {"special_tokens",
       {{"pad", kPadToken.id}, {"unknown", kUnknownToken.id}, {"class", kClassToken.id},
        {"separator", kSeparatorToken.id}, {"mask", kMaskToken.id}}},
      {"training_lines", lines.size()},
      {"training_lines_used", (lines.size() + step - 1) / step},
      {"model_sha256", sha256Hex(model)},
      {"provenance", provenance},
  };
  if (auto written = writeFileAtomically(outDirectory / kModelFile, model); !written) return written;
  return writeFileAtomically(outDirectory / kManifestFile, manifest.dump(2) + "\n");
}

}  // namespace mirtune
