// IR2Vec symbolic vectors: the vocabulary reader, the keys of an instruction's parts, and hand-computed sums.
#include "frontend/Frontend.h"
#include "ir/Ir2VecSymbolic.h"

#include <gtest/gtest.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/Module.h>

#include <fstream>
#include <string>

namespace mirtune {
namespace {

const std::filesystem::path kInputs = std::filesystem::path(MIRTUNE_TEST_INPUTS) / "ir2vec";

TEST(Ir2VecVocabulary, ReadsEntitiesAndRejectsBadFiles) {
  auto vocabulary = Ir2VecVocabulary::load(kInputs / "vocab3D.txt");
  ASSERT_TRUE(vocabulary) << vocabulary.error().message();
  EXPECT_EQ(vocabulary->dimension(), 3u);
  EXPECT_EQ(vocabulary->size(), 6u);
  ASSERT_NE(vocabulary->find("ret"), nullptr);
  EXPECT_FLOAT_EQ((*vocabulary->find("ret"))[2], 30.0f);
  EXPECT_EQ(vocabulary->find("load"), nullptr);

  auto ragged = Ir2VecVocabulary::load(kInputs / "ragged.txt");
  ASSERT_FALSE(ragged);
  EXPECT_NE(ragged.error().message().find("ragged.txt:2"), std::string::npos) << ragged.error().message();

  auto missing = Ir2VecVocabulary::load(kInputs / "absent.txt");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find("absent.txt"), std::string::npos);
}

TEST(Ir2VecSymbolic, SumsWeightedOpcodeTypeAndOperandVectors) {
  auto vocabulary = Ir2VecVocabulary::load(kInputs / "vocab3D.txt");
  ASSERT_TRUE(vocabulary) << vocabulary.error().message();
  auto module = compileFile(kInputs / "tiny.ll");
  ASSERT_TRUE(module) << module.error().message();
  Ir2VecSymbolic symbolic(*vocabulary);
  Ir2VecEmbedding embedding = symbolic.module(module->module());
  // add i32 %a, 1:  add + 0.5 integerTy + 0.2 (variable + constant)
  // ret i32 %b:     ret + 0.5 voidTy    + 0.2 variable
  // component 0: 1 + 50 + 0.2 * 11000 + 10 + 0.25 + 0.2 * 10000 = 4261.25
  ASSERT_EQ(embedding.vector.size(), 3u);
  EXPECT_NEAR(embedding.vector[0], 4261.25, 1e-3);
  EXPECT_NEAR(embedding.vector[2], 3.0 + 150 + 0.2 * 33000 + 30 + 0.0625 + 0.2 * 30000, 1e-2);
  EXPECT_EQ(embedding.instructions, 2u);
  EXPECT_TRUE(embedding.missingKeys.empty());
  // The declaration adds nothing; the defined function is the whole module.
  Ir2VecEmbedding function = symbolic.function(*module->module().getFunction("inc"));
  EXPECT_EQ(function.vector, embedding.vector);
  EXPECT_EQ(symbolic.function(*module->module().getFunction("unused")).vector, std::vector<float>(3, 0.0f));

  // Other weights: the opcode part alone.
  Ir2VecSymbolic opcodes(*vocabulary, {1.0, 0.0, 0.0});
  EXPECT_NEAR(opcodes.module(module->module()).vector[1], 2.0 + 20.0, 1e-6);
}

TEST(Ir2VecSymbolic, KeysNameOpcodesTypeClassesAndOperandKinds) {
  auto module = compileFile(kInputs / "tiny.ll");
  ASSERT_TRUE(module) << module.error().message();
  const llvm::Function& inc = *module->module().getFunction("inc");
  const llvm::Instruction& add = inc.front().front();
  EXPECT_EQ(ir2vecOpcodeKey(add), "add");
  EXPECT_EQ(ir2vecTypeKey(*add.getType()), "integerTy");
  EXPECT_EQ(ir2vecOperandKey(*add.getOperand(0)), "variable");
  EXPECT_EQ(ir2vecOperandKey(*add.getOperand(1)), "constant");
  EXPECT_EQ(ir2vecOperandKey(inc), "function");
  EXPECT_EQ(ir2vecTypeKey(*inc.front().back().getType()), "voidTy");
}

TEST(Ir2VecSymbolic, SeedVocabularyOfTheDataSet) {
  std::filesystem::path file = ir2vecVocabularyFile({});
  if (!std::filesystem::exists(file)) {
    GTEST_SKIP() << "IR2Vec seed vocabulary not found at " << file << " (set MIRTUNE_DATA)";
  }
  auto vocabulary = Ir2VecVocabulary::load(file);
  ASSERT_TRUE(vocabulary) << vocabulary.error().message();
  EXPECT_EQ(vocabulary->dimension(), 300u);
  for (const char* key :
       {"add", "ret", "integerTy", "voidTy", "variable", "constant", "pointer", "function"}) {
    EXPECT_NE(vocabulary->find(key), nullptr) << key;
  }
  auto module = compileFile(kInputs / "tiny.ll");
  ASSERT_TRUE(module) << module.error().message();
  Ir2VecEmbedding embedding = Ir2VecSymbolic(*vocabulary).module(module->module());
  // Component 0 by hand from the file's own numbers.
  auto at = [&](const char* key) { return static_cast<double>((*vocabulary->find(key))[0]); };
  double expected = at("add") + 0.5 * at("integerTy") + 0.2 * (at("variable") + at("constant")) + at("ret") +
                    0.5 * at("voidTy") + 0.2 * at("variable");
  EXPECT_NEAR(embedding.vector[0], expected, 1e-5);
  EXPECT_TRUE(embedding.missingKeys.empty());
}

}  // namespace
}  // namespace mirtune
