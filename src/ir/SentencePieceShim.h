// The C interface of libmirtune_sentencepiece, a small shared library around SentencePiece.
//
// Why a separate library loaded with dlopen(RTLD_LOCAL | RTLD_DEEPBIND): Debian's libsentencepiece carries its
// own copy of protobuf-lite 3.14 and exports its symbols, while LibTorch links the system libprotobuf 3.21. With
// both in one process's global symbol scope, each binds to the other's internals and the process crashes while
// loading. Loaded this way, SentencePiece keeps its own protobuf and the rest of the process never sees it.
#pragma once

#include <cstddef>

extern "C" {

/// Loads a serialized model; null on failure (message in `error`).
void* mirtuneSpmLoad(const char* bytes, std::size_t size, char* error, std::size_t errorSize);
void mirtuneSpmFree(void* processor);
/// Writes up to `capacity` ids; returns how many the text has (call again with more room if larger).
int mirtuneSpmEncode(const void* processor, const char* text, std::size_t size, int* ids, int capacity);
int mirtuneSpmPieceCount(const void* processor);
int mirtuneSpmPieceToId(const void* processor, const char* piece);
/// Writes the piece (NUL-terminated, truncated to capacity); returns its full length.
int mirtuneSpmIdToPiece(const void* processor, int id, char* out, int capacity);
/// Trains from every `step`-th line; on success returns 1 and a malloc'ed model in *model (free with
/// mirtuneSpmFreeBuffer).
int mirtuneSpmTrain(const char* arguments, const char* const* lines, const std::size_t* lengths, std::size_t count,
                    std::size_t step, char** model, std::size_t* modelSize, char* error, std::size_t errorSize);
void mirtuneSpmFreeBuffer(char* buffer);
void mirtuneSpmSetLogLevel(int level);
}
