// Line charts as PNG images (convergence of a tuning session), drawn with a built-in bitmap font and no
// toolkit.
#pragma once

#include "support/Error.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace mirtune {

/// One line of a chart: the points (x[i], y[i]) joined in the order given.
struct PlotSeries {
  std::string label;  ///< shown in the legend
  std::vector<double> x, y;
  bool steps = false;  ///< draw as a step function: each value holds until the next x, then the line jumps
};

/// A chart of one or more series over shared axes. Text is drawn in printable ASCII; any other character
/// shows as
/// '?'.
struct LinePlot {
  std::string title, xLabel, yLabel;
  std::vector<PlotSeries> series;
  bool logY = false;              ///< logarithmic y axis with ticks at powers of ten; every y must be > 0
  int width = 800, height = 500;  ///< image size in pixels, each between 200 and 8000
  std::vector<std::pair<double, std::string>> horizontalLines;  ///< reference values (y, label), drawn dashed
};

/// Pixel rectangle in which data are drawn, inclusive on every side (x grows right, y grows down). The axes
/// sit just outside it: the left axis in column left - 1, the bottom axis in row bottom + 1.
struct PlotArea {
  int left = 0, top = 0, right = 0, bottom = 0;
};

/// The value range each axis spans once widened to tick values: the smallest x maps to column PlotArea::left,
/// the largest to PlotArea::right, yMin to row PlotArea::bottom and yMax to row PlotArea::top (for a
/// logarithmic axis linearly in log10 of the value). Each bound is the nearest tick at or beyond the data and
/// horizontal lines.
struct PlotRange {
  double xMin = 0, xMax = 1, yMin = 0, yMax = 1;
};

/// An 8-bit RGB colour.
struct PlotColour {
  std::uint8_t red = 0, green = 0, blue = 0;
  bool operator==(const PlotColour& other) const {
    return red == other.red && green == other.green && blue == other.blue;
  }
  bool operator!=(const PlotColour& other) const { return !(*this == other); }
};

/// Colour of the series at `index`; the palette repeats after its last colour.
PlotColour plotSeriesColour(std::size_t index);

/// Where the data of `plot` are drawn in its image; kInvalidInput as for renderLinePlotPng.
Expected<PlotArea> plotArea(const LinePlot& plot);

/// The axis ranges of `plot`; kInvalidInput as for renderLinePlotPng.
Expected<PlotRange> plotRange(const LinePlot& plot);

/// The chart as PNG bytes (8-bit RGB). kInvalidInput when there is no series, a series has no points or
/// different numbers of x and y values, a value is not finite, a y value or horizontal line is <= 0 on a
/// logarithmic axis, or the size is out of range.
Expected<std::string> renderLinePlotPng(const LinePlot& plot);

/// Renders `plot` and writes it to `file` through a temporary file renamed into place; kIo naming the file
/// when it cannot be written, kInvalidInput as for renderLinePlotPng.
Status writeLinePlotPng(const LinePlot& plot, const std::filesystem::path& file);

}  // namespace mirtune
