// Names of error codes.
#include "support/Error.h"

namespace mirtune {

std::string_view errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUsage: return "usage";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kInvalidInput: return "invalid_input";
    case ErrorCode::kCompileError: return "compile_error";
    case ErrorCode::kIo: return "io";
    case ErrorCode::kDatabase: return "database";
    case ErrorCode::kTimeout: return "timeout";
    case ErrorCode::kVersion: return "version";
    case ErrorCode::kInternal: return "internal";
  }
  return "internal";
}

}  // namespace mirtune
