#include "netsetup/nft/nft_library.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"

namespace nsrun::net {

namespace {

std::atomic<uint64_t> g_loads{0};

// Helpers that reported their commit and are still closing their context; reaped by the next run or at exit.
class Helpers {
public:
    void add(pid_t pid) { running_.push_back(pid); }
    void reap(int flags) {
        std::erase_if(running_, [flags](pid_t pid) {
            pid_t done;
            do done = ::waitpid(pid, nullptr, flags); while (done < 0 && errno == EINTR);
            return done != 0;
        });
    }
    ~Helpers() { reap(0); }

private:
    std::vector<pid_t> running_;
};
Helpers g_helpers;

void write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        bytes.remove_prefix(size_t(n));
    }
}

// The helper: reports '0' once committed, or '1' DOING '\0' WHY, and never returns.
[[noreturn]] void run_in_helper(pid_t parent, int report, std::string_view script, std::string_view doing) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (::getppid() != parent) ::_exit(1);
    // Nothing of nsrun's but the report: not the sandbox's channel, not the lock nsrun releases when done.
    if (report > 3) ::syscall(SYS_close_range, 3U, unsigned(report - 1), 0U);
    ::syscall(SYS_close_range, unsigned(report + 1), ~0U, 0U);
    try {
        NftLibrary library;
        NftContext context(library);
        context.run(script, doing);
        write_all(report, "0");
    } catch (const Error& error) {
        write_all(report, "1" + error.doing() + '\0' + error.why());
    } catch (const std::exception& error) {
        write_all(report, "1" + std::string(doing) + '\0' + error.what());
    }
    ::_exit(0);
}

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

void run_nft_script(std::string_view script, std::string_view doing) {
    g_helpers.reap(WNOHANG);
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0) throw_errno(std::string(doing) + ": creating the helper's pipe");
    UniqueFd read_end(ends[0]), write_end(ends[1]);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) throw_errno(std::string(doing) + ": starting the nftables helper");
    if (pid == 0) run_in_helper(parent, write_end.get(), script, doing);
    write_end.reset();
    g_loads.fetch_add(1, std::memory_order_relaxed);

    char verdict = 0;
    ssize_t n;
    do n = ::read(read_end.get(), &verdict, 1); while (n < 0 && errno == EINTR);
    if (n == 1 && verdict == '0') {
        g_helpers.add(pid);
        return;
    }
    std::string report;
    char buffer[512];
    while ((n = ::read(read_end.get(), buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0) report.append(buffer, size_t(n));
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    size_t split = report.find('\0');
    if (verdict == '1' && split != std::string::npos) fail(report.substr(0, split), report.substr(split + 1));
    fail(std::string(doing), "the nftables helper ended without a report (status " + std::to_string(status) + ")");
}

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
