# Writes OUTPUT: a C++ file holding every file of ROOT/attnjit as a string,
# with the include name it has in the templates ("attnjit/<file>").
file(GLOB files RELATIVE ${ROOT} ${ROOT}/attnjit/*)
list(SORT files)
set(body "")
foreach(name IN LISTS files)
  file(READ ${ROOT}/${name} text)
  string(APPEND body "      {\"${name}\", R\"attnjit_template(${text})attnjit_template\"},\n")
endforeach()
file(WRITE ${OUTPUT} "// Generated from templates/attnjit by embed.cmake; do not edit.
#include \"templates/embedded.hpp\"

namespace attnjit {

const std::vector<std::pair<std::string, std::string>>& embedded_templates() {
  static const std::vector<std::pair<std::string, std::string>> templates = {
${body}  };
  return templates;
}

}  // namespace attnjit
")
