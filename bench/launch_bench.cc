// launch_bench: times how long named commands take to start and finish, interleaved, so that drift in the
// machine (frequency, caches, a noisy neighbour) spreads evenly over every case instead of biasing one.
//
// Each run is posix_spawn + wait, timed with CLOCK_MONOTONIC, stdin/stdout/stderr on /dev/null. Round r runs
// every case once, starting at case (r mod n) and going round, so no case always runs first (--shuffle draws a
// random order each round instead, so that no case nearly always follows the same neighbour either). A few untimed warm-up rounds come first (page cache, first-use set-up such as nsrun's shared
// nftables table). Every run must exit 0: a failure aborts, after re-running that command once with its stderr
// shown. The program runs in whatever network namespace it is started in.
//
//   launch_bench --case unshare='unshare -n true' --case nat='nsrun --net=nat -- true'
//                --baseline unshare --ratio 'nat/unshare<=2' --rounds 200

#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace {

struct Case {
  std::string name;
  std::string command;            // as given, for messages
  std::vector<std::string> argv;  // argv[0] resolved to a path once, so PATH search is not timed
  long rounds = -1;               // timed rounds this case takes part in; -1 = every round
  int netns_fd = -1;              // --case-netns: the network namespace the command starts in
  std::vector<double> samples_ms;
  std::vector<long> sample_round;         // the timed round of each sample
  std::vector<std::string> sample_after;  // the case that ran just before it (the kernel may still be tearing
                                          // down that one's namespaces), for --raw
};

struct Ratio {
  std::string num, den;
  char op = 0;  // '<', '>' or 0 (no target)
  double target = 0;
};

struct Options {
  std::vector<Case> cases;
  std::vector<Ratio> ratios;
  std::string baseline;
  long rounds = 200;
  long warmup = 5;
  double timeout_s = 30;
  double max_seconds = 600;
  std::string raw_path;
  bool fail_on_target = false;
  bool progress = true;
  bool shuffle = false;
  unsigned seed = 1;
  long concurrent = 1;       // copies of a case's command started at once per run
  std::string settle_links;  // after each run, wait until no more interfaces have this prefix than before it
  std::string summary_path;  // append "case runs median p10 p90" lines (tab-separated) for scripts
};

[[noreturn]] void die(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void die(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::fputs("launch_bench: ", stderr);
  std::vfprintf(stderr, fmt, ap);
  std::fputc('\n', stderr);
  va_end(ap);
  std::exit(1);
}

void usage(FILE* out) {
  std::fputs(
      "usage: launch_bench --case NAME=CMD [--case NAME=CMD ...] [options]\n"
      "  --case NAME=CMD        a command to time; CMD is split on blanks, '...' and \"...\" quote, \\ escapes\n"
      "                         (no shell: write --case x='bash -c \"...\"' for one)\n"
      "  --rounds N             timed rounds (default 200)\n"
      "  --warmup N             untimed rounds first (default 5)\n"
      "  --case-rounds NAME=N   run NAME in only N of the timed rounds, spread evenly (for slow cases)\n"
      "  --baseline NAME        the case the 'x base' column divides by (default: the first case)\n"
      "  --ratio A/B[<=X|>=X]   also print median(A)/median(B), checked against a target when given\n"
      "  --timeout S            a run taking longer is killed and counts as a failure (default 30)\n"
      "  --max-seconds S        stop starting rounds after S seconds and report what was measured (default 600)\n"
      "  --raw FILE             write every timed sample to FILE as CSV (case,round,after,ms; after = the case\n"
      "                         run just before, whose namespaces the kernel may still be tearing down)\n"
      "  --shuffle              run each round's cases in a random order (seeded) instead of rotating: with\n"
      "                         rotation a case nearly always follows the same neighbour\n"
      "  --seed N               seed for --shuffle (default 1)\n"
      "  --concurrent N         each run starts N copies of the command at once and lasts from the first\n"
      "                         start to the last exit; all N must exit 0 (default 1)\n"
      "  --case-netns NAME=PATH start NAME's command in the network namespace PATH (e.g. /run/netns/X)\n"
      "                         instead of this one, so that cases in different hosts interleave\n"
      "  --settle-links PREFIX  after each run, wait (untimed, at most --timeout) until no more network\n"
      "                         interfaces named PREFIX* are left in the case's namespace than before the run\n"
      "                         (the teardown of a finished run's namespaces is asynchronous)\n"
      "  --summary FILE         append one tab-separated line per case to FILE: name, runs, median, p10, p90 (ms)\n"
      "  --fail-on-target       exit 3 when a ratio misses its target\n"
      "  --no-progress          do not report progress on stderr\n",
      out);
}

long parse_long(std::string_view what, const std::string& s, long lo, long hi) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno != 0 || v < lo || v > hi)
    die("%.*s: '%s' is not a whole number from %ld to %ld", int(what.size()), what.data(), s.c_str(), lo, hi);
  return v;
}

double parse_double(std::string_view what, const std::string& s) {
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || errno != 0 || !std::isfinite(v) || v <= 0)
    die("%.*s: '%s' is not a positive number", int(what.size()), what.data(), s.c_str());
  return v;
}

// Splits a command line the way a person expects from a shell, without running one: blanks separate words,
// '...' is literal, "..." allows \" and \\, a backslash outside quotes escapes the next character.
std::vector<std::string> split_command(const std::string& cmd) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (size_t i = 0; i < cmd.size(); ++i) {
    char c = cmd[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else if (c == '\'') {
      size_t close = cmd.find('\'', i + 1);
      if (close == std::string::npos) die("unterminated ' in command: %s", cmd.c_str());
      word.append(cmd, i + 1, close - i - 1);
      i = close;
      in_word = true;
    } else if (c == '"') {
      size_t j = i + 1;
      for (; j < cmd.size() && cmd[j] != '"'; ++j) {
        if (cmd[j] == '\\' && j + 1 < cmd.size() && (cmd[j + 1] == '"' || cmd[j + 1] == '\\')) ++j;
        word.push_back(cmd[j]);
      }
      if (j >= cmd.size()) die("unterminated \" in command: %s", cmd.c_str());
      i = j;
      in_word = true;
    } else if (c == '\\') {
      if (i + 1 >= cmd.size()) die("trailing \\ in command: %s", cmd.c_str());
      word.push_back(cmd[++i]);
      in_word = true;
    } else {
      word.push_back(c);
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

std::optional<std::string> find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    if (access(name.c_str(), X_OK) == 0) return name;
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::string_view dirs = path && *path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  while (true) {
    size_t colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return std::nullopt;
}

Case* find_case(Options& o, const std::string& name) {
  for (auto& c : o.cases)
    if (c.name == name) return &c;
  return nullptr;
}

std::pair<std::string, std::string> split_once(const std::string& s, char sep, const char* opt) {
  size_t at = s.find(sep);
  if (at == std::string::npos || at == 0) die("%s wants NAME%cVALUE, got '%s'", opt, sep, s.c_str());
  return {s.substr(0, at), s.substr(at + 1)};
}

Ratio parse_ratio(const std::string& s) {
  Ratio r;
  std::string pair = s;
  size_t op = s.find_first_of("<>");
  if (op != std::string::npos) {
    if (op + 1 >= s.size() || s[op + 1] != '=') die("--ratio: write A/B<=X or A/B>=X, got '%s'", s.c_str());
    r.op = s[op];
    r.target = parse_double("--ratio target", s.substr(op + 2));
    pair = s.substr(0, op);
  }
  auto [num, den] = split_once(pair, '/', "--ratio");
  r.num = num;
  r.den = den;
  return r;
}

Options parse_args(int argc, char** argv) {
  Options o;
  std::vector<std::pair<std::string, long>> case_rounds;
  std::vector<std::pair<std::string, std::string>> case_netns;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_inline = false;
    // --opt=value: split at the first '=' only, so --case=NAME=CMD keeps NAME=CMD whole.
    if (size_t eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_inline = true;
    }
    auto next = [&]() -> std::string {
      if (has_inline) return value;
      if (i + 1 >= argc) die("%s needs a value", arg.c_str());
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      usage(stdout);
      std::exit(0);
    } else if (arg == "--case") {
      auto [name, cmd] = split_once(next(), '=', "--case");
      if (find_case(o, name)) die("case '%s' is given twice", name.c_str());
      Case c;
      c.name = name;
      c.command = cmd;
      c.argv = split_command(cmd);
      if (c.argv.empty()) die("case '%s' has an empty command", name.c_str());
      auto prog = find_program(c.argv[0]);
      if (!prog) die("case '%s': cannot find program '%s'", name.c_str(), c.argv[0].c_str());
      c.argv[0] = *prog;
      o.cases.push_back(std::move(c));
    } else if (arg == "--case-rounds") {
      auto [name, n] = split_once(next(), '=', "--case-rounds");
      case_rounds.emplace_back(name, parse_long("--case-rounds", n, 1, 1000000));
    } else if (arg == "--rounds") {
      o.rounds = parse_long("--rounds", next(), 1, 1000000);
    } else if (arg == "--warmup") {
      o.warmup = parse_long("--warmup", next(), 0, 1000000);
    } else if (arg == "--baseline") {
      o.baseline = next();
    } else if (arg == "--ratio") {
      o.ratios.push_back(parse_ratio(next()));
    } else if (arg == "--timeout") {
      o.timeout_s = parse_double("--timeout", next());
    } else if (arg == "--max-seconds") {
      o.max_seconds = parse_double("--max-seconds", next());
    } else if (arg == "--raw") {
      o.raw_path = next();
    } else if (arg == "--fail-on-target") {
      o.fail_on_target = true;
    } else if (arg == "--shuffle") {
      o.shuffle = true;
    } else if (arg == "--seed") {
      o.seed = unsigned(parse_long("--seed", next(), 0, 4294967295L));
    } else if (arg == "--concurrent") {
      o.concurrent = parse_long("--concurrent", next(), 1, 100000);
    } else if (arg == "--case-netns") {
      case_netns.push_back(split_once(next(), '=', "--case-netns"));
    } else if (arg == "--settle-links") {
      o.settle_links = next();
      if (o.settle_links.empty()) die("--settle-links wants a non-empty prefix");
    } else if (arg == "--summary") {
      o.summary_path = next();
    } else if (arg == "--no-progress") {
      o.progress = false;
    } else {
      usage(stderr);
      die("unknown argument '%s'", argv[i]);
    }
  }
  if (o.cases.empty()) {
    usage(stderr);
    die("no --case given");
  }
  for (auto& [name, n] : case_rounds) {
    Case* c = find_case(o, name);
    if (!c) die("--case-rounds names '%s', which is not a case", name.c_str());
    c->rounds = std::min(n, o.rounds);
  }
  for (auto& c : o.cases)
    if (c.rounds < 0) c.rounds = o.rounds;
  for (auto& [name, path] : case_netns) {
    Case* c = find_case(o, name);
    if (!c) die("--case-netns names '%s', which is not a case", name.c_str());
    c->netns_fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (c->netns_fd < 0) die("--case-netns %s: %s", path.c_str(), std::strerror(errno));
  }
  if (o.baseline.empty()) o.baseline = o.cases.front().name;
  if (!find_case(o, o.baseline)) die("--baseline names '%s', which is not a case", o.baseline.c_str());
  for (auto& r : o.ratios)
    for (auto* n : {&r.num, &r.den})
      if (!find_case(o, *n)) die("--ratio names '%s', which is not a case", n->c_str());
  return o;
}

double now_s() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

struct RunResult {
  bool ok = false;
  double ms = 0;
  std::string what;  // why it failed
};

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + strsignal(WTERMSIG(status));
  return "ended with wait status " + std::to_string(status);
}

// Runs `copies` instances of one command at once and times from before the first spawn to the exit of the
// last (copies = 1: one command, start to finish). stderr goes to /dev/null unless show_stderr (used for the
// diagnostic re-run). Every instance must exit 0.
RunResult run_batch(const Case& c, long copies, double timeout_s, bool show_stderr) {
  std::vector<char*> argv;
  for (auto& a : c.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  if (!show_stderr) posix_spawn_file_actions_adddup2(&fa, 1, 2);

  RunResult r;
  struct Child {
    pid_t pid;
    int pidfd;  // a pidfd lets the wait have a time limit without signals (microseconds per child)
  };
  std::vector<Child> running;
  running.reserve(size_t(copies));
  const double t0 = now_s();
  for (long i = 0; i < copies; ++i) {
    pid_t pid = -1;
    int err = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    if (err != 0) {
      r.what = std::string("cannot start it: ") + std::strerror(err);
      break;
    }
    running.push_back({pid, int(syscall(SYS_pidfd_open, pid, 0))});
  }
  posix_spawn_file_actions_destroy(&fa);

  const double deadline = t0 + timeout_s;
  long failed = 0;
  std::string first_failure;
  while (!running.empty()) {
    std::vector<pollfd> fds;
    for (auto& ch : running) fds.push_back({ch.pidfd, POLLIN, 0});
    int left_ms = std::max(0, int((deadline - now_s()) * 1000));
    int n = poll(fds.data(), nfds_t(fds.size()), left_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      for (auto& ch : running) {
        kill(ch.pid, SIGKILL);
        waitpid(ch.pid, nullptr, 0);
        if (ch.pidfd >= 0) close(ch.pidfd);
      }
      char buf[96];
      std::snprintf(buf, sizeof buf, "%zu of %ld took over %g s and were killed (--timeout)", running.size(), copies,
                    timeout_s);
      r.what = buf;
      return r;
    }
    for (size_t k = fds.size(); k-- > 0;) {
      // Without a pidfd (very old kernels) the wait below simply blocks.
      if (fds[k].fd >= 0 && !(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      int status = 0;
      while (waitpid(running[k].pid, &status, 0) < 0 && errno == EINTR) {
      }
      if (running[k].pidfd >= 0) close(running[k].pidfd);
      if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) && failed++ == 0) first_failure = describe_status(status);
      running.erase(running.begin() + long(k));
    }
  }
  r.ms = (now_s() - t0) * 1e3;
  if (!r.what.empty()) return r;
  if (failed == 0) {
    r.ok = true;
  } else if (copies == 1) {
    r.what = first_failure;
  } else {
    r.what = std::to_string(failed) + " of " + std::to_string(copies) + " failed; the first " + first_failure;
  }
  return r;
}

// How many network interfaces of the current network namespace are named PREFIX*.
long count_links(const std::string& prefix) {
  long count = 0;
  if (struct if_nameindex* names = if_nameindex()) {
    for (struct if_nameindex* i = names; i->if_index != 0; ++i) count += std::string_view(i->if_name).starts_with(prefix);
    if_freenameindex(names);
  }
  return count;
}

// Waits until at most `max` network interfaces named PREFIX* are left in the current network namespace.
// Teardown of a network namespace is asynchronous: a run's veths outlive its processes for a moment, and the
// next run would find their names (and so their addresses) taken, or an almost full pool exhausted.
bool settle_links(const std::string& prefix, long max, double timeout_s) {
  const double deadline = now_s() + timeout_s;
  for (;;) {
    if (count_links(prefix) <= max) return true;
    if (now_s() > deadline) return false;
    usleep(10'000);
  }
}

// Whether a case taking part in `want` of `total` rounds runs in round r (0-based): spread evenly.
bool runs_in_round(long want, long total, long r) {
  if (want >= total) return true;
  return (r + 1) * want / total > r * want / total;
}

// Linear interpolation between closest ranks (the usual "type 7" quantile).
double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return NAN;
  double pos = q * double(sorted.size() - 1);
  size_t lo = size_t(pos);
  size_t hi = std::min(lo + 1, sorted.size() - 1);
  double frac = pos - double(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

double median_of(const Case& c) {
  std::vector<double> s = c.samples_ms;
  std::sort(s.begin(), s.end());
  return quantile(s, 0.5);
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse_args(argc, argv);
  if (!isatty(STDERR_FILENO)) o.progress = false;  // a \r progress line only makes sense on a terminal
  const int home_netns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home_netns < 0) die("opening /proc/thread-self/ns/net: %s", std::strerror(errno));
  signal(SIGPIPE, SIG_IGN);

  char netns[64] = "?";
  ssize_t nl = readlink("/proc/self/ns/net", netns, sizeof netns - 1);
  if (nl > 0) netns[nl] = '\0';
  std::printf("launch_bench: %zu cases, %ld warm-up + %ld timed rounds, interleaved (%s); network namespace %s\n",
              o.cases.size(), o.warmup, o.rounds, o.shuffle ? "shuffled order" : "rotating order", netns);
  if (o.concurrent > 1) std::printf("launch_bench: each run starts %ld copies at once\n", o.concurrent);
  std::fflush(stdout);

  const size_t n = o.cases.size();
  const double start = now_s();
  const long total_rounds = o.warmup + o.rounds;
  long done_rounds = 0;
  bool cut_short = false;
  int last_progress_pct = -1;
  std::string previous = "-";
  std::mt19937 rng(o.seed);
  std::vector<size_t> order(n);

  for (long round = 0; round < total_rounds; ++round) {
    const bool warm = round < o.warmup;
    const long timed_round = round - o.warmup;
    if (now_s() - start > o.max_seconds) {
      cut_short = true;
      break;
    }
    for (size_t k = 0; k < n; ++k) order[k] = (size_t(round) + k) % n;
    if (o.shuffle) std::shuffle(order.begin(), order.end(), rng);
    for (size_t k = 0; k < n; ++k) {
      Case& c = o.cases[order[k]];
      if (!warm && !runs_in_round(c.rounds, o.rounds, timed_round)) continue;
      // The case's namespace is entered only around the spawn and the link counts, never timed.
      if (c.netns_fd >= 0 && setns(c.netns_fd, CLONE_NEWNET) != 0) die("setns: %s", std::strerror(errno));
      const long links_before = o.settle_links.empty() ? 0 : count_links(o.settle_links);
      RunResult r = run_batch(c, o.concurrent, o.timeout_s, false);
      if (!r.ok) {
        std::fprintf(stderr, "launch_bench: case '%s' failed in %s round %ld: %s\n  command: %s\n",
                     c.name.c_str(), warm ? "warm-up" : "timed", warm ? round + 1 : timed_round + 1,
                     r.what.c_str(), c.command.c_str());
        std::fprintf(stderr, "launch_bench: running it once more with its stderr shown:\n");
        std::fflush(stderr);
        if (!o.settle_links.empty()) settle_links(o.settle_links, links_before, o.timeout_s);
        RunResult again = run_batch(c, 1, o.timeout_s, true);
        std::fprintf(stderr, "launch_bench: the re-run %s\n",
                     again.ok ? "succeeded (the failure is intermittent)" : again.what.c_str());
        return 1;
      }
      if (!o.settle_links.empty() && !settle_links(o.settle_links, links_before, o.timeout_s))
        die("more than %ld interfaces named %s* were still there %g s after case '%s' ended", links_before,
            o.settle_links.c_str(), o.timeout_s, c.name.c_str());
      if (c.netns_fd >= 0 && setns(home_netns, CLONE_NEWNET) != 0) die("setns: %s", std::strerror(errno));
      if (!warm) {
        c.samples_ms.push_back(r.ms);
        c.sample_round.push_back(timed_round);
        c.sample_after.push_back(previous);
      }
      previous = c.name;
    }
    if (!warm) ++done_rounds;
    if (o.progress) {
      int pct = int(100 * (round + 1) / total_rounds);
      if (pct / 10 != last_progress_pct / 10) {
        std::fprintf(stderr, "\r  %3d%%  round %ld/%ld  %.1f s", pct, round + 1, total_rounds, now_s() - start);
        std::fflush(stderr);
        last_progress_pct = pct;
      }
    }
  }
  if (o.progress) std::fputs("\n", stderr);
  if (cut_short)
    std::printf("NOTE: stopped after %.0f s (--max-seconds) with %ld of %ld timed rounds done\n", o.max_seconds,
                done_rounds, o.rounds);

  if (!o.raw_path.empty()) {
    FILE* f = std::fopen(o.raw_path.c_str(), "w");
    if (!f) die("cannot write %s: %s", o.raw_path.c_str(), std::strerror(errno));
    std::fprintf(f, "case,round,after,ms\n");
    for (auto& c : o.cases)
      for (size_t i = 0; i < c.samples_ms.size(); ++i)
        std::fprintf(f, "%s,%ld,%s,%.4f\n", c.name.c_str(), c.sample_round[i], c.sample_after[i].c_str(),
                     c.samples_ms[i]);
    std::fclose(f);
  }

  if (!o.summary_path.empty()) {
    FILE* f = std::fopen(o.summary_path.c_str(), "a");
    if (!f) die("cannot write %s: %s", o.summary_path.c_str(), std::strerror(errno));
    for (auto& c : o.cases) {
      std::vector<double> s = c.samples_ms;
      std::sort(s.begin(), s.end());
      std::fprintf(f, "%s\t%zu\t%.4f\t%.4f\t%.4f\n", c.name.c_str(), s.size(), quantile(s, 0.5), quantile(s, 0.1),
                   quantile(s, 0.9));
    }
    std::fclose(f);
  }

  const double base = median_of(*find_case(o, o.baseline));
  int w = 4;
  for (auto& c : o.cases) w = std::max(w, int(c.name.size()));
  std::printf("\n%-*s %6s %10s %9s %9s %9s\n", w, "case", "runs", "median ms", "p10", "p90", "x base");
  for (auto& c : o.cases) {
    std::vector<double> s = c.samples_ms;
    std::sort(s.begin(), s.end());
    double med = quantile(s, 0.5);
    std::printf("%-*s %6zu %10.3f %9.3f %9.3f %8.2fx%s\n", w, c.name.c_str(), s.size(), med, quantile(s, 0.1),
                quantile(s, 0.9), med / base, c.name == o.baseline ? "  (baseline)" : "");
  }

  bool missed = false;
  if (!o.ratios.empty()) {
    std::printf("\nratios of medians\n");
    for (auto& r : o.ratios) {
      double v = median_of(*find_case(o, r.num)) / median_of(*find_case(o, r.den));
      std::string label = r.num + "/" + r.den;
      std::printf("  %-*s %8.2fx", 2 * w + 1, label.c_str(), v);
      if (r.op) {
        bool ok = r.op == '<' ? v <= r.target : v >= r.target;
        missed |= !ok;
        std::printf("   target %c= %g  %s", r.op, r.target, ok ? "met" : "MISSED");
      }
      std::printf("\n");
    }
  }
  std::printf("\ntotal %.1f s\n", now_s() - start);
  return (missed && o.fail_on_target) ? 3 : 0;
}
