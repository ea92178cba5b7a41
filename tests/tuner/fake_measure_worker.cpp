// A stand-in for `attnjit __measure-worker` that needs no GPU: it speaks the
// protocol and behaves by config, so that the tuner's bookkeeping can be
// tested in CI. Times favour bm=128,bn=64,warps=4; warps=8 with bn=32 crashes,
// bm=192 hangs, bn=128 with warps=8 gives a wrong result.
#include "tuner/protocol.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>

namespace {

int knob(const std::string& config, const std::string& key) {
  const std::size_t at = config.find(key + "=");
  return at == std::string::npos ? 0 : std::stoi(config.substr(at + key.size() + 1));
}

attnjit::tuner::MeasureReply measure(const attnjit::tuner::MeasureRequest& request) {
  const int bm = knob(request.config, "bm");
  const int bn = knob(request.config, "bn");
  const int warps = knob(request.config, "warps");
  if (warps == 8 && bn == 32) std::abort();
  if (bm == 192) std::this_thread::sleep_for(std::chrono::hours(1));
  attnjit::tuner::MeasureReply reply;
  if (!std::filesystem::exists(request.cubin_path)) {
    reply.error = "no cubin at " + request.cubin_path;
    return reply;
  }
  if (bn == 128 && warps == 8) {
    reply.error = "wrong output on the reference rows: O[3] = 7, expected 1";
    return reply;
  }
  reply.ok = true;
  reply.median_ms =
      1.0 + std::abs(bm - 128) / 128.0 + std::abs(bn - 64) / 64.0 + (warps == 8 ? 0.25 : 0.0);
  reply.min_ms = reply.median_ms;
  return reply;
}

}  // namespace

int main() try {
  std::string line;
  while (std::getline(std::cin, line)) {
    const nlohmann::json request = nlohmann::json::parse(line);
    nlohmann::json reply;
    if (request.contains("setup")) {
      const auto setup = request.at("setup").get<attnjit::tuner::SetupRequest>();
      reply = attnjit::tuner::SetupReply{
          true,    false,
          "",      "Fake GPU",
          "sm_80", 4.0 * static_cast<double>(setup.shape.q_len * setup.shape.kv_len) * 64};
    } else {
      reply = measure(request.at("measure").get<attnjit::tuner::MeasureRequest>());
    }
    std::cout << reply.dump() << "\n" << std::flush;
  }
  return 0;
} catch (const std::exception& error) {
  std::cerr << "fake_measure_worker: " << error.what() << "\n";
  return 1;
}
