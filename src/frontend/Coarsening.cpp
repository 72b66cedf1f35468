// Thread coarsening as a source rewrite: Clang parses the file in-process (the same driver arguments as the
// IR front end), the kernel's AST decides the scheme and what must change, and the new kernel is spliced in
// as text after the original, which stays untouched.
//
// Why a text copy rather than an AST transform: the output is an OpenCL C (or CUDA) file that users read
// and the runner (or nvcc) builds; copying the original text keeps its macros, comments and formatting.
// Every edit is a small replacement at a token the AST located (a work-item call or built-in variable, a
// variable name, a `return`).
#include "frontend/Coarsening.h"

#include "frontend/ClangDriver.h"
#include "frontend/Frontend.h"
#include "frontend/TrialRun.h"
#include "support/Files.h"
#include "support/Log.h"

#include <clang/AST/ASTConsumer.h>
#include <clang/AST/ASTContext.h>
#include <clang/AST/Attr.h>
#include <clang/AST/Decl.h>
#include <clang/AST/Expr.h>
#include <clang/AST/ExprCXX.h>
#include <clang/AST/Stmt.h>
#include <clang/AST/TypeLoc.h>
#include <clang/Basic/Diagnostic.h>
#include <clang/Basic/SourceManager.h>
#include <clang/Frontend/CompilerInstance.h>
#include <clang/Frontend/FrontendAction.h>
#include <clang/Lex/Lexer.h>
#include <llvm/Support/raw_ostream.h>

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <variant>

namespace mirtune {

namespace fs = std::filesystem;

namespace {

// ---------------------------------------------------------------------------------------------------------
// Work-item built-ins, declared once per language. The remapping below is written against WorkItemQuery,
// so another language (CUDA's threadIdx/blockIdx/blockDim/gridDim) needs only its own table and spelling.

enum class WorkItemQuery {
  kGlobalId,
  kLocalId,
  kGroupId,
  kGlobalSize,
  kLocalSize,
  kNumGroups,
  kUnchanged,    ///< the same value for every item of the range (get_work_dim, get_global_offset)
  kBarrier,      ///< work-group synchronisation
  kUnsupported,  ///< a query or collective the remapping does not cover
};

struct WorkItemFunction {
  std::string_view name;
  WorkItemQuery query;
};

constexpr std::array<WorkItemFunction, 16> kOpenClWorkItemFunctions = {{
    {"get_global_id", WorkItemQuery::kGlobalId},
    {"get_local_id", WorkItemQuery::kLocalId},
    {"get_group_id", WorkItemQuery::kGroupId},
    {"get_global_size", WorkItemQuery::kGlobalSize},
    {"get_local_size", WorkItemQuery::kLocalSize},
    {"get_num_groups", WorkItemQuery::kNumGroups},
    {"get_work_dim", WorkItemQuery::kUnchanged},
    {"get_global_offset", WorkItemQuery::kUnchanged},
    {"barrier", WorkItemQuery::kBarrier},
    {"work_group_barrier", WorkItemQuery::kBarrier},
    {"get_global_linear_id", WorkItemQuery::kUnsupported},
    {"get_local_linear_id", WorkItemQuery::kUnsupported},
    {"get_enqueued_local_size", WorkItemQuery::kUnsupported},
    // Work-group collectives: every item of the group must call them once with the same arguments.
    {"async_work_group_copy", WorkItemQuery::kUnsupported},
    {"async_work_group_strided_copy", WorkItemQuery::kUnsupported},
    {"wait_group_events", WorkItemQuery::kUnsupported},
}};

// Families recognised by prefix (sub-group functions, work_group_reduce_add, ...).
constexpr std::array<std::string_view, 3> kOpenClUnsupportedPrefixes = {"sub_group_", "get_sub_group",
                                                                        "work_group_"};

std::optional<WorkItemQuery> openClQuery(std::string_view name) {
  for (const WorkItemFunction& function : kOpenClWorkItemFunctions) {
    if (function.name == name) return function.query;
  }
  for (std::string_view prefix : kOpenClUnsupportedPrefixes) {
    if (name.substr(0, prefix.size()) == prefix) return WorkItemQuery::kUnsupported;
  }
  return std::nullopt;
}

std::string_view openClQueryName(WorkItemQuery query) {
  for (const WorkItemFunction& function : kOpenClWorkItemFunctions) {
    if (function.query == query) return function.name;
  }
  return "";
}

// CUDA: functions with a per-thread meaning. Warp-level operations exchange values between the lanes that
// coarsening merges into one thread, so none of them has a remapping.
constexpr std::array<WorkItemFunction, 15> kCudaWorkItemFunctions = {{
    {"__syncthreads", WorkItemQuery::kBarrier},
    {"__syncthreads_count", WorkItemQuery::kUnsupported},
    {"__syncthreads_and", WorkItemQuery::kUnsupported},
    {"__syncthreads_or", WorkItemQuery::kUnsupported},
    {"__syncwarp", WorkItemQuery::kUnsupported},
    {"__shfl_sync", WorkItemQuery::kUnsupported},
    {"__shfl_up_sync", WorkItemQuery::kUnsupported},
    {"__shfl_down_sync", WorkItemQuery::kUnsupported},
    {"__shfl_xor_sync", WorkItemQuery::kUnsupported},
    {"__ballot_sync", WorkItemQuery::kUnsupported},
    {"__any_sync", WorkItemQuery::kUnsupported},
    {"__all_sync", WorkItemQuery::kUnsupported},
    {"__activemask", WorkItemQuery::kUnsupported},
    {"__match_any_sync", WorkItemQuery::kUnsupported},
    {"__match_all_sync", WorkItemQuery::kUnsupported},
}};

// CUDA's built-in index variables; the component (.x, .y, .z) is the dimension.
struct BuiltinVariable {
  std::string_view name;
  WorkItemQuery query;
};
constexpr std::array<BuiltinVariable, 4> kCudaBuiltinVariables = {{
    {"threadIdx", WorkItemQuery::kLocalId},
    {"blockIdx", WorkItemQuery::kGroupId},
    {"blockDim", WorkItemQuery::kLocalSize},
    {"gridDim", WorkItemQuery::kNumGroups},
}};

std::optional<WorkItemQuery> cudaQuery(std::string_view name) {
  for (const WorkItemFunction& function : kCudaWorkItemFunctions) {
    if (function.name == name) return function.query;
  }
  return std::nullopt;
}

std::string_view cudaVariableName(WorkItemQuery query) {
  for (const BuiltinVariable& variable : kCudaBuiltinVariables) {
    if (variable.query == query) return variable.name;
  }
  return "";
}

constexpr std::string_view kComponents = "xyz";

// The new launch's value of an OpenCL work-item function in dimension `dim`, spelled in the kernel's
// language: the remapping formulas below are written once, in OpenCL's terms.
std::string spellQuery(Language language, std::string_view openClName, unsigned dim) {
  if (language != Language::kCuda) return fmt::format("{}({})", openClName, dim);
  const char c = kComponents[dim];
  if (openClName == "get_global_id") return fmt::format("(blockIdx.{0} * blockDim.{0} + threadIdx.{0})", c);
  if (openClName == "get_global_offset") return "0u";
  if (openClName == "get_global_size") return fmt::format("(gridDim.{0} * blockDim.{0})", c);
  if (openClName == "get_local_id") return fmt::format("threadIdx.{}", c);
  if (openClName == "get_local_size") return fmt::format("blockDim.{}", c);
  if (openClName == "get_group_id") return fmt::format("blockIdx.{}", c);
  return fmt::format("gridDim.{}", c);  // get_num_groups
}

// The original launch's value of `query` in the coarsened dimension, for original item `k` of this
// work-item, as an expression over the new launch's built-ins. nullopt: the value is unchanged.
std::optional<std::string> remappedQuery(WorkItemQuery query, WorkGroupScheme scheme, CoarsenMode mode,
                                         unsigned dim, unsigned factor,
                                         Language language = Language::kOpenCl) {
  auto q = [dim, language](std::string_view name) { return spellQuery(language, name, dim); };
  const std::string f = std::to_string(factor);
  if (scheme == WorkGroupScheme::kKeepLocalSize) {
    // Position of the original item counted from the global offset.
    const std::string linear =
        mode == CoarsenMode::kConsecutive
            ? fmt::format("({} - {}) * {} + k", q("get_global_id"), q("get_global_offset"), f)
            : fmt::format("({} - {}) + k * {}", q("get_global_id"), q("get_global_offset"),
                          q("get_global_size"));
    switch (query) {
      case WorkItemQuery::kGlobalId:
        return fmt::format("{} + {}", q("get_global_offset"), linear);
      case WorkItemQuery::kLocalId:
        return fmt::format("({}) % {}", linear, q("get_local_size"));
      case WorkItemQuery::kGroupId:
        return fmt::format("({}) / {}", linear, q("get_local_size"));
      case WorkItemQuery::kGlobalSize:
        return fmt::format("{} * {}", q("get_global_size"), f);
      case WorkItemQuery::kNumGroups:
        return fmt::format("{} * {}", q("get_num_groups"), f);
      default:
        return std::nullopt;
    }
  }
  // kSplitWorkGroup: the group keeps its items, spread over L/F new items.
  const std::string local = mode == CoarsenMode::kConsecutive
                                ? fmt::format("{} * {} + k", q("get_local_id"), f)
                                : fmt::format("{} + k * {}", q("get_local_id"), q("get_local_size"));
  switch (query) {
    case WorkItemQuery::kLocalId:
      return local;
    case WorkItemQuery::kLocalSize:
      return fmt::format("{} * {}", q("get_local_size"), f);
    case WorkItemQuery::kGlobalId:
      return fmt::format("{} + {} * {} * {} + {}", q("get_global_offset"), q("get_group_id"),
                         q("get_local_size"), f, local);
    case WorkItemQuery::kGlobalSize:
      return fmt::format("{} * {}", q("get_global_size"), f);
    default:
      return std::nullopt;
  }
}

constexpr const char* kItemIndex = "mirtune_k";

// ---------------------------------------------------------------------------------------------------------
// Compiling: the same driver arguments as compileFile, run through the driver to one cc1 job whose AST our
// consumer inspects.

// clBuildProgram-style options → the parts that change what Clang parses.
CompileOptions compileOptionsFor(const std::string& buildOptions, Language language) {
  CompileOptions options;
  options.language = language;
  // The runner builds the new file without mirtune's prelude, so the parse must not depend on it either.
  options.openClCompatPrelude = false;
  options.optimizationLevel = 0;
  std::istringstream words(buildOptions);
  std::vector<std::string> tokens;
  for (std::string word; words >> word;) tokens.push_back(word);
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string& token = tokens[i];
    auto value = [&](std::size_t prefix) -> std::string {
      if (token.size() > prefix) return token.substr(prefix);
      return i + 1 < tokens.size() ? tokens[++i] : std::string();
    };
    if (token.rfind("-D", 0) == 0) {
      options.defines.push_back(value(2));
    } else if (token.rfind("-I", 0) == 0) {
      options.includeDirectories.push_back(value(2));
    } else if (token.rfind("-cl-std=", 0) == 0) {
      options.openClStandard = token.substr(8);
    }
  }
  return options;
}

// ---------------------------------------------------------------------------------------------------------
// The rewrite.

struct Edit {
  std::size_t begin = 0;
  std::size_t end = 0;  // exclusive
  std::string text;
};

struct Refused {
  CoarsenRefusal reason;
  std::string message;
};

// What a walk over a function body found.
struct BodyFacts {
  struct Query {
    const clang::Expr* expression;  // the call, or CUDA's `threadIdx.x`
    WorkItemQuery query;
    std::string name;                   // the function or built-in variable
    std::optional<unsigned> component;  // CUDA built-in variables: 0, 1, 2 for .x, .y, .z
    clang::SourceLocation last;         // CUDA built-in variables: the component's token
  };
  struct Return {
    const clang::ReturnStmt* statement;
    int loopDepth;  // enclosing loops and switches inside the body
  };
  std::vector<Query> queries;
  std::vector<const clang::FunctionDecl*> callees;  // user functions with a body
  std::vector<const clang::DeclRefExpr*> variableReferences;
  std::vector<Return> returns;
  std::vector<const clang::VarDecl*> localVariables;  // __local
};

const clang::FunctionDecl* directCallee(const clang::CallExpr* call) {
  return llvm::dyn_cast_or_null<clang::FunctionDecl>(call->getCalleeDecl());
}

// What the walk needs to tell the language's work-item queries from user code.
struct WalkContext {
  Language language;
  const clang::SourceManager& sourceManager;

  // Functions the kernel's file does not define (built-ins, the CUDA shim's helpers) may be work-item
  // queries.
  std::optional<WorkItemQuery> query(const clang::FunctionDecl* callee,
                                     const clang::FunctionDecl* definition) const {
    if (definition != nullptr &&
        sourceManager.isInMainFile(sourceManager.getExpansionLoc(definition->getLocation())))
      return std::nullopt;
    const std::string name = callee->getName().str();
    return language == Language::kCuda ? cudaQuery(name)
                                       : (definition == nullptr ? openClQuery(name) : std::nullopt);
  }
};

// `threadIdx.x` and friends: a property of a built-in variable declared outside the kernel's file.
std::optional<BodyFacts::Query> cudaBuiltinQuery(const clang::PseudoObjectExpr* pseudo,
                                                 const WalkContext& context) {
  const auto* property = llvm::dyn_cast<clang::MSPropertyRefExpr>(pseudo->getSyntacticForm()->IgnoreParens());
  if (property == nullptr) return std::nullopt;
  const clang::Expr* baseExpression = property->getBaseExpr()->IgnoreParenImpCasts();
  if (const auto* opaque = llvm::dyn_cast<clang::OpaqueValueExpr>(baseExpression)) {
    if (opaque->getSourceExpr() != nullptr) baseExpression = opaque->getSourceExpr()->IgnoreParenImpCasts();
  }
  const auto* base = llvm::dyn_cast<clang::DeclRefExpr>(baseExpression);
  if (base == nullptr || context.sourceManager.isInMainFile(base->getDecl()->getLocation()))
    return std::nullopt;
  const std::string variable = base->getDecl()->getName().str();
  const std::string component = property->getPropertyDecl()->getName().str();
  for (const BuiltinVariable& builtin : kCudaBuiltinVariables) {
    const auto index = kComponents.find(component);
    if (builtin.name != variable || component.size() != 1 || index == std::string_view::npos) continue;
    return BodyFacts::Query{pseudo, builtin.query, variable, static_cast<unsigned>(index),
                            property->getMemberLoc()};
  }
  return std::nullopt;
}

bool isLocalMemory(const clang::VarDecl* variable) {
  return variable->getType().getAddressSpace() == clang::LangAS::opencl_local ||
         variable->hasAttr<clang::CUDASharedAttr>();
}

void walk(const clang::Stmt* statement, int loopDepth, BodyFacts& facts, const WalkContext& context) {
  if (statement == nullptr) return;
  if (const auto* pseudo = llvm::dyn_cast<clang::PseudoObjectExpr>(statement)) {
    // Only the syntactic form: the semantic one calls the property getters of the built-in variables.
    if (auto builtin = cudaBuiltinQuery(pseudo, context)) {
      facts.queries.push_back(*builtin);
      return;
    }
    walk(pseudo->getSyntacticForm(), loopDepth, facts, context);
    return;
  }
  if (const auto* call = llvm::dyn_cast<clang::CallExpr>(statement)) {
    if (const clang::FunctionDecl* callee = directCallee(call)) {
      const clang::FunctionDecl* definition = callee->getDefinition();
      std::optional<WorkItemQuery> query = context.query(callee, definition);
      if (query) {
        facts.queries.push_back({call, *query, callee->getName().str(), std::nullopt, {}});
      } else if (definition != nullptr) {
        facts.callees.push_back(definition);
      }
    }
  } else if (const auto* reference = llvm::dyn_cast<clang::DeclRefExpr>(statement)) {
    if (llvm::isa<clang::VarDecl>(reference->getDecl())) facts.variableReferences.push_back(reference);
  } else if (const auto* returned = llvm::dyn_cast<clang::ReturnStmt>(statement)) {
    facts.returns.push_back({returned, loopDepth});
  } else if (const auto* declaration = llvm::dyn_cast<clang::DeclStmt>(statement)) {
    for (const clang::Decl* decl : declaration->decls()) {
      const auto* variable = llvm::dyn_cast<clang::VarDecl>(decl);
      if (variable != nullptr && isLocalMemory(variable)) facts.localVariables.push_back(variable);
    }
  }
  const bool loop = llvm::isa<clang::ForStmt>(statement) || llvm::isa<clang::WhileStmt>(statement) ||
                    llvm::isa<clang::DoStmt>(statement) || llvm::isa<clang::SwitchStmt>(statement);
  for (const clang::Stmt* child : statement->children())
    walk(child, loopDepth + (loop ? 1 : 0), facts, context);
}

class Coarsener {
 public:
  Coarsener(clang::ASTContext& context, const std::string& displayName, const std::string& kernel,
            const CoarsenOptions& options, Language language)
      : context_(context),
        sourceManager_(context.getSourceManager()),
        language_(language),
        displayName_(displayName),
        kernel_(kernel),
        options_(options) {}

  Expected<CoarsenedKernel> run() {
    const clang::FunctionDecl* function = findKernel();
    if (function == nullptr) return missingKernelError();
    text_ = sourceManager_.getBufferData(sourceManager_.getMainFileID()).str();

    CoarsenedKernel result;
    result.originalKernel = kernel_;
    result.factor = options_.factor;
    result.dimension = options_.dimension;
    result.mode = options_.mode;
    result.kernelName = fmt::format("{}_cf{}{}{}", kernel_, options_.factor,
                                    options_.mode == CoarsenMode::kStrided ? "s" : "",
                                    options_.dimension == 0 ? "" : fmt::format("_d{}", options_.dimension));
    if (nameTaken(result.kernelName)) {
      return makeError(ErrorCode::kInvalidInput,
                       "{}: cannot name the coarsened kernel '{}': the file already defines it", displayName_,
                       result.kernelName);
    }
    newName_ = result.kernelName;

    BodyFacts facts;
    walk(function->getBody(), 0, facts, walkContext());
    bool localMemory = !facts.localVariables.empty();  // __local or __shared__
    for (const clang::ParmVarDecl* parameter : function->parameters()) {
      if (parameter->getType()->isPointerType() &&
          parameter->getType()->getPointeeType().getAddressSpace() == clang::LangAS::opencl_local) {
        localMemory = true;
      }
    }
    const bool barriers =
        std::any_of(facts.queries.begin(), facts.queries.end(),
                    [](const BodyFacts::Query& q) { return q.query == WorkItemQuery::kBarrier; });
    scheme_ = barriers || localMemory ? WorkGroupScheme::kSplitWorkGroup : WorkGroupScheme::kKeepLocalSize;
    result.scheme = scheme_;
    result.sizeTransform = describeSizes();

    std::optional<Refused> refusal = checkCallees(function);
    if (!refusal) refusal = remapQueries(facts);
    if (!refusal) refusal = checkParameters(function);
    if (!refusal) {
      auto text = scheme_ == WorkGroupScheme::kKeepLocalSize ? rewriteKeepLocalSize(function)
                                                             : rewriteSplitWorkGroup(function, facts);
      if (std::holds_alternative<Refused>(text)) {
        refusal = std::get<Refused>(text);
      } else {
        result.text = std::get<std::string>(text);
      }
    }
    if (refusal) {
      result.refusal = refusal->reason;
      result.refusalMessage = refusal->message;
      result.text.clear();
    }
    return result;
  }

 private:
  using RewriteResult = std::variant<std::string, Refused>;

  WalkContext walkContext() const { return {language_, sourceManager_}; }
  bool cuda() const { return language_ == Language::kCuda; }
  // The integer type of the item index in the generated code.
  const char* indexType() const { return cuda() ? "unsigned int" : "uint"; }

  bool isKernel(const clang::FunctionDecl* function) const {
    return cuda() ? function->hasAttr<clang::CUDAGlobalAttr>() : function->hasAttr<clang::OpenCLKernelAttr>();
  }

  const clang::FunctionDecl* findKernel() const {
    for (const clang::Decl* decl : context_.getTranslationUnitDecl()->decls()) {
      const auto* function = llvm::dyn_cast<clang::FunctionDecl>(decl);
      if (function != nullptr && function->getName() == kernel_ && function->doesThisDeclarationHaveABody() &&
          isKernel(function) &&
          sourceManager_.isInMainFile(sourceManager_.getExpansionLoc(function->getLocation()))) {
        return function;
      }
    }
    return nullptr;
  }

  Error missingKernelError() const {
    std::vector<std::string> kernels;
    for (const clang::Decl* decl : context_.getTranslationUnitDecl()->decls()) {
      const auto* function = llvm::dyn_cast<clang::FunctionDecl>(decl);
      if (function != nullptr && function->doesThisDeclarationHaveABody() && isKernel(function)) {
        kernels.push_back(function->getName().str());
      }
    }
    return makeError(ErrorCode::kInvalidInput,
                     "{}: no kernel named '{}' is defined in the file (kernels: {})", displayName_, kernel_,
                     kernels.empty() ? "none" : fmt::format("{}", fmt::join(kernels, ", ")));
  }

  bool nameTaken(const std::string& name) const {
    for (const clang::Decl* decl : context_.getTranslationUnitDecl()->decls()) {
      const auto* named = llvm::dyn_cast<clang::NamedDecl>(decl);
      if (named != nullptr && named->getIdentifier() != nullptr && named->getName() == name) return true;
    }
    return false;
  }

  unsigned line(clang::SourceLocation location) const {
    return sourceManager_.getExpansionLineNumber(location);
  }

  Refused refuse(CoarsenRefusal reason, clang::SourceLocation location, const std::string& what) const {
    return {reason, fmt::format("{}:{}: cannot coarsen kernel '{}': {}", displayName_, line(location),
                                kernel_, what)};
  }

  std::string describeSizes() const {
    const unsigned d = options_.dimension;
    if (scheme_ == WorkGroupScheme::kKeepLocalSize) {
      return fmt::format("global[{0}] = G/{1}, local[{0}] = L (unchanged; G/{1} must be a multiple of L)", d,
                         options_.factor);
    }
    return fmt::format("global[{0}] = G/{1}, local[{0}] = L/{1} (the number of work-groups is unchanged)", d,
                       options_.factor);
  }

  // Offset in the main file of a location that must be edited, or nullopt when it comes from a macro.
  std::optional<std::size_t> editableOffset(clang::SourceLocation location) const {
    if (!location.isFileID() || !sourceManager_.isInMainFile(location)) return std::nullopt;
    return sourceManager_.getFileOffset(location);
  }

  // Offsets of a range that is only copied: macro expansions count as their whole expansion.
  std::size_t beginOffset(clang::SourceLocation location) const {
    return sourceManager_.getFileOffset(sourceManager_.getExpansionLoc(location));
  }
  std::size_t endOffsetOfToken(clang::SourceLocation location) const {
    clang::SourceLocation end = sourceManager_.getExpansionRange(location).getEnd();
    clang::SourceLocation after =
        clang::Lexer::getLocForEndOfToken(end, 0, sourceManager_, context_.getLangOpts());
    return sourceManager_.getFileOffset(after);
  }

  std::optional<Refused> checkCallees(const clang::FunctionDecl* kernel) const {
    // Depth-first over the call graph; a callee already on the path is recursion.
    std::vector<const clang::FunctionDecl*> path = {kernel};
    std::set<const clang::FunctionDecl*> checked;
    std::function<std::optional<Refused>(const clang::FunctionDecl*)> visit =
        [&](const clang::FunctionDecl* function) -> std::optional<Refused> {
      BodyFacts facts;
      walk(function->getBody(), 0, facts, walkContext());
      if (function != kernel) {
        for (const BodyFacts::Query& query : facts.queries) {
          if (query.query == WorkItemQuery::kUnchanged) continue;
          return refuse(
              CoarsenRefusal::kWorkItemQueryInHelper, query.expression->getBeginLoc(),
              fmt::format("function '{}' {} {} (only the kernel's own work-item queries are remapped)",
                          function->getName().str(), query.component ? "reads" : "calls", query.name));
        }
      }
      for (const clang::FunctionDecl* callee : facts.callees) {
        if (std::find(path.begin(), path.end(), callee) != path.end()) {
          return refuse(CoarsenRefusal::kRecursion, callee->getLocation(),
                        fmt::format("function '{}' is called recursively", callee->getName().str()));
        }
        if (!checked.insert(callee).second) continue;
        path.push_back(callee);
        if (auto refused = visit(callee)) return refused;
        path.pop_back();
      }
      return std::nullopt;
    };
    return visit(kernel);
  }

  std::optional<Refused> checkParameters(const clang::FunctionDecl* kernel) const {
    for (const clang::ParmVarDecl* parameter : kernel->parameters()) {
      if (parameter->getName().empty()) {
        return refuse(CoarsenRefusal::kUnnamedParameter, parameter->getBeginLoc(),
                      "a parameter has no name, so the coarsened kernel cannot pass it on");
      }
    }
    if (scheme_ == WorkGroupScheme::kSplitWorkGroup && kernel->hasAttr<clang::ReqdWorkGroupSizeAttr>()) {
      return refuse(
          CoarsenRefusal::kRequiredWorkGroupSize, kernel->getLocation(),
          "reqd_work_group_size fixes the local size, which coarsening a kernel with barriers or local "
          "memory must divide");
    }
    return std::nullopt;
  }

  // Edits that turn every remapped work-item call `q(d)` into `<new>_q(d, mirtune_k)`.
  std::optional<Refused> remapQueries(const BodyFacts& facts) {
    for (const BodyFacts::Query& query : facts.queries) {
      const std::string& name = query.name;
      if (query.query == WorkItemQuery::kUnsupported) {
        return refuse(CoarsenRefusal::kUnsupportedQuery, query.expression->getBeginLoc(),
                      fmt::format("{} has no per-item remapping", name));
      }
      if (query.query == WorkItemQuery::kBarrier || query.query == WorkItemQuery::kUnchanged) continue;
      if (query.component && *query.component != options_.dimension) continue;
      if (!remappedQuery(query.query, scheme_, options_.mode, options_.dimension, options_.factor, language_))
        continue;
      if (query.component) {
        // `threadIdx.x` -> `<new>_threadIdx_x(mirtune_k)`
        std::optional<std::size_t> begin = editableOffset(query.expression->getBeginLoc());
        std::optional<std::size_t> last = editableOffset(query.last);
        if (!begin || !last) {
          return refuse(CoarsenRefusal::kMacroExpansion, query.expression->getBeginLoc(),
                        fmt::format("the use of {} comes from a macro expansion", name));
        }
        edits_.push_back(
            {*begin, *last + 1,
             fmt::format("{}_{}_{}({})", newName_, name, kComponents[*query.component], kItemIndex)});
        usedQueries_.insert(query.query);
        continue;
      }
      const auto* call = llvm::cast<clang::CallExpr>(query.expression);
      const auto* callee = llvm::dyn_cast<clang::DeclRefExpr>(call->getCallee()->IgnoreParenImpCasts());
      std::optional<std::size_t> nameOffset;
      if (callee != nullptr) nameOffset = editableOffset(callee->getLocation());
      std::optional<std::size_t> parenOffset = editableOffset(call->getRParenLoc());
      if (!nameOffset.has_value() || !parenOffset.has_value()) {
        return refuse(CoarsenRefusal::kMacroExpansion, call->getBeginLoc(),
                      fmt::format("the call to {} comes from a macro expansion", name));
      }
      edits_.push_back({*nameOffset, *nameOffset + name.size(), fmt::format("{}_{}", newName_, name)});
      edits_.push_back({*parenOffset, *parenOffset, fmt::format(", {}", kItemIndex)});
      usedQueries_.insert(query.query);
    }
    return std::nullopt;
  }

  // text_[begin, end) with the edits inside it applied.
  std::string applyEdits(std::size_t begin, std::size_t end) const {
    std::vector<const Edit*> inside;
    for (const Edit& edit : edits_) {
      if (edit.begin >= begin && edit.end <= end) inside.push_back(&edit);
    }
    std::stable_sort(inside.begin(), inside.end(),
                     [](const Edit* a, const Edit* b) { return a->begin < b->begin; });
    std::string out;
    std::size_t cursor = begin;
    for (const Edit* edit : inside) {
      out.append(text_, cursor, edit->begin - cursor);
      out += edit->text;
      cursor = edit->end;
    }
    out.append(text_, cursor, end - cursor);
    return out;
  }

  // The remapping functions the rewritten body calls.
  std::string queryFunctions() const {
    std::string out;
    for (WorkItemQuery query : usedQueries_) {
      std::string expression =
          *remappedQuery(query, scheme_, options_.mode, options_.dimension, options_.factor, language_);
      if (cuda()) {
        out += fmt::format(
            "static __device__ __forceinline__ unsigned int {}_{}_{}(unsigned int k) {{\n  return (unsigned "
            "int)({});\n}}\n",
            newName_, cudaVariableName(query), kComponents[options_.dimension], expression);
        continue;
      }
      const std::string_view name = openClQueryName(query);
      out += fmt::format(
          "size_t {}_{}(uint dim, uint k) {{\n  return dim == {}u ? (size_t)({}) : {}(dim);\n}}\n", newName_,
          name, options_.dimension, expression, name);
    }
    return out;
  }

  std::string banner() const {
    return fmt::format(
        "\n\n// {}: kernel '{}' coarsened by mirtune, factor {} in dimension {} ({}, {}).\n// Launch: {}.\n",
        newName_, kernel_, options_.factor, options_.dimension, coarsenModeName(options_.mode),
        workGroupSchemeName(scheme_), describeSizes());
  }

  // The kernel's text from its first token to its body's opening brace, renamed.
  std::optional<std::string> renamedHeader(const clang::FunctionDecl* function) const {
    std::optional<std::size_t> name = editableOffset(function->getLocation());
    if (!name) return std::nullopt;
    const std::size_t begin = beginOffset(function->getBeginLoc());
    const std::size_t brace = sourceManager_.getFileOffset(
        sourceManager_.getExpansionLoc(llvm::cast<clang::CompoundStmt>(function->getBody())->getLBracLoc()));
    return text_.substr(begin, *name - begin) + newName_ +
           text_.substr(*name + kernel_.size(), brace - *name - kernel_.size());
  }

  std::size_t bodyEnd(const clang::FunctionDecl* function) const {
    return sourceManager_.getFileOffset(sourceManager_.getExpansionLoc(
               llvm::cast<clang::CompoundStmt>(function->getBody())->getRBracLoc())) +
           1;
  }

  // Scheme kKeepLocalSize: the body becomes a function of the item index, called F times.
  RewriteResult rewriteKeepLocalSize(const clang::FunctionDecl* function) const {
    auto header = renamedHeader(function);
    clang::FunctionTypeLoc typeLoc = function->getFunctionTypeLoc();
    if (!header || !typeLoc) {
      return refuse(CoarsenRefusal::kMacroExpansion, function->getLocation(),
                    "the kernel's name or parameter list comes from a macro expansion");
    }
    const std::size_t lparen = beginOffset(typeLoc.getLParenLoc()) + 1;
    const std::size_t rparen = beginOffset(typeLoc.getRParenLoc());
    std::string parameters =
        function->getNumParams() == 0 ? std::string() : text_.substr(lparen, rparen - lparen) + ", ";
    std::vector<std::string> arguments;
    for (const clang::ParmVarDecl* parameter : function->parameters())
      arguments.push_back(parameter->getName().str());
    arguments.push_back(kItemIndex);

    const auto* body = llvm::cast<clang::CompoundStmt>(function->getBody());
    const std::size_t bodyBegin = beginOffset(body->getLBracLoc());
    const std::size_t end = bodyEnd(function);
    std::string out = text_.substr(0, end) + banner() + queryFunctions();
    out += fmt::format("{}void {}_item({}{} {}) {}\n", cuda() ? "static __device__ " : "", newName_,
                       parameters, indexType(), kItemIndex, applyEdits(bodyBegin, end));
    out += *header + "{\n";
    out += fmt::format("  for ({4} {0} = 0; {0} < {1}u; ++{0}) {2}_item({3});\n}}", kItemIndex,
                       options_.factor, newName_, fmt::join(arguments, ", "), indexType());
    return out + text_.substr(end);
  }

  // Scheme kSplitWorkGroup: the body is cut at its top-level barriers into phases, each looped over k.
  RewriteResult rewriteSplitWorkGroup(const clang::FunctionDecl* function, const BodyFacts& facts) {
    auto header = renamedHeader(function);
    if (!header) {
      return refuse(CoarsenRefusal::kMacroExpansion, function->getLocation(),
                    "the kernel's name comes from a macro expansion");
    }
    const auto* body = llvm::cast<clang::CompoundStmt>(function->getBody());
    // Top-level barriers split the body; any other barrier is inside control flow.
    std::set<const clang::Stmt*> splitters;
    for (const clang::Stmt* statement : body->body()) {
      if (const auto* call = llvm::dyn_cast<clang::CallExpr>(statement)) {
        const clang::FunctionDecl* callee = directCallee(call);
        if (callee != nullptr &&
            walkContext().query(callee, callee->getDefinition()) == WorkItemQuery::kBarrier) {
          splitters.insert(call);
        }
      }
    }
    for (const BodyFacts::Query& query : facts.queries) {
      if (query.query == WorkItemQuery::kBarrier && splitters.count(query.expression) == 0) {
        return refuse(CoarsenRefusal::kBarrierInControlFlow, query.expression->getBeginLoc(),
                      "a barrier inside a loop or branch cannot be kept valid when work-items are merged");
      }
    }
    // Phase boundaries as text: [phaseBegin[i], phaseEnd[i]); barrier statements in between are kept.
    std::vector<std::size_t> phaseBegin = {beginOffset(body->getLBracLoc()) + 1};
    std::vector<std::size_t> phaseEnd;
    std::vector<std::string> barrierText;
    for (const clang::Stmt* statement : body->body()) {
      if (splitters.count(statement) == 0) continue;
      const auto* call = llvm::cast<clang::CallExpr>(statement);
      std::optional<std::size_t> begin = editableOffset(call->getBeginLoc());
      std::optional<std::size_t> rparen = editableOffset(call->getRParenLoc());
      if (!begin || !rparen) {
        return refuse(CoarsenRefusal::kMacroExpansion, call->getBeginLoc(),
                      "the barrier comes from a macro expansion");
      }
      std::size_t semicolon = text_.find(';', *rparen);
      if (semicolon == std::string::npos)
        return refuse(CoarsenRefusal::kMacroExpansion, call->getBeginLoc(), "no ';' after the barrier");
      phaseEnd.push_back(*begin);
      barrierText.push_back(text_.substr(*begin, semicolon + 1 - *begin));
      phaseBegin.push_back(semicolon + 1);
    }
    phaseEnd.push_back(beginOffset(body->getRBracLoc()));
    const std::size_t phases = phaseBegin.size();
    auto phaseOf = [&](clang::SourceLocation location) {
      const std::size_t offset = beginOffset(location);
      for (std::size_t i = 0; i < phases; ++i) {
        if (offset < phaseEnd[i]) return i;
      }
      return phases - 1;
    };

    // __local declarations move in front of the phases (they stay at kernel scope).
    std::string hoisted;
    std::vector<std::string> arrays;
    std::set<const clang::VarDecl*> carried;
    for (const clang::Stmt* statement : body->body()) {
      const auto* declaration = llvm::dyn_cast<clang::DeclStmt>(statement);
      if (declaration == nullptr) continue;
      const auto* first = llvm::dyn_cast<clang::VarDecl>(*declaration->decl_begin());
      if (first == nullptr) continue;
      if (isLocalMemory(first)) {
        std::optional<std::size_t> begin = editableOffset(declaration->getBeginLoc());
        // CUDA's __shared__ is the shim's macro: the declaration starts where its expansion does.
        if (!begin && cuda() && declaration->getBeginLoc().isMacroID() &&
            sourceManager_.isInMainFile(sourceManager_.getExpansionLoc(declaration->getBeginLoc()))) {
          begin = beginOffset(declaration->getBeginLoc());
        }
        std::optional<std::size_t> end = editableOffset(declaration->getEndLoc());
        if (!begin || !end) {
          return refuse(CoarsenRefusal::kMacroExpansion, declaration->getBeginLoc(),
                        "a __local or __shared__ declaration comes from a macro expansion");
        }
        hoisted += "  " + text_.substr(*begin, *end + 1 - *begin) + "\n";
        edits_.push_back({*begin, *end + 1, ""});
        continue;
      }
      // Private values declared in one phase and used in a later one need one copy per item.
      const std::size_t declaredIn = phaseOf(declaration->getBeginLoc());
      bool live = false;
      for (const clang::DeclRefExpr* reference : facts.variableReferences) {
        for (const clang::Decl* decl : declaration->decls()) {
          if (reference->getDecl() == decl && phaseOf(reference->getLocation()) > declaredIn) live = true;
        }
      }
      if (!live) continue;
      if (auto refused = carryDeclaration(declaration, arrays, carried)) return *refused;
    }
    for (const clang::DeclRefExpr* reference : facts.variableReferences) {
      const auto* variable = llvm::dyn_cast<clang::VarDecl>(reference->getDecl());
      if (carried.count(variable) == 0) continue;
      std::optional<std::size_t> offset = editableOffset(reference->getLocation());
      if (!offset) {
        return refuse(CoarsenRefusal::kMacroExpansion, reference->getLocation(),
                      fmt::format("a use of '{}' (live across a barrier) comes from a macro expansion",
                                  variable->getName().str()));
      }
      edits_.push_back({*offset, *offset + variable->getName().size(),
                        fmt::format("{}[{}]", variable->getName().str(), kItemIndex)});
    }
    // `return` ends this item's part of the last phase; earlier, it would skip a barrier.
    for (const BodyFacts::Return& returned : facts.returns) {
      const std::size_t phase = phaseOf(returned.statement->getBeginLoc());
      if (phase + 1 < phases) {
        return refuse(CoarsenRefusal::kUnsupportedReturn, returned.statement->getBeginLoc(),
                      "a return before a barrier would skip the barrier for the merged work-items");
      }
      if (returned.loopDepth > 0) {
        return refuse(CoarsenRefusal::kUnsupportedReturn, returned.statement->getBeginLoc(),
                      "a return inside a loop or switch cannot become 'continue' of the work-item loop");
      }
      std::optional<std::size_t> offset = editableOffset(returned.statement->getBeginLoc());
      if (!offset) {
        return refuse(CoarsenRefusal::kMacroExpansion, returned.statement->getBeginLoc(),
                      "a return comes from a macro expansion");
      }
      edits_.push_back({*offset, *offset + 6, "continue"});
    }

    const std::size_t end = bodyEnd(function);
    std::string out = text_.substr(0, end) + banner() + queryFunctions() + *header + "{\n" + hoisted;
    for (const std::string& array : arrays) out += "  " + array + ";\n";
    for (std::size_t i = 0; i < phases; ++i) {
      out +=
          fmt::format("  for ({2} {0} = 0; {0} < {1}u; ++{0}) {{", kItemIndex, options_.factor, indexType());
      out += applyEdits(phaseBegin[i], phaseEnd[i]);
      out += "}\n";
      if (i < barrierText.size()) out += "  " + barrierText[i] + "\n";
    }
    out += "}";
    return out + text_.substr(end);
  }

  // Turns `T a = x, b = y;` into `a[k] = x, b[k] = y;` and declares `T a[F]; T b[F];` up front.
  std::optional<Refused> carryDeclaration(const clang::DeclStmt* declaration,
                                          std::vector<std::string>& arrays,
                                          std::set<const clang::VarDecl*>& carried) {
    clang::PrintingPolicy policy = context_.getPrintingPolicy();
    bool first = true;
    for (const clang::Decl* decl : declaration->decls()) {
      const auto* variable = llvm::dyn_cast<clang::VarDecl>(decl);
      const std::string name = variable ? variable->getName().str() : std::string();
      if (variable == nullptr || variable->getType()->isArrayType() || variable->isStaticLocal() ||
          (variable->hasInit() && llvm::isa<clang::InitListExpr>(variable->getInit()->IgnoreImplicit()))) {
        return refuse(CoarsenRefusal::kValueLiveAcrossBarrier, declaration->getBeginLoc(),
                      fmt::format("'{}' is used after a barrier but is an array or brace-initialised", name));
      }
      std::optional<std::size_t> nameOffset = editableOffset(variable->getLocation());
      std::optional<std::size_t> start = editableOffset(declaration->getBeginLoc());
      if (!nameOffset || !start) {
        return refuse(CoarsenRefusal::kMacroExpansion, declaration->getBeginLoc(),
                      fmt::format("the declaration of '{}' comes from a macro expansion", name));
      }
      std::size_t from = *start;
      if (!first) {
        // Later declarators: replace from just after the comma; a `*` there would belong to the type.
        std::size_t comma = text_.find_last_not_of(" \t\r\n", *nameOffset - 1);
        if (comma == std::string::npos || text_[comma] != ',') {
          return refuse(
              CoarsenRefusal::kValueLiveAcrossBarrier, variable->getLocation(),
              fmt::format("'{}' is used after a barrier and declared with a pointer declarator after a comma",
                          name));
        }
        from = comma + 1;
      }
      edits_.push_back(
          {from, *nameOffset + name.size(), fmt::format("{}{}[{}]", first ? "" : " ", name, kItemIndex)});
      std::string declared;
      llvm::raw_string_ostream stream(declared);
      variable->getType().getUnqualifiedType().print(stream, policy,
                                                     fmt::format("{}[{}]", name, options_.factor));
      stream.flush();
      arrays.push_back(declared);
      carried.insert(variable);
      first = false;
    }
    return std::nullopt;
  }

  clang::ASTContext& context_;
  clang::SourceManager& sourceManager_;
  Language language_;
  std::string displayName_;
  std::string kernel_;
  CoarsenOptions options_;
  std::string text_;
  std::string newName_;
  WorkGroupScheme scheme_ = WorkGroupScheme::kKeepLocalSize;
  std::vector<Edit> edits_;
  std::set<WorkItemQuery> usedQueries_;
};

// Runs the Coarsener on the parsed translation unit (only when Clang reported no error).
class CoarsenConsumer : public clang::ASTConsumer {
 public:
  CoarsenConsumer(std::function<void(clang::ASTContext&)> onParsed) : onParsed_(std::move(onParsed)) {}
  void HandleTranslationUnit(clang::ASTContext& context) override {
    if (!context.getDiagnostics().hasErrorOccurred()) onParsed_(context);
  }

 private:
  std::function<void(clang::ASTContext&)> onParsed_;
};

class CoarsenAction : public clang::ASTFrontendAction {
 public:
  explicit CoarsenAction(std::function<void(clang::ASTContext&)> onParsed) : onParsed_(std::move(onParsed)) {}

 protected:
  std::unique_ptr<clang::ASTConsumer> CreateASTConsumer(clang::CompilerInstance&, llvm::StringRef) override {
    return std::make_unique<CoarsenConsumer>(onParsed_);
  }

 private:
  std::function<void(clang::ASTContext&)> onParsed_;
};

}  // namespace

std::string_view coarsenRefusalName(CoarsenRefusal refusal) {
  switch (refusal) {
    case CoarsenRefusal::kBarrierInControlFlow:
      return "barrier_in_control_flow";
    case CoarsenRefusal::kValueLiveAcrossBarrier:
      return "value_live_across_barrier";
    case CoarsenRefusal::kUnsupportedReturn:
      return "unsupported_return";
    case CoarsenRefusal::kWorkItemQueryInHelper:
      return "work_item_query_in_helper";
    case CoarsenRefusal::kRecursion:
      return "recursion";
    case CoarsenRefusal::kUnsupportedQuery:
      return "unsupported_query";
    case CoarsenRefusal::kMacroExpansion:
      return "macro_expansion";
    case CoarsenRefusal::kRequiredWorkGroupSize:
      return "required_work_group_size";
    case CoarsenRefusal::kUnnamedParameter:
      return "unnamed_parameter";
  }
  return "unknown";
}

std::string_view coarsenModeName(CoarsenMode mode) {
  return mode == CoarsenMode::kConsecutive ? "consecutive" : "strided";
}

std::optional<CoarsenMode> parseCoarsenMode(std::string_view name) {
  if (name == "consecutive") return CoarsenMode::kConsecutive;
  if (name == "strided") return CoarsenMode::kStrided;
  return std::nullopt;
}

std::string_view workGroupSchemeName(WorkGroupScheme scheme) {
  return scheme == WorkGroupScheme::kKeepLocalSize ? "keep_local_size" : "split_work_group";
}

namespace {
Expected<CoarsenedKernel> coarsenKernelHere(const fs::path& source, const std::string& kernel,
                                            const CoarsenOptions& options);
}  // namespace

Expected<CoarsenedKernel> coarsenKernel(const fs::path& source, const std::string& kernel,
                                        const CoarsenOptions& options) {
  // The source is parsed by Clang in this process: tried in a child first, so a compiler crash on it is an
  // error for this file, then done here on a stack as deep as the child's.
  auto coarsen = [&] { return coarsenKernelHere(source, kernel, options); };
  if (Status trial = trialRun(source.string(), [&] { (void)coarsen(); }); !trial) return trial.error();
  std::optional<Expected<CoarsenedKernel>> result;
  runOnStack(kTrialStackBytes, [&] { result.emplace(coarsen()); });
  return std::move(*result);
}

namespace {
Expected<CoarsenedKernel> coarsenKernelHere(const fs::path& source, const std::string& kernel,
                                            const CoarsenOptions& options) {
  if (options.factor == 0 || options.factor > 1024 || (options.factor & (options.factor - 1)) != 0) {
    return makeError(ErrorCode::kUsage, "coarsening factor must be a power of two from 1 to 1024, got {}",
                     options.factor);
  }
  if (options.dimension > 2) {
    return makeError(ErrorCode::kUsage, "coarsening dimension must be 0, 1 or 2, got {}", options.dimension);
  }
  const std::string displayName = source.string();
  const std::optional<Language> named = languageFromExtension(source.extension().string());
  if (named != Language::kOpenCl && named != Language::kCuda) {
    return makeError(ErrorCode::kInvalidInput,
                     "{}: coarsening reads OpenCL C (.cl) or CUDA (.cu) sources; this file's extension is neither",
                     displayName);
  }
  const Language language = *named;
  auto content = readFile(source);
  if (!content) return content.error();
  if (content->find_first_not_of(" \t\r\n\f\v") == std::string::npos) {
    return makeError(ErrorCode::kInvalidInput, "{}: empty file (no {} code in it)", displayName,
                     languageDisplayName(language));
  }

  ClangJob job{driverArguments(language, compileOptionsFor(options.buildOptions, language)), displayName,
               displayName, clangFileSystem()};
  ClangDiagnostics diagnosticsSink;
  auto compiler = createCompilerInstance(job, diagnosticsSink);
  if (!compiler) return compiler.error();

  std::optional<Expected<CoarsenedKernel>> result;
  CoarsenAction action([&](clang::ASTContext& context) {
    result = Coarsener(context, displayName, kernel, options, language).run();
  });
  const bool ok = (*compiler)->ExecuteAction(action);
  if (!ok || (*compiler)->getDiagnostics().hasErrorOccurred() || !result) {
    return diagnosticsSink.compileError(displayName);
  }
  if (result->ok() && (*result)->refused()) logDebug("{}", (*result)->refusalMessage);
  return std::move(*result);
}
}  // namespace

Expected<NdRange> checkNdRange(const std::vector<std::uint64_t>& global,
                               const std::vector<std::uint64_t>& local, const CoarsenOptions& options,
                               WorkGroupScheme scheme) {
  const unsigned d = options.dimension;
  const std::uint64_t f = options.factor;
  if (f == 0) return makeError(ErrorCode::kUsage, "coarsening factor must be at least 1");
  if (d >= global.size()) {
    return makeError(ErrorCode::kInvalidInput,
                     "the NDRange has {} dimension{}, so dimension {} cannot be coarsened", global.size(),
                     global.size() == 1 ? "" : "s", d);
  }
  if (!local.empty() && local.size() != global.size()) {
    return makeError(ErrorCode::kInvalidInput, "local size has {} dimensions but global size has {}",
                     local.size(), global.size());
  }
  if (global[d] % f != 0) {
    return makeError(ErrorCode::kInvalidInput,
                     "global size {} in dimension {} is not a multiple of the factor {}", global[d], d, f);
  }
  NdRange range{global, local};
  range.global[d] = global[d] / f;
  if (scheme == WorkGroupScheme::kKeepLocalSize) {
    if (!local.empty() && (local[d] == 0 || range.global[d] % local[d] != 0)) {
      return makeError(
          ErrorCode::kInvalidInput,
          "global size {} / factor {} = {} in dimension {} is not a multiple of the local size {}", global[d],
          f, range.global[d], d, local[d]);
    }
    return range;
  }
  if (local.empty()) {
    return makeError(ErrorCode::kInvalidInput,
                     "a kernel with barriers or local memory needs an explicit local size to be coarsened");
  }
  if (local[d] % f != 0) {
    return makeError(ErrorCode::kInvalidInput,
                     "local size {} in dimension {} is not a multiple of the factor {}", local[d], d, f);
  }
  range.local[d] = local[d] / f;
  return range;
}

Expected<NdRange> checkNdRange(const std::vector<std::uint64_t>& global,
                               const std::vector<std::uint64_t>& local, const CoarsenedKernel& kernel) {
  CoarsenOptions options;
  options.factor = kernel.factor;
  options.dimension = kernel.dimension;
  options.mode = kernel.mode;
  return checkNdRange(global, local, options, kernel.scheme);
}

}  // namespace mirtune
