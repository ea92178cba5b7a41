// Many processes and threads on one fresh file, and writers killed mid-write.
#include "db/kernel_store.hpp"
#include "tests/db/scratch_dir.hpp"
#include "tests/db/synthetic_kernels.hpp"

#include <atomic>
#include <csignal>
#include <exception>
#include <functional>
#include <iostream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

namespace attnjit::db {
namespace {

using testing::ScratchDir;
using testing::synthetic_kernel;

// Runs `body` in a child process; its exit status says whether it threw.
// The child leaves through _exit so that it runs none of the parent's
// atexit handlers (GoogleTest's among them).
pid_t spawn(const std::function<void()>& body) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  int status = 0;
  try {
    body();
  } catch (const std::exception& error) {
    std::cerr << "child " << ::getpid() << ": " << error.what() << std::endl;
    status = 1;
  }
  ::_exit(status);
}

int wait_for(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return status;
}

// The number a synthetic record was made from, read back from its config.
int record_number(const KernelKey& key) {
  return std::stoi(key.config.substr(key.config.rfind('=') + 1));
}

void check_complete(const StoredKernel& stored, std::size_t cubin_bytes) {
  const KernelRecord expected = synthetic_kernel(record_number(stored.record.key), cubin_bytes);
  if (stored.record.cubin != expected.cubin || stored.record.source != expected.source ||
      stored.record.canonical != expected.canonical) {
    throw DbError("kernel " + std::to_string(stored.id) + " was stored incompletely");
  }
}

// Eight processes of four threads each open the same fresh file at one
// instant and put 40 keys each, every key shared with a neighbour process.
TEST(Concurrency, ProcessesAndThreadsShareOneFreshFile) {
  constexpr int kProcesses = 8;
  constexpr int kThreads = 4;
  constexpr int kKeysPerProcess = 40;
  constexpr int kStride = kKeysPerProcess / 2;
  constexpr std::size_t kCubinBytes = 8192;
  const ScratchDir dir;

  // Children block on the pipe until the parent closes it, so that they all
  // open the file at the same moment.
  int start[2];
  ASSERT_EQ(::pipe(start), 0);
  std::vector<pid_t> children;
  children.reserve(kProcesses);
  for (int p = 0; p < kProcesses; ++p) {
    children.push_back(spawn([&, p] {
      ::close(start[1]);
      char byte = 0;
      if (::read(start[0], &byte, 1) != 0) throw DbError("start pipe");
      KernelStore store(dir.db());
      std::atomic<int> failures{0};
      std::vector<std::thread> threads;
      threads.reserve(kThreads);
      for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
          try {
            for (int k = t; k < kKeysPerProcess; k += kThreads) {
              const KernelRecord record = synthetic_kernel(p * kStride + k, kCubinBytes);
              const std::int64_t id = store.put(record);
              const std::optional<StoredKernel> stored = store.find(record.key);
              if (!stored || stored->id != id) throw DbError("put and find disagree");
              check_complete(*stored, kCubinBytes);
              store.touch(id);
              if (store.list().empty()) throw DbError("list is empty after a put");
            }
          } catch (const std::exception& error) {
            std::cerr << "process " << p << " thread " << t << ": " << error.what() << std::endl;
            ++failures;
          }
        });
      }
      for (std::thread& thread : threads) thread.join();
      if (failures > 0) throw DbError("a thread failed");
    }));
  }
  ::close(start[0]);
  ::close(start[1]);
  for (const pid_t child : children) EXPECT_EQ(wait_for(child), 0) << "child " << child;

  KernelStore store(dir.db());
  std::set<int> numbers;
  const std::vector<KernelSummary> listed = store.list();
  for (const KernelSummary& summary : listed) numbers.insert(record_number(summary.key));
  std::set<int> expected;
  for (int n = 0; n < (kProcesses - 1) * kStride + kKeysPerProcess; ++n) expected.insert(n);
  EXPECT_EQ(numbers, expected);
  EXPECT_EQ(listed.size(), expected.size()) << "duplicate keys";
  EXPECT_TRUE(store.verify().ok());
  EXPECT_EQ(store.stats().variants, 3);
}

// A writer of 1 MB kernels is killed at a random moment, again and again:
// what is stored afterwards is whole, and the file is sound.
TEST(Concurrency, WritersKilledMidWriteLeaveNothingTorn) {
  constexpr int kRounds = 6;
  constexpr std::size_t kCubinBytes = 1 << 20;
  const ScratchDir dir;
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> delay_ms(50, 300);
  for (int round = 0; round < kRounds; ++round) {
    const pid_t writer = spawn([&, round] {
      KernelStore store(dir.db());
      for (int n = round * 1000;; ++n) store.put(synthetic_kernel(n, kCubinBytes));
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(random)));
    ASSERT_EQ(::kill(writer, SIGKILL), 0);
    const int status = wait_for(writer);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer stopped on its own: " << status;
  }

  KernelStore store(dir.db());
  const VerifyReport report = store.verify();
  EXPECT_TRUE(report.ok());
  for (const std::string& line : report.integrity) ADD_FAILURE() << line;
  const std::vector<KernelSummary> listed = store.list();
  EXPECT_FALSE(listed.empty()) << "no writer got a record in";
  for (const KernelSummary& summary : listed) {
    const std::optional<StoredKernel> stored = store.get(summary.id);
    ASSERT_TRUE(stored);
    EXPECT_NO_THROW(check_complete(*stored, kCubinBytes));
  }
}

}  // namespace
}  // namespace attnjit::db
