// The `regain master --gallery` pages: index.html and README.md beside the exports.
//
// HDR display of gain-map images in the browser: Chrome renders JPEG_R and AVIF gain maps
// in a plain <img>; iOS Safari does so only when no ancestor of the <img> creates a
// stacking context or clips it. So the page uses nothing but normal flow: no overflow,
// clip-path, transform, filter, opacity, z-index, position, will-change, mix-blend-mode,
// isolation or contain anywhere, sizes come from width attributes, and the only CSS is
// fonts, colours, borders and spacing, none of which create stacking contexts.
#include <sstream>

#include "regain/master.h"

namespace regain {

namespace {

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// Paths in href/src: percent-encode what is not safe in a URL path segment.
std::string url_escape(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '/' || c == '~') out += char(c);
    else out += '%', out += hex[c >> 4], out += hex[c & 15];
  }
  return out;
}

// Markdown: escape what would start emphasis/links inside table cells.
std::string md_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|' || c == '*' || c == '_' || c == '[' || c == ']' || c == '`' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string gallery_html(const std::vector<GalleryRow>& rows) {
  std::ostringstream h;
  h << "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
       "<title>regain master exports</title>\n"
       "<style>\n"
       "body { font-family: \"Liberation Sans\", Arial, sans-serif; background: #202020; color: #e0e0e0; margin: 16px; }\n"
       "a { color: #8cc8ff; }\n"
       "table { border-collapse: collapse; }\n"
       "td, th { border: 1px solid #444; padding: 6px; vertical-align: top; text-align: left; }\n"
       "img { display: block; height: auto; }\n"
       "figure { display: inline-block; vertical-align: top; margin: 0 6px 6px 0; }\n"
       "figcaption { font-size: 12px; }\n"
       ".hdr { border: 1px solid #c9a000; }\n"
       "</style>\n</head>\n<body>\n"
       "<h1>regain master exports</h1>\n"
       "<p>SDR previews (tone-mapped for any screen), the gain map (black = the lowest gain, white = the file's full "
       "headroom) and, outlined in yellow, the JPEG_R / AVIF gain-map files themselves: an HDR screen in "
       "Chrome, Edge or Safari shows those in HDR. The HEIC files are linked: Apple Photos and Android "
       "galleries show them in HDR.</p>\n";
  h << "<table>\n<tr><th>master</th><th>SDR previews</th><th>gain map</th><th>HDR in the browser</th><th>files</th></tr>\n";
  for (const auto& r : rows) {
    h << "<tr id=\"" << html_escape(r.stem) << "\">\n<td><b>" << html_escape(r.stem) << "</b><br>"
      << html_escape(r.source) << "</td>\n";
    if (!r.error.empty()) {
      h << "<td colspan=\"4\">failed: " << html_escape(r.error) << "</td>\n</tr>\n";
      continue;
    }
    h << "<td>";
    for (const auto& e : r.entries) {
      if (e.preview.empty()) continue;
      h << "<figure><img src=\"" << url_escape(e.preview) << "\" width=\"200\" alt=\"" << html_escape(e.file)
        << " (SDR preview)\"><figcaption>" << html_escape(e.file) << "</figcaption></figure>";
    }
    h << "</td>\n<td>";
    if (!r.gain_map_preview.empty())
      h << "<img src=\"" << url_escape(r.gain_map_preview) << "\" width=\"320\" alt=\"gain map of "
        << html_escape(r.stem) << "\">";
    if (!r.where_hdr_preview.empty())
      h << "<figure><img src=\"" << url_escape(r.where_hdr_preview) << "\" width=\"320\" alt=\"where HDR is added in "
        << html_escape(r.stem) << "\"><figcaption>where HDR is added (any screen): purple to yellow = 0 to 3 stops "
        << "above white</figcaption></figure>";
    h << "</td>\n<td>";
    for (const auto& e : r.entries) {
      if (!e.show_hdr) continue;
      h << "<img class=\"hdr\" src=\"" << url_escape(e.file) << "\" width=\"320\" alt=\"" << html_escape(e.file)
        << "\"><p>" << html_escape(e.file) << "</p>";
    }
    h << "</td>\n<td>";
    for (const auto& e : r.entries)
      h << "<a href=\"" << url_escape(e.file) << "\">" << html_escape(e.file) << "</a><br>";
    h << "</td>\n</tr>\n";
  }
  h << "</table>\n<p>Made by <code>regain master --gallery</code>.</p>\n</body>\n</html>\n";
  return h.str();
}

std::string gallery_readme(const std::vector<GalleryRow>& rows) {
  std::ostringstream m;
  m << "# regain master exports\n\n"
       "One row per master: SDR previews of each export (tone-mapped for any screen), the gain map "
       "(black = lowest gain, white = full headroom) and the HDR files. Open `index.html` in a browser on an "
       "HDR screen to see the JPEG_R/AVIF files in HDR.\n\n"
       "| master | previews | gain map | files |\n|---|---|---|---|\n";
  for (const auto& r : rows) {
    m << "| " << md_escape(r.stem) << " | ";
    if (!r.error.empty()) {
      m << "failed: " << md_escape(r.error) << " | | |\n";
      continue;
    }
    for (const auto& e : r.entries)
      if (!e.preview.empty()) m << "![" << md_escape(e.file) << "](" << url_escape(e.preview) << ") ";
    m << "| ";
    if (!r.gain_map_preview.empty()) m << "![gain map](" << url_escape(r.gain_map_preview) << ")";
    m << " | ";
    for (const auto& e : r.entries) m << "[" << md_escape(e.file) << "](" << url_escape(e.file) << ")<br>";
    m << " |\n";
  }
  return m.str();
}

}  // namespace regain
