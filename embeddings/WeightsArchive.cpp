// A LibTorch-free reader of torch::save's module archive: the zip's central directory, the pickle that maps
// parameter names to storages (the small subset of pickle protocol 2 torch::save emits), and the raw storages.
#include "embeddings/WeightsArchive.h"

#include "support/Files.h"

#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <unordered_map>

namespace mirtune {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the archive's storages are little-endian floats");

std::int64_t WeightTensor::elementCount() const {
  std::int64_t count = 1;
  for (std::int64_t d : shape) count *= d;
  return count;
}

namespace {

// ---------------------------------------------------------------------------------------------------------------
// Zip: stored (uncompressed) entries located through the central directory.

struct ZipEntry {
  std::size_t offset = 0;  ///< of the data
  std::size_t size = 0;
  std::uint16_t method = 0;  ///< 0: stored; anything else cannot be read here
};

std::uint32_t readU32(const std::string& bytes, std::size_t at) {
  std::uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes[at + static_cast<std::size_t>(i)]);
  return value;
}

std::uint16_t readU16(const std::string& bytes, std::size_t at) {
  return static_cast<std::uint16_t>(static_cast<unsigned char>(bytes[at]) |
                                    (static_cast<unsigned char>(bytes[at + 1]) << 8));
}

Expected<std::unordered_map<std::string, ZipEntry>> readZipDirectory(const std::string& bytes, const std::string& name) {
  constexpr std::uint32_t kEndSignature = 0x06054b50, kEntrySignature = 0x02014b50, kLocalSignature = 0x04034b50;
  constexpr std::size_t kEndSize = 22, kEntrySize = 46, kLocalSize = 30;
  if (bytes.size() < kEndSize) return makeError(ErrorCode::kInvalidInput, "{}: not a weights archive (too short)", name);
  // The end record sits in the last 22 bytes plus at most a 64 KiB comment.
  std::optional<std::size_t> end;
  const std::size_t lowest = bytes.size() > kEndSize + 65535 ? bytes.size() - kEndSize - 65535 : 0;
  for (std::size_t at = bytes.size() - kEndSize + 1; at-- > lowest;) {
    if (readU32(bytes, at) == kEndSignature) {
      end = at;
      break;
    }
  }
  if (!end) return makeError(ErrorCode::kInvalidInput, "{}: not a weights archive (no zip directory)", name);
  const std::size_t entries = readU16(bytes, *end + 10);
  const std::size_t directorySize = readU32(bytes, *end + 12);
  const std::size_t directoryOffset = readU32(bytes, *end + 16);
  if (entries == 0xFFFF || directorySize == 0xFFFFFFFFu || directoryOffset == 0xFFFFFFFFu) {
    return makeError(ErrorCode::kVersion, "{}: zip64 archives are not supported (weights over 4 GiB?)", name);
  }
  if (directoryOffset > *end || directorySize > *end - directoryOffset) {
    return makeError(ErrorCode::kInvalidInput, "{}: zip directory lies outside the file", name);
  }
  std::unordered_map<std::string, ZipEntry> result;
  std::size_t at = directoryOffset;
  for (std::size_t i = 0; i < entries; ++i) {
    if (at + kEntrySize > *end || readU32(bytes, at) != kEntrySignature)
      return makeError(ErrorCode::kInvalidInput, "{}: zip directory entry {} is malformed", name, i);
    const std::uint16_t method = readU16(bytes, at + 10);
    const std::size_t compressed = readU32(bytes, at + 20);
    const std::size_t uncompressed = readU32(bytes, at + 24);
    const std::size_t nameLength = readU16(bytes, at + 28);
    const std::size_t extraLength = readU16(bytes, at + 30);
    const std::size_t commentLength = readU16(bytes, at + 32);
    const std::size_t local = readU32(bytes, at + 42);
    if (at + kEntrySize + nameLength > *end)
      return makeError(ErrorCode::kInvalidInput, "{}: zip directory entry {} is malformed", name, i);
    std::string entryName = bytes.substr(at + kEntrySize, nameLength);
    if (local + kLocalSize > bytes.size() || readU32(bytes, local) != kLocalSignature)
      return makeError(ErrorCode::kInvalidInput, "{}: entry {} has no local header", name, entryName);
    const std::size_t data = local + kLocalSize + readU16(bytes, local + 26) + readU16(bytes, local + 28);
    if (data > bytes.size() || compressed > bytes.size() - data)
      return makeError(ErrorCode::kInvalidInput, "{}: entry {} runs past the end of the file", name, entryName);
    // Only the pickle and the storages are read, and torch::save stores those uncompressed (its code entries are
    // deflated, and skipped).
    result[std::move(entryName)] = ZipEntry{data, method == 0 && compressed == uncompressed ? uncompressed : compressed, method};
    at += kEntrySize + nameLength + extraLength + commentLength;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// Pickle: the opcodes torch::save writes for a module tree of tensors.

struct PickleValue;
using ValuePtr = std::shared_ptr<PickleValue>;

struct PickleValue {
  enum class Kind { kNone, kBool, kInt, kString, kTuple, kDict, kObject, kGlobal, kStorage, kTensor };
  Kind kind = Kind::kNone;
  std::int64_t integer = 0;        ///< kBool, kInt; kStorage: element count
  std::string text;                ///< kString; kGlobal "module name"; kObject class; kStorage key
  std::string dtype;               ///< kStorage: "torch FloatStorage", ...
  std::vector<ValuePtr> items;     ///< kTuple
  std::vector<std::pair<ValuePtr, ValuePtr>> entries;  ///< kDict; kObject: its state
  ValuePtr storage;                ///< kTensor
  std::int64_t storageOffset = 0;  ///< kTensor
  std::vector<std::int64_t> shape, strides;  ///< kTensor
};

ValuePtr makeValue(PickleValue::Kind kind) {
  auto value = std::make_shared<PickleValue>();
  value->kind = kind;
  return value;
}

class PickleReader {
 public:
  PickleReader(const std::string& bytes, std::string name) : bytes_(bytes), name_(std::move(name)) {}

  Expected<ValuePtr> run() {
    while (true) {
      auto opcode = byte();
      if (!opcode) return opcode.error();
      Status step = apply(*opcode);
      if (!step) return step.error();
      if (stopped_) break;
    }
    if (stack_.size() != 1) return fail("the pickle leaves {} values", stack_.size());
    return stack_.back();
  }

 private:
  template <typename... Args>
  Error fail(fmt::format_string<Args...> format, Args&&... args) const {
    return makeError(ErrorCode::kInvalidInput, "{}: data.pkl at byte {}: {}", name_, position_,
                     fmt::format(format, std::forward<Args>(args)...));
  }

  Expected<std::uint8_t> byte() {
    if (position_ >= bytes_.size()) return fail("ends without STOP");
    return static_cast<std::uint8_t>(bytes_[position_++]);
  }
  Expected<std::uint64_t> littleEndian(std::size_t width) {
    if (bytes_.size() - position_ < width) return fail("truncated argument");
    std::uint64_t value = 0;
    for (std::size_t i = width; i-- > 0;) value = (value << 8) | static_cast<unsigned char>(bytes_[position_ + i]);
    position_ += width;
    return value;
  }
  Expected<std::string> line() {
    std::size_t newline = bytes_.find('\n', position_);
    if (newline == std::string::npos) return fail("unterminated GLOBAL");
    std::string text = bytes_.substr(position_, newline - position_);
    position_ = newline + 1;
    return text;
  }
  Expected<ValuePtr> pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() == marks_.back())) return fail("stack underflow");
    ValuePtr value = stack_.back();
    stack_.pop_back();
    return value;
  }
  Expected<std::vector<ValuePtr>> popToMark() {
    if (marks_.empty()) return fail("no MARK");
    std::vector<ValuePtr> items(stack_.begin() + static_cast<long>(marks_.back()), stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
  }
  Expected<ValuePtr> memoGet(std::uint64_t index) {
    auto found = memo_.find(index);
    if (found == memo_.end()) return fail("memo {} is not set", index);
    return found->second;
  }
  Status push(ValuePtr value) {
    if (stack_.size() > kMaxStack) return fail("stack deeper than {}", kMaxStack);
    stack_.push_back(std::move(value));
    return success();
  }
  Status pushTuple(std::vector<ValuePtr> items) {
    ValuePtr tuple = makeValue(PickleValue::Kind::kTuple);
    tuple->items = std::move(items);
    return push(tuple);
  }
  Status pushInt(std::int64_t integer) {
    ValuePtr value = makeValue(PickleValue::Kind::kInt);
    value->integer = integer;
    return push(value);
  }

  static bool isInt(const ValuePtr& v) { return v && v->kind == PickleValue::Kind::kInt; }
  static bool isIntTuple(const ValuePtr& v) {
    if (!v || v->kind != PickleValue::Kind::kTuple) return false;
    for (const ValuePtr& item : v->items)
      if (!isInt(item)) return false;
    return true;
  }
  static std::vector<std::int64_t> ints(const ValuePtr& tuple) {
    std::vector<std::int64_t> out;
    for (const ValuePtr& item : tuple->items) out.push_back(item->integer);
    return out;
  }

  Expected<ValuePtr> persistentLoad(const ValuePtr& id) {
    // ('storage', <class torch.XStorage>, key, location, element count)
    if (id->kind != PickleValue::Kind::kTuple || id->items.size() != 5 || id->items[0]->kind != PickleValue::Kind::kString ||
        id->items[0]->text != "storage" || id->items[1]->kind != PickleValue::Kind::kGlobal ||
        id->items[2]->kind != PickleValue::Kind::kString || !isInt(id->items[4]) || id->items[4]->integer < 0) {
      return fail("a persistent id that is not a tensor storage");
    }
    ValuePtr storage = makeValue(PickleValue::Kind::kStorage);
    storage->dtype = id->items[1]->text;
    storage->text = id->items[2]->text;
    storage->integer = id->items[4]->integer;
    return storage;
  }

  Expected<ValuePtr> reduce(const ValuePtr& callable, const ValuePtr& arguments) {
    if (callable->kind != PickleValue::Kind::kGlobal || arguments->kind != PickleValue::Kind::kTuple)
      return fail("REDUCE of something other than a known function");
    if (callable->text == "collections OrderedDict") return makeValue(PickleValue::Kind::kDict);
    if (callable->text == "torch._utils _rebuild_tensor_v2") {
      const auto& a = arguments->items;
      if (a.size() < 4 || a[0]->kind != PickleValue::Kind::kStorage || !isInt(a[1]) || !isIntTuple(a[2]) ||
          !isIntTuple(a[3]) || a[2]->items.size() != a[3]->items.size()) {
        return fail("malformed _rebuild_tensor_v2 arguments");
      }
      ValuePtr tensor = makeValue(PickleValue::Kind::kTensor);
      tensor->storage = a[0];
      tensor->storageOffset = a[1]->integer;
      tensor->shape = ints(a[2]);
      tensor->strides = ints(a[3]);
      return tensor;
    }
    return fail("REDUCE of {}, which a module archive does not use", callable->text);
  }

  Status apply(std::uint8_t opcode) {
    switch (opcode) {
      case 0x80: {  // PROTO
        auto version = byte();
        if (!version) return version.error();
        if (*version > 2) return makeError(ErrorCode::kVersion, "{}: pickle protocol {} (2 expected)", name_, *version);
        return success();
      }
      case 'c': {  // GLOBAL
        auto module = line();
        if (!module) return module.error();
        auto symbol = line();
        if (!symbol) return symbol.error();
        ValuePtr global = makeValue(PickleValue::Kind::kGlobal);
        global->text = *module + " " + *symbol;
        return push(global);
      }
      case 'q':    // BINPUT
      case 'r': {  // LONG_BINPUT
        auto index = littleEndian(opcode == 'q' ? 1 : 4);
        if (!index) return index.error();
        if (stack_.empty()) return fail("PUT on an empty stack");
        memo_[*index] = stack_.back();
        return success();
      }
      case 'h':    // BINGET
      case 'j': {  // LONG_BINGET
        auto index = littleEndian(opcode == 'h' ? 1 : 4);
        if (!index) return index.error();
        auto value = memoGet(*index);
        if (!value) return value.error();
        return push(*value);
      }
      case '(':  // MARK
        marks_.push_back(stack_.size());
        return success();
      case 't': {  // TUPLE
        auto items = popToMark();
        if (!items) return items.error();
        return pushTuple(std::move(*items));
      }
      case ')':  // EMPTY_TUPLE
        return pushTuple({});
      case 0x85:    // TUPLE1
      case 0x86:    // TUPLE2
      case 0x87: {  // TUPLE3
        std::vector<ValuePtr> items(static_cast<std::size_t>(opcode - 0x84));
        for (std::size_t i = items.size(); i-- > 0;) {
          auto item = pop();
          if (!item) return item.error();
          items[i] = *item;
        }
        return pushTuple(std::move(items));
      }
      case 'K':  // BININT1
      case 'M':  // BININT2
      case 'J': {  // BININT
        auto raw = littleEndian(opcode == 'K' ? 1 : opcode == 'M' ? 2 : 4);
        if (!raw) return raw.error();
        std::int64_t value = opcode == 'J' ? static_cast<std::int32_t>(static_cast<std::uint32_t>(*raw))
                                           : static_cast<std::int64_t>(*raw);
        return pushInt(value);
      }
      case 0x8a: {  // LONG1: a little-endian two's-complement integer of n bytes
        auto width = byte();
        if (!width) return width.error();
        if (*width > 8) return fail("integer wider than 64 bits");
        auto raw = littleEndian(*width);
        if (!raw) return raw.error();
        std::int64_t value = static_cast<std::int64_t>(*raw);
        if (*width > 0 && *width < 8 && (*raw >> (8 * *width - 1)) & 1) value -= std::int64_t{1} << (8 * *width);
        return pushInt(value);
      }
      case 'X': {  // BINUNICODE
        auto length = littleEndian(4);
        if (!length) return length.error();
        if (bytes_.size() - position_ < *length) return fail("truncated string");
        ValuePtr text = makeValue(PickleValue::Kind::kString);
        text->text = bytes_.substr(position_, *length);
        position_ += *length;
        return push(text);
      }
      case 'Q': {  // BINPERSID
        auto id = pop();
        if (!id) return id.error();
        auto storage = persistentLoad(*id);
        if (!storage) return storage.error();
        return push(*storage);
      }
      case 0x88:  // NEWTRUE
      case 0x89: {  // NEWFALSE
        ValuePtr flag = makeValue(PickleValue::Kind::kBool);
        flag->integer = opcode == 0x88;
        return push(flag);
      }
      case 'N':  // NONE
        return push(makeValue(PickleValue::Kind::kNone));
      case 'R': {  // REDUCE
        auto arguments = pop();
        if (!arguments) return arguments.error();
        auto callable = pop();
        if (!callable) return callable.error();
        auto result = reduce(*callable, *arguments);
        if (!result) return result.error();
        return push(*result);
      }
      case 0x81: {  // NEWOBJ
        auto arguments = pop();
        if (!arguments) return arguments.error();
        auto type = pop();
        if (!type) return type.error();
        if ((*type)->kind != PickleValue::Kind::kGlobal) return fail("NEWOBJ of something that is not a class");
        ValuePtr object = makeValue(PickleValue::Kind::kObject);
        object->text = (*type)->text;
        return push(object);
      }
      case '}':  // EMPTY_DICT
        return push(makeValue(PickleValue::Kind::kDict));
      case 'u': {  // SETITEMS
        auto items = popToMark();
        if (!items) return items.error();
        if (stack_.empty() || stack_.back()->kind != PickleValue::Kind::kDict || items->size() % 2 != 0)
          return fail("SETITEMS without a dictionary");
        for (std::size_t i = 0; i < items->size(); i += 2) stack_.back()->entries.emplace_back((*items)[i], (*items)[i + 1]);
        return success();
      }
      case 's': {  // SETITEM
        auto value = pop();
        if (!value) return value.error();
        auto key = pop();
        if (!key) return key.error();
        if (stack_.empty() || stack_.back()->kind != PickleValue::Kind::kDict) return fail("SETITEM without a dictionary");
        stack_.back()->entries.emplace_back(*key, *value);
        return success();
      }
      case 'b': {  // BUILD
        auto state = pop();
        if (!state) return state.error();
        if (stack_.empty() || stack_.back()->kind != PickleValue::Kind::kObject || (*state)->kind != PickleValue::Kind::kDict)
          return fail("BUILD of something other than a module");
        stack_.back()->entries = (*state)->entries;
        return success();
      }
      case '.':  // STOP
        stopped_ = true;
        return success();
      default:
        return makeError(ErrorCode::kVersion, "{}: data.pkl at byte {}: pickle opcode 0x{:02x} is not one torch::save "
                         "writes for a module", name_, position_ - 1, opcode);
    }
  }

  static constexpr std::size_t kMaxStack = 1 << 20;
  const std::string& bytes_;
  std::string name_;
  std::size_t position_ = 0;
  bool stopped_ = false;
  std::vector<ValuePtr> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, ValuePtr> memo_;
};

// ---------------------------------------------------------------------------------------------------------------

struct ArchiveContext {
  const std::string& bytes;
  const std::unordered_map<std::string, ZipEntry>& entries;
  std::string prefix;  ///< "<archive name>/"
  std::string name;
};

Status collectTensors(const ArchiveContext& archive, const PickleValue& object, const std::string& path,
                      std::map<std::string, WeightTensor>& out, int depth) {
  if (depth > 64) return makeError(ErrorCode::kInvalidInput, "{}: modules nested deeper than 64", archive.name);
  for (const auto& [key, value] : object.entries) {
    if (key->kind != PickleValue::Kind::kString) continue;
    const std::string name = path.empty() ? key->text : path + "." + key->text;
    if (value->kind == PickleValue::Kind::kObject) {
      if (Status nested = collectTensors(archive, *value, name, out, depth + 1); !nested) return nested;
      continue;
    }
    if (value->kind != PickleValue::Kind::kTensor) continue;
    const PickleValue& storage = *value->storage;
    if (storage.dtype != "torch FloatStorage") {
      return makeError(ErrorCode::kVersion, "{}: {} is stored as {}; only float32 weights are read", archive.name, name,
                       storage.dtype);
    }
    WeightTensor tensor;
    tensor.shape = value->shape;
    // Contiguous row-major strides only (what saving a module's parameters produces).
    std::int64_t expectedStride = 1, count = 1;
    for (std::size_t d = tensor.shape.size(); d-- > 0;) {
      const std::int64_t size = tensor.shape[d];
      if (size < 0 || (size > 0 && count > std::numeric_limits<std::int32_t>::max() / size)) {
        return makeError(ErrorCode::kInvalidInput, "{}: {} has an impossible shape", archive.name, name);
      }
      if (size > 1 && value->strides[d] != expectedStride) {
        return makeError(ErrorCode::kVersion, "{}: {} is not contiguous", archive.name, name);
      }
      expectedStride *= size;
      count *= size;
    }
    if (value->storageOffset < 0 || count > storage.integer - value->storageOffset) {
      return makeError(ErrorCode::kInvalidInput, "{}: {} reaches past its storage", archive.name, name);
    }
    auto entry = archive.entries.find(archive.prefix + "data/" + storage.text);
    if (entry == archive.entries.end())
      return makeError(ErrorCode::kInvalidInput, "{}: storage {} of {} is missing", archive.name, storage.text, name);
    if (entry->second.method != 0)
      return makeError(ErrorCode::kVersion, "{}: storage {} of {} is compressed", archive.name, storage.text, name);
    const std::size_t first = static_cast<std::size_t>(value->storageOffset) * sizeof(float);
    const std::size_t length = static_cast<std::size_t>(count) * sizeof(float);
    if (entry->second.size < first + length || static_cast<std::size_t>(storage.integer) * sizeof(float) > entry->second.size)
      return makeError(ErrorCode::kInvalidInput, "{}: storage {} of {} is shorter than its tensor", archive.name,
                       storage.text, name);
    tensor.values.resize(static_cast<std::size_t>(count));
    if (length > 0) std::memcpy(tensor.values.data(), archive.bytes.data() + entry->second.offset + first, length);
    out[name] = std::move(tensor);
  }
  return success();
}

}  // namespace

Expected<std::map<std::string, WeightTensor>> parseWeightsArchive(const std::string& bytes, const std::string& name) {
  auto entries = readZipDirectory(bytes, name);
  if (!entries) return entries.error();
  std::string pickleEntry;
  for (const auto& [entryName, entry] : *entries) {
    const std::string suffix = "/data.pkl";
    if (entryName.size() > suffix.size() && entryName.compare(entryName.size() - suffix.size(), suffix.size(), suffix) == 0 &&
        entryName.find('/') == entryName.size() - suffix.size()) {
      pickleEntry = entryName;
    }
  }
  if (pickleEntry.empty()) return makeError(ErrorCode::kInvalidInput, "{}: no data.pkl in the archive", name);
  const ZipEntry& pickle = entries->at(pickleEntry);
  if (pickle.method != 0) return makeError(ErrorCode::kVersion, "{}: {} is compressed", name, pickleEntry);
  const std::string pickleBytes = bytes.substr(pickle.offset, pickle.size);
  PickleReader reader(pickleBytes, name);
  auto root = reader.run();
  if (!root) return root.error();
  if ((*root)->kind != PickleValue::Kind::kObject)
    return makeError(ErrorCode::kInvalidInput, "{}: the archive does not hold a module", name);
  ArchiveContext archive{bytes, *entries, pickleEntry.substr(0, pickleEntry.size() - std::string("data.pkl").size()), name};
  std::map<std::string, WeightTensor> tensors;
  if (Status collected = collectTensors(archive, **root, "", tensors, 0); !collected) return collected.error();
  return tensors;
}

Expected<std::map<std::string, WeightTensor>> readWeightsArchive(const std::filesystem::path& file) {
  auto bytes = readFile(file);
  if (!bytes) return bytes.error();
  return parseWeightsArchive(*bytes, file.string());
}

}  // namespace mirtune
