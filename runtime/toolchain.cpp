#include "runtime/toolchain.hpp"

#include "db/cubin_format.hpp"
#include "db/kernel_store.hpp"
#include "templates/embedded.hpp"

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string_view>

#include <fmt/format.h>

namespace attnjit {
namespace {

void append_part(std::string& out, const std::string& name, const std::string& text) {
  // Lengths first, so that no two different (name, text) lists hash alike.
  out += fmt::format("{}:{}:{}:{}\n", name.size(), name, text.size(), text);
}

}  // namespace

std::string toolchain_id() {
  std::string options;
  for (const std::string& option : nvrtc_options(CompileOptions{"sm_80", {}})) {
    if (option.rfind("-arch=", 0) != 0) options += option + " ";
  }
  std::string templates;
  for (const auto& [name, text] : embedded_templates()) append_part(templates, name, text);
  const std::string digest = db::checksum_hex(templates.data(), templates.size());
  return fmt::format("nvrtc {} | {}| templates {}", nvrtc_version(), options, digest.substr(0, 16));
}

std::string source_hash(const KernelSource& source) {
  std::string all;
  append_part(all, source.name, source.code);
  for (const auto& [name, text] : source.headers) append_part(all, name, text);
  append_part(all, "kernel", source.kernel_name);
  return db::checksum_hex(all.data(), all.size());
}

bool cubin_matches_arch(const std::vector<char>& cubin, const std::string& arch) {
  // The SM number sits in the ELF64 header's e_flags: bits 8-15 from ELF ABI
  // version 8 on (CUDA 13), bits 0-7 before. The "a" suffix leaves no mark there.
  constexpr std::size_t kHeaderBytes = 64;
  constexpr std::size_t kFlagsOffset = 48;
  constexpr int kElf64 = 2;
  if (cubin.size() < kHeaderBytes || cubin[4] != kElf64 || !db::is_cuda_elf(cubin)) return false;
  std::uint32_t flags = 0;
  std::memcpy(&flags, cubin.data() + kFlagsOffset, sizeof flags);
  const int abi_version = static_cast<unsigned char>(cubin[8]);
  const unsigned sm = abi_version >= 8 ? (flags >> 8) & 0xffU : flags & 0xffU;
  unsigned wanted = 0;
  const std::string_view name(arch);
  if (!name.starts_with("sm_")) return false;
  const auto [end, error] = std::from_chars(name.data() + 3, name.data() + name.size(), wanted);
  return error == std::errc{} && end != name.data() + 3 && sm == wanted;
}

}  // namespace attnjit
