// libnftables, loaded with dlopen() only by the launch that has to write nsrun's table: linking it would make
// every process start map and relocate it (and its dependencies), for a library that runs once per boot. And loaded in a helper process
// (run_nft_script): nsrun itself never maps it.
#pragma once

#include <nftables/libnftables.h>

#include <cstdint>
#include <memory>
#include <string_view>

namespace nsrun::net {

// The entry points nsrun uses, typed from the real prototypes so a changed signature fails to compile.
struct NftApi {
    decltype(&::nft_ctx_new) ctx_new = nullptr;
    decltype(&::nft_ctx_free) ctx_free = nullptr;
    decltype(&::nft_ctx_buffer_output) ctx_buffer_output = nullptr;
    decltype(&::nft_ctx_buffer_error) ctx_buffer_error = nullptr;
    decltype(&::nft_ctx_get_error_buffer) ctx_get_error_buffer = nullptr;
    decltype(&::nft_run_cmd_from_buffer) run_cmd_from_buffer = nullptr;
};

// A dlopen()ed libnftables.so.1; dlclose()s it when destroyed.
class NftLibrary {
public:
    NftLibrary();  // throws if the library or one of its symbols is missing
    const NftApi& api() const noexcept { return api_; }

    // How many times this process has run the library (run_nft_script counts its helper's load): lets tests
    // prove the steady state never does.
    static uint64_t loads() noexcept;

private:
    struct Closer {
        void operator()(void* handle) const noexcept;
    };
    std::unique_ptr<void, Closer> handle_;
    NftApi api_;
};

// One nft_ctx with its output and errors buffered, so nothing reaches nsrun's stdout or stderr.
class NftContext {
public:
    explicit NftContext(const NftLibrary& library);
    // Runs a script as one transaction; throws Error(doing, nft's own error text).
    void run(std::string_view script, std::string_view doing);

private:
    struct Freer {
        const NftApi* api;
        void operator()(nft_ctx* ctx) const noexcept { api->ctx_free(ctx); }
    };
    const NftApi& api_;
    std::unique_ptr<nft_ctx, Freer> ctx_;
};

// Runs `script` as one transaction through libnftables in a child process: the library and what it allocates
// (several times nsrun's own resident size) never enter nsrun's memory, and nsrun need not wait for the
// context's close, which waits for the commit's RCU grace periods: the child reports right after the commit and finishes
// alone (it dies with nsrun; the commit is atomic either way). Throws Error(doing, nft's own error text).
void run_nft_script(std::string_view script, std::string_view doing);

}  // namespace nsrun::net
