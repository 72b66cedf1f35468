// Self-supervised pretraining of the MIREncoder on a corpus (`mirtune pretrain`): masked tokens, graph edge
// reconstruction and IR–graph matching, with exact resume from checkpoints. No LibTorch in this header.
#pragma once

#include "embeddings/EncoderConfig.h"
#include "embeddings/EncoderInput.h"
#include "support/Error.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace mirtune {

struct PretrainOptions {
  std::filesystem::path corpus;  ///< a `mirtune corpus build` folder
  std::filesystem::path out;     ///< model folder to write (weights.pt, tokenizer/, manifest.json, checkpoint/)
  std::string tokenizerDirectory;  ///< empty: the shipped tokenizer
  int epochs = 3;
  int threads = 2;
  std::uint64_t seed = 1;
  bool resume = false;
  int batchSize = 16;
  double learningRate = 1e-3;
  int warmupSteps = 200;
  double weightDecay = 0.01;
  double checkpointMinutes = 5;
  /// Share of programs (not modules: every -O variant of a program goes the same way) held out for metrics.
  double heldOutFraction = 0.05;
  /// Loss weights (README "Pretraining"): total = wm * masked-token + we * edge + wa * matching.
  double maskedTokenWeight = 1.0;
  double edgeWeight = 1.0;
  double matchWeight = 1.0;
  /// Objectives beyond the paper's three, off at 0 (their heads are built only when on):
  /// property prediction: mean squared error of the fused embedding's linear prediction of the module's static
  /// properties (embeddings/ModuleProperties.h), each standardised over the training modules;
  /// -O-level contrast: supervised contrastive loss over the batch, where the other -O variants of a module's
  /// program are its positives and every other program's modules its negatives.
  double propertyWeight = 0.0;
  double contrastiveWeight = 0.0;
  double contrastiveTemperature = 0.1;
  int contrastiveDim = 64;
  double maskProbability = 0.15;
  double edgeMaskProbability = 0.15;
  EncoderConfig config;
  InputLimits limits;
  /// For smoke runs: use at most this many corpus modules (0 = all) and steps per epoch (0 = all).
  std::size_t maxModules = 0;
  std::size_t maxStepsPerEpoch = 0;
  /// Stop (after writing a checkpoint) once this many steps are done in total, as an interruption would;
  /// `--resume` continues from there. 0 = run to the end.
  std::size_t stopAfterSteps = 0;
  /// Held-out modules evaluated per epoch at most (0 = all).
  std::size_t maxHeldOut = 512;
  /// The command line, recorded in the manifest.
  std::string command;
  /// Also append the training log (JSON lines) here, when set.
  std::filesystem::path logFile;
};

struct EpochMetrics {
  int epoch = 0;
  std::size_t steps = 0;
  double loss = 0, maskedTokenLoss = 0, edgeLoss = 0, matchLoss = 0;  ///< training means over the epoch
  double propertyLoss = 0, contrastiveLoss = 0;
  double heldOutMaskedTokenLoss = 0, heldOutMaskedTokenAccuracy = 0, heldOutEdgeAuc = 0, heldOutMatchAccuracy = 0;
  /// Held out: 1 - (mean squared error / variance) of the standardised properties; the share of modules with an
  /// -O variant in their batch whose nearest projection (cosine) is of their own program. -1 when not trained.
  double heldOutPropertyR2 = -1, heldOutContrastiveAccuracy = -1;
  double seconds = 0;
  double tokensPerSecond = 0;
  nlohmann::json toJson() const;
};

/// Trains and writes the model folder; returns the metrics of every epoch (resumed epochs included). With
/// stopAfterSteps it may stop early: then only the checkpoint is written and the finished epochs are returned.
Expected<std::vector<EpochMetrics>> pretrain(const PretrainOptions& options);

/// Rank-based area under the ROC curve of positive vs negative scores (exposed for tests).
double areaUnderCurve(const std::vector<float>& positives, const std::vector<float>& negatives);

}  // namespace mirtune
