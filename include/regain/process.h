// Restoring HDR to an edited photo: the product's main job. The CLI (`regain process`,
// `hdr-process`) and the service call process_image and nothing else.
#pragma once
#include "regain/export.h"
#include <array>
#include <string_view>
#include <atomic>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "regain/predict.h"

namespace regain {

enum class OutputFormat { Jpeg, Heic, Avif };
REGAIN_API std::optional<OutputFormat> parse_output_format(std::string_view s);

struct ProcessOptions {
  std::optional<double> boost;          // stops; default chosen from the scene
  OutputFormat format = OutputFormat::Jpeg;
  bool want_hdr = false;                // also return the HDR rendition (--hdr-out)
  // Also build sdr_preview, gainmap_png and where_hdr_jpeg (the service shows them; the CLI writes them with
  // --previews). Off by default: at 12 MP they cost more than the HDR file itself.
  bool want_previews = false;
  const Predictor* predictor = nullptr; // null: the default (the embedded learned model)
  int threads = 0;
  Limits limits;
  // An edit with transparent pixels (PNG, WebP, TIFF alpha) is flattened onto this colour (the
  // base is opaque), given in the edit's own RGB encoding (sRGB for most edits; white and
  // black are the same in every encoding), and gets no HDR gain where it was transparent.
  std::array<uint8_t, 3> background{255, 255, 255};
  // When set and it becomes true, processing stops at the next stage boundary and returns
  // an error saying "cancelled" (the service abandons jobs past their deadline).
  const std::atomic<bool>* cancel = nullptr;
};

struct ProcessResult {
  std::vector<uint8_t> output;       // the HDR file (Ultra HDR JPEG)
  std::vector<uint8_t> sdr_preview;  // the edited SDR as an sRGB JPEG, input orientation (want_previews)
  std::vector<uint8_t> gainmap_png;  // visualisation: 0 = no gain .. 255 = the headroom (want_previews)
  std::vector<uint8_t> where_hdr_jpeg;  // "where HDR is added" heat overlay, as displayed (want_previews)
  nlohmann::json meta;               // mode, metadata written, boost, warnings, ...
  std::optional<ImageF> hdr;         // linear, displayed orientation, when want_hdr
  Primaries hdr_primaries = Primaries::BT709;
};

// "white", "black", "#rrggbb" or "rrggbb" (hex digits in either case) for ProcessOptions::background.
REGAIN_API Result<std::array<uint8_t, 3>> parse_background(std::string_view text);

// `edited`: the edited SDR (JPEG or 8-bit PNG). `reference`: the original HDR photo, if any.
REGAIN_API Result<ProcessResult> process_image(std::span<const uint8_t> edited,
                                    std::optional<std::span<const uint8_t>> reference,
                                    const ProcessOptions& opt = {});

}  // namespace regain
