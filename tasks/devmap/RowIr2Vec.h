// IR2Vec symbolic vectors of the device-mapping rows, from the same IR the encoder embeds (each row's OpenCL
// source compiled, its NCC .ll file where Clang 14 cannot; or the .ll files throughout).
#pragma once

#include "ir/Ir2VecSymbolic.h"
#include "tasks/devmap/DevmapData.h"
#include "tasks/devmap/RowEmbeddings.h"

namespace mirtune::devmap {

/// One vector per data row in vectors[0] (modalities is empty: no encoder), each distinct program computed
/// once on `threads` threads. Fails naming the row when neither its source nor its .ll file compiles.
Expected<RowEmbeddings> ir2vecRows(const DevmapData& data, const Ir2VecVocabulary& vocabulary,
                                   IrSource source, unsigned threads);

}  // namespace mirtune::devmap
