// `mirtune embed`: embeddings of many files with the pretrained encoder, cached in SQLite by (IR hash, model).
#include "cli/Commands.h"
#include "cli/CompileFlags.h"
#include "cli/EncoderOption.h"
#include "tasks/common/DatabaseCache.h"
#include "database/Database.h"
#include "embeddings/Encoder.h"
#include "frontend/Frontend.h"
#include "support/Log.h"
#include "support/Csv.h"
#include "support/Npy.h"
#include "support/Progress.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>
#include <filesystem>

namespace mirtune::cli {
namespace {

namespace fs = std::filesystem;

struct EmbedOptions {
  std::vector<std::string> inputs;
  std::string format = "json";
  std::string output;
  std::string modality = "fused";
  std::string encoder;
  bool noCache = false;
  int threads = 2;
  std::size_t batchSize = 16;
  CompileFlags compile;
};

// Files named directly, and every file with a known extension below each folder (sorted).
Expected<std::vector<fs::path>> expandInputs(const std::vector<std::string>& inputs) {
  std::vector<fs::path> files;
  for (const std::string& input : inputs) {
    std::error_code ec;
    if (fs::is_directory(input, ec)) {
      std::vector<fs::path> found;
      for (const auto& entry : fs::recursive_directory_iterator(input, ec)) {
        if (entry.is_regular_file() && languageFromExtension(entry.path().extension().string())) {
          found.push_back(entry.path());
        }
      }
      std::sort(found.begin(), found.end());
      if (found.empty()) logWarn("{}: no source or IR files in this folder", input);
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.emplace_back(input);
    }
  }
  if (files.empty()) return makeError(ErrorCode::kUsage, "no files to embed");
  return files;
}

struct Row {
  std::string file;
  std::string irSha256;
  std::vector<float> vector;
};

std::string formatRows(const std::vector<Row>& rows, const EmbedOptions& options, const Encoder& encoder,
                       std::size_t dimension) {
  if (options.format == "csv") {
    std::string out = "file,ir_sha256";
    for (std::size_t i = 0; i < dimension; ++i) out += fmt::format(",d{}", i);
    out += '\n';
    for (const Row& row : rows) {
      std::string file = csvField(row.file);
      out += file + "," + row.irSha256;
      for (float value : row.vector) out += fmt::format(",{}", value);
      out += '\n';
    }
    return out;
  }
  nlohmann::json embeddings = nlohmann::json::array();
  for (const Row& row : rows) embeddings.push_back({{"file", row.file}, {"ir_sha256", row.irSha256}, {"vector", row.vector}});
  return nlohmann::json{{"model", encoder.id()}, {"modality", options.modality}, {"dimension", dimension},
                        {"embeddings", embeddings}}
             .dump() +
         "\n";
}

int runEmbed(const EmbedOptions& options, const GlobalOptions& global) {
  auto compile = toCompileOptions(options.compile);
  if (!compile) return reportError(compile.error());
  Modality modality = *parseModality(options.modality);
  if (options.format == "npy" && (options.output.empty() || options.output == "-")) {
    return reportError(Error(ErrorCode::kUsage, "--format npy needs -o FILE.npy (the file list goes to FILE.npy.files)"));
  }
  auto files = expandInputs(options.inputs);
  if (!files) return reportError(files.error());
  setEncoderThreads(options.threads);
  auto encoder = Encoder::loadOrDefault(options.encoder);
  if (!encoder) return reportError(encoder.error());
  CacheHandle cache;
  if (auto opened = openCache(cache, options.noCache, resolveDatabasePath(global)); !opened) return reportError(opened.error());

  std::vector<EmbedSource> sources;
  for (const fs::path& file : *files) {
    sources.push_back({file.string(), [file, &compile] { return compileFile(file, *compile); }});
  }
  ProgressLine progress("embed", files->size());
  BatchEmbedOptions batch;
  batch.modalities = {modality};
  batch.threads = static_cast<unsigned>(std::max(1, options.threads));
  batch.batchSize = options.batchSize;
  batch.chunkSize = std::max<std::size_t>(64, 4 * options.batchSize);
  batch.cache = cache.get();
  batch.progress = &progress;
  auto results = embedBatch(*encoder, sources, batch);
  if (!results) return reportError(results.error());
  progress.finish();

  std::vector<Row> rows;
  std::size_t failed = 0, cached = 0;
  for (std::size_t i = 0; i < results->size(); ++i) {
    EmbedResult& result = (*results)[i];
    if (result.error) {
      logError("{}", result.error->message());
      ++failed;
      continue;
    }
    cached += result.fromCache ? 1 : 0;
    rows.push_back({(*files)[i].string(), result.irSha256, std::move(result.vectors.front())});
  }
  logInfo("{} embedded ({} from the cache), {} failed; model {}", rows.size(), cached, failed, encoder->id());

  std::size_t dimension = encoder->dimension(modality);
  int status = 0;
  if (rows.empty() && failed > 0) {
    // Nothing to write: an output file would only hold an empty result, which reads like a success.
    logError("no file could be embedded; nothing written");
    return 1;
  }
  if (options.format == "npy") {
    std::vector<std::vector<float>> vectors;
    std::string list;
    for (const Row& row : rows) {
      vectors.push_back(row.vector);
      list += row.file + "\n";
    }
    // The list first: an .npy without its list would be a partial output, so it is removed when the matrix cannot
    // be written after it.
    status = writeOutput(options.output + ".files", list);
    if (status == 0) {
      status = writeOutput(options.output, npyFloat32Matrix(vectors, dimension));
      std::error_code ignored;
      if (status != 0) fs::remove(options.output + ".files", ignored);
    }
  } else {
    status = writeOutput(options.output, formatRows(rows, options, *encoder, dimension));
  }
  if (databaseFailures(cache) != 0 && status == 0) status = 1;
  return status != 0 ? status : (failed > 0 ? 1 : 0);
}

}  // namespace

void addEmbedCommand(CLI::App& app, const GlobalOptions& global, CommandAction& action) {
  auto options = std::make_shared<EmbedOptions>();
  CLI::App* command = app.add_subcommand("embed", "Embed source or IR files with the pretrained MIREncoder");
  command->add_option("inputs", options->inputs, "Files, or folders searched for .cl .c .cpp .cu .ll .bc")->required();
  command->add_option("--format", options->format, "json (default), csv, or npy (needs -o)")
      ->check(CLI::IsMember({"json", "csv", "npy"}));
  command->add_option("-o,--output", options->output, "Write here instead of stdout (never a partial file)");
  command->add_option("--modality", options->modality, "fused (default), tokens or graph")
      ->check(CLI::IsMember({"fused", "tokens", "graph"}));
  addEncoderOption(*command, options->encoder);
  command->add_flag("--no-cache", options->noCache, "Neither read nor write the embedding cache");
  command->add_option("--threads", options->threads, "Threads for compiling, preparing and the forward passes (default 2)")->check(CLI::Range(1, 512));
  command->add_option("--batch-size", options->batchSize, "Modules per forward pass (default 16)")
      ->check(CLI::Range(1, 4096));
  addCompileFlags(*command, options->compile);
  command->callback([options, &global, &action] { action = [options, &global] { return runEmbed(*options, global); }; });
}

}  // namespace mirtune::cli
