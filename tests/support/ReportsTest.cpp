// Tests of the report forms in support: a machine description as text and the resolved paths.
#include "support/PlatformReport.h"
#include "support/ResolvedPaths.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace mirtune {
namespace {

namespace fs = std::filesystem;

PlatformInfo exampleMachine() {
  PlatformInfo info;
  info.cpuModel = "Test CPU";
  info.logicalCores = 8;
  info.memoryBytes = std::uint64_t{16} << 30;
  info.os = "TestOS; Linux 6.1; x86_64";
  info.compilers = {{"clang-14", "clang version 14"}, {"g++", "g++ 12"}};
  info.opencl = {{"status", "ok"},
                 {"platforms",
                  {{{"name", "PoCL"},
                    {"version", "OpenCL 3.0"},
                    {"devices",
                     {{{"type", "cpu"},
                       {"name", "cpu-x86"},
                       {"driver_version", "5.0"},
                       {"opencl_c_version", "OpenCL C 1.2"},
                       {"compute_units", 8},
                       {"global_memory_bytes", std::uint64_t{2} << 30}}}}}}}};
  info.notes = {"nvidia-smi not found"};
  info.fingerprint = "abc123";
  return info;
}

TEST(PlatformReport, ListsEveryFactInOrder) {
  EXPECT_EQ(textReport(exampleMachine()),
            "cpu          Test CPU (8 logical cores)\n"
            "memory       16.0 GiB (17179869184 bytes)\n"
            "os           TestOS; Linux 6.1; x86_64\n"
            "compilers    clang-14: clang version 14\n"
            "             g++: g++ 12\n"
            "gpu          none\n"
            "opencl       PoCL (OpenCL 3.0)\n"
            "               cpu    cpu-x86, driver 5.0, OpenCL C 1.2, 8 compute units, 2.0 GiB\n"
            "note         nvidia-smi not found\n"
            "fingerprint  abc123\n");
}

TEST(PlatformReport, SaysWhyOpenClIsMissing) {
  PlatformInfo info = exampleMachine();
  info.compilers = nlohmann::json::object();
  info.opencl = {{"status", "runner_not_found"}, {"detail", "mirtune-run not found"}};
  const std::string text = textReport(info);
  EXPECT_NE(text.find("compilers    none found\n"), std::string::npos);
  EXPECT_NE(text.find("opencl       mirtune-run not found\n"), std::string::npos);
}

TEST(ResolvedPaths, JsonGroupsAndTextMarksMissing) {
  const fs::path here = fs::temp_directory_path();
  const std::vector<ResolvedPath> paths = {{"", "share", here},
                                           {"heads", "devmap", here / "no-such-folder-for-this-test"},
                                           {"", "user_data", here}};
  nlohmann::json json = toJson(paths);
  EXPECT_TRUE(json.contains("version"));
  EXPECT_EQ(json["paths"]["share"]["exists"], true);
  EXPECT_EQ(json["paths"]["heads"]["devmap"]["exists"], false);
  const std::string text = textReport(paths);
  EXPECT_NE(text.find("heads devmap          " + (here / "no-such-folder-for-this-test").string() + "  (missing)\n"),
            std::string::npos);
  EXPECT_NE(text.find("user data             " + here.string() + "\n"), std::string::npos);
}

TEST(ResolvedPaths, SubfolderNamesAreSortedAndSkipFiles) {
  const fs::path root = fs::temp_directory_path() / "mirtune-subfolders-test";
  fs::remove_all(root);
  fs::create_directories(root / "b");
  fs::create_directories(root / "a");
  std::ofstream(root / "file.txt") << "x";
  EXPECT_EQ(subfolderNames(root), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(subfolderNames(root / "missing").empty());
  fs::remove_all(root);
}

}  // namespace
}  // namespace mirtune
