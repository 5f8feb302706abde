#include "service/web_assets.h"

namespace regain::service {

namespace {
// Each .inc file holds exactly one raw string literal: the asset as served.
constexpr std::string_view kIndexHtml =
#include "service/web/index_html.inc"
    ;
constexpr std::string_view kAppJs =
#include "service/web/app_js.inc"
    ;
constexpr std::string_view kStyleCss =
#include "service/web/style_css.inc"
    ;

const WebAsset kAssets[] = {
    {"/", "text/html; charset=utf-8", kIndexHtml},
    {"/app.js", "text/javascript; charset=utf-8", kAppJs},
    {"/style.css", "text/css; charset=utf-8", kStyleCss},
};
}  // namespace

const WebAsset* find_web_asset(std::string_view path) {
  for (const auto& a : kAssets)
    if (a.path == path) return &a;
  return nullptr;
}

}  // namespace regain::service
