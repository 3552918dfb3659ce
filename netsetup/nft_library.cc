#include "netsetup/nft_library.h"

#include <dlfcn.h>

#include <atomic>
#include <string>

#include "base/error.h"

namespace nsrun::net {

namespace {

std::atomic<uint64_t> g_loads{0};

template <class Fn>
void resolve(void* handle, const char* name, Fn& fn) {
    void* symbol = ::dlsym(handle, name);
    if (!symbol) fail("loading libnftables.so.1", std::string("symbol ") + name + " is missing");
    fn = reinterpret_cast<Fn>(symbol);
}

}  // namespace

void NftLibrary::Closer::operator()(void* handle) const noexcept { ::dlclose(handle); }

NftLibrary::NftLibrary() {
    // RTLD_LOCAL keeps libnftables' dependencies (libjansson, libxtables, ...) out of nsrun's symbol space.
    handle_.reset(::dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL));
    if (!handle_) {
        const char* why = ::dlerror();
        fail("loading libnftables.so.1", std::string(why ? why : "dlopen failed") + " (install libnftables1)");
    }
    g_loads.fetch_add(1, std::memory_order_relaxed);
    resolve(handle_.get(), "nft_ctx_new", api_.ctx_new);
    resolve(handle_.get(), "nft_ctx_free", api_.ctx_free);
    resolve(handle_.get(), "nft_ctx_buffer_output", api_.ctx_buffer_output);
    resolve(handle_.get(), "nft_ctx_buffer_error", api_.ctx_buffer_error);
    resolve(handle_.get(), "nft_ctx_get_error_buffer", api_.ctx_get_error_buffer);
    resolve(handle_.get(), "nft_run_cmd_from_buffer", api_.run_cmd_from_buffer);
}

uint64_t NftLibrary::loads() noexcept { return g_loads.load(std::memory_order_relaxed); }

NftContext::NftContext(const NftLibrary& library)
    : api_(library.api()), ctx_(api_.ctx_new(NFT_CTX_DEFAULT), Freer{&library.api()}) {
    if (!ctx_) fail("creating an nftables context", "nft_ctx_new failed");
    if (api_.ctx_buffer_output(ctx_.get()) != 0 || api_.ctx_buffer_error(ctx_.get()) != 0)
        fail("creating an nftables context", "cannot buffer its output");
}

void NftContext::run(std::string_view script, std::string_view doing) {
    std::string text(script);
    if (api_.run_cmd_from_buffer(ctx_.get(), text.c_str()) == 0) return;
    const char* err = api_.ctx_get_error_buffer(ctx_.get());
    // nft explains an error in several lines: the message, the offending command, and a line of carets
    // under the culprit. nsrun reports errors on one line, where the carets mean nothing.
    std::string why;
    std::string_view text_left = err ? err : "";
    while (!text_left.empty()) {
        size_t end = text_left.find('\n');
        std::string_view line = text_left.substr(0, end);
        text_left.remove_prefix(end == std::string_view::npos ? text_left.size() : end + 1);
        if (line.find_first_not_of(" ^~\t") == std::string_view::npos) continue;
        why += (why.empty() ? "" : " | ") + std::string(line);
    }
    fail(std::string(doing), why.empty() ? "nft failed without saying why" : why);
}

}  // namespace nsrun::net
