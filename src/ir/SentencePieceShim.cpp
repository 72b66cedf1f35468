// libmirtune_sentencepiece: SentencePiece behind a C interface (see SentencePieceShim.h for why).
#include "ir/SentencePieceShim.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace sentencepiece::logging {
void SetMinLogLevel(int level);  // exported by libsentencepiece, not declared in its headers
}  // namespace sentencepiece::logging

namespace {

void copyError(const std::string& message, char* error, std::size_t errorSize) {
  if (error == nullptr || errorSize == 0) return;
  std::size_t n = std::min(message.size(), errorSize - 1);
  std::memcpy(error, message.data(), n);
  error[n] = '\0';
}

class Lines : public sentencepiece::SentenceIterator {
 public:
  Lines(const char* const* lines, const std::size_t* lengths, std::size_t count, std::size_t step)
      : lines_(lines), lengths_(lengths), count_(count), step_(step == 0 ? 1 : step) {
    load();
  }
  bool done() const override { return index_ >= count_; }
  void Next() override {
    index_ += step_;
    load();
  }
  const std::string& value() const override { return current_; }
  sentencepiece::util::Status status() const override { return sentencepiece::util::Status(); }

 private:
  void load() {
    if (index_ < count_) current_.assign(lines_[index_], lengths_[index_]);
  }
  const char* const* lines_;
  const std::size_t* lengths_;
  std::size_t count_;
  std::size_t step_;
  std::size_t index_ = 0;
  std::string current_;
};

}  // namespace

extern "C" {

void* mirtuneSpmLoad(const char* bytes, std::size_t size, char* error, std::size_t errorSize) {
  auto* processor = new sentencepiece::SentencePieceProcessor();
  auto status = processor->LoadFromSerializedProto(std::string(bytes, size));
  if (!status.ok()) {
    copyError(status.ToString(), error, errorSize);
    delete processor;
    return nullptr;
  }
  return processor;
}

void mirtuneSpmFree(void* processor) { delete static_cast<sentencepiece::SentencePieceProcessor*>(processor); }

int mirtuneSpmEncode(const void* processor, const char* text, std::size_t size, int* ids, int capacity) {
  std::vector<int> encoded;
  static_cast<const sentencepiece::SentencePieceProcessor*>(processor)
      ->Encode(std::string(text, size), &encoded)
      .IgnoreError();
  int count = static_cast<int>(encoded.size());
  if (count <= capacity) std::memcpy(ids, encoded.data(), encoded.size() * sizeof(int));
  return count;
}

int mirtuneSpmPieceCount(const void* processor) {
  return static_cast<const sentencepiece::SentencePieceProcessor*>(processor)->GetPieceSize();
}

int mirtuneSpmPieceToId(const void* processor, const char* piece) {
  return static_cast<const sentencepiece::SentencePieceProcessor*>(processor)->PieceToId(piece);
}

int mirtuneSpmIdToPiece(const void* processor, int id, char* out, int capacity) {
  const std::string& piece = static_cast<const sentencepiece::SentencePieceProcessor*>(processor)->IdToPiece(id);
  if (capacity > 0) {
    std::size_t n = std::min(piece.size(), static_cast<std::size_t>(capacity - 1));
    std::memcpy(out, piece.data(), n);
    out[n] = '\0';
  }
  return static_cast<int>(piece.size());
}

int mirtuneSpmTrain(const char* arguments, const char* const* lines, const std::size_t* lengths, std::size_t count,
                    std::size_t step, char** model, std::size_t* modelSize, char* error, std::size_t errorSize) {
  Lines iterator(lines, lengths, count, step);
  std::string serialized;
  auto status = sentencepiece::SentencePieceTrainer::Train(arguments, &iterator, &serialized);
  if (!status.ok()) {
    copyError(status.ToString(), error, errorSize);
    return 0;
  }
  *model = static_cast<char*>(std::malloc(serialized.size()));
  if (*model == nullptr) {
    copyError("out of memory", error, errorSize);
    return 0;
  }
  std::memcpy(*model, serialized.data(), serialized.size());
  *modelSize = serialized.size();
  return 1;
}

void mirtuneSpmFreeBuffer(char* buffer) { std::free(buffer); }

void mirtuneSpmSetLogLevel(int level) { sentencepiece::logging::SetMinLogLevel(level); }
}
