#include "runtime/seccomp_json.h"

#include <linux/seccomp.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/error.h"

namespace nsrun::runtime::seccomp {
namespace {

using nlohmann::json;

constexpr size_t kMaxDepth = 32;  // profiles nest five deep; deeper input is not a profile
constexpr size_t kMaxRules = 4096;

// ---------------------------------------------------------------------------------------------------------------
// Parsing with positions. nlohmann's SAX parser reports no positions for values, so the input goes in through
// an iterator that notes how far the parser has read. When a value's event arrives, its token has just been
// read (a number's with one character of look-ahead, which can only be a separator or white space), so it
// starts at the first character after the previous event's end that is neither white space nor ',' or ':'.

class TrackingIterator {
public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = char;
    using difference_type = std::ptrdiff_t;
    using pointer = const char*;
    using reference = const char&;

    TrackingIterator() = default;
    TrackingIterator(const char* at, const char** furthest) : at_(at), furthest_(furthest) {}
    reference operator*() const { return *at_; }
    TrackingIterator& operator++() {
        ++at_;
        if (furthest_ && at_ > *furthest_) *furthest_ = at_;
        return *this;
    }
    TrackingIterator operator++(int) {
        TrackingIterator before = *this;
        ++*this;
        return before;
    }
    bool operator==(const TrackingIterator& other) const { return at_ == other.at_; }

private:
    const char* at_ = nullptr;
    const char** furthest_ = nullptr;
};

// A short, printable rendering of a string from the file for a message: JSON-quoted, non-ASCII escaped.
std::string shown_string(std::string_view text) {
    bool cut = text.size() > 64;
    std::string shown(text.substr(0, 64));
    return json(shown).dump(-1, ' ', true, json::error_handler_t::replace) + (cut ? "..." : "");
}

// The JSON pointer of a member or element, for the position table.
std::string member_pointer(const std::string& parent, std::string_view key) {
    std::string out = parent + "/";
    for (char c : key) {
        if (c == '~') out += "~0";
        else if (c == '/') out += "~1";
        else out += c;
    }
    return out;
}

class Document {
public:
    Document(std::string_view text, std::string_view origin) : text_(text), doing_("--seccomp " + std::string(origin)) {
        for (size_t i = 0; i < text.size(); ++i)
            if (text[i] == '\n') line_ends_.push_back(i);
    }

    // "LINE:COLUMN" of a byte offset, both from 1; the column counts characters (UTF-8 sequences).
    std::string where(size_t offset) const {
        auto [line, column] = line_column_at(offset);
        return std::to_string(line) + ":" + std::to_string(column);
    }
    [[noreturn]] void error_at(size_t offset, const std::string& why) const {
        fail(doing_, where(offset) + ": " + why);
    }
    [[noreturn]] void error(const std::string& pointer, const std::string& why) const {
        auto it = positions_.find(pointer);
        error_at(it == positions_.end() ? 0 : it->second, why);
    }
    std::pair<int, int> line_column(const std::string& pointer) const { return line_column_at(positions_.at(pointer)); }

    std::string_view text_;
    std::string doing_;
    json root_;
    std::unordered_map<std::string, size_t> positions_;

private:
    // Rules come in the order of the text: counting on from the last answer keeps a one-line profile linear.
    std::pair<int, int> line_column_at(size_t offset) const {
        offset = std::min(offset, text_.size());
        size_t line = size_t(std::lower_bound(line_ends_.begin(), line_ends_.end(), offset) - line_ends_.begin());
        size_t line_start = line ? line_ends_[line - 1] + 1 : 0;
        if (last_.line != line || last_.offset > offset) last_ = {line, line_start, 1};
        for (size_t i = last_.offset; i < offset; ++i)
            last_.column += (static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80;
        last_.offset = offset;
        return {int(line + 1), int(last_.column)};
    }

    std::vector<size_t> line_ends_;  // offsets of the '\n's
    struct {
        size_t line, offset, column;
    } mutable last_{0, 0, 1};
};

class Builder final : public nlohmann::json_sax<json> {
public:
    Builder(Document& doc, const char* const* read_to) : doc_(doc), read_to_(read_to) {}

    bool null() override { return value(nullptr); }
    bool boolean(bool v) override { return value(v); }
    bool number_integer(number_integer_t v) override { return value(v); }
    bool number_unsigned(number_unsigned_t v) override { return value(v); }
    bool number_float(number_float_t v, const string_t&) override { return value(v); }
    bool string(string_t& v) override { return value(std::move(v)); }
    bool binary(binary_t&) override { return false; }  // JSON text has none
    bool start_object(std::size_t) override { return open(json::object()); }
    bool start_array(std::size_t) override { return open(json::array()); }
    bool end_object() override { return close(); }
    bool end_array() override { return close(); }
    bool key(string_t& k) override {
        size_t at = token_start();
        if (stack_.back().node->contains(k)) doc_.error_at(at, "a second " + shown_string(k) + " in one object");
        stack_.back().key = std::move(k);
        return true;
    }
    bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override {
        // "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ..." -> "syntax error ..."
        std::string why = ex.what();
        if (size_t column = why.find(", column "); column != std::string::npos)
            if (size_t colon = why.find(": ", column); colon != std::string::npos) why = why.substr(colon + 2);
        // "; last read: '...'" quotes the raw input nlohmann had buffered, which can be long; the position says it.
        if (size_t last = why.find("; last read: '"); last != std::string::npos) {
            size_t end = why.find("'; ", last + 14);
            why.erase(last, end == std::string::npos ? std::string::npos : end + 1 - last);
        }
        std::string shown;
        for (unsigned char c : why) shown += c >= 0x20 && c < 0x7f ? char(c) : '?';
        doc_.error_at(position ? position - 1 : 0, "not valid JSON: " + shown);
    }

private:
    struct Frame {
        json* node;
        std::string pointer;
        std::string key;  // objects: the member being read
    };

    size_t token_start() {
        size_t i = prev_end_;
        if (i == 0 && doc_.text_.starts_with("\xEF\xBB\xBF")) i = 3;
        constexpr std::string_view kBetween = " \t\n\r,:";
        while (i < doc_.text_.size() && kBetween.find(doc_.text_[i]) != std::string_view::npos) ++i;
        prev_end_ = size_t(*read_to_ - doc_.text_.data());
        return i;
    }

    json* place(json&& v, std::string& pointer) {
        size_t at = token_start();
        json* placed;
        if (stack_.empty()) {
            doc_.root_ = std::move(v);
            placed = &doc_.root_;
        } else if (Frame& top = stack_.back(); top.node->is_array()) {
            pointer = member_pointer(top.pointer, std::to_string(top.node->size()));
            top.node->push_back(std::move(v));
            placed = &top.node->back();
        } else {
            pointer = member_pointer(top.pointer, top.key);
            placed = &(*top.node)[top.key];
            *placed = std::move(v);
        }
        doc_.positions_[pointer] = at;
        return placed;
    }
    bool value(json&& v) {
        std::string pointer;
        place(std::move(v), pointer);
        return true;
    }
    bool open(json&& empty) {
        std::string pointer;
        json* node = place(std::move(empty), pointer);
        if (stack_.size() == kMaxDepth) doc_.error(pointer, "nested more than " + std::to_string(kMaxDepth) + " deep");
        stack_.push_back({node, std::move(pointer), {}});
        return true;
    }
    bool close() {
        token_start();
        stack_.pop_back();
        return true;
    }

    Document& doc_;
    const char* const* read_to_;
    std::vector<Frame> stack_;
    size_t prev_end_ = 0;
};

void parse_document(Document& doc) {
    const char* begin = doc.text_.data();
    const char* read_to = begin;
    Builder builder(doc, &read_to);
    json::sax_parse(TrackingIterator(begin, &read_to), TrackingIterator(begin + doc.text_.size(), &read_to), &builder);
}

// A value of the document with its JSON pointer, for typed access with errors at its position.
class Node {
public:
    Node(const Document& doc, const json& value, std::string pointer)
        : doc_(doc), value_(value), pointer_(std::move(pointer)) {}

    const json& value() const { return value_; }
    const std::string& pointer() const { return pointer_; }
    [[noreturn]] void error(const std::string& why) const { doc_.error(pointer_, why); }

    // The member `key`, absent or null being the same (the Go decoders Docker and podman use treat them so).
    std::optional<Node> member(const std::string& key) const {
        auto it = value_.find(key);
        if (it == value_.end() || it->is_null()) return std::nullopt;
        return Node(doc_, *it, member_pointer(pointer_, key));
    }
    Node required(const std::string& key) const {
        auto node = member(key);
        if (!node) error("missing " + shown_string(key));
        return *node;
    }
    std::vector<Node> elements() const {
        expect(json::value_t::array, "an array");
        std::vector<Node> out;
        for (size_t i = 0; i < value_.size(); ++i)
            out.emplace_back(doc_, value_[i], member_pointer(pointer_, std::to_string(i)));
        return out;
    }
    const Node& object() const {
        expect(json::value_t::object, "an object");
        return *this;
    }
    const std::string& string() const {
        expect(json::value_t::string, "a string");
        return value_.get_ref<const std::string&>();
    }
    std::vector<std::string> strings() const {
        std::vector<std::string> out;
        for (const Node& element : elements()) out.push_back(element.string());
        return out;
    }
    uint64_t number(uint64_t max = UINT64_MAX) const {
        if (!value_.is_number_unsigned() && !(value_.is_number_integer() && value_.get<int64_t>() >= 0))
            error("expected a whole number from 0 to " + std::to_string(max) + ", not " + shown());
        uint64_t n = value_.get<uint64_t>();
        if (n > max) error(std::to_string(n) + " is out of range (0 to " + std::to_string(max) + ")");
        return n;
    }

private:
    std::string shown() const {
        if (value_.is_number() || value_.is_boolean()) return value_.dump();
        if (value_.is_string()) return "the string " + shown_string(value_.get_ref<const std::string&>());
        return std::string(value_.is_object() ? "an object" : value_.is_array() ? "an array" : "null");
    }
    void expect(json::value_t type, const char* what) const {
        if (value_.type() != type) error(std::string("expected ") + what + ", not " + shown());
    }

    const Document& doc_;
    const json& value_;
    std::string pointer_;
};

// ---------------------------------------------------------------------------------------------------------------
// The format's vocabulary.

struct ActionName {
    std::string_view name;
    uint32_t action;  // with the errno/trace data still to be or-ed in
    bool takes_data;
};
// SCMP_ACT_KILL is the thread (the OCI spec's and libseccomp's meaning). TRACE carries errnoRet as the data a
// tracer sees (runc does so); without a tracer the call fails with ENOSYS.
constexpr ActionName kActions[] = {
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false},
    {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD, false},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, false},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG, false},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true},
};

struct OperatorName {
    std::string_view name;
    scmp_compare op;
};
constexpr OperatorName kOperators[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

constexpr uint64_t kMaxErrno = 4095;  // the kernel returns larger values as success

// "SCMP_ACT_ERRNO" and errnoRet (EPERM without one, as the OCI spec says) as a libseccomp action.
uint32_t read_action(const Node& name, const std::optional<Node>& data) {
    const std::string& text = name.string();
    for (const ActionName& a : kActions) {
        if (text != a.name) continue;
        if (!a.takes_data) {
            if (data) data->error("only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno");
            return a.action;
        }
        return a.action | uint32_t(data ? data->number(kMaxErrno) : EPERM);
    }
    if (text == "SCMP_ACT_NOTIFY")
        name.error("SCMP_ACT_NOTIFY hands calls to a supervisor process listening on a socket, which nsrun does "
                   "not have; use SCMP_ACT_ERRNO or SCMP_ACT_ALLOW");
    name.error("unknown action " + shown_string(text) +
               " (SCMP_ACT_ALLOW, _ERRNO, _KILL, _KILL_PROCESS, _KILL_THREAD, _TRAP, _LOG, _TRACE)");
}

// "5.10.0-28-amd64" or "4.8" -> {5, 10}.
std::optional<std::pair<unsigned, unsigned>> kernel_version(std::string_view text) {
    unsigned major = 0, minor = 0;
    int used = 0;
    std::string copy(text);
    if (std::sscanf(copy.c_str(), "%u.%u%n", &major, &minor, &used) != 2 || used == 0) return std::nullopt;
    if (copy[0] < '0' || copy[0] > '9') return std::nullopt;
    return std::pair(major, minor);
}

// The program these rules are for: the capabilities it keeps, x86-64 ("amd64" to the format, which names
// architectures as Go does), the running kernel.
struct Target {
    CapabilitySet capabilities;
    std::pair<unsigned, unsigned> kernel;
};

bool holds(const Node& condition, const Target& target, bool all) {
    // includes: every listed thing must hold; excludes: any listed thing excludes the rule.
    bool matched_all = true, matched_any = false;
    auto count = [&](bool yes) {
        matched_all &= yes;
        matched_any |= yes;
    };
    if (auto caps = condition.member("caps")) {
        for (const Node& cap : caps->elements()) {
            CapabilitySet set;
            try {
                set = parse_capabilities(cap.string());
            } catch (const Error& e) {
                cap.error(e.why());
            }
            count((set.bits & target.capabilities.bits) == set.bits);
        }
    }
    if (auto arches = condition.member("arches")) {
        bool native = false;
        for (const std::string& arch : arches->strings()) native |= arch == "amd64";
        count(native);
    }
    if (auto min_kernel = condition.member("minKernel")) {
        auto version = kernel_version(min_kernel->string());
        if (!version)
            min_kernel->error("expected a kernel version such as \"4.8\", not " + shown_string(min_kernel->string()));
        count(target.kernel >= *version);
    }
    return all ? matched_all : matched_any;
}

bool is_syscall_name(std::string_view name) {
    return !name.empty() && name.size() <= 64 &&
           std::all_of(name.begin(), name.end(),
                       [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

std::vector<std::vector<scmp_arg_cmp>> read_conditions(const std::optional<Node>& args) {
    std::vector<scmp_arg_cmp> all;
    uint32_t seen = 0;
    bool repeated = false;
    if (args) {
        for (const Node& arg : args->elements()) {
            arg.object();
            scmp_arg_cmp cmp{};
            cmp.arg = unsigned(arg.required("index").number(5));
            Node op = arg.required("op");
            const std::string& op_name = op.string();
            auto it = std::find_if(std::begin(kOperators), std::end(kOperators),
                                   [&](const OperatorName& o) { return o.name == op_name; });
            if (it == std::end(kOperators))
                op.error("unknown operator " + shown_string(op_name) +
                         " (SCMP_CMP_EQ, _NE, _LT, _LE, _GT, _GE, _MASKED_EQ)");
            cmp.op = it->op;
            cmp.datum_a = arg.required("value").number();
            auto two = arg.member("valueTwo");
            uint64_t value_two = two ? two->number() : 0;
            if (cmp.op == SCMP_CMP_MASKED_EQ) cmp.datum_b = value_two;
            repeated |= (seen >> cmp.arg) & 1;
            seen |= 1u << cmp.arg;
            all.push_back(cmp);
        }
    }
    // libseccomp takes one comparison per argument in a rule. Like runc (and so Docker and podman), a rule that
    // compares one argument twice becomes one rule per comparison.
    if (!repeated) return {all};
    std::vector<std::vector<scmp_arg_cmp>> split;
    for (const scmp_arg_cmp& cmp : all) split.push_back({cmp});
    return split;
}

// Members nsrun does not use still have to have their form.
void check_other_members(const Node& top) {
    if (auto arches = top.member("architectures")) arches->strings();
    if (auto map = top.member("archMap")) {
        for (const Node& entry : map->elements()) {
            entry.object().required("architecture").string();
            if (auto sub = entry.member("subArchitectures")) sub->strings();
        }
    }
    if (auto flags = top.member("flags")) {
        for (const Node& flag : flags->elements()) {
            // TSYNC synchronises the filter across threads; the program has one when nsrun installs it.
            if (flag.string() != "SECCOMP_FILTER_FLAG_TSYNC")
                flag.error("nsrun does not support the filter flag " + shown_string(flag.string()));
        }
    }
}

}  // namespace

bool is_json_profile(std::string_view text) {
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
    size_t first = text.find_first_not_of(" \t\r\n");
    return first != std::string_view::npos && (text[first] == '{' || text[first] == '[');
}

Profile parse_json_profile(std::string_view text, std::string_view origin, const ProfileConditions& conditions) {
    Document doc(text, origin);
    parse_document(doc);
    Node top(doc, doc.root_, "");
    top.object();

    Target target{conditions.capabilities, {0, 0}};
    std::string release = conditions.kernel_release;
    if (release.empty()) {
        utsname uts{};
        if (::uname(&uts) == 0) release = uts.release;
    }
    auto kernel = kernel_version(release);
    if (!kernel) fail("--seccomp " + std::string(origin), "cannot read the kernel version " + shown_string(release));
    target.kernel = *kernel;

    Profile profile;
    profile.default_action = read_action(top.required("defaultAction"), top.member("defaultErrnoRet"));
    check_other_members(top);

    std::vector<std::string> unknown;
    if (auto syscalls = top.member("syscalls")) {
        for (const Node& entry : syscalls->elements()) {
            entry.object();
            uint32_t action = read_action(entry.required("action"), entry.member("errnoRet"));
            auto conditions_list = read_conditions(entry.member("args"));
            auto names = entry.member("names");
            std::vector<Node> name_nodes;
            if (names) name_nodes = names->elements();
            else name_nodes.push_back(entry.required("name"));  // the older format: one "name"
            bool wanted = true;
            if (auto includes = entry.member("includes")) wanted &= holds(includes->object(), target, true);
            if (auto excludes = entry.member("excludes")) wanted &= !holds(excludes->object(), target, false);
            for (const Node& name_node : name_nodes) {
                const std::string& name = name_node.string();
                if (!is_syscall_name(name)) name_node.error(shown_string(name) + " is not a system call name");
                // libseccomp refuses a rule that does what the default does; such a rule changes nothing.
                if (!wanted || action == profile.default_action) continue;
                int nr = seccomp_syscall_resolve_name(name.c_str());
                if (nr == __NR_SCMP_ERROR) {
                    // Docker's and podman's profiles allow calls newer than this libseccomp: they stay under
                    // the default action, as they do for those tools on the same library.
                    if (std::find(unknown.begin(), unknown.end(), name) == unknown.end()) unknown.push_back(name);
                    continue;
                }
                auto [line, column] = doc.line_column(name_node.pointer());
                for (auto& cmps : conditions_list) {
                    if (profile.rules.size() == kMaxRules)
                        name_node.error("more than " + std::to_string(kMaxRules) + " rules");
                    Rule rule;
                    rule.line = line;
                    rule.column = column;
                    rule.name = name;
                    rule.native_nr = nr;
                    rule.action = action;
                    rule.conditions = cmps;
                    profile.rules.push_back(std::move(rule));
                }
            }
        }
    }
    if (!unknown.empty()) {
        const scmp_version* v = seccomp_version();
        std::string note = "left out " + std::to_string(unknown.size()) + " system call(s) libseccomp " +
                           std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                           std::to_string(v->micro) + " does not know (they get the default action):";
        for (const std::string& name : unknown) note += " " + name;
        profile.notes.push_back(note);
    }
    return profile;
}

// ---------------------------------------------------------------------------------------------------------------
// Writing.

namespace {

using ordered_json = nlohmann::ordered_json;

// {"action": ..., "errnoRet": ...} in `out` (the errno for ERRNO and TRACE only).
void put_action(ordered_json& out, uint32_t action, const char* action_key, const char* data_key) {
    uint32_t kind = action & SECCOMP_RET_ACTION_FULL;
    for (const ActionName& a : kActions) {
        if ((a.action & SECCOMP_RET_ACTION_FULL) != kind || a.name == "SCMP_ACT_KILL") continue;
        out[action_key] = a.name;
        if (a.takes_data) out[data_key] = action & SECCOMP_RET_DATA;
        return;
    }
    out[action_key] = "SCMP_ACT_KILL_PROCESS";
}

ordered_json arg_json(const scmp_arg_cmp& cmp) {
    auto it = std::find_if(std::begin(kOperators), std::end(kOperators),
                           [&](const OperatorName& o) { return o.op == cmp.op; });
    return {{"index", cmp.arg},
            {"value", cmp.datum_a},
            {"valueTwo", cmp.op == SCMP_CMP_MASKED_EQ ? cmp.datum_b : 0},
            {"op", it == std::end(kOperators) ? "SCMP_CMP_EQ" : it->name}};
}

scmp_arg_cmp compare(unsigned arg, scmp_compare op, uint64_t a, uint64_t b = 0) {
    scmp_arg_cmp cmp{};
    cmp.arg = arg;
    cmp.op = op;
    cmp.datum_a = a;
    cmp.datum_b = b;
    return cmp;
}

// The alternatives (each one comparison) a ValueList stands for.
std::vector<scmp_arg_cmp> alternatives(const ValueList& list) {
    std::vector<scmp_arg_cmp> out;
    if (list.kind == ValueList::has_any) {
        for (unsigned bit = 0; bit < 64; ++bit)
            if ((list.values[0] >> bit) & 1)
                out.push_back(compare(list.arg, SCMP_CMP_MASKED_EQ, uint64_t(1) << bit, uint64_t(1) << bit));
    } else if (list.kind == ValueList::in) {
        for (uint64_t v : list.values) out.push_back(compare(list.arg, SCMP_CMP_MASKED_EQ, 0xffffffff, v));
    } else if (list.kind == ValueList::not_in) {
        // The ranges between the values, each as aligned blocks (value, mask): one masked comparison a block.
        std::vector<uint64_t> values = list.values;
        std::sort(values.begin(), values.end());
        values.erase(std::unique(values.begin(), values.end()), values.end());
        uint64_t from = 0;
        auto range = [&](uint64_t lo, uint64_t hi) {  // lo <= hi
            if (lo == 0) return out.push_back(compare(list.arg, SCMP_CMP_LE, hi));
            if (hi == UINT64_MAX) return out.push_back(compare(list.arg, SCMP_CMP_GE, lo));
            while (true) {
                uint64_t size = lo & -lo;  // the largest block aligned at lo ...
                while (size > 1 && size - 1 > hi - lo) size >>= 1;  // ... that fits
                out.push_back(compare(list.arg, SCMP_CMP_MASKED_EQ, ~(size - 1), lo));
                if (hi - lo == size - 1) return;
                lo += size;
            }
        };
        for (uint64_t v : values) {
            if (v > from) range(from, v - 1);
            if (v == UINT64_MAX) return out;
            from = v + 1;
        }
        range(from, UINT64_MAX);
    }
    return out;
}

}  // namespace

std::string profile_json(const Profile& profile) {
    ordered_json syscalls = ordered_json::array();
    auto add = [&](const Rule& rule, const std::vector<scmp_arg_cmp>& args) {
        ordered_json entry = {{"names", {rule.name}}};
        put_action(entry, rule.action, "action", "errnoRet");
        if (args.empty() && !syscalls.empty()) {
            ordered_json& last = syscalls.back();
            if (last["args"].empty() && last["action"] == entry["action"] &&
                last.value("errnoRet", 0u) == entry.value("errnoRet", 0u)) {
                last["names"].push_back(rule.name);
                return;
            }
        }
        entry["args"] = ordered_json::array();
        for (const scmp_arg_cmp& cmp : args) entry["args"].push_back(arg_json(cmp));
        syscalls.push_back(std::move(entry));
    };
    for (const Rule& rule : profile.rules) {
        if (!rule.list || rule.list->kind == ValueList::always) {
            add(rule, rule.conditions);
            continue;
        }
        for (const scmp_arg_cmp& cmp : alternatives(*rule.list)) add(rule, {cmp});
    }
    ordered_json top = ordered_json::object();
    put_action(top, profile.default_action, "defaultAction", "defaultErrnoRet");
    top["archMap"] = {{{"architecture", "SCMP_ARCH_X86_64"}, {"subArchitectures", {"SCMP_ARCH_X86"}}}};
    top["syscalls"] = std::move(syscalls);
    return top.dump(2) + "\n";
}

}  // namespace nsrun::runtime::seccomp
