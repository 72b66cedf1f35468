// The one status list as the runner writes it and the tuner reads it back: process result lines and the
// OpenCL runner's JSON, for every status and for the runner-only "invalid_plan".
#include "tuner/runner/ProcessPlan.h"
#include "support/MeasureStatus.h"
#include "tuner/OpenClRun.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace mirtune {
namespace {

TEST(RunStatus, ProcessResultLinesCarryEveryStatusByItsName) {
  for (MeasureStatus status : kMeasureStatuses) {
    runner::ProcessResult result;
    result.id = "r";
    result.status = status;
    nlohmann::json json = runner::processResultToJson(result);
    EXPECT_EQ(json["status"], std::string(measureStatusName(status)));
    runner::ProcessResult back;
    std::string error;
    ASSERT_TRUE(runner::parseProcessResultLine(json, back, error)) << error;
    EXPECT_EQ(back.status, status);
  }
}

TEST(RunStatus, ProcessResultLinesRejectAnUnknownStatusNamingTheValidOnes) {
  runner::ProcessResult result;
  result.id = "r";
  nlohmann::json json = runner::processResultToJson(result);
  json["status"] = std::string(kInvalidPlanStatusName);
  runner::ProcessResult back;
  std::string error;
  EXPECT_FALSE(runner::parseProcessResultLine(json, back, error));
  EXPECT_NE(error.find("ok, build_failed, build_timeout, run_failed, run_timeout, wrong_output"),
            std::string::npos)
      << error;
}

TEST(RunStatus, OpenClRunnerStatusesReadBackAsBefore) {
  OpenClDevice device;
  device.name = "test device";
  auto statusOf = [&](const std::string& name) {
    return deviceResultFromJson(nlohmann::json{{"status", name}, {"message", "m"}}, device).status;
  };
  EXPECT_EQ(statusOf("ok"), MeasureStatus::kOk);
  EXPECT_EQ(statusOf("build_failed"), MeasureStatus::kBuildFailed);
  EXPECT_EQ(statusOf("build_timeout"), MeasureStatus::kBuildTimeout);
  EXPECT_EQ(statusOf("run_failed"), MeasureStatus::kRunFailed);
  EXPECT_EQ(statusOf("run_timeout"), MeasureStatus::kRunTimeout);
  // The OpenCL runner never judges outputs; these, and anything unknown, are failed runs.
  EXPECT_EQ(statusOf("wrong_output"), MeasureStatus::kRunFailed);
  EXPECT_EQ(statusOf(std::string(kInvalidPlanStatusName)), MeasureStatus::kRunFailed);
  EXPECT_EQ(statusOf("exploded"), MeasureStatus::kRunFailed);
  EXPECT_EQ(deviceResultFromJson(nlohmann::json{{"status", "ok"}, {"message", "m"}}, device).message, "m");
}

}  // namespace
}  // namespace mirtune
