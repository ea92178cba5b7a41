#include "tuner/measure_worker.hpp"

#include "harness/compare.hpp"
#include "harness/device_problem.hpp"
#include "harness/host_problem.hpp"
#include "harness/launch_timer.hpp"
#include "runtime/cuda_driver.hpp"
#include "runtime/variant_launch.hpp"
#include "tuner/protocol.hpp"
#include <attnjit/language.hpp>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>

#include <fmt/format.h>

namespace attnjit::tuner {
namespace {

Variant parse_one(const std::string& text) {
  ParseResult parsed = parse_variants(text, "tuned.attn");
  if (!parsed.errors.empty() || parsed.variants.size() != 1) {
    throw InputError("the tuner sent a variant that does not parse");
  }
  return std::move(parsed.variants.front());
}

// One variant and shape on the GPU, with what every candidate is held to.
class Session {
 public:
  Session(const Context& context, const SetupRequest& request)
      : variant_(parse_one(request.variant_text)),
        host_(harness::random_problem(variant_, request.shape, {request.seed, false, {}})),
        device_(context, variant_, host_, harness::Layout::BHSD, true),
        stream_(context),
        timer_(context),
        rows_(
            sample_rows(request.shape, static_cast<std::size_t>(request.check_rows), request.seed)),
        reference_(reference_rows(variant_, host_.reference_inputs(), rows_)),
        flops_(harness::attention_flops(variant_, host_)) {}

  [[nodiscard]] double flops() const { return flops_; }

  MeasureReply measure(const Context& context, const MeasureRequest& request) {
    std::ifstream file(request.cubin_path, std::ios::binary);
    const std::vector<char> cubin((std::istreambuf_iterator<char>(file)),
                                  std::istreambuf_iterator<char>());
    if (!file && !file.eof()) throw Error("cannot read " + request.cubin_path);
    const Module module(context, cubin);
    codegen::GeneratedKernel kernel;
    kernel.entry = request.entry;
    kernel.threads = request.threads;
    kernel.smem_bytes = request.dynamic_smem;
    kernel.block_m = request.block_m;
    kernel.block_n = request.block_n;
    kernel.tma_maps = request.tma_maps;
    kernel.head_group = request.head_group;
    kernel.persistent = request.persistent;
    if (request.decode) {
      kernel.decode = codegen::DecodeLaunch{request.decode_ctas_per_sm, request.page_size};
    }
    const VariantKernels kernels =
        variant_kernels(context.driver(), module, kernel, request.entry, variant_);
    const auto launch = [&] {
      launch_variant(context.driver(), kernels, variant_, kernel, device_.problem(), stream_.get());
    };

    MeasureReply reply;
    device_.poison_outputs();
    launch();
    stream_.synchronize();
    if (std::string wrong = check(reply); !wrong.empty()) {
      reply.error = std::move(wrong);
      return reply;
    }
    for (int i = 0; i < request.warmup; ++i) launch();
    const harness::LaunchTimes times = timer_.time(stream_, launch, request.repetitions);
    reply.ok = true;
    reply.median_ms = times.median_ms;
    reply.min_ms = times.min_ms;
    return reply;
  }

 private:
  // Empty when the output holds: the sampled rows against the CPU reference,
  // and every value against the first output that passed (the trusted one).
  std::string check(MeasureReply& reply) {
    const std::vector<double> out = device_.output();
    const std::vector<double> lse = device_.lse();
    const AttentionShape& s = host_.shape;
    const auto dv = static_cast<std::int64_t>(variant_.head_dim_v());
    std::vector<double> got;
    std::vector<double> want;
    std::vector<double> got_lse;
    std::vector<double> want_lse;
    for (std::size_t r = 0; r < rows_.size(); ++r) {
      const std::int64_t row = (rows_[r].batch * s.heads + rows_[r].head) * s.q_len + rows_[r].q;
      got.insert(got.end(), out.begin() + row * dv, out.begin() + (row + 1) * dv);
      want.insert(want.end(), reference_[r].out.begin(), reference_[r].out.end());
      got_lse.push_back(lse[static_cast<std::size_t>(row)]);
      want_lse.push_back(reference_[r].lse);
    }
    const harness::Comparison rows =
        harness::compare(got, want, harness::output_tolerance(variant_), "O");
    const harness::Comparison lse_rows =
        harness::compare(got_lse, want_lse, harness::lse_tolerance(variant_), "LSE");
    reply.max_abs_error = rows.max_abs_error;
    if (!rows.ok()) return "wrong output on the reference rows: " + rows.first_bad;
    if (!lse_rows.ok()) return "wrong LSE on the reference rows: " + lse_rows.first_bad;
    if (!trusted_) {
      trusted_ = out;
      return {};
    }
    // Each is within the tolerance of the truth, so the two within twice it:
    // fp8 tilings round P at different places.
    const harness::Comparison all =
        harness::compare(out, *trusted_, 2 * harness::output_tolerance(variant_), "O");
    if (!all.ok()) return "output differs from the first correct candidate: " + all.first_bad;
    return {};
  }

  Variant variant_;
  harness::HostProblem host_;
  harness::DeviceProblem device_;
  Stream stream_;
  harness::LaunchTimer timer_;
  std::vector<RowIndex> rows_;
  std::vector<RowOutput> reference_;
  double flops_;
  std::optional<std::vector<double>> trusted_;
};

}  // namespace

int run_measure_worker(std::istream& in, std::ostream& out) {
  std::optional<Driver> driver;
  std::optional<Context> context;
  std::optional<Session> session;
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json request = nlohmann::json::parse(line, nullptr, false);
    nlohmann::json reply;
    if (request.contains("setup")) {
      SetupReply setup;
      try {
        session.reset();
        if (!driver) {
          driver.emplace();
          context.emplace(*driver, 0);
        }
        setup.gpu = context->name();
        setup.arch = context->arch();
        session.emplace(*context, request.at("setup").get<SetupRequest>());
        setup.flops = session->flops();
        setup.ok = true;
      } catch (const NoGpuError& error) {
        setup.no_gpu = true;
        setup.error = error.what();
      } catch (const std::exception& error) {
        setup.error = error.what();
      }
      reply = setup;
    } else if (request.contains("measure") && session) {
      MeasureReply measured;
      bool context_lost = false;
      try {
        measured = session->measure(*context, request.at("measure").get<MeasureRequest>());
      } catch (const CudaError& error) {
        // A fault poisons the context for good: answer, then end, and the
        // tuner starts a fresh process for the next candidate.
        measured.error = error.what();
        context_lost = true;
      } catch (const std::exception& error) {
        measured.error = error.what();
      }
      out << nlohmann::json(measured).dump() << "\n" << std::flush;
      if (context_lost) return 1;
      continue;
    } else {
      reply = MeasureReply{false, "request out of order: " + line.substr(0, 80), 0, 0, 0};
    }
    out << reply.dump() << "\n" << std::flush;
  }
  return 0;
}

}  // namespace attnjit::tuner
