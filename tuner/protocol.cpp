#include "tuner/protocol.hpp"

namespace attnjit {

void to_json(nlohmann::json& json, const AttentionShape& shape) {
  json = {{"batch", shape.batch},
          {"heads", shape.heads},
          {"kv_heads", shape.kv_heads},
          {"q_len", shape.q_len},
          {"kv_len", shape.kv_len}};
}

void from_json(const nlohmann::json& json, AttentionShape& shape) {
  json.at("batch").get_to(shape.batch);
  json.at("heads").get_to(shape.heads);
  json.at("kv_heads").get_to(shape.kv_heads);
  json.at("q_len").get_to(shape.q_len);
  json.at("kv_len").get_to(shape.kv_len);
}

}  // namespace attnjit
