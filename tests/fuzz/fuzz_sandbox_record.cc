// Any bytes: the sandbox record parser (records under /run/nsrun/sandboxes are untrusted input) returns or
// refuses, never crashes; what parses formats again and parses back the same.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cmd/sandbox_record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    auto record = nsrun::cli::parse_record(bytes);
    if (!record) return 0;
    auto again = nsrun::cli::parse_record(nsrun::cli::format_record(*record));
    if (!again || !again->complete || again->name != record->name || again->nsrun_pid != record->nsrun_pid ||
        again->pid_namespace != record->pid_namespace || again->netns != record->netns ||
        again->init_pid != record->init_pid || again->init_start_time != record->init_start_time ||
        again->addresses != record->addresses || again->ports != record->ports || again->seccomp != record->seccomp ||
        again->uid != record->uid || again->gid != record->gid || again->command != record->command ||
        again->env != record->env)
        __builtin_trap();
    return 0;
}
