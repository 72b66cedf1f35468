// The auxiliary inputs every published device-mapping model uses, declared once: their names, --help text
// and column order derive from this table.
#pragma once

#include <array>
#include <cmath>
#include <string_view>

namespace mirtune::devmap {

struct AuxFeature {
  std::string_view name;         ///< column name in feature dumps
  std::string_view description;  ///< for --help and the table
  double (*value)(double transferBytes, double wgsize);
};

inline constexpr std::array<AuxFeature, 2> kAuxFeatures = {{
    {"log2_transfer", "log2(1 + bytes moved between host and device)",
     [](double transfer, double) { return std::log2(1.0 + transfer); }},
    {"log2_wgsize", "log2(1 + work-items per work-group)", [](double, double wgsize) { return std::log2(1.0 + wgsize); }},
}};

/// Used when a user gives no launch: the median transfer of the 680 training rows (57,594,120 bytes) and a
/// work-group of 64 (the median is 62), so a prediction without them is for a typical input of the data set.
inline constexpr double kDefaultTransferBytes = 57594120;
inline constexpr double kDefaultWgsize = 64;

}  // namespace mirtune::devmap
