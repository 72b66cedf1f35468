// Line charts as PNG images: layout with tick values at 1-2-5 steps or decades, lines, a built-in 5x7 font,
// and a PNG encoder over zlib.
#include "support/LinePlot.h"

#include "support/Files.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string_view>

namespace mirtune {
namespace {

// The font: printable ASCII (32..126), 5 columns by 8 rows per glyph; rows 0..6 hold capitals and digits, row
// 7 the descenders of g, j, p, q, y and the comma. Bit 4 of a row is its leftmost column.
constexpr int kGlyphColumns = 5;
constexpr int kGlyphRows = 8;
constexpr int kGlyphAdvance = kGlyphColumns + 1;
constexpr char kFirstGlyph = ' ';
constexpr char kLastGlyph = '~';
constexpr std::uint8_t kFont[kLastGlyph - kFirstGlyph + 1][kGlyphRows] = {
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},  // space
    {0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x04, 0x00},  // !
    {0x0A, 0x0A, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},  // "
    {0x00, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x00, 0x00},  // #
    {0x04, 0x0F, 0x14, 0x0E, 0x05, 0x1E, 0x04, 0x00},  // $
    {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03, 0x00},  // %
    {0x0C, 0x12, 0x14, 0x08, 0x15, 0x12, 0x0D, 0x00},  // &
    {0x04, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},  // '
    {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02, 0x00},  // (
    {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08, 0x00},  // )
    {0x00, 0x04, 0x15, 0x0E, 0x15, 0x04, 0x00, 0x00},  // *
    {0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00, 0x00},  // +
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08},  // ,
    {0x00, 0x00, 0x00, 0x0E, 0x00, 0x00, 0x00, 0x00},  // -
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C, 0x00},  // .
    {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00, 0x00},  // /
    {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E, 0x00},  // 0
    {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E, 0x00},  // 1
    {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F, 0x00},  // 2
    {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E, 0x00},  // 3
    {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02, 0x00},  // 4
    {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E, 0x00},  // 5
    {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E, 0x00},  // 6
    {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08, 0x00},  // 7
    {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E, 0x00},  // 8
    {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C, 0x00},  // 9
    {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00, 0x00},  // :
    {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x04, 0x08, 0x00},  // ;
    {0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02, 0x00},  // <
    {0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00, 0x00},  // =
    {0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08, 0x00},  // >
    {0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04, 0x00},  // ?
    {0x0E, 0x11, 0x17, 0x15, 0x16, 0x10, 0x0F, 0x00},  // @
    {0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11, 0x00},  // A
    {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E, 0x00},  // B
    {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E, 0x00},  // C
    {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C, 0x00},  // D
    {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F, 0x00},  // E
    {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10, 0x00},  // F
    {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F, 0x00},  // G
    {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11, 0x00},  // H
    {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E, 0x00},  // I
    {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C, 0x00},  // J
    {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11, 0x00},  // K
    {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F, 0x00},  // L
    {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11, 0x00},  // M
    {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11, 0x00},  // N
    {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E, 0x00},  // O
    {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10, 0x00},  // P
    {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D, 0x00},  // Q
    {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11, 0x00},  // R
    {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E, 0x00},  // S
    {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x00},  // T
    {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E, 0x00},  // U
    {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04, 0x00},  // V
    {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A, 0x00},  // W
    {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11, 0x00},  // X
    {0x11, 0x11, 0x0A, 0x04, 0x04, 0x04, 0x04, 0x00},  // Y
    {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F, 0x00},  // Z
    {0x0E, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0E, 0x00},  // [
    {0x00, 0x10, 0x08, 0x04, 0x02, 0x01, 0x00, 0x00},  // backslash
    {0x0E, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0E, 0x00},  // ]
    {0x04, 0x0A, 0x11, 0x00, 0x00, 0x00, 0x00, 0x00},  // ^
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F},  // _
    {0x08, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},  // `
    {0x00, 0x00, 0x0E, 0x01, 0x0F, 0x11, 0x0F, 0x00},  // a
    {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1E, 0x00},  // b
    {0x00, 0x00, 0x0E, 0x10, 0x10, 0x11, 0x0E, 0x00},  // c
    {0x01, 0x01, 0x0D, 0x13, 0x11, 0x11, 0x0F, 0x00},  // d
    {0x00, 0x00, 0x0E, 0x11, 0x1F, 0x10, 0x0E, 0x00},  // e
    {0x06, 0x09, 0x08, 0x1C, 0x08, 0x08, 0x08, 0x00},  // f
    {0x00, 0x00, 0x0F, 0x11, 0x11, 0x0F, 0x01, 0x0E},  // g
    {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11, 0x00},  // h
    {0x04, 0x00, 0x0C, 0x04, 0x04, 0x04, 0x0E, 0x00},  // i
    {0x02, 0x00, 0x06, 0x02, 0x02, 0x02, 0x12, 0x0C},  // j
    {0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12, 0x00},  // k
    {0x0C, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E, 0x00},  // l
    {0x00, 0x00, 0x1A, 0x15, 0x15, 0x11, 0x11, 0x00},  // m
    {0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11, 0x00},  // n
    {0x00, 0x00, 0x0E, 0x11, 0x11, 0x11, 0x0E, 0x00},  // o
    {0x00, 0x00, 0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10},  // p
    {0x00, 0x00, 0x0F, 0x11, 0x11, 0x0F, 0x01, 0x01},  // q
    {0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10, 0x00},  // r
    {0x00, 0x00, 0x0F, 0x10, 0x0E, 0x01, 0x1E, 0x00},  // s
    {0x08, 0x08, 0x1C, 0x08, 0x08, 0x09, 0x06, 0x00},  // t
    {0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0D, 0x00},  // u
    {0x00, 0x00, 0x11, 0x11, 0x11, 0x0A, 0x04, 0x00},  // v
    {0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0A, 0x00},  // w
    {0x00, 0x00, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x00},  // x
    {0x00, 0x00, 0x11, 0x11, 0x11, 0x0F, 0x01, 0x0E},  // y
    {0x00, 0x00, 0x1F, 0x02, 0x04, 0x08, 0x1F, 0x00},  // z
    {0x03, 0x04, 0x04, 0x08, 0x04, 0x04, 0x03, 0x00},  // {
    {0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x00},  // |
    {0x18, 0x04, 0x04, 0x02, 0x04, 0x04, 0x18, 0x00},  // }
    {0x00, 0x00, 0x08, 0x15, 0x02, 0x00, 0x00, 0x00},  // ~
};

constexpr int kMinImageSide = 200;
constexpr int kMaxImageSide = 4000;

constexpr PlotColour kBlack{0, 0, 0};
constexpr PlotColour kGridColour{226, 226, 226};
constexpr PlotColour kReferenceColour{110, 110, 110};

// Distinct hues of similar weight, ordered so that the first few differ the most.
constexpr std::array<PlotColour, 8> kPalette = {{
    {0, 92, 200},    // blue
    {228, 112, 0},   // orange
    {0, 150, 64},    // green
    {204, 28, 44},   // red
    {128, 56, 176},  // purple
    {0, 150, 160},   // teal
    {140, 90, 40},   // brown
    {212, 60, 160},  // magenta
}};

struct Tick {
  double value;
  std::string label;  // empty: a short unlabelled tick
  bool grid;          // a grid line crosses the plot area here
};

struct Axis {
  double min = 0, max = 1;
  bool logarithmic = false;
  std::vector<Tick> ticks;
};

struct LegendEntry {
  std::size_t series;
  int x, y;  // top-left corner of the swatch and label block
};

struct Layout {
  int scale = 1;       // pixels per font pixel
  int titleScale = 1;  // the same for the title
  PlotArea area;
  Axis xAxis, yAxis;
  int yTickLabelRight = 0;  // right edge of the y tick labels
  int yLabelLeft = 0;
  int xTickLabelTop = 0;
  int xLabelTop = 0;
  int titleTop = 0;
  std::vector<LegendEntry> legend;
};

std::string seriesName(const PlotSeries& series, std::size_t index) {
  return fmt::format("line plot series {} (\"{}\")", index + 1, series.label);
}

Status validate(const LinePlot& plot) {
  if (plot.width < kMinImageSide || plot.width > kMaxImageSide || plot.height < kMinImageSide ||
      plot.height > kMaxImageSide) {
    return makeError(ErrorCode::kInvalidInput,
                     "line plot size {}x{} is out of range (each side {} to {} pixels)", plot.width,
                     plot.height, kMinImageSide, kMaxImageSide);
  }
  if (plot.series.empty()) return makeError(ErrorCode::kInvalidInput, "line plot has no series");
  for (std::size_t s = 0; s < plot.series.size(); ++s) {
    const PlotSeries& series = plot.series[s];
    if (series.x.size() != series.y.size()) {
      return makeError(ErrorCode::kInvalidInput, "{} has {} x values but {} y values", seriesName(series, s),
                       series.x.size(), series.y.size());
    }
    if (series.x.empty())
      return makeError(ErrorCode::kInvalidInput, "{} has no points", seriesName(series, s));
    for (std::size_t i = 0; i < series.x.size(); ++i) {
      if (!std::isfinite(series.x[i])) {
        return makeError(ErrorCode::kInvalidInput, "{}: x[{}] = {} is not finite", seriesName(series, s), i,
                         series.x[i]);
      }
      if (!std::isfinite(series.y[i])) {
        return makeError(ErrorCode::kInvalidInput, "{}: y[{}] = {} is not finite", seriesName(series, s), i,
                         series.y[i]);
      }
      if (plot.logY && series.y[i] <= 0) {
        return makeError(
            ErrorCode::kInvalidInput,
            "{}: y[{}] = {} is not positive, and a logarithmic y axis shows only positive values",
            seriesName(series, s), i, series.y[i]);
      }
    }
  }
  for (const auto& [value, label] : plot.horizontalLines) {
    if (!std::isfinite(value)) {
      return makeError(ErrorCode::kInvalidInput, "line plot horizontal line \"{}\" at {} is not finite",
                       label, value);
    }
    if (plot.logY && value <= 0) {
      return makeError(
          ErrorCode::kInvalidInput,
          "line plot horizontal line \"{}\" at {} is not positive, and a logarithmic y axis shows "
          "only positive values",
          label, value);
    }
  }
  return success();
}

// Text as the font draws it: code points outside printable ASCII become '?', one per UTF-8 sequence.
std::string printable(std::string_view text) {
  std::string out;
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x80 && byte < 0xC0) continue;  // UTF-8 continuation byte
    out += (byte >= static_cast<unsigned char>(kFirstGlyph) && byte <= static_cast<unsigned char>(kLastGlyph))
               ? c
               : '?';
  }
  return out;
}

int textWidth(std::string_view text, int scale) {
  auto glyphs = static_cast<int>(printable(text).size());
  return glyphs == 0 ? 0 : (glyphs * kGlyphAdvance - 1) * scale;
}

int textHeight(int scale) {
  return kGlyphRows * scale;
}

// Decimal text of `value`, which is a multiple of `step`: as many decimals as the step needs; exponent form
// for values too large or too small to read in full.
std::string formatTick(double value, double step) {
  if (value == 0) return "0";
  int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
  if (decimals > 6 || std::abs(value) >= 1e7) return fmt::format("{:g}", value);
  return fmt::format("{:.{}f}", value, decimals);
}

// `mantissa` * 10^exponent written out in full for exponents in [-4, 5], as "2e-07" beyond.
std::string formatPowerOfTen(int mantissa, int exponent) {
  if (exponent < -4 || exponent > 5) return fmt::format("{}e{:+03d}", mantissa, exponent);
  if (exponent >= 0)
    return fmt::format("{}{}", mantissa, std::string(static_cast<std::size_t>(exponent), '0'));
  return fmt::format("0.{}{}", std::string(static_cast<std::size_t>(-exponent - 1), '0'), mantissa);
}

// Ticks every 1, 2 or 5 times a power of ten, about `intervals` of them, spanning [low, high] from the
// nearest tick at or below `low` to the nearest at or above `high`.
Axis linearAxis(double low, double high, int intervals) {
  if (high == low) {
    double pad = low == 0 ? 1.0 : std::abs(low) * 0.1;
    low -= pad;
    high += pad;
  }
  double rough = (high - low) / std::max(1, intervals);
  double magnitude = std::pow(10.0, std::floor(std::log10(rough)));
  double step = 10 * magnitude;
  for (double multiple : {1.0, 2.0, 5.0}) {
    if (multiple * magnitude >= rough * (1 - 1e-9)) {
      step = multiple * magnitude;
      break;
    }
  }
  double first = std::floor(low / step + 1e-9);
  double last = std::ceil(high / step - 1e-9);
  Axis axis;
  axis.min = first * step;
  axis.max = last * step;
  for (double k = first; k <= last + 0.5; k += 1) {
    double value = k * step;
    if (k == 0) value = 0;  // never "-0"
    axis.ticks.push_back({value, formatTick(value, step), true});
  }
  return axis;
}

// Ticks at powers of ten (every few decades when there are many), with unlabelled ticks at 2..9 times each
// decade and labelled ones at 2 and 5 when the axis spans at most two decades.
Axis logAxis(double low, double high, int intervals) {
  int firstDecade = static_cast<int>(std::floor(std::log10(low) + 1e-9));
  int lastDecade = static_cast<int>(std::ceil(std::log10(high) - 1e-9));
  if (lastDecade == firstDecade) ++lastDecade;
  int decadesPerTick = std::max(1, (lastDecade - firstDecade + intervals - 1) / std::max(1, intervals));
  lastDecade =
      firstDecade + (lastDecade - firstDecade + decadesPerTick - 1) / decadesPerTick * decadesPerTick;
  bool labelTwoAndFive = lastDecade - firstDecade <= 2;
  Axis axis;
  axis.logarithmic = true;
  axis.min = std::pow(10.0, firstDecade);
  axis.max = std::pow(10.0, lastDecade);
  for (int decade = firstDecade; decade <= lastDecade; decade += decadesPerTick) {
    axis.ticks.push_back({std::pow(10.0, decade), formatPowerOfTen(1, decade), true});
    if (decadesPerTick != 1 || decade == lastDecade) continue;
    for (int mantissa = 2; mantissa <= 9; ++mantissa) {
      bool labelled = labelTwoAndFive && (mantissa == 2 || mantissa == 5);
      axis.ticks.push_back({mantissa * std::pow(10.0, decade),
                            labelled ? formatPowerOfTen(mantissa, decade) : std::string(), labelled});
    }
  }
  return axis;
}

double axisPosition(const Axis& axis, double value) {
  if (axis.logarithmic) {
    return (std::log10(value) - std::log10(axis.min)) / (std::log10(axis.max) - std::log10(axis.min));
  }
  return (value - axis.min) / (axis.max - axis.min);
}

int pixelColumn(const Layout& layout, double x) {
  return layout.area.left + static_cast<int>(std::lround(axisPosition(layout.xAxis, x) *
                                                         (layout.area.right - layout.area.left)));
}

int pixelRow(const Layout& layout, double y) {
  return layout.area.bottom - static_cast<int>(std::lround(axisPosition(layout.yAxis, y) *
                                                           (layout.area.bottom - layout.area.top)));
}

int widestLabel(const Axis& axis, int scale) {
  int widest = 0;
  for (const Tick& tick : axis.ticks) widest = std::max(widest, textWidth(tick.label, scale));
  return widest;
}

constexpr int kSwatchGlyphs = 4;  // legend swatch length, in glyph advances

int legendEntryWidth(const PlotSeries& series, int scale) {
  return (kSwatchGlyphs + 1) * kGlyphAdvance * scale + textWidth(series.label, scale);
}

Expected<Layout> computeLayout(const LinePlot& plot) {
  if (Status valid = validate(plot); !valid) return valid.error();
  Layout layout;
  layout.scale = std::max(1, static_cast<int>(std::lround(std::min(plot.width, plot.height) / 300.0)));
  const int scale = layout.scale;
  const int pad = 6 * scale;
  const int lineHeight = textHeight(scale);
  const int tickLength = 4 * scale;
  const int glyph = kGlyphAdvance * scale;

  // Legend rows along the bottom, filled left to right and centred.
  std::vector<std::vector<std::size_t>> rows(1);
  std::vector<int> rowWidths(1, 0);
  const int legendGap = 2 * glyph;
  const int available = plot.width - 2 * pad;
  for (std::size_t s = 0; s < plot.series.size(); ++s) {
    int entry = legendEntryWidth(plot.series[s], scale);
    if (!rows.back().empty() && rowWidths.back() + legendGap + entry > available) {
      rows.emplace_back();
      rowWidths.push_back(0);
    }
    rowWidths.back() += (rows.back().empty() ? 0 : legendGap) + entry;
    rows.back().push_back(s);
  }
  const int legendRowHeight = lineHeight + 3 * scale;
  int legendTop = plot.height - pad - static_cast<int>(rows.size()) * legendRowHeight;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    int x = std::max(pad, (plot.width - rowWidths[r]) / 2);
    for (std::size_t s : rows[r]) {
      layout.legend.push_back({s, x, legendTop + static_cast<int>(r) * legendRowHeight});
      x += legendEntryWidth(plot.series[s], scale) + legendGap;
    }
  }

  // Vertical bands: title, plot area, x tick labels, x label, legend.
  int top = pad;
  layout.titleScale = scale + scale / 2;
  if (textWidth(plot.title, layout.titleScale) > plot.width - 2 * pad) layout.titleScale = scale;
  if (!plot.title.empty()) {
    layout.titleTop = top;
    top += textHeight(layout.titleScale) + pad;
  }
  top += lineHeight / 2;  // room for the top tick label, centred on the top edge
  int bottom = legendTop - pad;
  if (!plot.xLabel.empty()) {
    layout.xLabelTop = bottom - lineHeight;
    bottom = layout.xLabelTop - pad / 2;
  }
  layout.xTickLabelTop = bottom - lineHeight;
  bottom = layout.xTickLabelTop - tickLength - 2 * scale - 1;  // 1: the axis line below the area
  layout.area.top = top;
  layout.area.bottom = bottom;

  double xLow = std::numeric_limits<double>::infinity(), xHigh = -xLow, yLow = xLow, yHigh = -xLow;
  for (const PlotSeries& series : plot.series) {
    for (double x : series.x) xLow = std::min(xLow, x), xHigh = std::max(xHigh, x);
    for (double y : series.y) yLow = std::min(yLow, y), yHigh = std::max(yHigh, y);
  }
  for (const auto& line : plot.horizontalLines)
    yLow = std::min(yLow, line.first), yHigh = std::max(yHigh, line.first);

  int yIntervals = std::clamp((bottom - top) / (3 * lineHeight), 2, 8);
  layout.yAxis = plot.logY ? logAxis(yLow, yHigh, 8) : linearAxis(yLow, yHigh, yIntervals);

  // Horizontal bands: y label (turned to read upwards), y tick labels, plot area.
  int left = pad;
  if (!plot.yLabel.empty()) {
    layout.yLabelLeft = left;
    left += lineHeight + pad;
  }
  left += widestLabel(layout.yAxis, scale);
  layout.yTickLabelRight = left;
  left += 2 * scale + tickLength + 1;  // 1: the axis line left of the area
  layout.area.left = left;

  // Fewer x ticks until their labels fit side by side.
  int room = plot.width - left - pad - 2 * glyph;
  for (int intervals = 6; intervals >= 1; --intervals) {
    layout.xAxis = linearAxis(xLow, xHigh, intervals);
    auto count = static_cast<int>(layout.xAxis.ticks.size());
    if ((count - 1) * (widestLabel(layout.xAxis, scale) + 2 * glyph) <= room) break;
  }
  int lastLabel = textWidth(layout.xAxis.ticks.back().label, scale);
  layout.area.right = plot.width - 1 - std::max(pad, lastLabel / 2 + pad / 2);

  if (layout.area.right - layout.area.left < 40 || layout.area.bottom - layout.area.top < 40) {
    return makeError(ErrorCode::kInvalidInput,
                     "line plot of {}x{} pixels leaves no room for the data beside its labels and legend "
                     "({} series); make the image larger",
                     plot.width, plot.height, plot.series.size());
  }
  return layout;
}

// An RGB image with an optional clip rectangle for drawing data.
class Canvas {
 public:
  Canvas(int width, int height)
      : width_(width), height_(height), pixels_(static_cast<std::size_t>(width) * height * 3, 255) {
    clip_ = {0, 0, width - 1, height - 1};
  }

  void clipTo(const PlotArea& area) { clip_ = area; }
  void unclip() { clip_ = {0, 0, width_ - 1, height_ - 1}; }

  void set(int x, int y, PlotColour colour) {
    if (x < clip_.left || x > clip_.right || y < clip_.top || y > clip_.bottom) return;
    auto at = (static_cast<std::size_t>(y) * width_ + x) * 3;
    pixels_[at] = colour.red;
    pixels_[at + 1] = colour.green;
    pixels_[at + 2] = colour.blue;
  }

  void fill(int left, int top, int right, int bottom, PlotColour colour) {
    for (int y = top; y <= bottom; ++y) {
      for (int x = left; x <= right; ++x) set(x, y, colour);
    }
  }

  // A line `thickness` pixels wide: a square brush moved along Bresenham's pixels, so it has no gaps at any
  // slope.
  void line(int x0, int y0, int x1, int y1, PlotColour colour, int thickness) {
    int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
    int stepX = x0 < x1 ? 1 : -1, stepY = y0 < y1 ? 1 : -1;
    int error = dx + dy;
    while (true) {
      fill(x0, y0, x0 + thickness - 1, y0 + thickness - 1, colour);
      if (x0 == x1 && y0 == y1) break;
      int twice = 2 * error;
      if (twice >= dy) error += dy, x0 += stepX;
      if (twice <= dx) error += dx, y0 += stepY;
    }
  }

  // Text with its top-left corner at (x, y); `upwards` turns it a quarter left, so it reads from the bottom
  // up starting at (x, y) as its bottom-left corner.
  void text(int x, int y, std::string_view text, PlotColour colour, int scale, bool upwards = false) {
    std::string glyphs = printable(text);
    for (std::size_t g = 0; g < glyphs.size(); ++g) {
      const std::uint8_t* rows = kFont[glyphs[g] - kFirstGlyph];
      for (int row = 0; row < kGlyphRows; ++row) {
        for (int column = 0; column < kGlyphColumns; ++column) {
          if ((rows[row] & (1u << (kGlyphColumns - 1 - column))) == 0) continue;
          int along = (static_cast<int>(g) * kGlyphAdvance + column) * scale;
          int across = row * scale;
          if (upwards) {
            fill(x + across, y - along - scale + 1, x + across + scale - 1, y - along, colour);
          } else {
            fill(x + along, y + across, x + along + scale - 1, y + across + scale - 1, colour);
          }
        }
      }
    }
  }

  const std::vector<std::uint8_t>& pixels() const { return pixels_; }

 private:
  int width_, height_;
  std::vector<std::uint8_t> pixels_;
  PlotArea clip_;
};

void drawPlot(const LinePlot& plot, const Layout& layout, Canvas& canvas) {
  const int scale = layout.scale;
  const int lineHeight = textHeight(scale);
  const int thickness = 2;
  const PlotArea& area = layout.area;

  // Grid lines first, so that everything else lies over them.
  for (const Tick& tick : layout.xAxis.ticks) {
    if (tick.grid)
      canvas.fill(pixelColumn(layout, tick.value), area.top, pixelColumn(layout, tick.value), area.bottom,
                  kGridColour);
  }
  for (const Tick& tick : layout.yAxis.ticks) {
    if (tick.grid)
      canvas.fill(area.left, pixelRow(layout, tick.value), area.right, pixelRow(layout, tick.value),
                  kGridColour);
  }

  canvas.clipTo(area);
  for (const auto& [value, label] : plot.horizontalLines) {
    int row = pixelRow(layout, value);
    const int dash = 8 * scale, gap = 5 * scale;
    for (int x = area.left; x <= area.right; x += dash + gap) {
      canvas.fill(x, row, std::min(x + dash - 1, area.right), row + thickness - 1, kReferenceColour);
    }
    int labelX = area.right - 3 * scale - textWidth(label, scale);
    int labelY = row - 3 * scale - lineHeight;
    if (labelY < area.top) labelY = row + thickness + 3 * scale;
    canvas.text(labelX, labelY, label, kReferenceColour, scale);
  }
  for (std::size_t s = 0; s < plot.series.size(); ++s) {
    const PlotSeries& series = plot.series[s];
    PlotColour colour = plotSeriesColour(s);
    int previousX = pixelColumn(layout, series.x[0]), previousY = pixelRow(layout, series.y[0]);
    if (series.x.size() == 1) {  // a lone point gets a square mark, as a line of length zero would be a speck
      const int half = 2 * scale;
      canvas.fill(previousX - half, previousY - half, previousX + half, previousY + half, colour);
    }
    for (std::size_t i = 1; i < series.x.size(); ++i) {
      int x = pixelColumn(layout, series.x[i]), y = pixelRow(layout, series.y[i]);
      if (series.steps) {
        canvas.line(previousX, previousY, x, previousY, colour, thickness);
        canvas.line(x, previousY, x, y, colour, thickness);
      } else {
        canvas.line(previousX, previousY, x, y, colour, thickness);
      }
      previousX = x, previousY = y;
    }
  }
  canvas.unclip();

  // Frame, ticks pointing outwards, and their labels.
  canvas.fill(area.left - 1, area.top - 1, area.right + 1, area.top - 1, kBlack);
  canvas.fill(area.left - 1, area.bottom + 1, area.right + 1, area.bottom + 1, kBlack);
  canvas.fill(area.left - 1, area.top - 1, area.left - 1, area.bottom + 1, kBlack);
  canvas.fill(area.right + 1, area.top - 1, area.right + 1, area.bottom + 1, kBlack);
  const int majorTick = 4 * scale, minorTick = 2 * scale;
  for (const Tick& tick : layout.xAxis.ticks) {
    int x = pixelColumn(layout, tick.value);
    canvas.fill(x, area.bottom + 2, x, area.bottom + 1 + majorTick, kBlack);
    canvas.text(x - textWidth(tick.label, scale) / 2, layout.xTickLabelTop, tick.label, kBlack, scale);
  }
  for (const Tick& tick : layout.yAxis.ticks) {
    int y = pixelRow(layout, tick.value);
    int length = tick.grid || !tick.label.empty() ? majorTick : minorTick;
    canvas.fill(area.left - 1 - length, y, area.left - 2, y, kBlack);
    canvas.text(layout.yTickLabelRight - textWidth(tick.label, scale), y - (7 * scale) / 2, tick.label,
                kBlack, scale);
  }

  if (!plot.title.empty()) {
    canvas.text((plot.width - textWidth(plot.title, layout.titleScale)) / 2, layout.titleTop, plot.title,
                kBlack, layout.titleScale);
  }
  if (!plot.xLabel.empty()) {
    canvas.text((area.left + area.right - textWidth(plot.xLabel, scale)) / 2, layout.xLabelTop, plot.xLabel,
                kBlack, scale);
  }
  if (!plot.yLabel.empty()) {
    int bottomOfText = (area.top + area.bottom + textWidth(plot.yLabel, scale)) / 2;
    canvas.text(layout.yLabelLeft, bottomOfText, plot.yLabel, kBlack, scale, /*upwards=*/true);
  }
  for (const LegendEntry& entry : layout.legend) {
    PlotColour colour = plotSeriesColour(entry.series);
    int middle = entry.y + (7 * scale) / 2;
    canvas.fill(entry.x, middle - 1, entry.x + kSwatchGlyphs * kGlyphAdvance * scale - 1, middle, colour);
    canvas.text(entry.x + (kSwatchGlyphs + 1) * kGlyphAdvance * scale, entry.y,
                plot.series[entry.series].label, kBlack, scale);
  }
}

void appendBigEndian(std::string& out, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((value >> shift) & 0xFF);
}

void appendChunk(std::string& out, std::string_view type, std::string_view data) {
  appendBigEndian(out, static_cast<std::uint32_t>(data.size()));
  std::size_t typeStart = out.size();
  out.append(type);
  out.append(data);
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(out.data() + typeStart),
              static_cast<uInt>(out.size() - typeStart));
  appendBigEndian(out, static_cast<std::uint32_t>(crc));
}

// PNG of 8-bit RGB pixels, rows top to bottom, each row stored unfiltered (filter type 0).
Expected<std::string> encodePng(int width, int height, const std::vector<std::uint8_t>& pixels) {
  const auto rowBytes = static_cast<std::size_t>(width) * 3;
  std::string raw;
  raw.reserve(static_cast<std::size_t>(height) * (rowBytes + 1));
  for (int y = 0; y < height; ++y) {
    raw += '\0';
    raw.append(reinterpret_cast<const char*>(pixels.data()) + y * rowBytes, rowBytes);
  }
  uLongf compressedSize = compressBound(static_cast<uLong>(raw.size()));
  std::string compressed(compressedSize, '\0');
  int result = compress2(reinterpret_cast<Bytef*>(compressed.data()), &compressedSize,
                         reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()),
                         Z_BEST_COMPRESSION);
  if (result != Z_OK)
    return makeError(ErrorCode::kInternal, "zlib could not compress the line plot (code {})", result);
  compressed.resize(compressedSize);

  std::string png("\x89PNG\r\n\x1a\n", 8);
  std::string header;
  appendBigEndian(header, static_cast<std::uint32_t>(width));
  appendBigEndian(header, static_cast<std::uint32_t>(height));
  header += '\x08';  // bits per sample
  header += '\x02';  // colour type: RGB
  header += '\0';    // compression: deflate
  header += '\0';    // filter method: adaptive (each row's filter byte is 0, "none")
  header += '\0';    // no interlace
  appendChunk(png, "IHDR", header);
  appendChunk(png, "IDAT", compressed);
  appendChunk(png, "IEND", {});
  return png;
}

}  // namespace

PlotColour plotSeriesColour(std::size_t index) {
  return kPalette[index % kPalette.size()];
}

Expected<PlotArea> plotArea(const LinePlot& plot) {
  auto layout = computeLayout(plot);
  if (!layout) return layout.error();
  return layout->area;
}

Expected<PlotRange> plotRange(const LinePlot& plot) {
  auto layout = computeLayout(plot);
  if (!layout) return layout.error();
  return PlotRange{layout->xAxis.min, layout->xAxis.max, layout->yAxis.min, layout->yAxis.max};
}

Expected<std::string> renderLinePlotPng(const LinePlot& plot) {
  auto layout = computeLayout(plot);
  if (!layout) return layout.error();
  Canvas canvas(plot.width, plot.height);
  drawPlot(plot, *layout, canvas);
  return encodePng(plot.width, plot.height, canvas.pixels());
}

Status writeLinePlotPng(const LinePlot& plot, const std::filesystem::path& file) {
  auto png = renderLinePlotPng(plot);
  if (!png) return png.error();
  return writeFileAtomically(file, *png);
}

}  // namespace mirtune
