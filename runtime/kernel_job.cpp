#include "runtime/kernel_job.hpp"

#include "templates/embedded.hpp"

namespace attnjit {

KernelSource kernel_job(const codegen::GeneratedKernel& kernel) {
  return KernelSource{kernel.file_name, kernel.source, embedded_templates(), kernel.entry};
}

}  // namespace attnjit
