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
