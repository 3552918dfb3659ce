#include "runtime/process_settings.h"

#include <grp.h>
#include <pwd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "base/error.h"
#include "base/ip_address.h"

namespace nsrun::runtime {
namespace {

std::optional<uint64_t> number(std::string_view text, uint64_t max) { return parse_decimal(text, max); }

std::optional<passwd> find_user(std::string_view name_or_id, std::vector<char>& buffer, std::string& error) {
    passwd entry{}, *found = nullptr;
    buffer.resize(16384);
    std::string key(name_or_id);
    int err;
    if (auto id = number(name_or_id, UINT32_MAX - 1)) err = getpwuid_r(uid_t(*id), &entry, buffer.data(), buffer.size(), &found);
    else err = getpwnam_r(key.c_str(), &entry, buffer.data(), buffer.size(), &found);
    if (err) error = std::string("looking it up failed: ") + std::strerror(err);
    return found ? std::optional(entry) : std::nullopt;
}

std::optional<gid_t> find_group(std::string_view name_or_id) {
    if (auto id = number(name_or_id, UINT32_MAX - 1)) return gid_t(*id);
    group entry{}, *found = nullptr;
    std::vector<char> buffer(16384);
    std::string key(name_or_id);
    getgrnam_r(key.c_str(), &entry, buffer.data(), buffer.size(), &found);
    return found ? std::optional(found->gr_gid) : std::nullopt;
}

struct LimitName {
    const char* name;
    int resource;
};
constexpr std::array<LimitName, 16> kLimits{{
    {"as", RLIMIT_AS}, {"core", RLIMIT_CORE}, {"cpu", RLIMIT_CPU}, {"data", RLIMIT_DATA},
    {"fsize", RLIMIT_FSIZE}, {"locks", RLIMIT_LOCKS}, {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE},
    {"nice", RLIMIT_NICE}, {"nofile", RLIMIT_NOFILE}, {"nproc", RLIMIT_NPROC}, {"rss", RLIMIT_RSS},
    {"rtprio", RLIMIT_RTPRIO}, {"rttime", RLIMIT_RTTIME}, {"sigpending", RLIMIT_SIGPENDING}, {"stack", RLIMIT_STACK},
}};

std::optional<rlim_t> limit_value(std::string_view text) {
    if (text == "unlimited" || text == "infinity") return RLIM_INFINITY;
    auto value = number(text, UINT64_MAX - 1);
    return value ? std::optional(rlim_t(*value)) : std::nullopt;
}

}  // namespace

Identity resolve_identity(std::string_view spec) {
    const std::string doing = "--user " + std::string(spec);
    size_t colon = spec.find(':');
    std::string_view user = spec.substr(0, colon);
    if (user.empty()) fail(doing, "no user given");
    std::vector<char> buffer;
    std::string error;
    auto entry = find_user(user, buffer, error);
    Identity identity;
    if (entry) {
        identity.uid = entry->pw_uid;
        identity.gid = entry->pw_gid;
        identity.home = entry->pw_dir;
    } else if (auto id = number(user, UINT32_MAX - 1)) {
        identity.uid = uid_t(*id);
        identity.gid = gid_t(*id);
    } else {
        fail(doing, error.empty() ? "no such user" : error);
    }
    if (colon != std::string_view::npos) {
        std::string_view group_text = spec.substr(colon + 1);
        if (group_text.empty()) fail(doing, "no group after ':'");
        auto gid = find_group(group_text);
        if (!gid) fail(doing, "no such group '" + std::string(group_text) + "'");
        identity.gid = *gid;
    }
    return identity;
}

ResourceLimit parse_rlimit(std::string_view text) {
    const std::string doing = "--rlimit " + std::string(text);
    size_t equals = text.find('=');
    if (equals == std::string_view::npos) fail(doing, "expected NAME=VALUE or NAME=SOFT:HARD");
    std::string_view name = text.substr(0, equals), values = text.substr(equals + 1);
    ResourceLimit limit;
    bool known = false;
    for (const auto& candidate : kLimits)
        if (name == candidate.name) {
            limit.resource = candidate.resource;
            known = true;
        }
    if (!known) fail(doing, "unknown limit '" + std::string(name) + "' (as, core, cpu, data, fsize, locks, memlock, "
                                                                    "msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack)");
    size_t colon = values.find(':');
    auto soft = limit_value(values.substr(0, colon));
    auto hard = colon == std::string_view::npos ? soft : limit_value(values.substr(colon + 1));
    if (!soft || !hard) fail(doing, "a limit is a whole number or 'unlimited'");
    if (*soft > *hard) fail(doing, "the soft limit is above the hard limit");
    limit.value = {*soft, *hard};
    return limit;
}

MountRequest parse_mount(MountRequest::Kind kind, std::string_view text) {
    const char* option = kind == MountRequest::Kind::bind ? "--bind" : kind == MountRequest::Kind::ro_bind ? "--ro-bind" : "--tmpfs";
    const std::string doing = std::string(option) + " " + std::string(text);
    MountRequest request;
    request.kind = kind;
    if (kind == MountRequest::Kind::tmpfs) {
        request.target = std::string(text);
    } else {
        size_t colon = text.find(':');
        request.source = std::string(text.substr(0, colon));
        request.target = colon == std::string_view::npos ? request.source : std::string(text.substr(colon + 1));
        if (request.source.empty() || request.source[0] != '/') fail(doing, "the source must be an absolute path");
    }
    if (request.target.empty() || request.target[0] != '/') fail(doing, "the target must be an absolute path");
    // The program's root is the directory under such a mount, not the mount: it would see nothing of it.
    if (std::filesystem::path(request.target).lexically_normal() == "/")
        fail(doing, "nothing can be mounted on / (the program would not see it); use --read-only with --tmpfs "
                    "or --bind on the directories it needs");
    return request;
}

}  // namespace nsrun::runtime
