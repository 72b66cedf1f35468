// Test helper: records N measurements into a database, one transaction each, as one of several concurrent
// writers.
#include "database/Database.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  using namespace mirtune;
  if (argc != 4) {
    fmt::print(stderr, "usage: db_writer DATABASE WRITER_INDEX COUNT\n");
    return 2;
  }
  std::string path = argv[1];
  int writer = std::atoi(argv[2]);
  int count = std::atoi(argv[3]);
  auto fail = [&](const Error& error) {
    fmt::print(stderr, "db_writer {}: {}\n", writer, error.message());
    return 1;
  };

  auto database = Database::open(path);
  if (!database) return fail(database.error());
  // Every writer records the same workload and platform: deduplication must hand all of them one id.
  WorkloadRecord workload;
  workload.contentSha256 = "shared-workload";
  workload.language = "opencl";
  workload.path = "kernels/shared.cl";
  auto workloadId = database->upsertWorkload(workload);
  if (!workloadId) return fail(workloadId.error());
  PlatformRecord platform;
  platform.fingerprint = "shared-platform";
  platform.cpuModel = "test cpu";
  platform.cores = 4;
  platform.memoryBytes = 1 << 30;
  platform.os = "test os";
  auto platformId = database->upsertPlatform(platform);
  if (!platformId) return fail(platformId.error());
  SessionRecord session;
  session.command = fmt::format("db_writer {}", writer);
  session.platformId = *platformId;
  auto sessionId = database->beginSession(session);
  if (!sessionId) return fail(sessionId.error());

  for (int i = 0; i < count; ++i) {
    MeasurementRecord measurement;
    measurement.sessionId = *sessionId;
    measurement.workloadId = *workloadId;
    measurement.platformId = *platformId;
    measurement.task = "concurrency";
    measurement.configuration = {{"writer", writer}, {"index", i}};
    measurement.timesSeconds = {1e-3 * (i + 1), 1.1e-3 * (i + 1)};
    measurement.medianSeconds = 1.05e-3 * (i + 1);
    if (auto id = database->insertMeasurement(measurement); !id) return fail(id.error());
  }
  if (Status status = database->endSession(*sessionId); !status) return fail(status.error());
  return 0;
}
