#include "lab.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

extern char** environ;

namespace nsrun::testing {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void ChildFail(const char* what) {
    // Only async-signal-safe calls after fork.
    const char prefix[] = "test harness: ";
    (void)!::write(2, prefix, sizeof prefix - 1);
    (void)!::write(2, what, std::strlen(what));
    (void)!::write(2, "\n", 1);
    ::_exit(124);
}

std::string Shorten(const std::string& text) {
    constexpr size_t kMax = 4000;
    if (text.size() <= kMax) return text;
    return text.substr(0, kMax) + "...[" + std::to_string(text.size() - kMax) + " more bytes]";
}

}  // namespace

std::string Result::Describe() const {
    std::ostringstream s;
    s << (timed_out ? "TIMED OUT, " : "") << "status " << status << "\n--- stdout:\n"
      << Shorten(out) << "\n--- stderr:\n" << Shorten(err) << "\n---";
    return s.str();
}

Process::Process(const Argv& argv, const Argv& extra_env, const std::string& cwd) {
    // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::map<std::string, std::string> env_map;
    for (char** e = environ; *e; ++e) {
        std::string kv = *e;
        env_map[kv.substr(0, kv.find('='))] = kv;
    }
    for (const auto& kv : extra_env) env_map[kv.substr(0, kv.find('='))] = kv;
    std::vector<std::string> env_strings;
    for (auto& [k, kv] : env_map) env_strings.push_back(kv);
    std::vector<char*> env;
    for (auto& kv : env_strings) env.push_back(kv.data());
    env.push_back(nullptr);

    int out_pipe[2], err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
        ADD_FAILURE() << "pipe2: " << std::strerror(errno);
        return;
    }
    pid_t pid = ::fork();
    if (pid < 0) {
        ADD_FAILURE() << "fork: " << std::strerror(errno);
        for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) ::close(fd);
        return;
    }
    if (pid == 0) {
        ::setpgid(0, 0);
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        int in = ::open("/dev/null", O_RDONLY);
        if (in < 0 || ::dup2(in, 0) < 0 || ::dup2(out_pipe[1], 1) < 0 || ::dup2(err_pipe[1], 2) < 0)
            ChildFail("cannot set up stdio");
        ::close_range(3, ~0U, 0);
        if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ChildFail("chdir failed");
        ::execvpe(args[0], args.data(), env.data());
        ChildFail("exec failed");
    }
    // The parent sets the group too, so Signal/KillGroup work even before the child got to run.
    ::setpgid(pid, pid);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    pid_ = pid;
    out_fd_ = out_pipe[0];
    err_fd_ = err_pipe[0];
}

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      out_fd_(std::exchange(other.out_fd_, -1)),
      err_fd_(std::exchange(other.err_fd_, -1)),
      out_(std::move(other.out_)),
      err_(std::move(other.err_)),
      exited_(other.exited_),
      status_(other.status_) {}

Process::~Process() {
    if (pid_ > 0 && !exited_) {
        KillGroup();
        int st;
        ::waitpid(pid_, &st, 0);
    }
    if (out_fd_ >= 0) ::close(out_fd_);
    if (err_fd_ >= 0) ::close(err_fd_);
}

void Process::KillGroup() const {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
}

void Process::Signal(int sig) const {
    if (pid_ > 0 && !exited_) ::kill(pid_, sig);
}

void Process::Pump(Millis wait) {
    pollfd fds[2];
    int n = 0;
    if (out_fd_ >= 0) fds[n++] = {out_fd_, POLLIN, 0};
    if (err_fd_ >= 0) fds[n++] = {err_fd_, POLLIN, 0};
    if (n > 0 && ::poll(fds, n, static_cast<int>(wait.count())) > 0) {
        for (int i = 0; i < n; ++i) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            bool is_out = fds[i].fd == out_fd_;
            char buf[65536];
            ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
            if (got > 0) {
                (is_out ? out_ : err_).append(buf, static_cast<size_t>(got));
            } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
                ::close(fds[i].fd);
                (is_out ? out_fd_ : err_fd_) = -1;
            }
        }
    } else if (n == 0) {
        ::usleep(static_cast<useconds_t>(std::min<int64_t>(wait.count(), 20) * 1000));
    }
    if (!exited_ && pid_ > 0) {
        int st;
        if (::waitpid(pid_, &st, WNOHANG) == pid_) {
            exited_ = true;
            status_ = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
        }
    }
}

bool Process::WaitForOutput(std::string_view needle, Millis timeout) {
    auto deadline = Clock::now() + timeout;
    while (!Contains(out_, needle)) {
        if (Clock::now() >= deadline) return false;
        if (exited_ && out_fd_ < 0) return false;
        Pump(20ms);
    }
    return true;
}

Result Process::Wait(Millis timeout) {
    Result r;
    if (pid_ <= 0) {
        r.err = "(not started)";
        return r;
    }
    auto deadline = Clock::now() + timeout;
    std::optional<Clock::time_point> exited_at;
    for (;;) {
        Pump(20ms);
        if (exited_ && !exited_at) exited_at = Clock::now();
        if (exited_ && out_fd_ < 0 && err_fd_ < 0) break;
        // A leftover grandchild may hold the pipes open: after the child exited, wait only a little.
        if (exited_at && Clock::now() - *exited_at > 500ms) break;
        if (Clock::now() >= deadline) {
            r.timed_out = true;
            KillGroup();
            int st;
            if (!exited_) ::waitpid(pid_, &st, 0);
            exited_ = true;
            status_ = -1;
            Pump(0ms);
            break;
        }
    }
    r.status = status_;
    r.out = out_;
    r.err = err_;
    return r;
}

Result RunCmd(const Argv& argv, Millis timeout, const Argv& extra_env) {
    Process p(argv, extra_env);
    return p.Wait(timeout);
}

// ---- Lab ----

Result Lab::Up(const Argv& options) {
    Argv argv{"bash", LAB_SCRIPT, "up", name_};
    argv.insert(argv.end(), options.begin(), options.end());
    up_ = true;  // even a failed `up` is torn down
    return RunCmd(argv, 30s);
}

void Lab::Down() {
    if (!up_) return;
    up_ = false;
    Result r = RunCmd({"bash", LAB_SCRIPT, "down", name_}, 30s);
    if (r.status != 0) ADD_FAILURE() << "lab.sh down " << name_ << ": " << r.Describe();
}

Argv Lab::InHost(const Argv& argv) const {
    Argv full{"bash", LAB_SCRIPT, "exec", name_};
    full.insert(full.end(), argv.begin(), argv.end());
    return full;
}

Argv Lab::InInet(const Argv& argv) const {
    Argv full{"bash", LAB_SCRIPT, "inet", name_};
    full.insert(full.end(), argv.begin(), argv.end());
    return full;
}

Argv Lab::InNs(const std::string& tag, const Argv& argv) const {
    Argv full{"bash", LAB_SCRIPT, "in", name_, tag};
    full.insert(full.end(), argv.begin(), argv.end());
    return full;
}

Result Lab::AddNs(const std::string& tag, const std::string& host_cidr, const std::string& ns_cidr) const {
    return RunCmd({"bash", LAB_SCRIPT, "add-ns", name_, tag, host_cidr, ns_cidr}, 30s);
}

Argv Lab::Nsrun(const Argv& args) const {
    Argv argv{NSRUN_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    return InHost(argv);
}

Result Lab::RunNsrun(const Argv& args, Millis timeout, const Argv& extra_env) const {
    return RunCmd(Nsrun(args), timeout, extra_env);
}

void Lab::TurnOnForwarding() const {
    Result r = RunNsrun({"--net=nat", kSubnetFlag, "--", "true"});
    ASSERT_EQ(r.status, 0) << r.Describe();
}

std::vector<std::string> Lab::WebLog() const {
    std::ifstream in(dir() + "/web.log");
    std::stringstream s;
    s << in.rdbuf();
    return Lines(s.str());
}

std::vector<std::string> Lab::HostLinks() const {
    Result r = Host({"ip", "-o", "link", "show"}, 10s);
    EXPECT_EQ(r.status, 0) << r.Describe();
    std::vector<std::string> names;
    for (const auto& line : Lines(r.out)) {
        // "7: nsr0@if2: <BROADCAST,...> mtu 1500 ..."
        auto colon = line.find(": ");
        if (colon == std::string::npos) continue;
        auto name = line.substr(colon + 2, line.find(':', colon + 2) - colon - 2);
        names.push_back(name.substr(0, name.find('@')));
    }
    return names;
}

std::vector<std::string> Lab::NsrLinks() const {
    std::vector<std::string> nsr;
    for (auto& n : HostLinks())
        if (n.starts_with("nsr")) nsr.push_back(n);
    return nsr;
}

std::string Lab::NftRuleset() const {
    Result r = Host({"nft", "list", "ruleset"}, 10s);
    EXPECT_EQ(r.status, 0) << r.Describe();
    return r.out;
}

// ---- LabTest ----

namespace {

// Labs of test processes that died without tearing them down (killed by ctest's timeout, say): each lab a
// test made names its test process in "owner".
void SweepAbandonedLabs() {
    std::error_code ec;
    for (auto& entry : std::filesystem::directory_iterator("/run/nsrun-lab", ec)) {
        std::ifstream owner(entry.path() / "owner");
        pid_t pid = 0;
        if (!(owner >> pid) || pid <= 0 || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
        RunCmd({"bash", LAB_SCRIPT, "down", entry.path().filename().string()}, 30s);
    }
}

}  // namespace

void LabTest::SetUp() {
    if (::geteuid() != 0) GTEST_SKIP() << "the lab of network namespaces needs root";
    if (NeedsNsrun()) {
        ASSERT_TRUE(std::filesystem::exists(NSRUN_BIN)) << "nsrun is not built: " << NSRUN_BIN;
    }
    // Short and unique among running tests: 4 letters of the test's name + pid (+ a counter).
    static std::atomic<int> counter{0};
    std::string name;
    for (char c : std::string(::testing::UnitTest::GetInstance()->current_test_info()->name())) {
        if (std::isalnum(static_cast<unsigned char>(c)) && name.size() < 4)
            name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    name += std::to_string(::getpid());
    if (int n = counter++; n > 0) name += "x" + std::to_string(n);
    SweepAbandonedLabs();
    lab_.emplace(name);
    Result r = lab_->Up(LabOptions());
    ASSERT_EQ(r.status, 0) << "lab.sh up " << name << ": " << r.Describe();
    std::ofstream(lab_->dir() + "/owner") << ::getpid() << "\n";
}

void LabTest::TearDown() {
    if (lab_) lab_.reset();  // lab.sh down
}

// ---- helpers ----

std::vector<std::string> Lines(std::string_view text) {
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        lines.emplace_back(text.substr(start, end - start));
        start = end + 1;
    }
    return lines;
}

bool Contains(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

::testing::AssertionResult IsOneNsrunErrorLine(const std::string& err) {
    auto lines = Lines(err);
    if (lines.size() != 1 || err.back() != '\n')
        return ::testing::AssertionFailure() << "expected exactly one line on stderr, got " << lines.size()
                                             << ":\n" << err;
    if (!lines[0].starts_with("nsrun: ") || lines[0].size() <= 7)
        return ::testing::AssertionFailure() << "stderr does not start with \"nsrun: \": " << err;
    return ::testing::AssertionSuccess();
}

std::vector<std::string> Ipv4Addresses(std::string_view output) {
    std::vector<std::string> out;
    std::istringstream in{std::string(output)};
    std::string word;
    bool next = false;
    while (in >> word) {
        if (next) out.push_back(word.substr(0, word.find('/')));
        next = word == "inet";
    }
    return out;
}

bool InPrefix(const std::string& address, const std::string& cidr) {
    auto parse = [](const std::string& s, uint32_t& v) {
        unsigned a, b, c, d;
        char tail;
        if (std::sscanf(s.c_str(), "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4) return false;
        if (a > 255 || b > 255 || c > 255 || d > 255) return false;
        v = a << 24 | b << 16 | c << 8 | d;
        return true;
    };
    auto slash = cidr.find('/');
    uint32_t addr, net;
    if (slash == std::string::npos || !parse(address, addr) || !parse(cidr.substr(0, slash), net)) return false;
    int len = std::stoi(cidr.substr(slash + 1));
    uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
    return (addr & mask) == (net & mask);
}

int MtuOf(std::string_view line) {
    auto pos = line.find(" mtu ");
    if (pos == std::string_view::npos) return -1;
    return std::atoi(std::string(line.substr(pos + 5)).c_str());
}

std::string UniqueToken() {
    static std::atomic<int> counter{0};
    return std::to_string(::getpid()) + std::to_string(1000 + counter++);
}

Argv Nat(const Argv& program, const Argv& flags) {
    Argv args{"--net=nat", kSubnetFlag, kSubnet6Flag};
    args.insert(args.end(), flags.begin(), flags.end());
    args.push_back("--");
    args.insert(args.end(), program.begin(), program.end());
    return args;
}

std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<pid_t> ProcessesMentioning(const std::string& needle) {
    std::vector<pid_t> pids;
    std::error_code ec;
    for (auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        pid_t pid = std::stoi(name);
        if (pid == ::getpid()) continue;
        if (Contains(ReadFile(entry.path() / "cmdline"), needle)) pids.push_back(pid);
    }
    return pids;
}

PublicCopy::PublicCopy(const std::string& source) {
    std::string tmpl = std::string(kHostScratch) + "/nsrun-it-XXXXXX";
    if (!::mkdtemp(tmpl.data())) {
        ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
        return;
    }
    dir_ = tmpl;
    ::chmod(dir_.c_str(), 0755);
    path_ = dir_ + "/nsrun";
    std::error_code ec;
    std::filesystem::copy_file(source, path_, ec);
    if (ec) ADD_FAILURE() << "copy " << source << ": " << ec.message();
    ::chmod(path_.c_str(), 0755);
}

PublicCopy::~PublicCopy() {
    if (dir_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

}  // namespace nsrun::testing
