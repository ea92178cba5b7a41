# lit configuration for attnjit's golden tests.
import os
import lit.formats

config.name = "attnjit"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".attn", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(os.path.dirname(config.attnjit_bin), "..", "tests", "lit-out")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py.in", "inputs"]
config.substitutions.append(("%attnjit", config.attnjit_bin))
# Synthetic kernels for the `attnjit cache` tests (tests/db/fill_cache.cpp).
config.substitutions.append(("%fill_cache", config.fill_cache_bin))
config.substitutions.append(("%examples", config.examples_dir))
config.substitutions.append(("FileCheck", config.filecheck))
# FileCheck's directory also holds `not`, which inverts an exit status.
config.environment["PATH"] = os.pathsep.join(
    [os.path.dirname(config.filecheck), config.environment.get("PATH", os.environ["PATH"])])
# Commands that default to the user's kernel cache get a scratch one instead.
config.environment["ATTNJIT_CACHE_DIR"] = os.path.join(config.test_exec_root, "default-cache")
# Tests of what happens without a GPU run only where there is none.
if not os.path.exists("/dev/nvidiactl"):
    config.available_features.add("no-gpu")


# cuobjdump reads a cubin's SASS without a GPU: the one on PATH, else the CUDA toolkit's, else
# the one scripts/setup.sh installs into .tools/bin. `cuobjdump -sass` runs nvdisasm, which it
# finds beside its own (resolved) binary or on PATH; a cuobjdump without one is no use here.
# Tests that read SASS say `REQUIRES: cuobjdump` and run `%cuobjdump`.
def find_cuobjdump():
    import shutil
    path = config.environment["PATH"]
    candidates = [shutil.which("cuobjdump", path=path), "/usr/local/cuda/bin/cuobjdump",
                  os.path.join(config.local_tools_bin, "cuobjdump")]
    for candidate in candidates:
        if not candidate or not os.access(candidate, os.X_OK):
            continue
        beside = os.path.join(os.path.dirname(os.path.realpath(candidate)), "nvdisasm")
        if os.access(beside, os.X_OK) or shutil.which("nvdisasm", path=path):
            return candidate
    return None


cuobjdump = find_cuobjdump()
if cuobjdump:
    config.substitutions.append(("%cuobjdump", cuobjdump))
    config.available_features.add("cuobjdump")
