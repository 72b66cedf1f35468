// Tests of the PNG line-chart writer: the file structure, decoded pixels at known places, and its refusals.
#include "support/LinePlot.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

namespace mirtune {

// Colours in failure messages as (r, g, b).
void PrintTo(const PlotColour& colour, std::ostream* out) {
  *out << '(' << int{colour.red} << ", " << int{colour.green} << ", " << int{colour.blue} << ')';
}

namespace {

namespace fs = std::filesystem;

struct Chunk {
  std::string type;
  std::string data;
};

std::uint32_t readBigEndian(const std::string& bytes, std::size_t at) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < 4; ++i) value = (value << 8) | static_cast<unsigned char>(bytes[at + i]);
  return value;
}

// The chunks of a PNG, checking its signature, every length and every CRC on the way.
std::vector<Chunk> parseChunks(const std::string& png) {
  std::vector<Chunk> chunks;
  const std::string signature("\x89PNG\r\n\x1a\n", 8);
  EXPECT_EQ(png.substr(0, 8), signature);
  std::size_t at = 8;
  while (at < png.size()) {
    EXPECT_LE(at + 12, png.size()) << "truncated chunk header at byte " << at;
    if (at + 12 > png.size()) break;
    std::uint32_t length = readBigEndian(png, at);
    EXPECT_LE(at + 12 + length, png.size()) << "chunk at byte " << at << " runs past the end";
    if (at + 12 + length > png.size()) break;
    Chunk chunk{png.substr(at + 4, 4), png.substr(at + 8, length)};
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(png.data() + at + 4), length + 4);
    EXPECT_EQ(readBigEndian(png, at + 8 + length), static_cast<std::uint32_t>(crc))
        << "CRC of " << chunk.type;
    chunks.push_back(std::move(chunk));
    at += 12 + length;
  }
  return chunks;
}

struct Image {
  int width = 0, height = 0;
  std::vector<std::uint8_t> rgb;

  PlotColour at(int x, int y) const {
    auto i = (static_cast<std::size_t>(y) * width + x) * 3;
    return {rgb[i], rgb[i + 1], rgb[i + 2]};
  }
};

// Decodes a PNG written as renderLinePlotPng writes it: 8-bit RGB, every row with filter 0.
Image decode(const std::string& png) {
  std::vector<Chunk> chunks = parseChunks(png);
  Image image;
  EXPECT_GE(chunks.size(), 3u);
  if (chunks.size() < 3) return image;
  EXPECT_EQ(chunks.front().type, "IHDR");
  EXPECT_EQ(chunks.front().data.size(), 13u);
  image.width = static_cast<int>(readBigEndian(chunks.front().data, 0));
  image.height = static_cast<int>(readBigEndian(chunks.front().data, 4));
  EXPECT_EQ(chunks.front().data.substr(8), std::string("\x08\x02\x00\x00\x00", 5));
  EXPECT_EQ(chunks.back().type, "IEND");
  EXPECT_TRUE(chunks.back().data.empty());
  std::string compressed;
  for (std::size_t i = 1; i + 1 < chunks.size(); ++i) {
    EXPECT_EQ(chunks[i].type, "IDAT");
    compressed += chunks[i].data;
  }
  const std::size_t rowBytes = 1 + 3 * static_cast<std::size_t>(image.width);
  const std::size_t expected = static_cast<std::size_t>(image.height) * rowBytes;
  std::string raw(expected + 16, '\0');  // room to notice a stream that is too long
  uLongf rawSize = raw.size();
  EXPECT_EQ(uncompress(reinterpret_cast<Bytef*>(raw.data()), &rawSize,
                       reinterpret_cast<const Bytef*>(compressed.data()), compressed.size()),
            Z_OK);
  EXPECT_EQ(rawSize, expected);
  if (rawSize != expected) return image;
  for (int y = 0; y < image.height; ++y) {
    EXPECT_EQ(raw[y * rowBytes], '\0') << "filter type of row " << y;
    image.rgb.insert(image.rgb.end(), raw.begin() + y * rowBytes + 1, raw.begin() + (y + 1) * rowBytes);
  }
  return image;
}

PlotSeries line(std::string label, std::vector<double> x, std::vector<double> y, bool steps = false) {
  PlotSeries series;
  series.label = std::move(label);
  series.x = std::move(x);
  series.y = std::move(y);
  series.steps = steps;
  return series;
}

LinePlot convergencePlot() {
  LinePlot plot;
  plot.title = "Convergence";
  plot.xLabel = "evaluations";
  plot.yLabel = "best time (ms)";
  plot.series.push_back(line("model", {1, 2, 3, 4, 5, 6}, {9.5, 7.25, 7.25, 4.0, 3.5, 3.5}, true));
  plot.series.push_back(line("random", {1, 2, 3, 4, 5, 6}, {9.5, 9.5, 8.0, 8.0, 6.0, 5.5}, true));
  plot.horizontalLines.push_back({8.5, "default"});
  return plot;
}

int columnOf(const PlotArea& area, const PlotRange& range, double x) {
  return area.left + static_cast<int>(std::lround((x - range.xMin) / (range.xMax - range.xMin) *
                                                  (area.right - area.left)));
}

int rowOf(const PlotArea& area, const PlotRange& range, double y) {
  return area.bottom - static_cast<int>(std::lround((y - range.yMin) / (range.yMax - range.yMin) *
                                                    (area.bottom - area.top)));
}

// First row, top down, in column x of the area where `colour` is drawn; -1 when nowhere.
int firstRowWith(const Image& image, const PlotArea& area, int x, PlotColour colour) {
  for (int y = area.top; y <= area.bottom; ++y) {
    if (image.at(x, y) == colour) return y;
  }
  return -1;
}

TEST(LinePlot, WritesAWellFormedPng) {
  LinePlot plot = convergencePlot();
  plot.width = 640;
  plot.height = 360;
  auto png = renderLinePlotPng(plot);
  ASSERT_TRUE(png.ok()) << png.error().message();
  std::vector<Chunk> chunks = parseChunks(*png);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[0].type, "IHDR");
  EXPECT_EQ(readBigEndian(chunks[0].data, 0), 640u);
  EXPECT_EQ(readBigEndian(chunks[0].data, 4), 360u);
  EXPECT_EQ(chunks[1].type, "IDAT");
  EXPECT_EQ(chunks[2].type, "IEND");
  Image image = decode(*png);
  EXPECT_EQ(image.width, 640);
  EXPECT_EQ(image.height, 360);
  ASSERT_EQ(image.rgb.size(), 640u * 360u * 3u);
  EXPECT_EQ(image.at(0, 0), (PlotColour{255, 255, 255}));
  EXPECT_EQ(image.at(639, 359), (PlotColour{255, 255, 255}));
  auto again = renderLinePlotPng(plot);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *png) << "the same plot must give the same bytes";
}

TEST(LinePlot, AxesSpanTheDataFromTickToTick) {
  LinePlot plot;
  plot.series.push_back(line("a", {1, 97}, {0.03, 0.97}));
  auto range = plotRange(plot);
  ASSERT_TRUE(range.ok()) << range.error().message();
  EXPECT_DOUBLE_EQ(range->xMin, 0);
  EXPECT_DOUBLE_EQ(range->xMax, 100);
  EXPECT_DOUBLE_EQ(range->yMin, 0);
  EXPECT_NEAR(range->yMax, 1, 1e-12);

  plot.horizontalLines.push_back({-3, "floor"});  // reference lines widen the y range too
  range = plotRange(plot);
  ASSERT_TRUE(range.ok());
  EXPECT_DOUBLE_EQ(range->yMin, -3);
  EXPECT_DOUBLE_EQ(range->yMax, 1);

  plot.horizontalLines.clear();
  plot.logY = true;
  plot.series[0].y = {0.03, 400};
  range = plotRange(plot);
  ASSERT_TRUE(range.ok());
  EXPECT_NEAR(range->yMin, 0.01, 1e-15);
  EXPECT_NEAR(range->yMax, 1000, 1e-9);
}

TEST(LinePlot, HorizontalSeriesIsDrawnAtItsRow) {
  LinePlot plot;
  plot.series.push_back(line("level", {0, 10}, {5, 5}));
  plot.series.push_back(line("edge", {0, 0}, {0, 10}));
  auto area = plotArea(plot);
  auto range = plotRange(plot);
  ASSERT_TRUE(area.ok() && range.ok());
  EXPECT_DOUBLE_EQ(range->yMin, 0);
  EXPECT_DOUBLE_EQ(range->yMax, 10);
  EXPECT_GT(area->left, 0);
  EXPECT_LT(area->right, plot.width - 1);
  EXPECT_GT(area->top, 0);
  EXPECT_LT(area->bottom, plot.height - 1);

  auto png = renderLinePlotPng(plot);
  ASSERT_TRUE(png.ok()) << png.error().message();
  Image image = decode(*png);
  ASSERT_EQ(image.width, plot.width);
  EXPECT_EQ(image.at(0, 0), (PlotColour{255, 255, 255}));

  int row = rowOf(*area, *range, 5);
  for (int x : {area->left + 5, columnOf(*area, *range, 5), area->right - 5}) {
    EXPECT_EQ(image.at(x, row), plotSeriesColour(0)) << "column " << x;
    EXPECT_EQ(firstRowWith(image, *area, x, plotSeriesColour(0)), row) << "column " << x;
    EXPECT_NE(image.at(x, row + 3), plotSeriesColour(0));
  }
  // The second series runs up the left edge of the area.
  EXPECT_EQ(image.at(area->left, rowOf(*area, *range, 2)), plotSeriesColour(1));
  // The axes: black just outside the area.
  EXPECT_EQ(image.at(area->left - 1, (area->top + area->bottom) / 2), (PlotColour{0, 0, 0}));
  EXPECT_EQ(image.at((area->left + area->right) / 2, area->bottom + 1), (PlotColour{0, 0, 0}));
}

TEST(LinePlot, LogarithmicAxisSpacesDecadesEvenly) {
  LinePlot plot;
  plot.logY = true;
  plot.series.push_back(line("ten", {0, 10}, {10, 10}));
  plot.series.push_back(line("hundred", {0, 10}, {100, 100}));
  plot.series.push_back(line("thousand", {0, 10}, {1000, 1000}));
  plot.series.push_back(line("span", {0, 0}, {1, 10000}));
  auto area = plotArea(plot);
  auto range = plotRange(plot);
  ASSERT_TRUE(area.ok() && range.ok());
  EXPECT_NEAR(range->yMin, 1, 1e-12);
  EXPECT_NEAR(range->yMax, 10000, 1e-8);

  auto png = renderLinePlotPng(plot);
  ASSERT_TRUE(png.ok()) << png.error().message();
  Image image = decode(*png);
  ASSERT_EQ(image.width, plot.width);
  int x = (area->left + area->right) / 2;
  int ten = firstRowWith(image, *area, x, plotSeriesColour(0));
  int hundred = firstRowWith(image, *area, x, plotSeriesColour(1));
  int thousand = firstRowWith(image, *area, x, plotSeriesColour(2));
  ASSERT_GT(ten, 0);
  ASSERT_GT(hundred, 0);
  ASSERT_GT(thousand, 0);
  EXPECT_LT(thousand, hundred);
  EXPECT_LT(hundred, ten);
  EXPECT_NEAR(ten - hundred, hundred - thousand, 1);
  // Four decades over the height: 10 a quarter of the way up, 1000 three quarters.
  double height = area->bottom - area->top;
  EXPECT_NEAR(ten, area->bottom - height / 4, 1);
  EXPECT_NEAR(thousand, area->bottom - 3 * height / 4, 1);
}

TEST(LinePlot, StepSeriesHoldsEachValueUntilTheNextPoint) {
  LinePlot plot;
  plot.series.push_back(line("best", {0, 10}, {10, 0}, /*steps=*/true));
  auto area = plotArea(plot);
  ASSERT_TRUE(area.ok());
  int middleX = (area->left + area->right) / 2, middleY = (area->top + area->bottom) / 2;

  auto png = renderLinePlotPng(plot);
  ASSERT_TRUE(png.ok()) << png.error().message();
  Image steps = decode(*png);
  ASSERT_EQ(steps.width, plot.width);
  EXPECT_EQ(steps.at(middleX, area->top), plotSeriesColour(0));    // still at 10 half way
  EXPECT_EQ(steps.at(area->right, middleY), plotSeriesColour(0));  // drops at the last x
  EXPECT_NE(steps.at(middleX, middleY), plotSeriesColour(0));

  plot.series[0].steps = false;
  png = renderLinePlotPng(plot);
  ASSERT_TRUE(png.ok());
  Image straight = decode(*png);
  ASSERT_EQ(straight.width, plot.width);
  EXPECT_NE(straight.at(middleX, area->top), plotSeriesColour(0));
  int crossing = firstRowWith(straight, *area, middleX, plotSeriesColour(0));
  EXPECT_NEAR(crossing, middleY, 2);
}

TEST(LinePlot, LinesHaveNoGaps) {
  LinePlot shallow;
  shallow.series.push_back(line("shallow", {0, 10}, {0, 3}));
  auto area = plotArea(shallow);
  ASSERT_TRUE(area.ok());
  auto png = renderLinePlotPng(shallow);
  ASSERT_TRUE(png.ok()) << png.error().message();
  Image image = decode(*png);
  ASSERT_EQ(image.width, shallow.width);
  for (int x = area->left; x <= area->right; ++x) {
    ASSERT_GE(firstRowWith(image, *area, x, plotSeriesColour(0)), 0) << "gap in column " << x;
  }

  LinePlot steep;
  steep.series.push_back(line("steep", {0, 1}, {0, 10}));
  steep.series.push_back(line("wide", {0, 20}, {0, 0}));  // puts x = 1 near the left
  area = plotArea(steep);
  auto range = plotRange(steep);
  ASSERT_TRUE(area.ok() && range.ok());
  png = renderLinePlotPng(steep);
  ASSERT_TRUE(png.ok()) << png.error().message();
  image = decode(*png);
  ASSERT_EQ(image.width, steep.width);
  int steepEnd = columnOf(*area, *range, 1);
  for (int y = area->top; y < area->bottom - 2; ++y) {  // the bottom rows hold the second series
    bool found = false;
    for (int x = area->left; x <= steepEnd + 1 && !found; ++x) found = image.at(x, y) == plotSeriesColour(0);
    ASSERT_TRUE(found) << "gap in row " << y;
  }
}

TEST(LinePlot, LonePointIsMarkedVisibly) {
  LinePlot plot;
  plot.series.push_back(line("only", {3}, {0}));
  auto area = plotArea(plot);
  auto range = plotRange(plot);
  ASSERT_TRUE(area.ok() && range.ok());
  EXPECT_LT(range->xMin, 3);
  EXPECT_GT(range->xMax, 3);
  auto png = renderLinePlotPng(plot);
  ASSERT_TRUE(png.ok()) << png.error().message();
  Image image = decode(*png);
  ASSERT_EQ(image.width, plot.width);
  int x = columnOf(*area, *range, 3), y = rowOf(*area, *range, 0);
  for (int dx = -2; dx <= 2; ++dx) {
    for (int dy = -2; dy <= 2; ++dy)
      EXPECT_EQ(image.at(x + dx, y + dy), plotSeriesColour(0)) << dx << ", " << dy;
  }
}

TEST(LinePlot, LegendShowsEverySeriesColour) {
  LinePlot plot = convergencePlot();
  plot.series.push_back(line("third", {1, 6}, {6, 2}));
  auto area = plotArea(plot);
  ASSERT_TRUE(area.ok());
  auto png = renderLinePlotPng(plot);
  ASSERT_TRUE(png.ok()) << png.error().message();
  Image image = decode(*png);
  ASSERT_EQ(image.width, plot.width);
  for (std::size_t s = 0; s < plot.series.size(); ++s) {
    int below = 0;
    for (int y = area->bottom + 2; y < image.height; ++y) {
      for (int x = 0; x < image.width; ++x) below += image.at(x, y) == plotSeriesColour(s);
    }
    EXPECT_GT(below, 10) << "no legend swatch for series " << s;
  }
  // Text is drawn: the title above the area and the tick labels left of it hold black pixels.
  int dark = 0;
  for (int y = 0; y < area->top - 2; ++y) {
    for (int x = 0; x < image.width; ++x) dark += image.at(x, y) == PlotColour{0, 0, 0};
  }
  EXPECT_GT(dark, 50);
}

TEST(LinePlot, PaletteColoursDiffer) {
  for (std::size_t a = 0; a < 8; ++a) {
    EXPECT_FALSE(plotSeriesColour(a) == (PlotColour{255, 255, 255}));
    for (std::size_t b = a + 1; b < 8; ++b) EXPECT_FALSE(plotSeriesColour(a) == plotSeriesColour(b));
  }
}

struct BadPlot {
  const char* name;
  LinePlot plot;
  std::string message;
};

TEST(LinePlot, RefusesUnusableInput) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double infinity = std::numeric_limits<double>::infinity();
  std::vector<BadPlot> cases;
  {
    LinePlot plot;
    cases.push_back({"no series", plot, "line plot has no series"});
  }
  {
    LinePlot plot;
    plot.series.push_back(line("model", {1, 2}, {3}));
    cases.push_back({"lengths", plot, "line plot series 1 (\"model\") has 2 x values but 1 y values"});
  }
  {
    LinePlot plot;
    plot.series.push_back(line("model", {1}, {3}));
    plot.series.push_back(line("random", {}, {}));
    cases.push_back({"empty", plot, "line plot series 2 (\"random\") has no points"});
  }
  {
    LinePlot plot;
    plot.series.push_back(line("model", {1, nan}, {3, 4}));
    cases.push_back({"nan x", plot, "line plot series 1 (\"model\"): x[1] = nan is not finite"});
  }
  {
    LinePlot plot;
    plot.series.push_back(line("model", {1, 2}, {infinity, 4}));
    cases.push_back({"infinite y", plot, "line plot series 1 (\"model\"): y[0] = inf is not finite"});
  }
  {
    LinePlot plot;
    plot.logY = true;
    plot.series.push_back(line("model", {1, 2}, {3, 0}));
    cases.push_back({"log of zero", plot, "line plot series 1 (\"model\"): y[1] = 0 is not positive"});
  }
  {
    LinePlot plot;
    plot.series.push_back(line("model", {1, 2}, {3, 4}));
    plot.horizontalLines.push_back({nan, "default"});
    cases.push_back({"nan line", plot, "line plot horizontal line \"default\" at nan is not finite"});
  }
  {
    LinePlot plot;
    plot.logY = true;
    plot.series.push_back(line("model", {1, 2}, {3, 4}));
    plot.horizontalLines.push_back({-1, "default"});
    cases.push_back(
        {"negative line on log axis", plot, "line plot horizontal line \"default\" at -1 is not positive"});
  }
  {
    LinePlot plot;
    plot.series.push_back(line("model", {1, 2}, {3, 4}));
    plot.width = 100;
    cases.push_back({"too narrow", plot, "line plot size 100x500 is out of range"});
  }
  {
    LinePlot plot;
    plot.series.push_back(line("model", {1, 2}, {3, 4}));
    plot.height = 5000;
    cases.push_back({"too tall", plot, "line plot size 800x5000 is out of range"});
  }
  {
    LinePlot plot;
    plot.width = plot.height = 200;
    for (int s = 0; s < 30; ++s)
      plot.series.push_back(line(std::string(30, 'x') + std::to_string(s), {1}, {1}));
    cases.push_back({"crowded", plot, "leaves no room for the data"});
  }

  const fs::path folder = fs::temp_directory_path() / ("mirtune-lineplot-bad-" + std::to_string(::getpid()));
  fs::create_directories(folder);
  for (const BadPlot& bad : cases) {
    auto png = renderLinePlotPng(bad.plot);
    ASSERT_FALSE(png.ok()) << bad.name;
    EXPECT_EQ(png.error().code(), ErrorCode::kInvalidInput) << bad.name;
    EXPECT_NE(png.error().message().find(bad.message), std::string::npos)
        << bad.name << ": " << png.error().message();
    EXPECT_FALSE(plotArea(bad.plot).ok()) << bad.name;

    Status written = writeLinePlotPng(bad.plot, folder / "plot.png");
    ASSERT_FALSE(written.ok()) << bad.name;
    EXPECT_EQ(written.error().code(), ErrorCode::kInvalidInput) << bad.name;
  }
  EXPECT_TRUE(fs::is_empty(folder)) << "a refused plot must leave no file";
  fs::remove_all(folder);
}

TEST(LinePlot, WritesTheFileAtomically) {
  const fs::path folder = fs::temp_directory_path() / ("mirtune-lineplot-" + std::to_string(::getpid()));
  fs::remove_all(folder);
  fs::create_directories(folder);
  LinePlot plot = convergencePlot();
  const fs::path file = folder / "convergence.png";
  Status written = writeLinePlotPng(plot, file);
  ASSERT_TRUE(written.ok()) << written.error().message();
  std::vector<fs::path> entries(fs::directory_iterator(folder), fs::directory_iterator{});
  ASSERT_EQ(entries.size(), 1u) << "a temporary file was left behind";
  EXPECT_EQ(entries[0].filename(), "convergence.png");
  std::ifstream in(file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto png = renderLinePlotPng(plot);
  ASSERT_TRUE(png.ok());
  EXPECT_EQ(bytes, *png);

  const fs::path unwritable = folder / "missing-folder" / "plot.png";
  Status failed = writeLinePlotPng(plot, unwritable);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code(), ErrorCode::kIo);
  EXPECT_NE(failed.error().message().find(unwritable.string()), std::string::npos)
      << failed.error().message();
  EXPECT_FALSE(fs::exists(unwritable));
  fs::remove_all(folder);
}

}  // namespace
}  // namespace mirtune
