// The upload page: plain HTML/CSS/JS compiled into the binary (no build step, no files to
// deploy). Sources: src/service/web/*.inc, one raw string literal per asset.
#pragma once
#include <string_view>

namespace regain::service {

struct WebAsset {
  std::string_view path;          // URL path
  std::string_view content_type;
  std::string_view body;
};

// Null when `path` is not a page asset.
const WebAsset* find_web_asset(std::string_view path);

}  // namespace regain::service
