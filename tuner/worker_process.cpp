#include "tuner/worker_process.hpp"

#include <attnjit/error.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <utility>

#include <fmt/format.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace attnjit::tuner {
namespace {

class Socket {
 public:
  explicit Socket(int fd = -1) : fd_(fd) {}
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Socket& operator=(Socket&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

std::string describe_exit(int status) {
  if (WIFSIGNALED(status)) {
    return fmt::format("was killed by signal {} ({})", WTERMSIG(status),
                       ::strsignal(WTERMSIG(status)));
  }
  return fmt::format("exited with status {}", WEXITSTATUS(status));
}

// A reply line as its message; a line that is not one reads as a failure.
template <class Reply>
Reply decode(const std::string& line) {
  try {
    return nlohmann::json::parse(line).get<Reply>();
  } catch (const nlohmann::json::exception&) {
    Reply reply;
    reply.error = "the measuring process answered nonsense: " + line.substr(0, 200);
    return reply;
  }
}

}  // namespace

struct WorkerProcess::Impl {
  // One running measuring process; killed and reaped when dropped.
  struct Child {
    pid_t pid = -1;
    Socket socket;
    std::string pending;  // bytes read past the last reply line

    Child(pid_t id, Socket s) : pid(id), socket(std::move(s)) {}
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    Child(Child&&) = delete;
    Child& operator=(Child&&) = delete;
    ~Child() {
      if (pid > 0) {
        ::kill(pid, SIGKILL);
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
      }
    }
    // How the process ended (it must have, or be about to).
    std::string reap() {
      int status = 0;
      pid_t got = -1;
      while ((got = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
      }
      pid = -1;
      return got < 0 ? "vanished" : describe_exit(status);
    }
  };

  std::vector<std::string> command;
  std::unique_ptr<Child> child;
  std::optional<SetupRequest> setup;
  int starts = 0;

  void start() {
    std::array<int, 2> ends{};
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends.data()) != 0) {
      throw Error(fmt::format("socketpair failed: {}", std::strerror(errno)));
    }
    Socket ours(ends[0]);
    const Socket theirs(ends[1]);
    posix_spawn_file_actions_t actions;
    if (::posix_spawn_file_actions_init(&actions) != 0)
      throw Error("posix_spawn_file_actions_init");
    ::posix_spawn_file_actions_adddup2(&actions, theirs.get(), 0);
    ::posix_spawn_file_actions_adddup2(&actions, theirs.get(), 1);
    std::vector<char*> argv;
    argv.reserve(command.size() + 1);
    for (std::string& part : command) argv.push_back(part.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    const int spawned = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
      throw Error(fmt::format("cannot start the measuring process {}: {}", command.front(),
                              std::strerror(spawned)));
    }
    child = std::make_unique<Child>(pid, std::move(ours));
  }

  // Sends one line and waits for one back. Empty, with `why` set, when the
  // process dies or overruns `timeout`; it is gone afterwards either way.
  std::optional<std::string> exchange(const std::string& line, std::chrono::milliseconds timeout,
                                      std::string& why) {
    const std::string message = line + "\n";
    std::size_t sent = 0;
    while (sent < message.size()) {
      const ssize_t n =
          ::send(child->socket.get(), message.data() + sent, message.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return lost("the measuring process " + child->reap(), why);
      sent += static_cast<std::size_t>(n);
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (const std::size_t end = child->pending.find('\n'); end != std::string::npos) {
        std::string reply = child->pending.substr(0, end);
        child->pending.erase(0, end + 1);
        return reply;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        child.reset();  // kills it
        return lost(fmt::format("the measuring process took over {:.1f} s and was killed",
                                static_cast<double>(timeout.count()) / 1000),
                    why);
      }
      pollfd poll_fd{child->socket.get(), POLLIN, 0};
      const int ready = ::poll(&poll_fd, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno != EINTR) return lost("poll failed", why);
      if (ready <= 0) continue;
      std::array<char, 4096> buffer{};
      const ssize_t n = ::recv(child->socket.get(), buffer.data(), buffer.size(), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return lost("the measuring process " + child->reap(), why);
      child->pending.append(buffer.data(), static_cast<std::size_t>(n));
    }
  }

  std::optional<std::string> lost(std::string reason, std::string& why) {
    child.reset();
    why = std::move(reason);
    return std::nullopt;
  }

  // A running, set-up process; false with `why` when that cannot be had.
  SetupReply ensure(std::chrono::milliseconds timeout) {
    SetupReply reply;
    if (child) {
      reply.ok = true;
      return reply;
    }
    if (!setup) {
      reply.error = "the measuring process was never set up";
      return reply;
    }
    start();
    ++starts;
    std::string why;
    const auto line = exchange(nlohmann::json{{"setup", *setup}}.dump(), timeout, why);
    if (!line) {
      reply.error = why;
      return reply;
    }
    return setup_reply(*line);
  }

  SetupReply setup_reply(const std::string& line) {
    auto reply = decode<SetupReply>(line);
    if (!reply.ok) child.reset();
    return reply;
  }
};

WorkerProcess::WorkerProcess(std::vector<std::string> command) : impl_(std::make_unique<Impl>()) {
  if (command.empty()) throw Error("no measuring command");
  impl_->command = std::move(command);
}
WorkerProcess::WorkerProcess(WorkerProcess&&) noexcept = default;
WorkerProcess& WorkerProcess::operator=(WorkerProcess&&) noexcept = default;
WorkerProcess::~WorkerProcess() = default;

SetupReply WorkerProcess::setup(const SetupRequest& request, std::chrono::milliseconds timeout) {
  impl_->setup = request;
  if (impl_->child) {
    std::string why;
    if (const auto line =
            impl_->exchange(nlohmann::json{{"setup", request}}.dump(), timeout, why)) {
      return impl_->setup_reply(*line);
    }
    // It died since its last answer: a fresh one below.
  }
  return impl_->ensure(timeout);
}

MeasureReply WorkerProcess::measure(const MeasureRequest& request,
                                    std::chrono::milliseconds timeout) {
  MeasureReply reply;
  const SetupReply ready = impl_->ensure(timeout);
  if (!ready.ok) {
    reply.error = "the measuring process could not be set up again: " + ready.error;
    return reply;
  }
  std::string why;
  const auto line = impl_->exchange(nlohmann::json{{"measure", request}}.dump(), timeout, why);
  if (!line) {
    reply.error = why;
    return reply;
  }
  return decode<MeasureReply>(*line);
}

int WorkerProcess::restarts() const { return std::max(0, impl_->starts - 1); }

}  // namespace attnjit::tuner
